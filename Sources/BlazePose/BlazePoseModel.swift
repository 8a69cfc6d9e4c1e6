// BlazePose-Full run natively: the file's graph, reduced to the ops its landmarks and pose flag
// need (the segmentation, heatmap and world-landmark branches are never computed unless asked
// for), checked, with its weights packed once and its activations laid out in one arena per
// thread. Immutable after load; `run` on one crop touches only the arena it is given, so crops
// can run on any threads and each result depends on its crop alone.
import Dispatch
import Foundation
import PoseTensor
import SafeTensors

/// One crop's outputs.
public struct BlazePoseOutput: Equatable, Sendable {
    /// 39 x (x, y, z, visibility, presence): x, y in crop pixels (0..256), the last two logits;
    /// the first 33 are the pose's landmarks.
    public var landmarks: [Float]
    /// Probability that the crop holds a person (after the graph's sigmoid).
    public var poseFlag: Float
}

public final class BlazePoseModel: Sendable {
    /// A compiled op: tensors are arena offsets, weights packed.
    enum Step: @unchecked Sendable {
        case conv(input: Int, output: Int, inChannels: Int, geometry: ConvolutionGeometry, weights: PackedMatrix, bias: [Float], activation: Activation)
        case depthwise(input: Int, output: Int, channels: Int, geometry: ConvolutionGeometry, weights: [Float], bias: [Float], activation: Activation)
        case add(a: Int, b: Int, output: Int, count: Int, activation: Activation)
        case pad(input: Int, output: Int, shape: FeatureShape, top: Int, bottom: Int, left: Int, right: Int)
        case maxPool(input: Int, output: Int, channels: Int, geometry: ConvolutionGeometry, activation: Activation)
        case resize(input: Int, output: Int, shape: FeatureShape, outHeight: Int, outWidth: Int)
        case sigmoid(input: Int, output: Int, count: Int)
        case copy(input: Int, output: Int, count: Int)
    }

    public let graph: BlazePoseGraph
    /// Output roles computed, and where each lies in the arena.
    public let outputs: [String: (offset: Int, count: Int)]
    let steps: [Step]
    let inputOffset: Int
    /// Ops run per crop (those the asked-for outputs need).
    public var keptOpCount: Int { steps.count }

    /// Multiply-adds of one crop through the kept ops (convolutions only).
    public var multiplyAdds: Int {
        steps.reduce(0) { total, step in
            switch step {
            case let .conv(_, _, _, g, weights, _, _): return total + g.outHeight * g.outWidth * weights.n * weights.k
            case let .depthwise(_, _, channels, g, _, _, _): return total + g.outHeight * g.outWidth * channels * g.kernel * g.kernel
            default: return total
            }
        }
    }
    /// Floats of one thread's arena (activations) and im2col scratch.
    let arenaFloats: Int
    let scratchFloats: Int
    private let arenas = ArenaPool()

    public convenience init(contentsOfFile path: String, outputs wanted: [String] = BlazePoseModel.poseOutputs) throws {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOfFile: path) } catch { throw BlazePoseError.file("\(path): \(error)") }
        try self.init(file: file, outputs: wanted)
    }

    public convenience init(safetensors bytes: [UInt8], outputs wanted: [String] = BlazePoseModel.poseOutputs) throws {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(bytes: bytes) } catch { throw BlazePoseError.file("\(error)") }
        try self.init(file: file, outputs: wanted)
    }

    /// What the estimator needs.
    public static let poseOutputs = [BlazePoseConfig.landmarksOutput, BlazePoseConfig.poseFlagOutput]

    /// Whether a file's metadata says it is a BlazePose model (the family check comes at load).
    public static func describes(metadata: [String: String]) -> Bool { metadata[BlazePoseConfig.configKey] != nil }

    init(file: SafeTensorsFile, outputs wanted: [String]) throws {
        let graph = try BlazePoseGraph(metadata: file.metadata)
        self.graph = graph
        let ops = try graph.ops(feeding: wanted)

        // The family's contract on the input and the two outputs the estimator reads.
        let inputShape = try graph.featureShape(graph.input, what: "input")
        let side = BlazePoseConfig.inputSide
        guard inputShape == FeatureShape(height: side, width: side, channels: 3) else {
            throw BlazePoseError.wrongShape(tensor: "input \(graph.input)", expected: [1, side, side, 3], got: graph.declaredShapes[graph.input] ?? [])
        }
        for (role, count) in [(BlazePoseConfig.landmarksOutput, BlazePoseConfig.outputLandmarkCount * BlazePoseConfig.valuesPerLandmark),
                              (BlazePoseConfig.poseFlagOutput, 1)] {
            guard let tensor = graph.outputs[role] else { throw BlazePoseError.badGraph("no \"\(role)\" output") }
            let shape = try graph.featureShape(tensor, what: "output \(role)")
            guard shape.count == count else {
                throw BlazePoseError.wrongShape(tensor: "output \(role) \(tensor)", expected: [1, count], got: graph.declaredShapes[tensor] ?? [])
            }
        }

        // Shapes: recomputed op by op and compared with the file's.
        var shapes: [String: FeatureShape] = [graph.input: inputShape]
        var compiled: [(op: GraphOp, inputs: [String], make: ([String: Int]) -> Step)?] = []
        // A PAD whose only reader is a VALID conv folds into that conv's geometry (no copy).
        var readers: [String: Int] = [:]
        for op in ops { for input in op.inputs { readers[input, default: 0] += 1 } }
        let outputTensorSet = Set(wanted.compactMap { graph.outputs[$0] })
        var pads: [String: (source: String, shape: FeatureShape, paddings: [[Int]], index: Int)] = [:]
        func geometry(_ x: FeatureShape, reading input: String, kernel: Int, stride: Int, padding: ConvolutionPadding)
            -> (geometry: ConvolutionGeometry, input: String, shape: FeatureShape) {
            if padding == .valid, let pad = pads[input], readers[input] == 1, !outputTensorSet.contains(input) {
                compiled[pad.index] = nil
                let p = pad.paddings
                return (ConvolutionGeometry(inHeight: pad.shape.height, inWidth: pad.shape.width, kernel: kernel, stride: stride,
                                            padTop: p[1][0], padBottom: p[1][1], padLeft: p[2][0], padRight: p[2][1]), pad.source, pad.shape)
            }
            return (ConvolutionGeometry(inHeight: x.height, inWidth: x.width, kernel: kernel, stride: stride, padding: padding), input, x)
        }
        var scratch = 0
        func weights(_ name: String, _ expected: [Int]) throws -> [Float] {
            guard file.contains(name) else { throw BlazePoseError.missingTensor(name) }
            let info = try file.info(name)
            guard info.shape == expected else { throw BlazePoseError.wrongShape(tensor: name, expected: expected, got: info.shape) }
            guard info.dtype == .f32 else { throw BlazePoseError.badGraph("\(name): expected dtype F32, got \(info.dtype.rawValue)") }
            do { return try file.floats(name) } catch { throw BlazePoseError.file("\(name): \(error)") }
        }
        for (index, op) in ops.enumerated() {
            let what = "op \(index) (\(op.name) -> \(op.output))"
            let input = op.inputs[0]
            guard let x = shapes[input] else { throw BlazePoseError.badGraph("\(what): reads \(input), which no kept op writes") }
            let out: FeatureShape
            switch op {
            case let .conv2d(_, output, weight, bias, stride, padding, activation):
                let declared = try graph.featureShape(output, what: what)
                let info = file.contains(weight) ? try file.info(weight) : nil
                guard let kernelDims = info?.shape, kernelDims.count == 4, kernelDims[1] == kernelDims[2] else {
                    throw info == nil ? BlazePoseError.missingTensor(weight) : BlazePoseError.badGraph("\(what): \(weight) is not [out, k, k, in]")
                }
                let k = kernelDims[1], n = declared.channels
                let w = try weights(weight, [n, k, k, x.channels])
                let b = try weights(bias, [n])
                let (g, source, _) = geometry(x, reading: input, kernel: k, stride: stride, padding: padding)
                out = FeatureShape(height: g.outHeight, width: g.outWidth, channels: n)
                let packed = w.withUnsafeBufferPointer { PackedMatrix(weights: $0.baseAddress!, n: n, k: k * k * x.channels, ldw: k * k * x.channels) }
                scratch = max(scratch, Kernels.conv2dScratchCount(inChannels: x.channels, geometry: g))
                compiled.append((op, [source], { .conv(input: $0[source]!, output: $0[output]!, inChannels: x.channels, geometry: g, weights: packed, bias: b, activation: activation) }))
            case let .depthwiseConv2d(_, output, weight, bias, stride, padding, activation):
                let info = file.contains(weight) ? try file.info(weight) : nil
                guard let kernelDims = info?.shape, kernelDims.count == 4, kernelDims[1] == kernelDims[2] else {
                    throw info == nil ? BlazePoseError.missingTensor(weight) : BlazePoseError.badGraph("\(what): \(weight) is not [1, k, k, channels]")
                }
                let k = kernelDims[1]
                let w = try weights(weight, [1, k, k, x.channels])
                let b = try weights(bias, [x.channels])
                let (g, source, _) = geometry(x, reading: input, kernel: k, stride: stride, padding: padding)
                out = FeatureShape(height: g.outHeight, width: g.outWidth, channels: x.channels)
                compiled.append((op, [source], { .depthwise(input: $0[source]!, output: $0[output]!, channels: x.channels, geometry: g, weights: w, bias: b, activation: activation) }))
            case let .add(inputs, output, activation):
                guard let y = shapes[inputs[1]] else { throw BlazePoseError.badGraph("\(what): reads \(inputs[1]), which no kept op writes") }
                guard x == y else { throw BlazePoseError.badGraph("\(what): adds \(x) to \(y)") }
                out = x
                compiled.append((op, inputs, { .add(a: $0[inputs[0]]!, b: $0[inputs[1]]!, output: $0[output]!, count: x.count, activation: activation) }))
            case let .pad(_, output, p):
                guard p[0] == [0, 0], p[3] == [0, 0], p[1].allSatisfy({ (0...64).contains($0) }), p[2].allSatisfy({ (0...64).contains($0) }) else {
                    throw BlazePoseError.badGraph("\(what): only spatial padding of 0...64 pixels is supported, got \(p)")
                }
                out = FeatureShape(height: x.height + p[1][0] + p[1][1], width: x.width + p[2][0] + p[2][1], channels: x.channels)
                pads[output] = (input, x, p, compiled.count)
                compiled.append((op, [input], { .pad(input: $0[input]!, output: $0[output]!, shape: x, top: p[1][0], bottom: p[1][1], left: p[2][0], right: p[2][1]) }))
            case let .maxPool2d(_, output, size, stride, padding, activation):
                let g = ConvolutionGeometry(inHeight: x.height, inWidth: x.width, kernel: size, stride: stride, padding: padding)
                out = FeatureShape(height: g.outHeight, width: g.outWidth, channels: x.channels)
                compiled.append((op, [input], { .maxPool(input: $0[input]!, output: $0[output]!, channels: x.channels, geometry: g, activation: activation) }))
            case let .resizeBilinear(_, output, height, width):
                out = FeatureShape(height: height, width: width, channels: x.channels)
                compiled.append((op, [input], { .resize(input: $0[input]!, output: $0[output]!, shape: x, outHeight: height, outWidth: width) }))
            case let .sigmoid(_, output):
                out = x
                compiled.append((op, [input], { .sigmoid(input: $0[input]!, output: $0[output]!, count: x.count) }))
            case let .reshape(_, output):
                let declared = try graph.featureShape(output, what: what)
                guard declared.count == x.count else { throw BlazePoseError.badGraph("\(what): reshapes \(x.count) values into \(declared.count)") }
                out = declared
                compiled.append((op, [input], { .copy(input: $0[input]!, output: $0[output]!, count: x.count) }))
            }
            let declared = try graph.featureShape(op.output, what: what)
            guard declared.count == out.count, (declared.height == 1 && declared.width == 1) || declared == out else {
                throw BlazePoseError.wrongShape(tensor: "\(what) output", expected: [1, out.height, out.width, out.channels],
                                                got: graph.declaredShapes[op.output] ?? [])
            }
            shapes[op.output] = out
        }

        // Arena: each tensor lives from the op that writes it to the last op that reads it (the
        // outputs to the end); first fit over the tensors alive at its birth.
        let compiledSteps = compiled.compactMap { $0 }
        let outputTensors = outputTensorSet
        var lastUse: [String: Int] = [graph.input: -1]
        for (index, entry) in compiledSteps.enumerated() { for input in entry.inputs { lastUse[input] = index } }
        for tensor in outputTensors { lastUse[tensor] = compiledSteps.count }
        var offsets: [String: Int] = [:]
        var live: [(name: String, start: Int, end: Int)] = []
        var arena = 0
        func place(_ name: String, floats: Int, at index: Int) {
            let size = (floats + 15) & ~15
            live.removeAll { (lastUse[$0.name] ?? -1) < index }
            var start = 0
            for slot in live.sorted(by: { $0.start < $1.start }) {
                if start + size <= slot.start { break }
                start = max(start, slot.end)
            }
            live.append((name, start, start + size))
            offsets[name] = start
            arena = max(arena, start + size)
        }
        place(graph.input, floats: inputShape.count, at: -1)
        for (index, entry) in compiledSteps.enumerated() { place(entry.op.output, floats: shapes[entry.op.output]!.count, at: index) }

        steps = compiledSteps.map { $0.make(offsets) }
        inputOffset = offsets[graph.input]!
        var located: [String: (offset: Int, count: Int)] = [:]
        for role in wanted { let tensor = graph.outputs[role]!; located[role] = (offsets[tensor]!, shapes[tensor]!.count) }
        outputs = located
        arenaFloats = arena
        scratchFloats = scratch
    }

    /// Per-thread working memory, reused across calls.
    final class Arena: @unchecked Sendable {
        let activations: FloatStorage
        let scratch: FloatStorage
        init(activations: Int, scratch: Int) {
            self.activations = FloatStorage(count: max(activations, 1), zeroed: false)
            self.scratch = FloatStorage(count: max(scratch, 1), zeroed: false)
        }
    }

    final class ArenaPool: @unchecked Sendable {
        private let lock = NSLock()
        private var free: [Arena] = []
        static let cachedMax = 16
        func take(_ make: () -> Arena) -> Arena {
            lock.lock(); defer { lock.unlock() }
            return free.popLast() ?? make()
        }
        func give(_ arena: Arena) {
            lock.lock(); defer { lock.unlock() }
            if free.count < Self.cachedMax { free.append(arena) }
        }
    }

    /// Runs the graph on `crops` images of 256 x 256 x 3 floats (0..1), `threads` crops at a time;
    /// `body(crop, role -> values)` receives each crop's outputs, possibly on another thread.
    public func run(images: UnsafePointer<Float>, count: Int, threads: Int, timings: OpTimings? = nil,
                    _ body: (_ crop: Int, _ outputs: [String: UnsafeBufferPointer<Float>]) -> Void) {
        let imageFloats = BlazePoseConfig.inputSide * BlazePoseConfig.inputSide * 3
        let workers = max(1, min(threads, count))
        // Fewer crops than threads: the rest go inside each crop's convolutions (same results).
        let inner = max(1, threads / workers)
        Parallel.forEach(workers, threads: workers) { worker in
            let arena = arenas.take { Arena(activations: arenaFloats, scratch: scratchFloats) }
            defer { arenas.give(arena) }
            var crop = worker
            while crop < count {
                let base = arena.activations.pointer
                (base + inputOffset).update(from: images + crop * imageFloats, count: imageFloats)
                forward(arena: base, scratch: arena.scratch.pointer, threads: inner, timings: timings)
                var views: [String: UnsafeBufferPointer<Float>] = [:]
                for (role, place) in outputs { views[role] = UnsafeBufferPointer(start: base + place.offset, count: place.count) }
                body(crop, views)
                crop += workers
            }
        }
    }

    /// The forward pass of one crop whose input is in place in `arena`; `timings` adds each op's seconds.
    func forward(arena a: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, threads: Int = 1, timings: OpTimings? = nil) {
        for step in steps {
            let start = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            defer { timings?.add(step.kind, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
            switch step {
            case let .conv(input, output, inChannels, geometry, weights, bias, activation):
                bias.withUnsafeBufferPointer { b in
                    Kernels.conv2d(input: a + input, inChannels: inChannels, geometry: geometry, weights: weights, bias: b.baseAddress!,
                                   activation: activation, output: a + output, scratch: scratch, threads: threads)
                }
            case let .depthwise(input, output, channels, geometry, weights, bias, activation):
                weights.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        Kernels.depthwiseConv2d(input: a + input, channels: channels, geometry: geometry, weights: w.baseAddress!,
                                                bias: b.baseAddress!, activation: activation, output: a + output, threads: threads)
                    }
                }
            case let .add(x, y, output, count, activation):
                Kernels.add(a + x, a + y, count: count, activation: activation, out: a + output)
            case let .pad(input, output, shape, top, bottom, left, right):
                Kernels.pad(input: a + input, height: shape.height, width: shape.width, channels: shape.channels,
                            top: top, bottom: bottom, left: left, right: right, output: a + output)
            case let .maxPool(input, output, channels, geometry, activation):
                Kernels.maxPool2d(input: a + input, channels: channels, geometry: geometry, activation: activation, output: a + output)
            case let .resize(input, output, shape, outHeight, outWidth):
                Kernels.resizeBilinear(input: a + input, height: shape.height, width: shape.width, channels: shape.channels,
                                       outHeight: outHeight, outWidth: outWidth, output: a + output)
            case let .sigmoid(input, output, count):
                (a + output).update(from: a + input, count: count)
                Kernels.sigmoid(a + output, count: count)
            case let .copy(input, output, count):
                (a + output).update(from: a + input, count: count)
            }
        }
    }

    /// Landmarks and pose flag of each crop, in order.
    public func poses(images: [Float], count: Int, threads: Int, timings: OpTimings? = nil) -> [BlazePoseOutput] {
        precondition(outputs[BlazePoseConfig.landmarksOutput] != nil && outputs[BlazePoseConfig.poseFlagOutput] != nil)
        precondition(images.count == count * BlazePoseConfig.inputSide * BlazePoseConfig.inputSide * 3)
        let results = UnsafeMutableBufferPointer<BlazePoseOutput>.allocate(capacity: count)
        results.initialize(repeating: BlazePoseOutput(landmarks: [], poseFlag: 0))
        defer { results.deinitialize(); results.deallocate() }
        let target = UncheckedResults(results)
        images.withUnsafeBufferPointer { pointer in
            run(images: pointer.baseAddress!, count: count, threads: threads, timings: timings) { crop, views in
                target.buffer[crop] = BlazePoseOutput(landmarks: Array(views[BlazePoseConfig.landmarksOutput]!),
                                                      poseFlag: views[BlazePoseConfig.poseFlagOutput]![0])
            }
        }
        return Array(results)
    }
}

extension BlazePoseModel.Step {
    /// The op kind, for timings.
    var kind: String {
        switch self {
        case let .conv(_, _, _, geometry, _, _, _): return geometry.isPointwise ? "conv1x1" : "conv\(geometry.kernel)x\(geometry.kernel)"
        case let .depthwise(_, _, _, geometry, _, _, _): return "depthwise\(geometry.kernel)x\(geometry.kernel)"
        case .add: return "add"
        case .pad: return "pad"
        case .maxPool: return "maxpool"
        case .resize: return "resize"
        case .sigmoid: return "sigmoid"
        case .copy: return "reshape"
        }
    }
}

/// Seconds per op kind, summed over crops and threads (CPU time, not wall time).
public final class OpTimings: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: [String: Double] = [:]
    public init() {}
    func add(_ kind: String, seconds value: Double) {
        lock.lock(); defer { lock.unlock() }
        seconds[kind, default: 0] += value
    }
    /// (kind, seconds), largest first.
    public var totals: [(kind: String, seconds: Double)] {
        lock.lock(); defer { lock.unlock() }
        return seconds.map { ($0.key, $0.value) }.sorted { $0.seconds > $1.seconds }
    }
}

/// Disjoint writes from the workers of one `run` (each crop index is written once).
private struct UncheckedResults: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<BlazePoseOutput>
    init(_ buffer: UnsafeMutableBufferPointer<BlazePoseOutput>) { self.buffer = buffer }
}
