// The journal keeps every complete record and cuts a torn or corrupt tail; completions run only after fsync.
import XCTest
import Foundation
@testable import PoseCluster

final class JournalTests: XCTestCase {
    private func temporaryPath() -> String {
        let directory = NSTemporaryDirectory() + "posecluster-journal-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        return directory + "/journal.log"
    }

    func testRecordsSurviveReopenAndCompletionsWaitForSync() throws {
        let path = temporaryPath()
        let (journal, replay) = try Journal.open(path: path)
        XCTAssertEqual(replay.records.count, 0)
        var durable: [Int] = []
        for index in 0..<5 {
            try journal.append([UInt8](repeating: UInt8(index), count: index * 100)) { durable.append(index) }
        }
        XCTAssertEqual(durable, [], "nothing counts before fsync")
        try journal.sync()
        XCTAssertEqual(durable, [0, 1, 2, 3, 4])
        journal.close()
        let (_, again) = try Journal.open(path: path)
        XCTAssertEqual(again.records.map(\.count), [0, 100, 200, 300, 400])
        XCTAssertEqual(again.records[3], [UInt8](repeating: 3, count: 300))
        XCTAssertEqual(again.truncatedBytes, 0)
    }

    func testTornAndCorruptTailsAreCutAndAppendsContinueAfterThem() throws {
        let path = temporaryPath()
        do {
            let (journal, _) = try Journal.open(path: path)
            try journal.append(Array("first".utf8))
            try journal.append(Array("second".utf8))
            journal.close()
        }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let good = bytes.count
        // A torn write: a header announcing more than what follows.
        bytes += Journal.frame(Array("third record".utf8)).prefix(10)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let (journal, replay) = try Journal.open(path: path)
            XCTAssertEqual(replay.records.map { String(decoding: $0, as: UTF8.self) }, ["first", "second"])
            XCTAssertEqual(replay.truncatedBytes, 10)
            try journal.append(Array("after".utf8))
            journal.close()
        }
        // A flipped bit in the second record ends the replay there.
        bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(bytes.count, good + Journal.frame(Array("after".utf8)).count)
        bytes[8 + 5 + 8 + 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (_, replay) = try Journal.open(path: path)
        XCTAssertEqual(replay.records.map { String(decoding: $0, as: UTF8.self) }, ["first"])
    }

    func testALengthFieldOverTheMaximumIsNotTrusted() {
        var bytes = Journal.frame(Array("ok".utf8))
        bytes += [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]
        let (records, goodBytes) = Journal.parse(bytes)
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(goodBytes, 10)
    }
}
