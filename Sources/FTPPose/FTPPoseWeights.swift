// Seeded random weights for a config: a complete safetensors file (config in the metadata) that
// the coordinator uses when the user brings no weights, and that benchmarks run on. Speed does not
// depend on the values; the scales keep activations sane and DPC meaningful.
import Foundation
import PoseCore
import SafeTensors

public enum FTPPoseWeights {
    /// trunc-normal(0.02) linears, convs and embeddings; zero biases; LayerNorm weight 1, bias 0;
    /// mgfe.proj with std 1/sqrt(C) so MGFE tokens have about unit scale (otherwise every DPC
    /// density is ~1 and the pruning degenerates). Same seed, same bytes.
    public static func random(config: FTPPoseConfig, seed: UInt64) -> [UInt8] {
        let table = FTPPoseWeightTable.entries(for: config)
        let layout = table.map { (name: $0.name, dtype: SafeTensorsDType.f32, shape: $0.shape) }
        return SafeTensorsWriter.serialized(metadata: [WeightReader.configKey: config.json], layout: layout) { index, bytes in
            let entry = table[index]
            let values = bytes.bindMemory(to: Float.self)
            let leaf = entry.name.split(separator: ".").last.map(String.init) ?? ""
            let isNorm = entry.name.contains("norm")
            if isNorm && leaf == "weight" {
                for i in values.indices { values[i] = 1 }
            } else if leaf == "bias" {
                return                                            // zero-filled already
            } else {
                var generator = Generator(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
                let std: Float = entry.name == "mgfe.proj.weight" ? 1 / Float(config.embedDim).squareRoot() : 0.02
                for i in values.indices { values[i] = generator.truncatedNormal() * std }
            }
        }
    }

    /// PoseCore's SplitMix64 with Box-Muller; normal samples truncated at 2 standard deviations.
    struct Generator {
        var base: SplitMix64
        var spare: Float?

        init(seed: UInt64) { base = SplitMix64(seed: seed) }

        mutating func next() -> UInt64 { base.next() }

        mutating func uniform() -> Float { (Float(next() >> 40) + 0.5) / Float(1 << 24) }

        mutating func truncatedNormal() -> Float {
            while true {
                let value: Float
                if let spare {
                    value = spare
                    self.spare = nil
                } else {
                    let radius = (-2 * Foundation.log(uniform())).squareRoot(), angle = 2 * Float.pi * uniform()
                    value = radius * Foundation.cos(angle)
                    spare = radius * Foundation.sin(angle)
                }
                if abs(value) <= 2 { return value }
            }
        }
    }
}
