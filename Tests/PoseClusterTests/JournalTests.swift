// The journal keeps every verified record, cuts only a torn tail (an incomplete last record), keeps
// a copy of a journal damaged in the middle; completions run only after fsync.
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
        // A flipped bit in the second record, with a valid one after it: corruption, not a torn tail.
        bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(bytes.count, good + Journal.frame(Array("after".utf8)).count)
        let damagedFile = bytes
        bytes[8 + 5 + 8 + 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let (journal, replay) = try Journal.open(path: path)
            XCTAssertEqual(replay.records.map { String(decoding: $0, as: UTF8.self) }, ["first", "after"])
            XCTAssertEqual(replay.damaged, [(8 + 5)..<(8 + 5 + 8 + 6)])
            XCTAssertEqual(replay.truncatedBytes, 0)
            XCTAssertEqual(replay.recoveredAfterDamage, 1)
            let copy = try XCTUnwrap(replay.damagedCopyPath)
            XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: copy))), bytes, "the damaged file is kept as it was")
            XCTAssertNotEqual(bytes, damagedFile)
            try journal.append(Array("later".utf8))
            journal.close()
        }
        let (_, again) = try Journal.open(path: path)
        XCTAssertEqual(again.records.map { String(decoding: $0, as: UTF8.self) }, ["first", "after", "later"])
        XCTAssertTrue(again.damaged.isEmpty, "the rewritten journal is clean")
    }

    /// Damage to a length field (the record's own length cannot be trusted): the scan finds the next
    /// valid record and keeps every verified one; a damaged last record with nothing after it stays a torn tail.
    func testDamagedLengthFieldsAreSkippedAndOnlyTheLastRecordIsATornTail() throws {
        let payloads = (0..<30).map { index in [UInt8](repeating: UInt8(index), count: 50 + index * 37) }
        var bytes: [UInt8] = payloads.flatMap { Journal.frame($0) }
        let starts = payloads.indices.map { index in payloads[..<index].reduce(0) { $0 + Journal.headerBytes + $1.count } }
        bytes[starts[7] + 3] ^= 0xFF            // length of record 7 now huge
        bytes[starts[20] + Journal.headerBytes + 4] ^= 0x01   // payload of record 20
        let scan = Journal.parse(bytes)
        XCTAssertEqual(scan.records.map { Array(bytes[$0]) }, payloads.enumerated().filter { $0.offset != 7 && $0.offset != 20 }.map(\.element))
        XCTAssertEqual(scan.damaged, [starts[7]..<starts[8], starts[20]..<starts[21]])
        XCTAssertEqual(scan.end, bytes.count)
        // The last record damaged: nothing valid follows, so it is a torn tail, not corruption.
        var tail = payloads.flatMap { Journal.frame($0) }
        tail[starts[29] + Journal.headerBytes] ^= 0x01
        let torn = Journal.parse(tail)
        XCTAssertEqual(torn.records.count, 29)
        XCTAssertTrue(torn.damaged.isEmpty)
        XCTAssertEqual(torn.end, starts[29])
    }

    func testALengthFieldOverTheMaximumIsNotTrusted() {
        var bytes = Journal.frame(Array("ok".utf8))
        bytes += [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]
        let scan = Journal.parse(bytes)
        XCTAssertEqual(scan.records.count, 1)
        XCTAssertEqual(scan.end, 10)
        XCTAssertTrue(scan.damaged.isEmpty)
    }
}
