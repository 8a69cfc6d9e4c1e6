// Which kernels run: the one place that chooses between the instruction-set variants.
//
// The package is built once for the portable x86-64-v3 baseline (AVX2 + FMA, Package.swift); the
// kernels for wider or newer instruction sets are compiled in beside it (C shims with target
// attributes: CKernels, CBF16) and chosen here at run time from cpuid and OS support. Every
// variant is a peer: the GEMM asks `KernelISA.active` for its micro-kernels and nothing else in
// the engine knows which one runs.
//
// fp32 gives the same bits on every variant (the micro-kernels differ only in register blocking;
// everything else is compiled once for the baseline). bf16 results are deterministic per bf16
// kernel class (`BF16KernelClass`), not across classes.
import CKernels
import Foundation

/// An instruction-set variant of the engine's kernels, from the most portable to the fastest.
public enum KernelISA: String, CaseIterable, Sendable, Comparable {
    /// Swift SIMD code, any CPU (the only variant off x86-64).
    case generic
    /// x86-64-v3: AVX2 + FMA, 8 x 32 tiles as four 4 x 16 quarters.
    case avx2
    /// AVX-512 F/BW/DQ/VL: 8 x 32 tiles in 16 zmm accumulators.
    case avx512
    /// AVX-512 plus vdpbf16ps for bf16 jobs.
    case avx512bf16
    /// AVX-512 plus AMX-BF16 tiles for bf16 jobs.
    case amx

    public static func < (a: KernelISA, b: KernelISA) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The fp32 micro-kernel this variant runs (all of them give the same bits).
    public var fp32Kernel: String {
        switch self {
        case .generic: return "swift-simd16"
        case .avx2: return "avx2-fma"
        case .avx512, .avx512bf16, .amx: return "avx512-fma"
        }
    }

    /// The bf16 kernel class this variant runs; bf16 results are equal bit for bit within a class.
    public var bf16Kernel: BF16KernelClass {
        switch self {
        case .generic, .avx2, .avx512: return .scalar
        case .avx512bf16: return .avx512bf16
        case .amx: return .amx
        }
    }

    /// The kernel class that computes a job of `precision` (what `_job.json` records).
    public func kernelClass(for precision: Precision) -> String {
        switch precision {
        case .fp32: return "fp32"   // one class: every fp32 variant gives the same bits
        case .bf16: return "bf16-" + bf16Kernel.rawValue
        }
    }

    /// The variants this CPU and OS can run (cpuid, XCR0, and for AMX Linux's permission).
    public static let supported: [KernelISA] = {
        let features = Int(ck_cpu_features())
        return allCases.filter { isa in
            switch isa {
            case .generic: return true
            case .avx2: return features & Int(CK_AVX2_FMA) != 0 && ck_fp32_kernels_compiled() != 0
            case .avx512: return features & Int(CK_AVX512) != 0 && ck_fp32_kernels_compiled() != 0
            case .avx512bf16: return features & Int(CK_AVX512_BF16) != 0 && ck_fp32_kernels_compiled() != 0
            case .amx: return features & Int(CK_AMX_BF16) != 0 && ck_fp32_kernels_compiled() != 0
            }
        }
    }()

    /// The best variant this machine runs.
    public static var best: KernelISA { supported.max()! }

    public var isSupported: Bool { KernelISA.supported.contains(self) }

    /// The environment variable that forces a variant (tests, benchmarks, a mixed cluster's checks).
    public static let environmentVariable = "POSE_ISA"

    /// The variant `POSE_ISA` asks for, or the best one when it is unset. Throws a sentence when
    /// the name is unknown or this CPU cannot run it.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KernelISA {
        guard let name = environment[environmentVariable], !name.isEmpty else { return best }
        guard let isa = KernelISA(rawValue: name.lowercased()) else {
            throw KernelISAError(text: "\(environmentVariable)=\(name) is not a kernel variant; use one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard isa.isSupported else {
            throw KernelISAError(text: "\(environmentVariable)=\(name): this CPU cannot run the \(name) kernels; it runs \(supported.map(\.rawValue).joined(separator: ", "))")
        }
        return isa
    }

    /// The variant every kernel call uses: `POSE_ISA` or the best one, unless a test overrides it.
    /// Executables call `fromEnvironment()` at start-up so a bad `POSE_ISA` fails as a sentence
    /// before this is first read.
    public static var active: KernelISA { Selection.shared.current }

    /// Runs `body` with `isa` active (tests comparing variants in one process). Not for concurrent use
    /// with other callers of `withActive`.
    public static func withActive<R>(_ isa: KernelISA, _ body: () throws -> R) rethrows -> R {
        precondition(isa.isSupported, "\(isa.rawValue) kernels cannot run on this CPU")
        let previous = Selection.shared.set(isa)
        defer { _ = Selection.shared.set(previous) }
        return try body()
    }

    /// Whether bf16 GEMMs run the AMX class's tile program in plain C (`withEmulatedAMX`).
    public static var amxEmulated: Bool { Selection.shared.emulateAMX }

    /// Runs `body` with every bf16 GEMM running the AMX tile program emulated in plain C: tests of
    /// the AMX packing, tiling and driving code on machines without AMX (slow).
    public static func withEmulatedAMX<R>(_ body: () throws -> R) rethrows -> R {
        Selection.shared.emulateAMX = true
        defer { Selection.shared.emulateAMX = false }
        return try body()
    }

    private final class Selection: @unchecked Sendable {
        static let shared = Selection()
        private let lock = NSLock()
        private var isa: KernelISA?
        private var emulated = false

        var emulateAMX: Bool {
            get { lock.lock(); defer { lock.unlock() }; return emulated }
            set { lock.lock(); emulated = newValue; lock.unlock() }
        }

        var current: KernelISA {
            lock.lock()
            defer { lock.unlock() }
            if let isa { return isa }
            do {
                isa = try KernelISA.fromEnvironment()
            } catch {
                preconditionFailure("\(error)")
            }
            return isa!
        }

        func set(_ value: KernelISA) -> KernelISA {
            let previous = current
            lock.lock()
            isa = value
            lock.unlock()
            return previous
        }
    }
}

/// A bad `POSE_ISA`, as a sentence.
public struct KernelISAError: Error, CustomStringConvertible, Sendable {
    public let text: String
    public var description: String { text }
}

/// The bf16 kernels; within one class results are the same bit for bit on every machine.
public enum BF16KernelClass: String, Sendable, CaseIterable {
    /// Plain C (any CPU): products exact in fp32, pairs summed in order. Slow; for correctness.
    case scalar
    /// vdpbf16ps, 8 x 32 tiles (AVX512_BF16).
    case avx512bf16
    /// AMX tiles (tdpbf16ps), 32 x 32 blocks.
    case amx
}

/// Cache sizes of this CPU (cpuid, then sysfs), for the GEMM's block sizes.
public enum CacheSizes {
    /// L1 data cache per core in bytes (32 KiB when unknown).
    public static let level1Data: Int = detected(level: 1) ?? 32 << 10
    /// L2 per core in bytes (512 KiB when unknown).
    public static let level2: Int = detected(level: 2) ?? 512 << 10

    static func detected(level: Int) -> Int? {
        let bytes = Int(ck_data_cache_bytes(Int32(level)))
        if bytes > 0 { return bytes }
        // sysfs: /sys/devices/system/cpu/cpu0/cache/indexN/{level,type,size}
        for index in 0..<8 {
            let base = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            guard let levelText = try? String(contentsOfFile: base + "level", encoding: .utf8),
                  let typeText = try? String(contentsOfFile: base + "type", encoding: .utf8),
                  let sizeText = try? String(contentsOfFile: base + "size", encoding: .utf8) else { continue }
            guard Int(levelText.trimmingCharacters(in: .whitespacesAndNewlines)) == level,
                  typeText.trimmingCharacters(in: .whitespacesAndNewlines) != "Instruction" else { continue }
            let size = sizeText.trimmingCharacters(in: .whitespacesAndNewlines)
            if size.hasSuffix("K"), let kib = Int(size.dropLast()) { return kib << 10 }
            if size.hasSuffix("M"), let mib = Int(size.dropLast()) { return mib << 20 }
            if let value = Int(size) { return value }
        }
        return nil
    }
}
