import Testing
@testable import EncoreMath

@Suite struct SeededGeneratorTests {
    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        let xa = (0..<100).map { _ in a.next() }
        let xb = (0..<100).map { _ in b.next() }
        let xc = (0..<100).map { _ in c.next() }
        #expect(xa == xb)
        #expect(xa != xc)
    }

    @Test func boundedIntegersStayInRangeAndCoverIt() {
        var g = SeededGenerator(seed: 1)
        var seen = [Int](repeating: 0, count: 7)
        for _ in 0..<7_000 { seen[g.nextInt(below: 7)] += 1 }
        #expect(seen.allSatisfy { $0 > 800 && $0 < 1_200 })
    }

    @Test func gaussianHasUnitMoments() {
        var g = SeededGenerator(seed: 3)
        let xs = (0..<50_000).map { _ in g.nextGaussian() }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
        #expect(abs(mean) < 0.02)
        #expect(abs(variance - 1) < 0.03)
    }

    @Test func shuffleIsAPermutation() {
        var g = SeededGenerator(seed: 5)
        var a = Array(0..<100)
        g.shuffle(&a)
        #expect(a != Array(0..<100))
        #expect(a.sorted() == Array(0..<100))
    }
}

@Suite struct AliasTableTests {
    @Test func samplesFollowTheWeights() throws {
        let table = try #require(AliasTable(weights: [1, 0, 3, 6]))
        var g = SeededGenerator(seed: 11)
        var counts = [0, 0, 0, 0]
        let n = 100_000
        for _ in 0..<n { counts[table.sample(using: &g)] += 1 }
        #expect(counts[1] == 0)
        #expect(abs(Double(counts[0]) / Double(n) - 0.1) < 0.01)
        #expect(abs(Double(counts[2]) / Double(n) - 0.3) < 0.01)
        #expect(abs(Double(counts[3]) / Double(n) - 0.6) < 0.01)
    }

    @Test func rejectsBadWeights() {
        #expect(AliasTable(weights: []) == nil)
        #expect(AliasTable(weights: [0, 0]) == nil)
        #expect(AliasTable(weights: [1, -1]) == nil)
        #expect(AliasTable(weights: [1, .nan]) == nil)
    }
}

@Suite struct TopKTests {
    @Test func largestFirstTiesByIndex() {
        let r = TopK.select([0.5, 2, 2, -1, 7, .nan, 2], k: 4)
        #expect(r.map(\.index) == [4, 1, 2, 6])
        #expect(r.map(\.value) == [7, 2, 2, 2])
    }

    @Test func kLargerThanInputAndZero() {
        #expect(TopK.select([3, 1], k: 10).map(\.index) == [0, 1])
        #expect(TopK.select([3, 1], k: 0).isEmpty)
    }
}

@Suite struct DescriptiveStatisticsTests {
    @Test func handComputedSummary() {
        let s = DescriptiveStatistics([4, 1, 3, 2])
        #expect(s.count == 4)
        #expect(s.mean == 2.5)
        #expect(abs(s.std - 1.2909944487358056) < 1e-12)  // sample deviation, ddof 1
        #expect(s.min == 1 && s.max == 4)
        #expect(s.p25 == 1.75)
        #expect(s.median == 2.5)
        #expect(s.p75 == 3.25)
        #expect(abs(s.p90 - 3.7) < 1e-12)
        #expect(abs(s.p99 - 3.97) < 1e-12)
    }

    @Test func giniHandCases() {
        #expect(DescriptiveStatistics.gini([5, 5, 5, 5]) == 0)
        #expect(abs(DescriptiveStatistics.gini([0, 0, 0, 1]) - 0.75) < 1e-12)
        #expect(abs(DescriptiveStatistics.gini([1, 2, 3]) - 2.0 / 9.0) < 1e-12)
    }

    @Test func emptySampleIsNaN() {
        let s = DescriptiveStatistics([])
        #expect(s.count == 0 && s.mean.isNaN)
    }
}

@Suite struct ParallelLoopTests {
    @Test func chunksCoverTheRangeOnceInOrder() {
        let parts = ParallelLoop.mapChunks(count: 1_003, chunks: 4) { Array($0) }
        #expect(parts.count == 4)
        #expect(parts.flatMap { $0 } == Array(0..<1_003))
    }
}

@Suite struct BLASTests {
    @Test func sgemmMatchesHandProduct() {
        BLAS.setThreads(1)
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2×3
        let b: [Float] = [7, 8, 9, 10, 11, 12]  // 3×2
        var c = [Float](repeating: 0, count: 4)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(m: 2, n: 2, k: 3, a: pa.baseAddress!, lda: 3, b: pb.baseAddress!, ldb: 2, c: pc.baseAddress!, ldc: 2)
                }
            }
        }
        #expect(c == [58, 64, 139, 154])
        let dot = a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in BLAS.sdot(3, x.baseAddress!, y.baseAddress!) } }
        #expect(dot == Float(50))  // 1·7 + 2·8 + 3·9
    }

    /// The panel's scores: by hand on 3 × 2 (a query of the wrong length gives zeros), then 2,500
    /// songs × 65 dimensions (a partial last tile, several cache blocks, eight queries in registers
    /// and the rest one at a time) against one sgemv per query; every kernel path this machine runs
    /// gives the same bits, alone, in a batch or split between threads.
    @Test func panelScoresMatchOneProductAtATime() throws {
        BLAS.setThreads(1)
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 3×2
        let small = ItemPanel(rows: a, items: 3, dims: 2)
        #expect(small.scores(queries: [[1, 0], [1, -1], [1, 2, 3]]) == [[1, 3, 5], [-1, -1, -1], [0, 0, 0]])
        #expect(small.scores(query: [0.5, 2]) == [4.5, 9.5, 14.5])
        var g = SeededGenerator(seed: 3)
        let rows = 2_500, columns = 65
        let big = (0..<(rows * columns)).map { _ in Float(g.nextDouble() - 0.5) }
        let xs = (0..<13).map { _ in (0..<columns).map { _ in Float(g.nextDouble()) } }
        let panel = ItemPanel(rows: big, items: rows, dims: columns)
        let batched = panel.scores(queries: xs)
        for (x, b) in zip(xs, batched) {
            let one = VectorKernels.matrixVector(big, rows: rows, columns: columns, x: x)
            #expect(b.count == rows && zip(one, b).allSatisfy { abs($0 - $1) < 1e-4 })
            #expect(panel.scores(query: x) == b)
        }
        for path in 0...2 {
            guard let other = panel.scores(queries: xs, path: path) else { continue }
            #expect(other == batched, "kernel path \(path)")
        }
        #expect(try #require(panel.scores(queries: xs, path: 0)) == batched)
        // 2,500 × 65 × 13 multiply-adds are worth two threads: each writes its own songs.
        #expect(panel.scores(queries: xs, threads: 2) == batched)
    }
}

/// Balanced pieces by hand: weights 8,1,1,1,1 in two pieces are [0] and [1..4]; every index is
/// covered once, in order; no more pieces than asked; a single heavy index stays whole.
@Test func balancedRangesSplitByWeight() {
    let w = [8, 1, 1, 1, 1]
    #expect(ParallelLoop.balancedRanges(count: 5, chunks: 2) { w[$0] } == [0..<1, 1..<5])
    #expect(ParallelLoop.balancedRanges(count: 4, chunks: 2) { _ in 1 } == [0..<2, 2..<4])
    let many = ParallelLoop.balancedRanges(count: 100, chunks: 7) { $0 % 10 }
    #expect(many.count <= 7 && many.first?.lowerBound == 0 && many.last?.upperBound == 100)
    #expect(zip(many, many.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
    #expect(ParallelLoop.balancedRanges(count: 0, chunks: 4) { _ in 1 }.isEmpty)
    #expect(ParallelLoop.balancedRanges(count: 3, chunks: 8) { _ in 0 } == [0..<3])
}
