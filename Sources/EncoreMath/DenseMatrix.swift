// A dense row-major Float32 matrix: the features k-means clusters, the projections PCA and
// t-SNE make, and the right-hand side of a sparse × dense product.

/// A dense row-major matrix of Float32 points.
public struct DenseMatrix: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    public var values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "values must hold rows × columns entries")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public subscript(r: Int, c: Int) -> Float { values[r * columns + c] }

    /// The rows with the given indices.
    public func rows(_ indices: [Int]) -> DenseMatrix {
        var v = [Float]()
        v.reserveCapacity(indices.count * columns)
        for r in indices { v.append(contentsOf: values[(r * columns)..<((r + 1) * columns)]) }
        return DenseMatrix(rows: indices.count, columns: columns, values: v)
    }
}
