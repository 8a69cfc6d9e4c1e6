// The provenance `run` and `serve` record, from the model ClusterModel describes.
import XCTest
import PoseCore
@testable import PoseCluster

final class JobProvenanceTests: XCTestCase {
    func testRandomWeightsAreRecordedAsRandomWithTheirHash() throws {
        let (bytes, descriptor) = try ClusterModel.load(weightsPath: nil)
        let provenance = Provenance(model: descriptor, weightsPath: nil)
        XCTAssertTrue(provenance.model.random)
        XCTAssertTrue(provenance.model.weights.hasPrefix("random"), provenance.model.weights)
        XCTAssertEqual(provenance.model.sha256, descriptor.sha256.hex)
        XCTAssertEqual(provenance.model.sha256.count, 64)
        XCTAssertEqual(provenance.model.bytes, UInt64(bytes.count))
        XCTAssertEqual([provenance.model.family, provenance.model.config, provenance.precision], ["ftp-pose", "demo", "fp32"])
        XCTAssertNil(provenance.detections)
        XCTAssertEqual(provenance.version, BuildInfo.current.version)
        XCTAssertEqual(provenance.commit, BuildInfo.current.commit)
    }

    func testAWeightsFileIsRecordedByNameNotPath() throws {
        let (_, descriptor) = try ClusterModel.load(weightsPath: nil)
        let provenance = Provenance(model: descriptor, weightsPath: "/models/run7/demo-synth.safetensors")
        XCTAssertFalse(provenance.model.random)
        XCTAssertEqual(provenance.model.weights, "demo-synth.safetensors")
    }
}
