// The kernel variants as peers: every fp32 variant this machine runs gives the same bits as the
// portable one (including AVX2 forced on an AVX-512 machine), POSE_ISA is checked, and the AMX
// bf16 tile program is tested by its plain-C emulation here and on the hardware where it exists.
import PoseCore
import XCTest
@testable import PoseTensor

private func multiply(_ a: [Float], m: Int, k: Int, _ packed: PackedMatrix, bias: [Float], start c: [Float], accumulate: Bool,
                      threads: Int, isa: KernelISA) -> [Float] {
    var out = c
    out.withUnsafeMutableBufferPointer { cb in
        GEMM.multiply(m: m, a: a, lda: k, w: packed, bias: bias, c: cb.baseAddress!, ldc: packed.n, accumulate: accumulate,
                      threads: threads, isa: isa)
    }
    return out
}

private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

final class KernelISATests: XCTestCase {
    func testEveryFP32VariantGivesTheSameBits() {
        let variants = KernelISA.supported
        let missing = KernelISA.allCases.filter { !variants.contains($0) }
        print("fp32 variants compared bitwise on this CPU: \(variants.map(\.rawValue).joined(separator: ", "))"
              + (missing.isEmpty ? "" : "; not runnable here (not compared): \(missing.map(\.rawValue).joined(separator: ", "))"))
        XCTAssertTrue(variants.contains(.generic))
        #if arch(x86_64)
        XCTAssertTrue(variants.contains(.avx2), "the x86-64-v3 baseline must run where this build runs")
        #endif
        var rng = SplitMix64(seed: 21)
        // Edges in every direction, K across several K blocks, residual updates with a bias.
        for (m, n, k) in [(1, 1, 1), (7, 33, 9), (9, 31, 257), (70, 65, 2 * GEMM.kc + 3), (203, 96, 384)] {
            let a = rng.floats(m * k), w = rng.floats(n * k), bias = rng.floats(n), c = rng.floats(m * n)
            let packed = PackedMatrix(weights: w, n: n, k: k, ldw: k)
            for accumulate in [false, true] {
                let reference = multiply(a, m: m, k: k, packed, bias: bias, start: c, accumulate: accumulate, threads: 1, isa: .generic)
                for isa in variants {
                    for threads in [1, 2] {
                        let out = multiply(a, m: m, k: k, packed, bias: bias, start: c, accumulate: accumulate, threads: threads, isa: isa)
                        XCTAssertEqual(bits(out), bits(reference), "\(isa.rawValue) \(m)x\(n)x\(k) accumulate \(accumulate) threads \(threads)")
                    }
                }
            }
        }
    }

    func testEnvironmentChoosesOrRefusesAVariant() throws {
        XCTAssertEqual(try KernelISA.fromEnvironment([:]), KernelISA.best)
        XCTAssertEqual(try KernelISA.fromEnvironment(["POSE_ISA": "generic"]), .generic)
        XCTAssertThrowsError(try KernelISA.fromEnvironment(["POSE_ISA": "sse9"])) { error in
            XCTAssertTrue("\(error)".contains("is not a kernel variant"), "\(error)")
        }
        if let unsupported = KernelISA.allCases.first(where: { !$0.isSupported }) {
            XCTAssertThrowsError(try KernelISA.fromEnvironment(["POSE_ISA": unsupported.rawValue])) { error in
                XCTAssertTrue("\(error)".contains("cannot run"), "\(error)")
            }
        } else {
            print("every variant runs on this CPU: the refusal of an unsupported one is not exercised")
        }
        for isa in KernelISA.supported { XCTAssertEqual(try KernelISA.fromEnvironment(["POSE_ISA": isa.rawValue]), isa) }
        // auto is bf16 exactly where a fast bf16 kernel exists.
        XCTAssertEqual(Precision.automatic(for: .avx512), .fp32)
        XCTAssertEqual(Precision.automatic(for: .avx512bf16), .bf16)
        XCTAssertEqual(Precision.automatic(for: .amx), .bf16)
        XCTAssertEqual(Precision(setting: "auto", isa: .avx2), .fp32)
        XCTAssertNil(Precision(setting: "fp16"))
    }

    func testBlockSizesFollowTheCaches() {
        print("L1d \(CacheSizes.level1Data) B, L2 \(CacheSizes.level2) B -> KC \(GEMM.kc), MC \(GEMM.mc)")
        XCTAssertEqual(GEMM.kc % 32, 0)
        XCTAssertLessThanOrEqual(4 * (GEMM.mr + GEMM.nr) * GEMM.kc, CacheSizes.level1Data, "an A and a B panel fit in L1")
        XCTAssertEqual(GEMM.mc % GEMM.mr, 0)
    }
}

final class AMXTests: XCTestCase {
    /// bf16 GEMM through the AMX tile program: emulated (everywhere) or on the hardware.
    private func amxMultiply(_ a: [Float], m: Int, k: Int, _ packed: PackedBF16Matrix, bias: [Float], start c: [Float],
                             accumulate: Bool, threads: Int, emulate: Bool) -> [Float] {
        var out = c
        out.withUnsafeMutableBufferPointer { cb in
            GEMM.multiply(m: m, a: a, lda: k, w: packed, bias: bias, c: cb.baseAddress!, ldc: packed.n, accumulate: accumulate,
                          threads: threads, isa: emulate ? .generic : .amx, emulateAMX: emulate)
        }
        return out
    }

    /// The tile program (packing, 16-pair padding, 32 x 32 blocks, edge rows and columns, start
    /// values) against a double reference on bf16-rounded inputs: products are exact, only the fp32
    /// accumulation rounds.
    func testEmulatedTileProgramMatchesDoubleReference() {
        var rng = SplitMix64(seed: 31)
        for (m, n, k) in [(1, 1, 1), (33, 31, 33), (70, 65, 530), (96, 32, 64)] {
            let a = rng.floats(m * k), w = rng.floats(n * k), bias = rng.floats(n), c = rng.floats(m * n)
            let packed = PackedBF16Matrix(weights: w, n: n, k: k, ldw: k)
            XCTAssertEqual(packed.paddedPairs % 16, 0)
            for accumulate in [false, true] {
                let out = amxMultiply(a, m: m, k: k, packed, bias: bias, start: c, accumulate: accumulate, threads: 2, emulate: true)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = Double(bias[j]) + (accumulate ? Double(c[i * n + j]) : 0), magnitude = abs(sum)
                        for kk in 0..<k {
                            let product = Double(BF16.rounded(a[i * k + kk])) * Double(BF16.rounded(w[j * k + kk]))
                            sum += product
                            magnitude += abs(product)
                        }
                        XCTAssertEqual(Double(out[i * n + j]), sum, accuracy: 1e-6 * magnitude + 1e-7, "\(m)x\(n)x\(k) [\(i), \(j)] accumulate \(accumulate)")
                    }
                }
            }
        }
    }

    /// A row's result does not depend on the rows beside it nor on threads (the AMX class is
    /// deterministic like the others).
    func testEmulatedRowsAreIndependentOfBatchAndThreads() {
        var rng = SplitMix64(seed: 32)
        let m = 75, n = 40, k = 100
        let a = rng.floats(m * k), w = rng.floats(n * k), bias = rng.floats(n)
        let packed = PackedBF16Matrix(weights: w, n: n, k: k, ldw: k)
        let zeros = [Float](repeating: 0, count: m * n)
        let all = amxMultiply(a, m: m, k: k, packed, bias: bias, start: zeros, accumulate: false, threads: 2, emulate: true)
        for (row, threads) in [(0, 1), (40, 2), (74, 1)] {
            let one = amxMultiply(Array(a[(row * k)..<((row + 1) * k)]), m: 1, k: k, packed, bias: bias,
                                  start: [Float](repeating: 0, count: n), accumulate: false, threads: threads, emulate: true)
            XCTAssertEqual(bits(one), bits(Array(all[(row * n)..<((row + 1) * n)])), "row \(row)")
        }
    }

    /// The hardware tile program against its emulation; skipped visibly without AMX.
    func testHardwareAgreesWithEmulation() throws {
        guard KernelISA.amx.isSupported else {
            throw XCTSkip("AMX path not run: this CPU/OS has no AMX-BF16 (grep -c amx_bf16 /proc/cpuinfo); its tile program is tested by emulation")
        }
        var rng = SplitMix64(seed: 33)
        for (m, n, k) in [(33, 31, 33), (203, 96, 768)] {
            let a = rng.floats(m * k), w = rng.floats(n * k), bias = rng.floats(n), c = rng.floats(m * n)
            let packed = PackedBF16Matrix(weights: w, n: n, k: k, ldw: k)
            let hardware = amxMultiply(a, m: m, k: k, packed, bias: bias, start: c, accumulate: true, threads: 2, emulate: false)
            let emulated = amxMultiply(a, m: m, k: k, packed, bias: bias, start: c, accumulate: true, threads: 2, emulate: true)
            for i in 0..<(m * n) { XCTAssertEqual(hardware[i], emulated[i], accuracy: 1e-4 * (abs(emulated[i]) + 1), "\(m)x\(n)x\(k) [\(i)]") }
        }
    }
}
