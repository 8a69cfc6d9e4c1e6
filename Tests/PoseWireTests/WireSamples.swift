// One sample of every message, shared by the wire tests (seeded randomness: PoseCore.SplitMix64).
import PoseCore
import PoseCrypto
@testable import PoseWire

enum WireSamples {
    static let demoShape = ModelInputShape(width: 96, height: 128, frames: 3, joints: 17)
    static let smallShape = ModelInputShape(width: 8, height: 6, frames: 3, joints: 17)
    static let digest = SHA256.hash(Array("weights".utf8))
    static let unitID = UnitID(videoIndex: 3, videoName: "vidéo_017.mp4", unitIndex: 41)

    /// Crops like person crops of one window: a static background (one affine for the T frames)
    /// with a little sensor noise that differs per frame, and a moving bright square.
    static func crops(windows: Int, shape: ModelInputShape, seed: UInt64 = 1) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var out = [UInt8](repeating: 0, count: windows * shape.windowBytes)
        let frameBytes = shape.width * shape.height * 3
        for window in 0..<windows {
            for frame in 0..<shape.frames {
                let base = window * shape.windowBytes + frame * frameBytes
                for index in 0..<frameBytes {
                    let x = (index / 3) % shape.width, y = index / 3 / shape.width
                    out[base + index] = UInt8((x * 5 + y * 3 + (index % 3) * 40) % 200) &+ UInt8.random(in: 0...3, using: &generator)
                }
                for y in 0..<min(4, shape.height) {
                    for x in 0..<min(4, shape.width) {
                        let pixel = ((y + window) % shape.height * shape.width + (x + frame) % shape.width) * 3
                        out[base + pixel] = 255
                    }
                }
            }
        }
        return out
    }

    static func all() -> [WireMessage] {
        let nonce = (0..<32).map { UInt8($0) }
        let proof = (0..<32).map { UInt8(255 - $0) }
        let model = ModelDescriptor(sha256: digest, byteCount: 123_456_789, variant: "demo", inputShape: demoShape, precision: "bf16")
        let crops = crops(windows: 2, shape: smallShape)
        let payload = UnitPayload.encode(crops: crops, windows: 2, shape: smallShape)
        let keypoints = (0..<2).map { window in WindowKeypoints(values: (0..<51).map { Float($0) * 0.5 + Float(window) }) }
        return [
            .hello(Hello(role: .worker, name: "gpu-node-7", threads: 16, cachedModel: digest, capabilities: .all, nonce: nonce, kernels: "avx512")),
            .hello(Hello(role: .statusClient, name: "", threads: 0, cachedModel: nil, capabilities: [], nonce: proof)),
            .challenge(Challenge(nonce: nonce, authRequired: true)),
            .challenge(Challenge(nonce: proof, authRequired: false)),
            .auth(Auth(proof: proof)),
            .welcome(Welcome(sessionID: 0xDEAD_BEEF_0000_0001, heartbeatIntervalMs: 1000, leaseDurationMs: 60_000, model: model,
                             frameBytesMax: 64 << 20, unitsInFlightMax: 8, modelChunkBytes: 1 << 20, proof: proof)),
            .reject(Reject(code: .versionMismatch, reason: "protocol version mismatch: 2 vs 1")),
            .reject(Reject(code: RejectCode(rawValue: 999), reason: "")),
            .heartbeat(Heartbeat(sequence: 77)),
            .credit(Credit(units: 4)),
            .modelRequest(ModelRequest(sha256: digest, offset: 4096)),
            .modelChunk(ModelChunk(sha256: digest, offset: 100, totalByteCount: 110, bytes: Array(0..<10))),
            .unit(Unit(id: unitID, leaseID: 9, leaseDurationMs: 30_000, inputShape: smallShape, windowCount: 2, crops: payload)),
            .result(UnitResult(id: unitID, leaseID: 9, windows: keypoints, computeMicros: 12_345)),
            .result(UnitResult(id: unitID, leaseID: 10, windows: [], computeMicros: 0)),
            .fail(UnitFailure(id: unitID, leaseID: 9, reason: "out of memory")),
            .drain(Drain(reason: "job complete")),
            .bye(Bye(reason: "")),
            .statusRequest,
            .status(StatusReport(json: "{\"workers\": 3, \"videos\": [\"a\"]}")),
        ]
    }
}
