// The settings of the built-in HOG person detector: OpenCV's `HOGDescriptor()` defaults with its
// default people detector, searched as `detectMultiScale` searches, after enlarging the frame so
// people shorter than the 128-pixel window are found. Only what a user may change is a field;
// the descriptor's shape is fixed by the coefficients.
import Foundation

public struct HOGParameters: Equatable, Hashable, Sendable, Codable {
    /// Step between windows in pixels of the searched level (OpenCV's `winStride`); a multiple of 8.
    public var windowStride: Int
    /// Ratio between pyramid levels (`scale`).
    public var scaleStep: Double
    /// Least SVM margin for a window to count (`hitThreshold`).
    public var hitThreshold: Double
    /// A merged box needs more than this many windows (`groupThreshold`, `finalThreshold`).
    public var groupThreshold: Int
    /// The frame is enlarged by this factor (bilinear) before the search: the window is 128
    /// pixels tall, so people of about 100 pixels are found only in an enlarged frame.
    public var upscale: Double

    public init(windowStride: Int = 8, scaleStep: Double = 1.05, hitThreshold: Double = 0, groupThreshold: Int = 2, upscale: Double = 1.5) {
        self.windowStride = windowStride; self.scaleStep = scaleStep; self.hitThreshold = hitThreshold
        self.groupThreshold = groupThreshold; self.upscale = upscale
    }

    // The descriptor (fixed: the coefficients were trained for it).
    public static let windowWidth = 64
    public static let windowHeight = 128
    public static let blockSize = 16
    public static let blockStride = 8
    public static let cellSize = 8
    public static let bins = 9
    /// Gaussian weight over a block: (blockWidth + blockHeight) / 8.
    public static let blockSigma: Float = 4
    public static let l2HysThreshold: Float = 0.2
    /// Relative size difference under which two boxes are merged (`groupRectangles` eps).
    public static let groupEpsilon = 0.2

    // Limits.
    /// Most pyramid levels (OpenCV's `nlevels`).
    public static let levelsMax = 64
    public static let upscaleRange: ClosedRange<Double> = 0.25...4
    public static let scaleStepRange: ClosedRange<Double> = 1.01...2
    public static let windowStrideMax = 64
    /// Largest enlarged frame searched, in pixels.
    public static let searchedPixelsMax = 16 << 20

    public static let cellsPerBlock = (blockSize / cellSize) * (blockSize / cellSize)
    public static let blockHistogramSize = cellsPerBlock * bins
    public static let blocksPerWindowX = (windowWidth - blockSize) / blockStride + 1
    public static let blocksPerWindowY = (windowHeight - blockSize) / blockStride + 1
    public static let descriptorSize = blocksPerWindowX * blocksPerWindowY * blockHistogramSize

    /// Why these parameters cannot be used, or nil.
    public var problem: String? {
        if windowStride < Self.blockStride || windowStride > Self.windowStrideMax || windowStride % Self.blockStride != 0 {
            return "the window stride must be a multiple of \(Self.blockStride) up to \(Self.windowStrideMax), got \(windowStride)"
        }
        if !Self.scaleStepRange.contains(scaleStep) { return "the scale step must be in \(Self.scaleStepRange), got \(scaleStep)" }
        if !hitThreshold.isFinite { return "the hit threshold must be a number" }
        if groupThreshold < 0 { return "the group threshold must be >= 0, got \(groupThreshold)" }
        if !Self.upscaleRange.contains(upscale) { return "the upscale factor must be in \(Self.upscaleRange), got \(upscale)" }
        return nil
    }

    /// One line for logs and provenance records.
    public var summary: String {
        "HOG 64x128 (OpenCV 4.10 default people detector), stride \(windowStride), scale step \(scaleStep), hit threshold \(hitThreshold), group threshold \(groupThreshold), upscale \(upscale)"
    }
}

/// The linear SVM of OpenCV's default people detector: `descriptorSize` weights in OpenCV's
/// descriptor order, then the bias.
public struct HOGPeopleDetector: Sendable {
    public let weights: [Float]
    public let bias: Float
    /// SHA-256 of the coefficient bytes (float32 little-endian), as exported.
    public static let sha256 = HOGPeopleCoefficients.sha256

    public static let shared = HOGPeopleDetector()

    private init() {
        guard let data = Data(base64Encoded: HOGPeopleCoefficients.base64, options: .ignoreUnknownCharacters),
              data.count == HOGPeopleCoefficients.count * 4 else {
            preconditionFailure("HOGPeopleCoefficients: the embedded coefficients do not decode to \(HOGPeopleCoefficients.count) floats")
        }
        let values = data.withUnsafeBytes { raw in
            (0..<HOGPeopleCoefficients.count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        precondition(values.count == HOGParameters.descriptorSize + 1, "HOGPeopleCoefficients: \(values.count) values for a \(HOGParameters.descriptorSize)-value descriptor")
        weights = Array(values.prefix(HOGParameters.descriptorSize))
        bias = values[HOGParameters.descriptorSize]
    }
}
