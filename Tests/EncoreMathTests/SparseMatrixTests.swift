import Testing

@testable import EncoreMath

@Suite struct SparseMatrixTests {
    // A = [[1, 0, 2],
    //      [0, 0, 0],
    //      [0, 3, 0]]
    static let a = try! SparseMatrix(rows: 3, columns: 3, triples: [(0, 2, 1.5), (0, 0, 1), (2, 1, 3), (0, 2, 0.5)])

    @Test func triplesAreSortedAndSummed() {
        #expect(Self.a.rowPointers == [0, 2, 2, 3])
        #expect(Self.a.columnIndices == [0, 2, 1])
        #expect(Self.a.values == [1, 2, 3])
    }

    @Test func multipliesByHand() throws {
        // X = [[1, 2], [3, 4], [5, 6]] → A X = [[1 + 10, 2 + 12], [0, 0], [9, 12]]
        let x = DenseMatrix(rows: 3, columns: 2, values: [1, 2, 3, 4, 5, 6])
        let y = try Self.a.multiply(x)
        #expect(y.values == [11, 14, 0, 0, 9, 12])
        let wide = DenseMatrix(rows: 3, columns: 19, values: (0..<57).map(Float.init))
        let firstRow: [Float] = (0..<19).map { (j: Int) -> Float in Float(j) + 2 * Float(38 + j) }
        let lastRow: [Float] = (0..<19).map { (j: Int) -> Float in 3 * Float(19 + j) }
        for workers in [1, 2, 3] {
            let r = try ParallelLoop.$workerOverride.withValue(workers) { try Self.a.multiply(wide) }
            #expect(Array(r.values[0..<19]) == firstRow)
            #expect(Array(r.values[(2 * 19)...]) == lastRow)
        }
        #expect(throws: ParameterError.self) { try Self.a.multiply(DenseMatrix(rows: 2, columns: 2, values: [1, 2, 3, 4])) }
    }

    @Test func transposeSwapsTheAxes() {
        let t = Self.a.transposed()
        #expect(t.rowPointers == [0, 1, 2, 3])
        #expect(t.columnIndices == [0, 2, 0])
        #expect(t.values == [1, 3, 2])
        #expect(t.transposed() == Self.a)
    }

    @Test func badArraysAreRefused() {
        #expect(throws: ParameterError.self) { try SparseMatrix(rows: 2, columns: 2, rowPointers: [0, 2, 1], columnIndices: [0], values: [1]) }
        #expect(throws: ParameterError.self) { try SparseMatrix(rows: 1, columns: 2, rowPointers: [0, 2], columnIndices: [1, 0], values: [1, 1]) }
        #expect(throws: ParameterError.self) { try SparseMatrix(rows: 1, columns: 2, rowPointers: [0, 1], columnIndices: [2], values: [1]) }
        #expect(throws: ParameterError.self) { try SparseMatrix(rows: 1, columns: 1, triples: [(1, 0, 1)]) }
    }
}
