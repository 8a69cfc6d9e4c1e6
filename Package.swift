// swift-tools-version:6.0
// posecluster: annotate video archives with human poses on a cluster of machines.
// No SwiftPM package dependencies: Glibc, Foundation, Dispatch, XCTest, and C system
// libraries through systemLibrary targets (libzstd, libturbojpeg).
import PackageDescription

// One portable binary: the numeric code is built for x86-64-v3 (AVX2 + FMA; without it Swift's
// SIMD types lower to scalar fmaf calls), and the AVX-512 / AVX512-BF16 / AMX kernels are compiled
// in beside it through C shims with target attributes (CKernels, CBF16) and chosen at run time
// (PoseTensor/KernelISA.swift). Not -march=native: a binary built on an AVX-512 machine must run
// on an AVX2-only node. Other architectures build with the compiler's default target.
#if arch(x86_64)
let portableSIMDFlags = ["-Xcc", "-march=x86-64-v3", "-Ounchecked"]
#else
let portableSIMDFlags = ["-Ounchecked"]
#endif
let nativeSIMD: [SwiftSetting] = [.unsafeFlags(portableSIMDFlags, .when(configuration: .release))]

let package = Package(
    name: "posecluster",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "posecoord", targets: ["posecoord"]),
        .executable(name: "poseworker", targets: ["poseworker"]),
    ],
    targets: [
        // C system libraries.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        // Header-only bf16 shim: vdpbf16ps and AMX kernels (target attributes), their scalar twins.
        .systemLibrary(name: "CBF16"),
        // Header-only kernel shim: cpuid/XCR0/AMX permission, fp32 AVX2 and AVX-512 micro-kernels.
        .systemLibrary(name: "CKernels"),

        // Shared vocabulary: geometry, joints, PoseTrack format, command-line parsing, atomic files.
        .target(name: "PoseCore"),
        // The git commit, stamped before each build (only the executables import it, so a new
        // commit relinks them and rebuilds nothing else).
        .plugin(name: "BuildStampPlugin", capability: .buildTool()),
        .target(name: "BuildStamp", dependencies: ["PoseCore"], plugins: ["BuildStampPlugin"]),
        // Tensor kernels: packed GEMM, LayerNorm, GELU, softmax, attention, each beside a plain reference.
        .target(name: "PoseTensor", dependencies: ["CBF16", "CKernels"], swiftSettings: nativeSIMD),
        // safetensors reader (mmap) and writer.
        .target(name: "SafeTensors"),
        // The FTP-Pose model: config, weight table, forward pass, DPC-kNN, decoding.
        .target(name: "FTPPose", dependencies: ["PoseTensor", "SafeTensors", "PoseCore", "CKernels"], swiftSettings: nativeSIMD),
        // BlazePose-Full (MediaPipe's landmark model, converted by ops/models/): graph, kernels, joints.
        .target(name: "BlazePose", dependencies: ["PoseTensor", "SafeTensors", "PoseCore"], swiftSettings: nativeSIMD),
        // Frames in: ffmpeg subprocess, JPEG folders, crops.
        .target(name: "PoseMedia", dependencies: ["PoseCore", "CTurboJPEG"], swiftSettings: nativeSIMD),
        // The built-in person detector: Dalal-Triggs HOG with OpenCV's default people detector.
        .target(name: "PoseDetect", dependencies: ["PoseCore", "PoseMedia"], swiftSettings: nativeSIMD),
        // Archive pipeline: scanning, detections, tracking, windows, units, merge, output, synth.
        .target(name: "PoseArchive", dependencies: ["PoseCore", "PoseCrypto", "PoseMedia", "FTPPose", "PoseDetect"]),
        // Poses drawn on frames: a small rasteriser, overlays, contact sheets.
        .target(name: "PoseRender", dependencies: ["PoseCore", "PoseMedia"]),
        // PoseTrack mAP as the official kit computes it.
        .target(name: "PoseEval", dependencies: ["PoseCore"]),
        // SHA-256, HMAC-SHA256, CRC32C.
        .target(name: "PoseCrypto"),
        // Wire protocol: pure codec, no I/O.
        .target(name: "PoseWire", dependencies: ["PoseCore", "PoseCrypto", "CZstd"]),
        // Scheduling state machine (sans-IO) and its seeded simulation.
        .target(name: "PoseSchedule", dependencies: ["PoseCore"]),
        // Sockets, coordinator, worker, journal, HTTP status.
        .target(name: "PoseCluster", dependencies: ["PoseCore", "PoseTensor", "PoseWire", "PoseCrypto", "PoseSchedule", "PoseArchive", "FTPPose", "BlazePose", "PoseMedia"]),

        .executableTarget(name: "posecoord", dependencies: ["PoseCore", "BuildStamp", "PoseArchive", "PoseEval", "PoseCluster", "PoseRender", "PoseDetect", "PoseTensor"]),
        .executableTarget(name: "poseworker", dependencies: ["PoseCore", "BuildStamp", "FTPPose", "BlazePose", "SafeTensors", "PoseTensor", "PoseCluster"], swiftSettings: nativeSIMD),

        .testTarget(name: "PoseCoreTests", dependencies: ["PoseCore"]),
        .testTarget(name: "PoseTensorTests", dependencies: ["PoseTensor", "PoseCore"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "FTPPoseTests", dependencies: ["FTPPose", "SafeTensors", "PoseTensor"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BlazePoseTests", dependencies: ["BlazePose", "SafeTensors", "PoseTensor", "PoseCore", "PoseCrypto", "CZstd"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PoseMediaTests", dependencies: ["PoseMedia", "PoseCore", "SafeTensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PoseDetectTests", dependencies: ["PoseDetect", "PoseMedia", "PoseCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PoseArchiveTests", dependencies: ["PoseArchive", "PoseCore", "PoseMedia"]),
        .testTarget(name: "PoseEvalTests", dependencies: ["PoseEval", "PoseCore"]),
        .testTarget(name: "PoseRenderTests", dependencies: ["PoseRender", "PoseMedia", "PoseCore"]),
        .testTarget(name: "PoseCryptoTests", dependencies: ["PoseCrypto", "PoseCore"]),
        .testTarget(name: "PoseWireTests", dependencies: ["PoseWire", "PoseArchive"]),
        .testTarget(name: "PoseScheduleTests", dependencies: ["PoseSchedule"]),
        .testTarget(name: "PoseClusterTests", dependencies: ["PoseCluster", "PoseArchive", "PoseWire", "PoseCore"]),
    ],
    swiftLanguageModes: [.v6]
)
