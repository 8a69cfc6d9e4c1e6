// Checks a weight file against the table of FTPPoseWeightTable before anything is built, so a
// wrong file fails with one sentence naming the tensor ("mgfe.proj.weight: expected [384, 768],
// got [768, 384]") instead of a crash deep in the forward pass.
import PoseTensor
import SafeTensors

struct WeightReader {
    static let configKey = "ftp_pose.config"

    let file: SafeTensorsFile
    let config: FTPPoseConfig
    /// How `Linear` packs its weights.
    let precision: Precision

    init(file: SafeTensorsFile, precision: Precision = .fp32) throws {
        guard let text = file.metadata[WeightReader.configKey] else { throw FTPPoseError.missingConfig }
        let config = try FTPPoseConfig.decode(json: text)
        let table = FTPPoseWeightTable.entries(for: config)
        for entry in table {
            guard let info = try? file.info(entry.name) else { throw FTPPoseError.missingTensor(entry.name) }
            guard info.dtype == .f32 else { throw FTPPoseError.wrongDType(tensor: entry.name, expected: "F32", got: info.dtype.rawValue) }
            guard info.shape == entry.shape else { throw FTPPoseError.wrongShape(tensor: entry.name, expected: entry.shape, got: info.shape) }
        }
        let known = Set(table.map(\.name))
        if let extra = file.names.sorted().first(where: { !known.contains($0) }) { throw FTPPoseError.unexpectedTensor(extra) }
        self.file = file
        self.config = config
        self.precision = precision
    }

    /// A checked tensor's values (the table guarantees presence, dtype and shape).
    func floats(_ name: String) -> [Float] {
        do { return try file.floats(name) } catch { preconditionFailure("\(name) was checked against the table: \(error)") }
    }
}

extension FTPPoseError {
    init(_ error: SafeTensorsError) { self = .file(SafeTensorsErrorDescription(text: error.description)) }
}
