// A row-major float32 matrix with reference semantics over 64-byte aligned memory: the model's
// activations and scratch buffers. Kernels take raw pointers and leading dimensions so they can
// work on slices (one head's columns, one window's rows) without copies.

/// Owns one aligned allocation of floats, freed with the last reference.
public final class FloatStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        precondition(count >= 0)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: count)
        self.count = count
    }

    deinit { pointer.deallocate() }
}

/// `rows x cols` floats, row-major, rows contiguous (leading dimension = cols). Copies of a
/// `Matrix` share storage: writing through one is visible through all (it is a buffer, not a value).
public struct Matrix: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    public let storage: FloatStorage

    /// Zero-filled.
    public init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        storage = FloatStorage(count: rows * cols)
    }

    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "values: \(values.count) for \(rows) x \(cols)")
        self.init(rows: rows, cols: cols)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }
    public var count: Int { rows * cols }

    public func row(_ index: Int) -> UnsafeMutablePointer<Float> {
        precondition(index >= 0 && index < rows)
        return storage.pointer + index * cols
    }

    public subscript(row: Int, col: Int) -> Float {
        get { storage.pointer[row * cols + col] }
        nonmutating set { storage.pointer[row * cols + col] = newValue }
    }

    public var values: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// An independent copy.
    public func copy() -> Matrix {
        let out = Matrix(rows: rows, cols: cols)
        out.pointer.update(from: pointer, count: count)
        return out
    }
}
