// The machine's measured arithmetic peak per instruction class, for `poseworker bench`: the
// figure the engine's GFLOPS are compared with. Measured, not assumed per CPU model: a core's
// peak depends on its FMA width (Zen 4 runs a 512-bit FMA as two 256-bit halves, Zen 5 and
// Intel's server cores do not), on its clock under load, and on how many cores share a socket's
// power budget. The loops are in CKernels/peak_kernels.h.
import CKernels
import Dispatch
import Foundation

public enum ArithmeticClass: String, CaseIterable, Sendable {
    /// fp32 fused multiply-add at the widest vector the fp32 micro-kernel uses (zmm or ymm).
    case fp32FMA = "fp32 FMA"
    /// bf16 pair dot products into fp32 (vdpbf16ps zmm).
    case bf16Dot = "bf16 dot"
    /// AMX-BF16 tiles (tdpbf16ps).
    case amxBF16 = "AMX bf16"
}

public enum PeakMeter {
    /// The class a kernel variant's linear layers run for `precision`, the one its GFLOPS are
    /// compared with.
    public static func arithmeticClass(for precision: Precision, isa: KernelISA = .active) -> ArithmeticClass {
        switch (precision, isa.bf16Kernel) {
        case (.fp32, _), (.bf16, .scalar): return .fp32FMA
        case (.bf16, .avx512bf16): return .bf16Dot
        case (.bf16, .amx): return .amxBF16
        }
    }

    /// What `measure` runs for this class on this variant, or nil where the variant has no such
    /// instructions (or is not x86-64).
    public static func instruction(_ kind: ArithmeticClass, isa: KernelISA = .active) -> String? {
        #if arch(x86_64)
        switch kind {
        case .fp32FMA:
            switch isa {
            case .generic: return nil
            case .avx2: return "vfmadd231ps ymm"
            case .avx512, .avx512bf16, .amx: return "vfmadd231ps zmm"
            }
        case .bf16Dot: return isa >= .avx512bf16 ? "vdpbf16ps zmm" : nil
        case .amxBF16: return isa == .amx ? "tdpbf16ps" : nil
        }
        #else
        return nil
        #endif
    }

    /// GFLOPS of `threads` threads each running the class's loop at once for about `seconds`, or
    /// nil where this variant cannot run it. The best of `runs` runs: a run can only lose to
    /// interference (another process, a migration, the clock ramping up), never gain.
    public static func measure(_ kind: ArithmeticClass, isa: KernelISA = .active, threads: Int, seconds: Double = 0.1,
                               runs: Int = 3) -> Double? {
        guard instruction(kind, isa: isa) != nil, threads >= 1 else { return nil }
        #if arch(x86_64)
        if kind == .amxBF16 && ck_request_amx_permission() == 0 { return nil }
        let loop: @Sendable (Int, UnsafeMutablePointer<Float>) -> Double = { iterations, sink in
            switch kind {
            case .fp32FMA: return isa == .avx2 ? ck_peak_fma_avx2(iterations, sink) : ck_peak_fma_avx512(iterations, sink)
            case .bf16Dot: return ck_peak_dpbf16_avx512(iterations, sink)
            case .amxBF16: return ck_peak_amx_bf16(iterations, sink)
            }
        }
        // Calibrate on one thread: grow the round count until a run takes a tenth of the budget.
        let sink = UnsafeMutablePointer<Float>.allocate(capacity: 16)
        defer { sink.deallocate() }
        var iterations = 1 << 14
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = loop(iterations, sink)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if elapsed >= seconds / 10 || iterations >= 1 << 34 {
                iterations = max(1, Int(Double(iterations) * seconds / max(elapsed, 1e-9)))
                break
            }
            iterations *= 4
        }
        // All threads at once, each on its own thread (not a Dispatch loop, whose workers may
        // take two tasks one after the other when a pool thread starts late); FLOPs of all of
        // them over the time of the slowest.
        let rounds = iterations
        var best = 0.0
        for _ in 0..<max(1, runs) {
            let box = Concurrent(threads: threads)
            for _ in 0..<threads {
                let thread = Thread {
                    var lanes = [Float](repeating: 0, count: 16)
                    box.run { lanes.withUnsafeMutableBufferPointer { loop(rounds, $0.baseAddress!) } }
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
            box.finished.wait()
            best = max(best, box.total / box.slowest / 1e9)
        }
        return best
        #else
        return nil
        #endif
    }
}

/// The threads of one peak run: they start together (each waits until all exist) and add their FLOPs.
private final class Concurrent: @unchecked Sendable {
    private let lock = NSLock()
    private let threads: Int
    private var arrived = 0, done = 0
    /// FLOPs of all threads, and the longest time one of them took.
    private(set) var total = 0.0, slowest = 0.0
    private let go = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)

    init(threads: Int) { self.threads = threads }

    func run(_ body: () -> Double) {
        lock.lock()
        arrived += 1
        let last = arrived == threads
        lock.unlock()
        if last { for _ in 0..<threads { go.signal() } }
        go.wait()
        let start = DispatchTime.now().uptimeNanoseconds
        let flops = body()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        lock.lock()
        total += flops
        slowest = max(slowest, elapsed)
        done += 1
        let allDone = done == threads
        lock.unlock()
        if allDone { finished.signal() }
    }
}
