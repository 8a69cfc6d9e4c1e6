// A tiny model file of the BlazePose family with seeded random weights, built in the test: every
// operator kind, the family's input and outputs, and a dead branch, so the interpreter, its checks
// and the estimator are tested without the third-party weights.
import Foundation
import PoseCore
import SafeTensors
@testable import BlazePose

enum TinyBlazePose {
    /// (op entry, weights it adds: name -> (shape, seed scale)).
    static func graph() -> [[String: Any]] {
        [
            ["op": "pad", "input": "t0", "output": "t1", "paddings": [[0, 0], [1, 1], [1, 1], [0, 0]]],
            ["op": "conv2d", "input": "t1", "output": "t2", "weight": "w100", "bias": "w101", "stride": 2, "padding": "valid", "activation": "relu6"],
            ["op": "depthwise_conv2d", "input": "t2", "output": "t3", "weight": "w102", "bias": "w103", "stride": 2, "padding": "same", "activation": "relu6"],
            ["op": "max_pool2d", "input": "t3", "output": "t4", "size": 2, "stride": 2, "padding": "valid", "activation": "none"],
            ["op": "max_pool2d", "input": "t4", "output": "t5", "size": 4, "stride": 4, "padding": "valid", "activation": "none"],
            ["op": "conv2d", "input": "t5", "output": "t6", "weight": "w104", "bias": "w105", "stride": 1, "padding": "same", "activation": "none"],
            ["op": "add", "inputs": ["t5", "t6"], "output": "t7", "activation": "relu"],
            ["op": "resize_bilinear", "input": "t7", "output": "t8", "size": [16, 16]],
            ["op": "depthwise_conv2d", "input": "t8", "output": "t9", "weight": "w106", "bias": "w107", "stride": 2, "padding": "same", "activation": "none"],
            ["op": "conv2d", "input": "t9", "output": "t10", "weight": "w108", "bias": "w109", "stride": 1, "padding": "valid", "activation": "none"],
            ["op": "reshape", "input": "t10", "output": "t11"],
            ["op": "conv2d", "input": "t9", "output": "t12", "weight": "w110", "bias": "w111", "stride": 1, "padding": "valid", "activation": "none"],
            ["op": "sigmoid", "input": "t12", "output": "t13"],
            ["op": "reshape", "input": "t13", "output": "t14"],
            ["op": "conv2d", "input": "t2", "output": "t15", "weight": "w112", "bias": "w113", "stride": 1, "padding": "same", "activation": "none"],
        ]
    }

    static let shapes: [String: [Int]] = [
        "t0": [1, 256, 256, 3], "t1": [1, 258, 258, 3], "t2": [1, 128, 128, 8], "t3": [1, 64, 64, 8], "t4": [1, 32, 32, 8],
        "t5": [1, 8, 8, 8], "t6": [1, 8, 8, 8], "t7": [1, 8, 8, 8], "t8": [1, 16, 16, 8], "t9": [1, 8, 8, 8],
        "t10": [1, 1, 1, 195], "t11": [1, 195], "t12": [1, 1, 1, 1], "t13": [1, 1, 1, 1], "t14": [1, 1], "t15": [1, 128, 128, 4],
    ]

    static let weights: [(String, [Int])] = [
        ("w100", [8, 3, 3, 3]), ("w101", [8]), ("w102", [1, 3, 3, 8]), ("w103", [8]), ("w104", [8, 1, 1, 8]), ("w105", [8]),
        ("w106", [1, 3, 3, 8]), ("w107", [8]), ("w108", [195, 8, 8, 8]), ("w109", [195]), ("w110", [1, 8, 8, 8]), ("w111", [1]),
        ("w112", [4, 1, 1, 8]), ("w113", [4]),
    ]

    static func metadata(family: String = BlazePoseConfig.family, ops: [[String: Any]] = graph(),
                         shapes: [String: [Int]] = shapes) -> [String: String] {
        func json(_ value: Any) -> String { String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self) }
        return [
            BlazePoseConfig.configKey: json(["family": family, "input": [256, 256, 3], "landmarks": 33]),
            BlazePoseConfig.graphKey: json(["inputs": ["t0"], "outputs": ["landmarks": "t11", "pose_flag": "t14", "segmentation": "t15"],
                                            "ops": ops, "tensors": shapes]),
            "license": "test weights",
        ]
    }

    /// The file's bytes; `skip` leaves a weight out, `reshape` gives one a wrong shape.
    static func file(seed: UInt64 = 1, metadata: [String: String] = metadata(), skip: String? = nil, reshape: String? = nil) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var writer = SafeTensorsWriter(metadata: metadata)
        for (name, shape) in weights where name != skip {
            let dims = name == reshape ? shape.reversed() : shape
            let count = shape.reduce(1, *)
            let scale: Float = name == "w108" ? 2 : 0.5
            writer.add(name, shape: dims, floats: (0..<count).map { _ in Float.random(in: -scale...scale, using: &rng) })
        }
        return writer.serialized()
    }
}
