// Throughput of SHA-256 and CRC32C, beside coreutils sha256sum on the same bytes in
// the same run. Runs only with POSE_WIRE_BENCH=1 (docs/BENCHMARKS.md, "Wire payloads").
import PoseCore
import Foundation
import XCTest
@testable import PoseCrypto

final class CryptoBenchTests: XCTestCase {
    func testThroughput() throws {
        guard ProcessInfo.processInfo.environment["POSE_WIRE_BENCH"] != nil else {
            throw XCTSkip("crypto throughput benchmark: set POSE_WIRE_BENCH=1 to run it (docs/BENCHMARKS.md)")
        }
        let count = 256 << 20
        var generator = SplitMix64(seed: 1)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for index in words.indices { words[index] = generator.next() }
        }
        let path = NSTemporaryDirectory() + "posecluster-crypto-bench-\(ProcessInfo.processInfo.processIdentifier)"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
        defer { try? FileManager.default.removeItem(atPath: path) }

        // Best of three: the machine is shared, the best run is the least disturbed one.
        func megabytesPerSecond(_ body: () throws -> Void) rethrows -> Double {
            var best = 0.0
            for _ in 0..<3 {
                let start = DispatchTime.now()
                try body()
                best = max(best, Double(count) / 1e6 / (Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9))
            }
            return best
        }
        var ours = ""
        let sha = megabytesPerSecond {
            var hasher = SHA256()
            bytes.withUnsafeBytes { raw in
                // 1 MiB reads, as a worker hashing a weight file does.
                var offset = 0
                while offset < raw.count {
                    hasher.update(UnsafeRawBufferPointer(rebasing: raw[offset..<min(raw.count, offset + (1 << 20))]))
                    offset += 1 << 20
                }
            }
            ours = hasher.finalize().hex
        }
        var theirs = ""
        let coreutils = try megabytesPerSecond {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            process.arguments = [path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            theirs = String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
        }
        XCTAssertEqual(ours, theirs, "PoseCrypto and sha256sum agree on 256 MiB")
        var crcValue: UInt32 = 0
        let crc = megabytesPerSecond { crcValue = CRC32C.checksum(bytes) }
        XCTAssertNotEqual(crcValue, 0)
        print(String(format: "| SHA-256 (PoseCrypto) | %.0f MB/s |\n| sha256sum (coreutils, same bytes from page cache) | %.0f MB/s |\n| CRC32C slicing-by-8 | %.0f MB/s |", sha, coreutils, crc))
    }
}
