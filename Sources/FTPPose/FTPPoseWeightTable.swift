// The one table of weight names and shapes (FTP-POSE.md section 8) every weight file is checked
// against, derived from the config. PyTorch state_dict names: a ViTPose backbone loads unchanged.

public struct WeightEntry: Equatable, Sendable {
    public let name: String
    public let shape: [Int]
}

public enum FTPPoseWeightTable {
    public static func entries(for config: FTPPoseConfig) -> [WeightEntry] {
        var table: [WeightEntry] = []
        func add(_ name: String, _ shape: [Int]) { table.append(WeightEntry(name: name, shape: shape)) }
        func layerNorm(_ prefix: String, _ width: Int) {
            add(prefix + ".weight", [width])
            add(prefix + ".bias", [width])
        }
        func linear(_ prefix: String, _ input: Int, _ output: Int) {
            add(prefix + ".weight", [output, input])
            add(prefix + ".bias", [output])
        }
        func block(_ prefix: String, _ width: Int, _ ratio: Int) {
            layerNorm(prefix + ".norm1", width)
            linear(prefix + ".attn.qkv", width, 3 * width)
            linear(prefix + ".attn.proj", width, width)
            layerNorm(prefix + ".norm2", width)
            linear(prefix + ".mlp.fc1", width, ratio * width)
            linear(prefix + ".mlp.fc2", ratio * width, width)
        }
        let c = config.embedDim, d = config.mgfeDim, p = config.patchSize
        add("backbone.patch_embed.proj.weight", [c, 3, p, p])
        add("backbone.patch_embed.proj.bias", [c])
        add("backbone.pos_embed", [1, 1 + config.patchTokens, c])
        for i in 0..<config.depth { block("backbone.blocks.\(i)", c, 4) }
        layerNorm("backbone.last_norm", c)
        linear("mgfe.proj", c, d)
        add("mgfe.hr_pos", [1, config.heatmapTokens, d])
        add("mgfe.lr_pos", [1, config.patchTokens, d])
        add("mgfe.time_embed", [1, config.frames, d])
        for i in 0..<config.stDepth { block("mgfe.st_blocks.\(i)", d, config.mgfeMLPRatio) }
        for i in 0..<config.sharedDepth { block("mgfe.shared_blocks.\(i)", d, config.mgfeMLPRatio) }
        func crossAttention(_ prefix: String) {
            layerNorm(prefix + ".norm_q", d)
            layerNorm(prefix + ".norm_kv", d)
            for name in ["q", "k", "v", "proj"] { linear(prefix + ".attn.\(name)", d, d) }
        }
        if config.recovery == .attention { crossAttention("mgfe.recover") }
        crossAttention("fuse")
        layerNorm("fuse.norm_mlp", d)
        linear("fuse.mlp.fc1", d, config.fuseMLPRatio * d)
        linear("fuse.mlp.fc2", config.fuseMLPRatio * d, d)
        layerNorm("head.norm", d)
        linear("head.fc", d, config.numJoints)
        return table
    }

    public static func parameterCount(for config: FTPPoseConfig) -> Int {
        entries(for: config).reduce(0) { $0 + $1.shape.reduce(1, *) }
    }
}
