// Measures what UNIT crops cost on the wire: bytes per window raw, zstd, and
// temporal delta + zstd, at two zstd levels, with encode and decode times.
// Pure: the caller brings the crops (docs/BENCHMARKS.md, "Wire payloads").
import Dispatch
import PoseCore

public enum WirePayloadBench {
    /// One way of encoding, summed over all units.
    public struct Row: Sendable {
        public var name: String
        public var level: Int32
        public var delta: DeltaPolicy
        /// Bytes of the crops as encoded.
        public var payloadBytes = 0
        /// Bytes of the whole UNIT frames (header, ids, geometry, crops).
        public var frameBytes = 0
        /// Units for which the temporal delta was chosen.
        public var deltaUnits = 0
        public var encodeSeconds = 0.0
        public var decodeSeconds = 0.0
    }

    public struct Report: Sendable {
        public var shape: ModelInputShape
        public var units: Int
        public var windows: Int
        public var rawBytes: Int
        public var rows: [Row]

        /// A Markdown table: bytes per window, ratio to raw, encode/decode milliseconds per unit.
        public var table: String {
            var lines = [
                "crops \(shape.width)x\(shape.height), T=\(shape.frames): \(units) units, \(windows) windows, raw \(rawBytes / max(windows, 1)) bytes/window",
                "",
                "| encoding | zstd level | bytes/window (UNIT frame) | vs raw | delta chosen | encode ms/unit | decode ms/unit |",
                "|---|---|---|---|---|---|---|",
            ]
            for row in rows {
                let perWindow = Double(row.frameBytes) / Double(max(windows, 1))
                let ratio = Double(rawBytes) / Double(max(row.frameBytes, 1))
                lines.append("| \(row.name) | \(row.level) | \(Int(perWindow.rounded())) | \(format(ratio, 2))x smaller | \(row.deltaUnits)/\(units) | \(format(row.encodeSeconds * 1000 / Double(max(units, 1)), 2)) | \(format(row.decodeSeconds * 1000 / Double(max(units, 1)), 2)) |")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Encodes and decodes every unit every way, checking each round trip.
    /// `units` holds each unit's crops (`windows x shape.windowBytes` bytes) and window count.
    public static func run(units: [(crops: [UInt8], windows: Int)], shape: ModelInputShape,
                           levels: [Int32] = [1, 3]) throws -> Report {
        var rows: [Row] = []
        for level in levels {
            for policy in [DeltaPolicy.never, .always, .automatic, .smallest] {
                rows.append(Row(name: policy.description, level: level, delta: policy))
            }
        }
        var windows = 0, rawBytes = 0
        for (index, unit) in units.enumerated() {
            windows += unit.windows
            rawBytes += unit.crops.count
            for r in rows.indices {
                let start = DispatchTime.now()
                let payload = UnitPayload.encode(crops: unit.crops, windows: unit.windows, shape: shape, level: rows[r].level, delta: rows[r].delta)
                let message = WireMessage.unit(Unit(id: UnitID(videoIndex: 0, videoName: "bench", unitIndex: UInt32(index)),
                                                    leaseID: UInt64(index), leaseDurationMs: 60_000, inputShape: shape,
                                                    windowCount: unit.windows, crops: payload))
                let frame = try message.encode()
                let encoded = DispatchTime.now()
                var decoder = FrameDecoder()
                decoder.feed(frame)
                guard case .unit(let received)? = try decoder.next() else { preconditionFailure("bench: the UNIT did not decode") }
                let crops = try received.crops.decode(windows: received.windowCount, shape: received.inputShape)
                let decoded = DispatchTime.now()
                precondition(crops == unit.crops, "bench: UNIT crops did not round-trip")
                rows[r].payloadBytes += payload.bytes.count
                rows[r].frameBytes += frame.count
                rows[r].deltaUnits += payload.encoding == .temporalDeltaZstd ? 1 : 0
                rows[r].encodeSeconds += seconds(start, encoded)
                rows[r].decodeSeconds += seconds(encoded, decoded)
            }
        }
        return Report(shape: shape, units: units.count, windows: windows, rawBytes: rawBytes, rows: rows)
    }

    private static func seconds(_ from: DispatchTime, _ to: DispatchTime) -> Double {
        Double(to.uptimeNanoseconds - from.uptimeNanoseconds) / 1e9
    }

    private static func format(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        let text = "\(rounded)"
        let parts = text.split(separator: ".")
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        return "\(parts[0])." + fraction.padding(toLength: decimals, withPad: "0", startingAt: 0)
    }
}
