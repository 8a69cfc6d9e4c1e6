// What the bench reports about the machine and the build: CPU vector extensions, the kernel the
// engine was compiled with, peak resident memory.
import Foundation
import PoseTensor
#if canImport(Glibc)
import Glibc
#endif

enum BenchPlatform {
    static func describe() -> String {
        let isa = KernelISA.active
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "other"
        #endif
        let forced = ProcessInfo.processInfo.environment[KernelISA.environmentVariable].map { "forced by \(KernelISA.environmentVariable)=\($0)" } ?? "the best this CPU runs"
        return """
        engine: packed GEMM \(GEMM.mr)x\(GEMM.nr) micro-kernel, KC \(GEMM.kc), MC \(GEMM.mc) (L1d \(CacheSizes.level1Data >> 10) KiB, L2 \(CacheSizes.level2 >> 10) KiB), no BLAS; vectorised exp/erf
        kernels: \(isa.rawValue) (\(forced); this CPU runs \(KernelISA.supported.map(\.rawValue).joined(separator: ", "))): fp32 \(isa.fp32Kernel), bf16 class \(isa.bf16Kernel.rawValue)
        cpu: \(arch), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpuName())
        """
    }

    /// The model name from /proc/cpuinfo ("AMD EPYC 9R14 ...") with its family and model numbers
    /// (a virtual machine's name can be as short as "AMD EPYC"), or "unknown".
    static func cpuName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        let lines = text.split(separator: "\n")
        func field(_ key: String) -> String? {
            guard let line = lines.first(where: { $0.hasPrefix(key) && $0.dropFirst(key.count).trimmingCharacters(in: .whitespaces).hasPrefix(":") }),
                  let value = line.split(separator: ":", maxSplits: 1).last else { return nil }
            return value.trimmingCharacters(in: .whitespaces)
        }
        guard let name = field("model name") else { return "unknown" }
        guard let family = field("cpu family"), let model = field("model") else { return name }
        return "\(name) (family \(family) model \(model))"
    }

    /// User + system CPU time of the process: on a shared machine it shows the work apart from
    /// the waiting.
    static func usage() -> rusage {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return usage
    }

    static func cpuSeconds() -> Double {
        let usage = usage()
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Linux reports ru_maxrss in KiB.
    static func peakResidentMiB() -> Double {
        Double(usage().ru_maxrss) / 1024
    }
}

/// The peaks bench compares achieved GFLOPS with: measured on this machine (PeakMeter), per
/// arithmetic class, with the threads the bench runs; or one fp32 figure the user gives.
struct BenchPeaks {
    let threads: Int
    /// GFLOPS of `threads` threads at once, per class this variant runs.
    let measured: [ArithmeticClass: Double]
    /// `--peak-gflops-per-core X`: compare every class with X per thread instead.
    let givenPerCore: Double?

    init(threads requested: Int, givenPerCore: Double?) {
        threads = max(1, min(requested, ProcessInfo.processInfo.activeProcessorCount))
        self.givenPerCore = givenPerCore
        var measured: [ArithmeticClass: Double] = [:]
        if givenPerCore == nil {
            for kind in ArithmeticClass.allCases {
                if let gflops = PeakMeter.measure(kind, threads: threads) { measured[kind] = gflops }
            }
        }
        self.measured = measured
    }

    /// The line bench prints about the peaks.
    var description: String {
        if let givenPerCore {
            return String(format: "peak: %.0f GFLOPS per core as given (--peak-gflops-per-core), %.0f for %d thread(s)",
                          givenPerCore, givenPerCore * Double(threads), threads)
        }
        let parts = ArithmeticClass.allCases.compactMap { kind -> String? in
            guard let gflops = measured[kind] else { return nil }
            return String(format: "%@ (%@) %.0f GFLOPS (%.1f per thread)", kind.rawValue,
                          PeakMeter.instruction(kind) ?? "?", gflops, gflops / Double(threads))
        }
        if parts.isEmpty { return "measured peak: none (no vector kernel variant runs here)" }
        return "measured peak, \(threads) thread(s) at once: " + parts.joined(separator: "; ")
    }

    /// The peak of `kind` for `threads` threads (scaled from the measured figure), or nil.
    func peak(_ kind: ArithmeticClass, threads t: Int) -> Double? {
        let t = max(1, min(t, ProcessInfo.processInfo.activeProcessorCount))
        if let givenPerCore { return givenPerCore * Double(t) }
        return measured[kind].map { $0 / Double(threads) * Double(t) }
    }

    /// "= 75% of the measured fp32 FMA peak (235 GFLOPS)", or "" where there is no peak.
    func fraction(_ gflops: Double, _ kind: ArithmeticClass, threads t: Int) -> String {
        guard let peak = peak(kind, threads: t), peak > 0 else { return "" }
        let name = givenPerCore == nil ? "the measured \(kind.rawValue) peak" : "the given peak"
        return String(format: "%.0f%% of %@ (%.0f GFLOPS)", 100 * gflops / peak, name, peak)
    }
}

/// GEMM alone on a large square-ish shape: the engine's ceiling.
enum BenchKernels {
    static func run(threads: Int, peaks: BenchPeaks, precision: Precision = .fp32) {
        let m = 2304, n = 3072, k = 768
        let a = Matrix(rows: m, cols: k), c = Matrix(rows: m, cols: n)
        for i in 0..<a.count { a.pointer[i] = Float(i % 7) * 0.1 }
        let wValues = (0..<(n * k)).map { Float($0 % 5) * 0.01 }
        let w = wValues.withUnsafeBufferPointer { PackedMatrix(weights: $0.baseAddress!, n: n, k: k, ldw: k) }
        let w16 = wValues.withUnsafeBufferPointer { PackedBF16Matrix(weights: $0.baseAddress!, n: n, k: k, ldw: k) }
        func multiply(_ t: Int) {
            switch precision {
            case .fp32: GEMM.multiply(m: m, a: a.pointer, lda: k, w: w, bias: nil, c: c.pointer, ldc: n, threads: t)
            case .bf16: GEMM.multiply(m: m, a: a.pointer, lda: k, w: w16, bias: nil, c: c.pointer, ldc: n, threads: t)
            }
        }
        for t in Set([1, threads]).sorted() {
            multiply(t)
            var best = Double.infinity
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                multiply(t)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let gflops = 2 * Double(m) * Double(n) * Double(k) / best / 1e9
            let kind = PeakMeter.arithmeticClass(for: precision)
            print(String(format: "GEMM %@ %dx%dx%d, %d thread(s): %.0f GFLOPS", precision.rawValue, m, n, k, t, gflops)
                  + " (" + peaks.fraction(gflops, kind, threads: t) + ")")
        }
    }
}
