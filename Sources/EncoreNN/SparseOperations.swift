// Sparse × dense products on the tape: a graph convolution's aggregation over the normalised
// adjacency. The forward pass runs over the matrix's rows in parallel (each output row written by
// one thread, in a fixed order); the backward pass is the same kernel over the transpose, which
// is built once per operator (or is the matrix itself when it is symmetric). O(nnz · d) each way.

import EncoreMath

/// A fixed sparse matrix used as a linear operator, with its transpose for the backward pass.
public struct SparseOperator: Sendable {
    public let matrix: SparseMatrix
    public let transpose: SparseMatrix

    /// `symmetric` skips building the transpose (D^-1/2 A D^-1/2 of an undirected graph).
    public init(_ matrix: SparseMatrix, symmetric: Bool = false) {
        self.matrix = matrix
        transpose = symmetric ? matrix : matrix.transposed()
    }

    /// y (rows × d) = S x, or y += S x, for row-major x (columns × d).
    public static func multiply(_ s: SparseMatrix, _ x: UnsafePointer<Float>, d: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        nonisolated(unsafe) let x = x, y = y
        s.rowPointers.withUnsafeBufferPointer { rp in
            s.columnIndices.withUnsafeBufferPointer { ci in
                s.values.withUnsafeBufferPointer { vs in
                    nonisolated(unsafe) let rp = rp, ci = ci, vs = vs
                    Blocks.forEach(s.rows, size: 512) { r in
                        for row in r {
                            let target = y + row * d
                            if !accumulate { target.update(repeating: 0, count: d) }
                            for k in rp[row]..<rp[row + 1] { VectorKernels.axpy(vs[k], x + Int(ci[k]) * d, target, d) }
                        }
                    }
                }
            }
        }
    }
}

extension Tape {
    /// S · x for a sparse operator S (rows × n) and x (n × d).
    public func sparseMultiply(_ s: SparseOperator, _ x: Tensor) -> Tensor {
        precondition(s.matrix.columns == x.rows, "sparse product of \(s.matrix.rows) × \(s.matrix.columns) by \(x.rows) × \(x.columns)")
        let d = x.columns, m = s.matrix.rows
        let C = buffer(m * d, zeroed: false)
        SparseOperator.multiply(s.matrix, value(x), d: d, into: C, accumulate: false)
        let out = next(m, d)
        return append(rows: m, columns: d, value: C, inputs: [x]) { t in
            SparseOperator.multiply(s.transpose, t.grad(out), d: d, into: t.grad(x), accumulate: true)
        }
    }
}
