// One corrupt weight file per failure class, built here, each refused with an error that names
// what is wrong; and the config presets against configs/models/*.json.
import Foundation
import SafeTensors
import XCTest
@testable import FTPPose

final class WeightLoadingTests: XCTestCase {
    let tiny = FTPPoseConfig.preset("tiny")!

    /// The tiny table with random values, optionally edited.
    private func weights(config json: String? = nil, edit: (inout [(String, SafeTensorsDType, [Int], [UInt8])]) -> Void = { _ in }) -> [UInt8] {
        var tensors = FTPPoseWeightTable.entries(for: tiny).map { entry in
            (entry.name, SafeTensorsDType.f32, entry.shape, [UInt8](repeating: 0, count: entry.shape.reduce(1, *) * 4))
        }
        edit(&tensors)
        var writer = SafeTensorsWriter(metadata: ["ftp_pose.config": json ?? tiny.json])
        for (name, dtype, shape, bytes) in tensors { writer.add(name, dtype: dtype, shape: shape, bytes: bytes) }
        return writer.serialized()
    }

    private func expectError(_ bytes: [UInt8], _ check: (FTPPoseError) -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try FTPPoseModel(safetensors: bytes), file: file, line: line) { error in
            guard let typed = error as? FTPPoseError else { return XCTFail("untyped \(error)", file: file, line: line) }
            check(typed)
        }
    }

    func testValidFileLoads() throws {
        let model = try FTPPoseModel(safetensors: weights())
        XCTAssertEqual(model.config, tiny)
    }

    func testBadHeaderLength() {
        var bytes = weights()
        bytes[5] = 0x7F
        expectError(bytes) { error in
            guard case let .file(description) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(description.text.contains("header length"), description.text)
        }
    }

    func testTruncatedData() {
        expectError(Array(weights().dropLast(10))) { error in
            guard case let .file(description) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(description.text.contains("head.fc.bias"), description.text)
        }
    }

    func testWrongDType() {
        let bytes = weights { tensors in
            let i = tensors.firstIndex { $0.0 == "mgfe.proj.bias" }!
            tensors[i].1 = .i32
        }
        expectError(bytes) { XCTAssertEqual($0, .wrongDType(tensor: "mgfe.proj.bias", expected: "F32", got: "I32")) }
    }

    func testMissingTensor() {
        let bytes = weights { $0.removeAll { $0.0 == "fuse.attn.v.weight" } }
        expectError(bytes) { XCTAssertEqual($0, .missingTensor("fuse.attn.v.weight")) }
    }

    func testUnexpectedTensor() {
        let bytes = weights { $0.append(("backbone.cls_token", .f32, [1, 1, 16], [UInt8](repeating: 0, count: 64))) }
        expectError(bytes) { XCTAssertEqual($0, .unexpectedTensor("backbone.cls_token")) }
    }

    func testWrongShape() {
        let transposed = weights { tensors in
            let i = tensors.firstIndex { $0.0 == "fuse.mlp.fc1.weight" }!
            tensors[i].2 = [16, 32]
        }
        expectError(transposed) { error in
            XCTAssertEqual(error, .wrongShape(tensor: "fuse.mlp.fc1.weight", expected: [32, 16], got: [16, 32]))
            XCTAssertEqual(error.description, "fuse.mlp.fc1.weight: expected [32, 16], got [16, 32]")
        }
    }

    func testBadConfigJSON() {
        expectError(weights(config: "{not json")) { guard case .badConfig = $0 else { return XCTFail("\($0)") } }
        expectError(weights(config: tiny.json.replacingOccurrences(of: "\"knn_k\":5,", with: ""))) {
            XCTAssertEqual($0, .badConfig("missing key \"knn_k\""))
        }
        expectError(weights(config: tiny.json.replacingOccurrences(of: "\"frames\":3", with: "\"frames\":3,\"dropout\":0"))) {
            XCTAssertEqual($0, .badConfig("unknown key \"dropout\""))
        }
        expectError(weights(config: tiny.json.replacingOccurrences(of: "\"frames\":3", with: "\"frames\":\"3\""))) {
            guard case let .badConfig(reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("frames"), reason)
        }
        expectError(weights(config: tiny.json.replacingOccurrences(of: "\"frames\":3", with: "\"frames\":4"))) {
            XCTAssertEqual($0, .badConfig("frames must be odd in 1...15, got 4"))
        }
        var writer = SafeTensorsWriter()
        writer.add("x", shape: [1], floats: [0])
        expectError(writer.serialized()) { XCTAssertEqual($0, .missingConfig) }
    }

    /// The ablation keys of FTP-POSE.md section 10 are optional, round-trip byte for byte as the
    /// reference writes them, add the recovery tensors to the table, and reject what makes no sense.
    func testAblationConfigKeys() throws {
        let tra = tiny.json.replacingOccurrences(of: "\"num_joints\":17}", with: "\"num_joints\":17,\"token_recovery\":\"attention\"}")
        let config = try FTPPoseConfig.decode(json: tra)
        XCTAssertEqual(config.recovery, .attention)
        XCTAssertEqual(config.json, tra)
        let names = Set(FTPPoseWeightTable.entries(for: config).map(\.name)).subtracting(FTPPoseWeightTable.entries(for: tiny).map(\.name))
        XCTAssertEqual(names, ["mgfe.recover.norm_q.weight", "mgfe.recover.norm_q.bias", "mgfe.recover.norm_kv.weight",
                               "mgfe.recover.norm_kv.bias", "mgfe.recover.attn.q.weight", "mgfe.recover.attn.q.bias",
                               "mgfe.recover.attn.k.weight", "mgfe.recover.attn.k.bias", "mgfe.recover.attn.v.weight",
                               "mgfe.recover.attn.v.bias", "mgfe.recover.attn.proj.weight", "mgfe.recover.attn.proj.bias"])
        // Defaults written out explicitly are the paper's model (and are not written back).
        let explicit = tiny.json.replacingOccurrences(of: "\"num_joints\":17}", with: "\"num_joints\":17,\"hr_branch\":true,\"token_recovery\":\"scatter\"}")
        XCTAssertEqual(try FTPPoseConfig.decode(json: explicit), tiny)
        XCTAssertEqual(try FTPPoseConfig.decode(json: explicit).json, tiny.json)
        let noHR = tiny.json.replacingOccurrences(of: "\"num_joints\":17}", with: "\"num_joints\":17,\"hr_branch\":false}")
        XCTAssertEqual(try FTPPoseConfig.decode(json: noHR).json, noHR)
        XCTAssertLessThan(try FTPPoseConfig.decode(json: noHR).flopsPerWindow(pruneHR: 6, pruneLR: 6), tiny.flopsPerWindow(pruneHR: 6, pruneLR: 6))
        XCTAssertGreaterThan(config.flopsPerWindow(pruneHR: 6, pruneLR: 6), tiny.flopsPerWindow(pruneHR: 6, pruneLR: 6))
        expectError(weights(config: tiny.json.replacingOccurrences(of: "\"num_joints\":17}", with: "\"num_joints\":17,\"hr_branch\":false,\"token_recovery\":\"attention\"}"))) {
            XCTAssertEqual($0, .badConfig("token_recovery applies to the high-resolution branch: it needs hr_branch true"))
        }
        expectError(weights(config: tiny.json.replacingOccurrences(of: "\"num_joints\":17}", with: "\"num_joints\":17,\"token_recovery\":\"gather\"}"))) {
            guard case let .badConfig(reason) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("token_recovery"), reason)
        }
    }

    func testPresetsMatchConfigFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["b", "s", "demo"] {
            let path = root.appendingPathComponent("configs/models/\(name).json").path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw XCTSkip("\(path) not available") }
            let config = try FTPPoseConfig.decode(json: text)
            XCTAssertEqual(config, FTPPoseConfig.preset(name), name)
            XCTAssertEqual(config.json, text.trimmingCharacters(in: .whitespacesAndNewlines), name)
        }
    }

    func testDerivedSizesAndFLOPs() {
        let b = FTPPoseConfig.preset("b")!, s = FTPPoseConfig.preset("s")!
        XCTAssertEqual([b.gridHeight, b.gridWidth, b.heatmapHeight, b.heatmapWidth], [16, 12, 64, 48])
        XCTAssertEqual([b.keptHighRes(prune: 6), b.keptLowRes(prune: 6)], [512, 96])
        // The anchors of the issue: s 36.8 / 74.2 GFLOPs, b 131.8 / 228.2 (pruned / unpruned).
        XCTAssertEqual(s.flopsPerWindow(pruneHR: 6, pruneLR: 6) / 1e9, 36.8, accuracy: 0.8)
        XCTAssertEqual(s.flopsPerWindow(pruneHR: 1, pruneLR: 1) / 1e9, 74.2, accuracy: 1.5)
        XCTAssertEqual(b.flopsPerWindow(pruneHR: 6, pruneLR: 6) / 1e9, 131.8, accuracy: 2.5)
        XCTAssertEqual(b.flopsPerWindow(pruneHR: 1, pruneLR: 1) / 1e9, 228.2, accuracy: 4.5)
    }

    func testRandomWeightsAreSeededAndLoad() throws {
        let a = FTPPoseWeights.random(config: tiny, seed: 7), b = FTPPoseWeights.random(config: tiny, seed: 7)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, FTPPoseWeights.random(config: tiny, seed: 8))
        let model = try FTPPoseModel(safetensors: a)
        XCTAssertEqual(model.config, tiny)
        let file = try SafeTensorsFile(bytes: a)
        let proj = try file.floats("backbone.blocks.0.attn.qkv.weight")
        XCTAssertTrue(proj.allSatisfy { abs($0) <= 0.04 } && proj.contains { $0 != 0 })
        XCTAssertEqual(try file.floats("backbone.blocks.0.norm1.weight"), [Float](repeating: 1, count: 16))
    }
}
