// The graph a BlazePose file carries in its metadata (ops/models/blazepose_convert.py writes it):
// TensorFlow Lite's operator list with DEQUANTIZE folded away, read into typed ops and checked
// before anything runs: every tensor's shape is recomputed from the ops and compared with the
// file's, every weight's shape with what its op needs, and the input and outputs with the
// family's contract. A file that disagrees anywhere is refused with the op and tensor named.
import Foundation
import PoseTensor
import SafeTensors

public enum BlazePoseError: Error, Equatable, CustomStringConvertible {
    case file(String)
    case missingMetadata(String)
    case badMetadata(key: String, reason: String)
    case wrongFamily(String)
    case badGraph(String)
    case missingTensor(String)
    case wrongShape(tensor: String, expected: [Int], got: [Int])
    case badInput(String)

    public var description: String {
        switch self {
        case let .file(text): return text
        case let .missingMetadata(key): return "the file has no \"\(key)\" entry in its metadata: it is not a converted BlazePose model (make one with ops/models/fetch_blazepose.sh)"
        case let .badMetadata(key, reason): return "\(key): \(reason)"
        case let .wrongFamily(family): return "the file holds a \"\(family)\" model, not \(BlazePoseConfig.family)"
        case let .badGraph(reason): return "blazepose.graph: \(reason)"
        case let .missingTensor(name): return "\(name): missing from the weight file"
        case let .wrongShape(name, expected, got): return "\(name): expected \(expected), got \(got)"
        case let .badInput(reason): return reason
        }
    }
}

/// What the family promises: a 256 x 256 RGB crop in 0..1, 39 landmarks of 5 values (33 of the pose), a pose flag.
public struct BlazePoseConfig: Equatable, Sendable {
    public static let family = "blazepose-full"
    public static let configKey = "blazepose.config"
    public static let graphKey = "blazepose.graph"
    public static let inputSide = 256
    public static let landmarkCount = 33
    /// Landmarks the graph outputs: the 33 of the pose and 6 auxiliary ones (MediaPipe uses
    /// those to place the next frame's crop; they are not joints).
    public static let outputLandmarkCount = 39
    /// x, y (crop pixels), z, visibility and presence (logits).
    public static let valuesPerLandmark = 5
    /// Graph outputs the estimator reads.
    public static let landmarksOutput = "landmarks"
    public static let poseFlagOutput = "pose_flag"
    /// Limits on what a file may declare, checked before allocating for it.
    public static let opsMax = 4096
    public static let tensorFloatsMax = 64 * 1024 * 1024
}

/// One operator, with tensors named as in the file (`t<id>`) and weights by their tensor name.
public enum GraphOp: Equatable, Sendable {
    case conv2d(input: String, output: String, weight: String, bias: String, stride: Int, padding: ConvolutionPadding, activation: Activation)
    case depthwiseConv2d(input: String, output: String, weight: String, bias: String, stride: Int, padding: ConvolutionPadding, activation: Activation)
    case add(inputs: [String], output: String, activation: Activation)
    /// `[[batch], [top, bottom], [left, right], [channel]]` as TensorFlow Lite's PAD.
    case pad(input: String, output: String, paddings: [[Int]])
    case maxPool2d(input: String, output: String, size: Int, stride: Int, padding: ConvolutionPadding, activation: Activation)
    case resizeBilinear(input: String, output: String, height: Int, width: Int)
    case sigmoid(input: String, output: String)
    case reshape(input: String, output: String)

    public var output: String {
        switch self {
        case let .conv2d(_, output, _, _, _, _, _), let .depthwiseConv2d(_, output, _, _, _, _, _), let .add(_, output, _),
             let .pad(_, output, _), let .maxPool2d(_, output, _, _, _, _), let .resizeBilinear(_, output, _, _),
             let .sigmoid(_, output), let .reshape(_, output):
            return output
        }
    }

    public var inputs: [String] {
        switch self {
        case let .conv2d(input, _, _, _, _, _, _), let .depthwiseConv2d(input, _, _, _, _, _, _), let .pad(input, _, _),
             let .maxPool2d(input, _, _, _, _, _), let .resizeBilinear(input, _, _, _), let .sigmoid(input, _), let .reshape(input, _):
            return [input]
        case let .add(inputs, _, _):
            return inputs
        }
    }

    public var name: String {
        switch self {
        case .conv2d: return "conv2d"
        case .depthwiseConv2d: return "depthwise_conv2d"
        case .add: return "add"
        case .pad: return "pad"
        case .maxPool2d: return "max_pool2d"
        case .resizeBilinear: return "resize_bilinear"
        case .sigmoid: return "sigmoid"
        case .reshape: return "reshape"
        }
    }
}

/// An activation's shape: height x width x channels (a `[1, N]` tensor is 1 x 1 x N).
public struct FeatureShape: Equatable, Sendable {
    public var height: Int, width: Int, channels: Int
    public var count: Int { height * width * channels }
}

/// The graph as the file describes it.
public struct BlazePoseGraph: Sendable {
    public let input: String
    /// Output role ("landmarks", "pose_flag", "segmentation", ...) -> tensor.
    public let outputs: [String: String]
    public let ops: [GraphOp]
    /// Declared shapes as in the file (`[1, H, W, C]` or `[1, N]`).
    public let declaredShapes: [String: [Int]]

    /// Parses the metadata entries of a converted file.
    public init(metadata: [String: String]) throws {
        guard let configText = metadata[BlazePoseConfig.configKey] else { throw BlazePoseError.missingMetadata(BlazePoseConfig.configKey) }
        guard let config = try? JSONSerialization.jsonObject(with: Data(configText.utf8)) as? [String: Any] else {
            throw BlazePoseError.badMetadata(key: BlazePoseConfig.configKey, reason: "not a JSON object")
        }
        guard let family = config["family"] as? String else {
            throw BlazePoseError.badMetadata(key: BlazePoseConfig.configKey, reason: "no \"family\" string")
        }
        guard family == BlazePoseConfig.family else { throw BlazePoseError.wrongFamily(family) }
        guard let graphText = metadata[BlazePoseConfig.graphKey] else { throw BlazePoseError.missingMetadata(BlazePoseConfig.graphKey) }
        guard let graph = try? JSONSerialization.jsonObject(with: Data(graphText.utf8)) as? [String: Any] else {
            throw BlazePoseError.badGraph("not a JSON object")
        }
        guard let inputs = graph["inputs"] as? [String], inputs.count == 1 else { throw BlazePoseError.badGraph("\"inputs\" must name one tensor") }
        guard let outputs = graph["outputs"] as? [String: String] else { throw BlazePoseError.badGraph("\"outputs\" must map names to tensors") }
        guard let tensors = graph["tensors"] as? [String: [Int]] else { throw BlazePoseError.badGraph("\"tensors\" must map names to shapes") }
        guard let opList = graph["ops"] as? [[String: Any]], opList.count <= BlazePoseConfig.opsMax else {
            throw BlazePoseError.badGraph("\"ops\" must be a list of at most \(BlazePoseConfig.opsMax) objects")
        }
        self.input = inputs[0]
        self.outputs = outputs
        self.declaredShapes = tensors
        self.ops = try opList.enumerated().map { try Self.parse($1, index: $0) }
    }

    private static func parse(_ entry: [String: Any], index: Int) throws -> GraphOp {
        let kind = entry["op"] as? String ?? "?"
        func fail(_ reason: String) -> BlazePoseError { .badGraph("op \(index) (\(kind)): \(reason)") }
        func string(_ key: String) throws -> String {
            guard let value = entry[key] as? String else { throw fail("no \"\(key)\" string") }
            return value
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let value = entry[key] as? Int, range.contains(value) else { throw fail("\"\(key)\" must be an integer in \(range)") }
            return value
        }
        func padding() throws -> ConvolutionPadding {
            guard let value = ConvolutionPadding(rawValue: try string("padding")) else { throw fail("\"padding\" must be same or valid") }
            return value
        }
        func activation() throws -> Activation {
            guard let value = Activation(rawValue: try string("activation")) else { throw fail("\"activation\" must be none, relu or relu6") }
            return value
        }
        let output = try string("output")
        switch kind {
        case "conv2d":
            return .conv2d(input: try string("input"), output: output, weight: try string("weight"), bias: try string("bias"),
                           stride: try int("stride", 1...8), padding: try padding(), activation: try activation())
        case "depthwise_conv2d":
            return .depthwiseConv2d(input: try string("input"), output: output, weight: try string("weight"), bias: try string("bias"),
                                    stride: try int("stride", 1...8), padding: try padding(), activation: try activation())
        case "add":
            guard let inputs = entry["inputs"] as? [String], inputs.count == 2 else { throw fail("\"inputs\" must name two tensors") }
            return .add(inputs: inputs, output: output, activation: try activation())
        case "pad":
            guard let paddings = entry["paddings"] as? [[Int]], paddings.count == 4, paddings.allSatisfy({ $0.count == 2 }) else {
                throw fail("\"paddings\" must be 4 pairs")
            }
            return .pad(input: try string("input"), output: output, paddings: paddings)
        case "max_pool2d":
            return .maxPool2d(input: try string("input"), output: output, size: try int("size", 1...16), stride: try int("stride", 1...16),
                              padding: try padding(), activation: try activation())
        case "resize_bilinear":
            guard let size = entry["size"] as? [Int], size.count == 2, size.allSatisfy({ (1...4096).contains($0) }) else {
                throw fail("\"size\" must be [height, width]")
            }
            return .resizeBilinear(input: try string("input"), output: output, height: size[0], width: size[1])
        case "sigmoid": return .sigmoid(input: try string("input"), output: output)
        case "reshape": return .reshape(input: try string("input"), output: output)
        default: throw fail("unknown operator")
        }
    }

    /// The shape of a declared tensor as height x width x channels.
    func featureShape(_ name: String, what: String) throws -> FeatureShape {
        guard let dims = declaredShapes[name] else { throw BlazePoseError.badGraph("\(what): tensor \(name) has no declared shape") }
        guard dims.first == 1, dims.allSatisfy({ $0 >= 1 }) else {
            throw BlazePoseError.badGraph("\(what): tensor \(name) has shape \(dims); a batch of 1 and positive sizes are expected")
        }
        let shape: FeatureShape
        switch dims.count {
        case 4: shape = FeatureShape(height: dims[1], width: dims[2], channels: dims[3])
        case 2: shape = FeatureShape(height: 1, width: 1, channels: dims[1])
        default: throw BlazePoseError.badGraph("\(what): tensor \(name) has shape \(dims); rank 2 or 4 expected")
        }
        guard dims.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }) <= BlazePoseConfig.tensorFloatsMax else {
            throw BlazePoseError.badGraph("\(what): tensor \(name) has \(dims), above the limit of \(BlazePoseConfig.tensorFloatsMax) floats")
        }
        return shape
    }

    /// The ops that `wanted` outputs depend on, in file order (the file's order is topological;
    /// an op reading a tensor no earlier op wrote is refused).
    public func ops(feeding wanted: [String]) throws -> [GraphOp] {
        var producer: [String: Int] = [:]
        for (index, op) in ops.enumerated() {
            for input in op.inputs where input != self.input && producer[input] == nil {
                throw BlazePoseError.badGraph("op \(index) (\(op.name)) reads \(input) before any op writes it")
            }
            guard producer[op.output] == nil, op.output != input else {
                throw BlazePoseError.badGraph("op \(index) (\(op.name)) writes \(op.output) a second time")
            }
            producer[op.output] = index
        }
        var needed = Set<Int>()
        var stack: [String] = []
        for role in wanted {
            guard let tensor = outputs[role] else { throw BlazePoseError.badGraph("no \"\(role)\" output") }
            stack.append(tensor)
        }
        while let tensor = stack.popLast() {
            guard let index = producer[tensor] else { continue }
            if needed.insert(index).inserted { stack += ops[index].inputs }
        }
        return needed.sorted().map { ops[$0] }
    }
}
