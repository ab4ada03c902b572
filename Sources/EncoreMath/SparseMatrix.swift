// A sparse matrix in compressed sparse rows, independent of ids: the normalised adjacency of a
// graph network, a weighted play matrix. Sparse × dense multiplies in parallel over row chunks,
// each output row written by one thread, so the result does not depend on the thread count.
// multiply: O(nnz · columns of the dense side); transposed: O(nnz + rows + columns).

/// A rows × columns Float32 matrix in CSR form.
public struct SparseMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let rowPointers: [Int]
    public let columnIndices: [Int32]
    public let values: [Float]

    /// Builds from CSR arrays after checking them: `rows + 1` pointers rising from 0 to the entry
    /// count, column indices in range and increasing within a row.
    public init(rows: Int, columns: Int, rowPointers: [Int], columnIndices: [Int32], values: [Float]) throws {
        guard rows >= 0, columns >= 0, columns <= Int(Int32.max) else { throw ParameterError("a sparse matrix needs non-negative sizes") }
        guard rowPointers.count == rows + 1, rowPointers.first == 0, rowPointers.last == values.count, columnIndices.count == values.count else {
            throw ParameterError("sparse arrays of inconsistent lengths: \(rowPointers.count) pointers for \(rows) rows, \(columnIndices.count) columns, \(values.count) values")
        }
        for r in 0..<rows where rowPointers[r] > rowPointers[r + 1] { throw ParameterError("row pointers fall at row \(r)") }
        for r in 0..<rows {
            var previous: Int32 = -1
            for k in rowPointers[r]..<rowPointers[r + 1] {
                let c = columnIndices[k]
                guard c > previous, Int(c) < columns else { throw ParameterError("row \(r): column \(c) is out of range, repeated or unsorted") }
                previous = c
            }
        }
        self.rows = rows
        self.columns = columns
        self.rowPointers = rowPointers
        self.columnIndices = columnIndices
        self.values = values
    }

    /// From (row, column, value) triples; repeated positions are summed.
    public init(rows: Int, columns: Int, triples: [(row: Int, column: Int, value: Float)]) throws {
        var counts = [Int](repeating: 0, count: rows + 1)
        for t in triples {
            guard t.row >= 0, t.row < rows, t.column >= 0, t.column < columns else { throw ParameterError("entry (\(t.row), \(t.column)) is outside \(rows) × \(columns)") }
            counts[t.row + 1] += 1
        }
        var byRow = [[(Int32, Float)]](repeating: [], count: rows)
        for t in triples { byRow[t.row].append((Int32(t.column), t.value)) }
        var pointers = [0], cols: [Int32] = [], vals: [Float] = []
        for r in 0..<rows {
            for (c, v) in byRow[r].sorted(by: { $0.0 < $1.0 }) {
                if let last = cols.last, cols.count > pointers[r], last == c { vals[vals.count - 1] += v } else { cols.append(c); vals.append(v) }
            }
            pointers.append(cols.count)
        }
        try self.init(rows: rows, columns: columns, rowPointers: pointers, columnIndices: cols, values: vals)
    }

    public var nnz: Int { values.count }

    /// self × dense (rows × dense.columns), in parallel over rows.
    public func multiply(_ dense: DenseMatrix) throws -> DenseMatrix {
        guard dense.rows == columns else { throw ParameterError("cannot multiply \(rows) × \(columns) by \(dense.rows) × \(dense.columns)") }
        let d = dense.columns
        var out = [Float](repeating: 0, count: rows * d)
        out.withUnsafeMutableBufferPointer { o in
            nonisolated(unsafe) let result = o.baseAddress!
            dense.values.withUnsafeBufferPointer { x in
                nonisolated(unsafe) let input = x.baseAddress!
                ParallelLoop.forEachChunk(count: rows) { _, range in
                    for r in range {
                        let target = result + r * d
                        for k in rowPointers[r]..<rowPointers[r + 1] {
                            VectorKernels.axpy(values[k], input + Int(columnIndices[k]) * d, target, d)
                        }
                    }
                }
            }
        }
        return DenseMatrix(rows: rows, columns: d, values: out)
    }

    /// The transpose (columns × rows), rows sorted.
    public func transposed() -> SparseMatrix {
        var counts = [Int](repeating: 0, count: columns + 1)
        for c in columnIndices { counts[Int(c) + 1] += 1 }
        for c in 0..<columns { counts[c + 1] += counts[c] }
        var next = counts
        var cols = [Int32](repeating: 0, count: nnz), vals = [Float](repeating: 0, count: nnz)
        for r in 0..<rows {
            for k in rowPointers[r]..<rowPointers[r + 1] {
                let c = Int(columnIndices[k])
                cols[next[c]] = Int32(r)
                vals[next[c]] = values[k]
                next[c] += 1
            }
        }
        return SparseMatrix(unchecked: columns, rows, counts, cols, vals)
    }

    private init(unchecked rows: Int, _ columns: Int, _ pointers: [Int], _ cols: [Int32], _ vals: [Float]) {
        self.rows = rows
        self.columns = columns
        rowPointers = pointers
        columnIndices = cols
        values = vals
    }
}
