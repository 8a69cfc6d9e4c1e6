// The model's hyperparameters (FTP-POSE.md section 7), read from the weight file's metadata key
// `ftp_pose.config` as JSON with exactly the keys the Python reference writes, plus the sizes
// derived from them (patch grid, heatmap, kept-token counts) and the analytic FLOP count.
import Foundation
import PoseCore

/// Why weights or inputs were refused. Messages read like sentences and name the tensor or key.
public enum FTPPoseError: Error, Equatable, CustomStringConvertible {
    case file(SafeTensorsErrorDescription)
    case missingConfig
    case badConfig(String)
    case missingTensor(String)
    case unexpectedTensor(String)
    case wrongShape(tensor: String, expected: [Int], got: [Int])
    case wrongDType(tensor: String, expected: String, got: String)
    case badInput(String)

    public var description: String {
        switch self {
        case let .file(error): return error.text
        case .missingConfig: return "weight file has no \"ftp_pose.config\" entry in its __metadata__"
        case let .badConfig(reason): return "ftp_pose.config: \(reason)"
        case let .missingTensor(name): return "\(name): missing from the weight file"
        case let .unexpectedTensor(name): return "\(name): unexpected tensor (not part of FTP-Pose)"
        case let .wrongShape(name, expected, got): return "\(name): expected \(expected), got \(got)"
        case let .wrongDType(name, expected, got): return "\(name): expected dtype \(expected), got \(got)"
        case let .badInput(reason): return reason
        }
    }
}

/// A safetensors error carried as text (keeps FTPPoseError Equatable without exposing the module).
public struct SafeTensorsErrorDescription: Equatable, Sendable {
    public let text: String
}

/// How the refined fine tokens return to the full high-resolution set (FTP-POSE.md section 10).
public enum TokenRecovery: String, Codable, Sendable {
    /// FTP-Pose: the kept rows are overwritten by their refined values.
    case scatter
    /// HoT's token recovering attention: every fine token attends to the refined kept ones.
    case attention
}

public struct FTPPoseConfig: Codable, Equatable, Sendable {
    public var inputSize: [Int]
    public var patchSize: Int
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mgfeDim: Int
    public var mgfeHeads: Int
    public var mgfeMLPRatio: Int
    public var fuseMLPRatio: Int
    public var stDepth: Int
    public var sharedDepth: Int
    public var frames: Int
    public var pruneHR: Int
    public var pruneLR: Int
    public var knnK: Int
    public var dpcTau: Double
    public var numJoints: Int
    /// Ablation keys (optional in the JSON, written only when not the default; nil = default).
    /// `hr_branch: false`: the fine tokens are not refined (no DPC, no shared blocks).
    public var hrBranch: Bool?
    /// `token_recovery`: nil = .scatter.
    public var tokenRecovery: TokenRecovery?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case inputSize = "input_size", patchSize = "patch_size", embedDim = "embed_dim", depth
        case numHeads = "num_heads", mgfeDim = "mgfe_dim", mgfeHeads = "mgfe_heads"
        case mgfeMLPRatio = "mgfe_mlp_ratio", fuseMLPRatio = "fuse_mlp_ratio", stDepth = "st_depth"
        case sharedDepth = "shared_depth", frames, pruneHR = "prune_hr", pruneLR = "prune_lr"
        case knnK = "knn_k", dpcTau = "dpc_tau", numJoints = "num_joints"
        case hrBranch = "hr_branch", tokenRecovery = "token_recovery"
    }

    /// Keys a file may leave out (their absence means the paper's model).
    static let optionalKeys: Set<String> = [CodingKeys.hrBranch.rawValue, CodingKeys.tokenRecovery.rawValue]

    /// Whether the fine tokens are refined (the high-resolution branch of section 3).
    public var refinesHighRes: Bool { hrBranch ?? true }
    public var recovery: TokenRecovery { tokenRecovery ?? .scatter }

    /// Limits that keep a hostile config from asking for absurd allocations.
    public static let inputSideMax = 2048
    public static let widthMax = 8192
    public static let depthMax = 256

    public init(inputSize: [Int], patchSize: Int, embedDim: Int, depth: Int, numHeads: Int, mgfeDim: Int, mgfeHeads: Int,
                mgfeMLPRatio: Int = 4, fuseMLPRatio: Int = 2, stDepth: Int, sharedDepth: Int, frames: Int = 3,
                pruneHR: Int = 6, pruneLR: Int = 6, knnK: Int = 5, dpcTau: Double = 1.0, numJoints: Int = 17,
                hrBranch: Bool? = nil, tokenRecovery: TokenRecovery? = nil) {
        self.inputSize = inputSize; self.patchSize = patchSize; self.embedDim = embedDim; self.depth = depth
        self.numHeads = numHeads; self.mgfeDim = mgfeDim; self.mgfeHeads = mgfeHeads; self.mgfeMLPRatio = mgfeMLPRatio
        self.fuseMLPRatio = fuseMLPRatio; self.stDepth = stDepth; self.sharedDepth = sharedDepth; self.frames = frames
        self.pruneHR = pruneHR; self.pruneLR = pruneLR; self.knnK = knnK; self.dpcTau = dpcTau; self.numJoints = numJoints
        self.hrBranch = hrBranch == true ? nil : hrBranch
        self.tokenRecovery = tokenRecovery == .scatter ? nil : tokenRecovery
    }

    /// The variants of FTP-POSE.md section 7, plus `tiny` (the test config of the reference).
    public static func preset(_ name: String) -> FTPPoseConfig? {
        switch name {
        case "b": return FTPPoseConfig(inputSize: [256, 192], patchSize: 16, embedDim: 768, depth: 12, numHeads: 12, mgfeDim: 384, mgfeHeads: 8, stDepth: 2, sharedDepth: 4)
        case "s": return FTPPoseConfig(inputSize: [256, 192], patchSize: 16, embedDim: 384, depth: 12, numHeads: 12, mgfeDim: 192, mgfeHeads: 6, stDepth: 2, sharedDepth: 4)
        case "demo": return FTPPoseConfig(inputSize: [128, 96], patchSize: 8, embedDim: 96, depth: 4, numHeads: 3, mgfeDim: 64, mgfeHeads: 4, stDepth: 1, sharedDepth: 2)
        case "tiny": return FTPPoseConfig(inputSize: [32, 24], patchSize: 8, embedDim: 16, depth: 2, numHeads: 2, mgfeDim: 16, mgfeHeads: 2, stDepth: 1, sharedDepth: 1)
        default: return nil
        }
    }

    public static let presetNames = ["b", "s", "demo", "tiny"]

    /// Parses and validates the metadata JSON: every key present, no unknown key, consistent sizes.
    public static func decode(json text: String) throws -> FTPPoseConfig {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data), let map = object as? [String: Any] else {
            throw FTPPoseError.badConfig("not a JSON object: \(text.prefix(80))")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = map.keys.sorted().first(where: { !known.contains($0) }) { throw FTPPoseError.badConfig("unknown key \"\(unknown)\"") }
        if let missing = CodingKeys.allCases.first(where: { map[$0.rawValue] == nil && !optionalKeys.contains($0.rawValue) }) { throw FTPPoseError.badConfig("missing key \"\(missing.rawValue)\"") }
        var config: FTPPoseConfig
        do {
            config = try JSONDecoder().decode(FTPPoseConfig.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw FTPPoseError.badConfig("\"\(key)\" has the wrong type (\(context.debugDescription))")
        } catch {
            throw FTPPoseError.badConfig("\(error)")
        }
        if config.hrBranch == true { config.hrBranch = nil }              // the defaults are stored as nil
        if config.tokenRecovery == .scatter { config.tokenRecovery = nil }
        try config.validate()
        return config
    }

    /// Compact JSON, keys in the reference's order (what `ftp_pose.config` holds).
    public var json: String {
        let tau = dpcTau == dpcTau.rounded() ? String(format: "%.1f", dpcTau) : "\(dpcTau)"
        return "{\"input_size\":[\(inputSize[0]),\(inputSize[1])],\"patch_size\":\(patchSize),\"embed_dim\":\(embedDim),"
            + "\"depth\":\(depth),\"num_heads\":\(numHeads),\"mgfe_dim\":\(mgfeDim),\"mgfe_heads\":\(mgfeHeads),"
            + "\"mgfe_mlp_ratio\":\(mgfeMLPRatio),\"fuse_mlp_ratio\":\(fuseMLPRatio),\"st_depth\":\(stDepth),"
            + "\"shared_depth\":\(sharedDepth),\"frames\":\(frames),\"prune_hr\":\(pruneHR),\"prune_lr\":\(pruneLR),"
            + "\"knn_k\":\(knnK),\"dpc_tau\":\(tau),\"num_joints\":\(numJoints)"
            + (refinesHighRes ? "" : ",\"hr_branch\":false")
            + (recovery == .scatter ? "" : ",\"token_recovery\":\"\(recovery.rawValue)\"") + "}"
    }

    public func validate() throws {
        func fail(_ reason: String) throws -> Never { throw FTPPoseError.badConfig(reason) }
        guard inputSize.count == 2 else { try fail("input_size must be [H, W], got \(inputSize)") }
        guard inputSize.allSatisfy({ $0 > 0 && $0 <= Self.inputSideMax && $0 % 4 == 0 }) else {
            try fail("input_size \(inputSize) must be positive multiples of 4 up to \(Self.inputSideMax)")
        }
        guard patchSize >= 4, patchSize % 4 == 0, patchSize <= 64 else { try fail("patch_size must be a multiple of 4 in 4...64, got \(patchSize)") }
        for (name, value) in [("embed_dim", embedDim), ("mgfe_dim", mgfeDim)] where value <= 0 || value > Self.widthMax {
            try fail("\(name) must be in 1...\(Self.widthMax), got \(value)")
        }
        for (name, value) in [("depth", depth), ("st_depth", stDepth), ("shared_depth", sharedDepth)] where value < 0 || value > Self.depthMax {
            try fail("\(name) must be in 0...\(Self.depthMax), got \(value)")
        }
        for (name, value) in [("num_heads", numHeads), ("mgfe_heads", mgfeHeads), ("mgfe_mlp_ratio", mgfeMLPRatio),
                              ("fuse_mlp_ratio", fuseMLPRatio), ("prune_hr", pruneHR), ("prune_lr", pruneLR),
                              ("knn_k", knnK), ("num_joints", numJoints)] where value <= 0 || value > 64 {
            try fail("\(name) must be in 1...64, got \(value)")
        }
        guard embedDim % numHeads == 0 else { try fail("embed_dim \(embedDim) is not divisible by num_heads \(numHeads)") }
        guard mgfeDim % mgfeHeads == 0 else { try fail("mgfe_dim \(mgfeDim) is not divisible by mgfe_heads \(mgfeHeads)") }
        guard frames > 0, frames % 2 == 1, frames <= 15 else { try fail("frames must be odd in 1...15, got \(frames)") }
        guard dpcTau.isFinite, dpcTau > 0 else { try fail("dpc_tau must be positive, got \(dpcTau)") }
        guard gridHeight > 0, gridWidth > 0, gridHeight * upsample == heatmapHeight, gridWidth * upsample == heatmapWidth else {
            try fail("patch grid \(gridHeight)x\(gridWidth) times \(upsample) is not the heatmap \(heatmapHeight)x\(heatmapWidth)")
        }
        guard refinesHighRes || recovery == .scatter else { try fail("token_recovery applies to the high-resolution branch: it needs hr_branch true") }
        guard keptHighRes(prune: pruneHR) > 0, keptLowRes(prune: pruneLR) > 0 else { try fail("prune ratios keep no token") }
    }

    // MARK: Derived sizes

    public var inputHeight: Int { inputSize[0] }
    public var inputWidth: Int { inputSize[1] }
    /// Patch grid of the conv (kernel P, stride P, padding 2).
    public var gridHeight: Int { (inputHeight + 4 - patchSize) / patchSize + 1 }
    public var gridWidth: Int { (inputWidth + 4 - patchSize) / patchSize + 1 }
    public var patchTokens: Int { gridHeight * gridWidth }
    public var heatmapHeight: Int { inputHeight / 4 }
    public var heatmapWidth: Int { inputWidth / 4 }
    public var heatmapTokens: Int { heatmapHeight * heatmapWidth }
    public var upsample: Int { patchSize / 4 }
    public var lowResTokens: Int { frames * patchTokens }
    public func keptHighRes(prune: Int) -> Int { heatmapTokens / prune }
    public func keptLowRes(prune: Int) -> Int { lowResTokens / prune }

    public var inputShape: ModelInputShape {
        ModelInputShape(width: inputWidth, height: inputHeight, frames: frames, joints: numJoints)
    }

    /// Floats of one window's input `[T, 3, H, W]`.
    public var windowInputCount: Int { frames * 3 * inputHeight * inputWidth }

    /// Multiply-add FLOPs (2 per multiply-add) of one window: every linear, attention product and
    /// DPC Gram matrix; element-wise work is not counted.
    public func flopsPerWindow(pruneHR: Int, pruneLR: Int) -> Double {
        func linear(_ rows: Int, _ input: Int, _ output: Int) -> Double { 2 * Double(rows) * Double(input) * Double(output) }
        func block(_ tokens: Int, _ width: Int, _ ratio: Int) -> Double {
            linear(tokens, width, 3 * width) + linear(tokens, width, width) + 2 * linear(tokens, width, ratio * width)
                + 2 * 2 * Double(tokens) * Double(tokens) * Double(width)
        }
        let n = patchTokens, kf = keptHighRes(prune: pruneHR), kc = keptLowRes(prune: pruneLR)
        var total = Double(frames) * (linear(n, 3 * patchSize * patchSize, embedDim) + Double(depth) * block(n, embedDim, 4))
        total += linear(frames * n, embedDim, mgfeDim)
        if refinesHighRes { total += Double(sharedDepth) * block(kf, mgfeDim, mgfeMLPRatio) }
        if refinesHighRes && recovery == .attention {
            total += 2 * linear(heatmapTokens, mgfeDim, mgfeDim) + 2 * linear(kf, mgfeDim, mgfeDim)
            total += 2 * 2 * Double(heatmapTokens) * Double(kf) * Double(mgfeDim)
        }
        total += Double(stDepth) * block(lowResTokens, mgfeDim, mgfeMLPRatio)
        total += Double(sharedDepth) * block(kc, mgfeDim, mgfeMLPRatio)
        if kf < heatmapTokens && refinesHighRes { total += 2 * Double(heatmapTokens) * Double(heatmapTokens) * Double(mgfeDim) }
        if kc < lowResTokens { total += 2 * Double(lowResTokens) * Double(lowResTokens) * Double(mgfeDim) }
        let nh = heatmapTokens
        total += linear(nh, mgfeDim, mgfeDim) + 2 * linear(kc, mgfeDim, mgfeDim) + linear(nh, mgfeDim, mgfeDim)
        total += 2 * 2 * Double(nh) * Double(kc) * Double(mgfeDim)
        total += 2 * linear(nh, mgfeDim, fuseMLPRatio * mgfeDim)
        total += linear(nh, mgfeDim, numJoints)
        return total
    }
}
