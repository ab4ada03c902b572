// A trainable Float32 matrix and its gradient, in buffers allocated once and reused for every
// step: the tape writes gradients straight into `grad`, the optimisers update `value` in place.

import EncoreMath

/// A named rows × columns matrix of trainable values with a gradient of the same shape.
/// Not thread-safe: one training loop owns it (its parallel loops write disjoint ranges).
public final class Parameter: @unchecked Sendable {
    public let name: String
    public let rows: Int
    public let columns: Int
    /// The values, row-major.
    public let value: UnsafeMutableBufferPointer<Float>
    /// The gradient accumulated by `Tape.backward` since the last `zeroGrad()`.
    public let grad: UnsafeMutableBufferPointer<Float>

    public init(name: String, rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "\(name): \(values.count) values for \(rows) × \(columns)")
        self.name = name
        self.rows = rows
        self.columns = columns
        value = .allocate(capacity: max(1, values.count))
        grad = .allocate(capacity: max(1, values.count))
        _ = value.initialize(from: values)
        grad.initialize(repeating: 0)
        if values.isEmpty { value[0] = 0 }
    }

    /// Gaussian values (mean 0, standard deviation `std`) from a seeded stream.
    public convenience init(name: String, rows: Int, columns: Int, std: Double, seed: UInt64) {
        self.init(name: name, rows: rows, columns: columns,
                  values: SeededGenerator.gaussianMatrix(rows: rows, width: columns, mean: 0, std: std, seed: seed))
    }

    /// Glorot (Xavier) uniform values in ±√(6 / (rows + columns)), as PyTorch Geometric's GCNConv.
    public convenience init(glorot name: String, rows: Int, columns: Int, seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        let a = (6.0 / Double(rows + columns)).squareRoot()
        self.init(name: name, rows: rows, columns: columns, values: (0..<(rows * columns)).map { _ in Float((2 * g.nextDouble() - 1) * a) })
    }

    deinit {
        value.deallocate()
        grad.deallocate()
    }

    public var count: Int { rows * columns }

    /// A copy of the values.
    public var values: [Float] { Array(value.prefix(count)) }

    /// Replaces the values (same count).
    public func assign(_ values: [Float]) {
        precondition(values.count == count)
        for k in 0..<count { value[k] = values[k] }
    }

    public func zeroGrad() {
        guard count > 0 else { return }
        grad.baseAddress!.update(repeating: 0, count: count)
    }
}
