// The peak loops bench compares the engine with: each one does the arithmetic it counts (its
// accumulators end where scalar arithmetic of the same operations ends, bit for bit), and the
// meter measures exactly the classes this CPU runs.
import XCTest
@testable import PoseTensor
#if arch(x86_64)
import CKernels
#endif

final class PeakMeterTests: XCTestCase {
    func testFMALoopsDoTheWorkTheyCount() throws {
        #if arch(x86_64)
        let rounds = 1000
        var expected: Float = 0
        for i in 0..<12 {
            var x = Float(i)
            for _ in 0..<rounds { x = fmaf(x, 0.999999, 1e-7) }
            expected += x
        }
        var sink = [Float](repeating: .nan, count: 16)
        if KernelISA.avx2.isSupported {
            let flops = ck_peak_fma_avx2(rounds, &sink)
            XCTAssertEqual(flops, Double(rounds * 12 * 16))
            for lane in 0..<8 { XCTAssertEqual(sink[lane].bitPattern, expected.bitPattern, "avx2 lane \(lane)") }
        }
        if KernelISA.avx512.isSupported {
            let flops = ck_peak_fma_avx512(rounds, &sink)
            XCTAssertEqual(flops, Double(rounds * 12 * 32))
            for lane in 0..<16 { XCTAssertEqual(sink[lane].bitPattern, expected.bitPattern, "avx512 lane \(lane)") }
        } else {
            print("AVX-512 FMA peak loop not run: this CPU has no AVX-512")
        }
        if KernelISA.avx512bf16.isSupported {
            // Each vdpbf16ps adds 1*1 + 1*1 per lane: x_i = i + 2 * rounds exactly.
            let flops = ck_peak_dpbf16_avx512(rounds, &sink)
            XCTAssertEqual(flops, Double(rounds * 12 * 64))
            let sum = (0..<12).reduce(Float(0)) { $0 + Float($1 + 2 * rounds) }
            for lane in 0..<16 { XCTAssertEqual(sink[lane], sum, "vdpbf16ps lane \(lane)") }
        } else {
            print("vdpbf16ps peak loop not run: this CPU has no AVX512_BF16")
        }
        #else
        throw XCTSkip("the peak loops are x86-64 only")
        #endif
    }

    func testMeterMeasuresExactlyTheClassesThisCPURuns() {
        for isa in KernelISA.supported {
            for kind in ArithmeticClass.allCases {
                let instruction = PeakMeter.instruction(kind, isa: isa)
                let gflops = PeakMeter.measure(kind, isa: isa, threads: 1, seconds: 0.01, runs: 1)
                if kind == .amxBF16 && isa == .amx {
                    // The AMX loop needs the OS's permission; without it the meter says nil, never a number.
                    if let gflops { XCTAssertGreaterThan(gflops, 0) }
                    continue
                }
                XCTAssertEqual(gflops != nil, instruction != nil, "\(isa.rawValue) \(kind.rawValue)")
                if let gflops { XCTAssertTrue(gflops > 0 && gflops.isFinite, "\(isa.rawValue) \(kind.rawValue): \(gflops)") }
            }
        }
        XCTAssertNil(PeakMeter.instruction(.fp32FMA, isa: .generic))
        XCTAssertNil(PeakMeter.instruction(.bf16Dot, isa: .avx512))
        XCTAssertNil(PeakMeter.instruction(.amxBF16, isa: .avx512bf16))
        XCTAssertEqual(PeakMeter.arithmeticClass(for: .fp32, isa: .amx), .fp32FMA)
        XCTAssertEqual(PeakMeter.arithmeticClass(for: .bf16, isa: .avx512bf16), .bf16Dot)
        XCTAssertEqual(PeakMeter.arithmeticClass(for: .bf16, isa: .amx), .amxBF16)
        XCTAssertEqual(PeakMeter.arithmeticClass(for: .bf16, isa: .avx2), .fp32FMA)
    }
}
