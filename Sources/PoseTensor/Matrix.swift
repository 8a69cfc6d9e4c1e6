// A row-major float32 matrix with reference semantics over 64-byte aligned memory: the model's
// activations and scratch buffers. Kernels take raw pointers and leading dimensions so they can
// work on slices (one head's columns, one window's rows) without copies.
import Foundation

/// Owns one aligned allocation of floats, freed with the last reference.
public final class FloatStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Zero-filled unless `zeroed` is false (for outputs a kernel overwrites completely).
    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
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

    /// Contents undefined: only for outputs that a kernel overwrites completely.
    public init(uninitializedRows rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
        storage = FloatStorage(count: rows * cols, zeroed: false)
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

/// Reuses a few large scratch buffers (the DPC distance matrix is 38 MB per window on `b`/`s`):
/// above glibc's mmap threshold every fresh allocation would be page-faulted in again.
public final class ScratchPool: @unchecked Sendable {
    public static let shared = ScratchPool()
    /// Buffers kept for reuse; more concurrent users simply allocate.
    public static let cachedBuffersMax = 4

    private let lock = NSLock()
    private var free: [FloatStorage] = []

    /// Runs `body` with a buffer of at least `count` floats (contents undefined).
    public func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        lock.lock()
        var storage: FloatStorage?
        if let index = free.firstIndex(where: { $0.count >= count }) { storage = free.remove(at: index) }
        lock.unlock()
        let buffer = storage ?? FloatStorage(count: count, zeroed: false)
        defer {
            lock.lock()
            if free.count < ScratchPool.cachedBuffersMax {
                free.append(buffer)
            } else if let smallest = free.indices.min(by: { free[$0].count < free[$1].count }), free[smallest].count < buffer.count {
                free[smallest] = buffer
            }
            lock.unlock()
        }
        return try body(buffer.pointer)
    }
}
