// k-means clustering (Lloyd 1982) with k-means++ seeding (Arthur & Vassilvitskii 2007; greedy,
// 2 + ⌊ln k⌋ candidates per step, as scikit-learn), `nInit` restarts keeping the lowest
// inertia, and a mini-batch mode (Sculley 2010) for very large inputs. Squared distances come
// from ‖x‖² − 2 x·c + ‖c‖² with one sgemm per chunk of points, chunks in parallel (BLAS
// single-threaded inside). An emptied cluster is re-seeded with the point farthest from its
// centre. Deterministic for a seed. Time O(nInit · iterations · n · k · d).
import Foundation

/// Errors of the clustering and projection code.
public struct ClusteringError: UserFacingError, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// k-means settings.
public struct KMeansConfiguration: Codable, Sendable, Equatable {
    public var k: Int
    public var nInit: Int = 1
    public var maxIterations: Int = 300
    /// Stop when centres move less than this, relative to the data's mean variance (scikit-learn's rule).
    public var tolerance: Double = 1e-4
    public var seed: UInt64 = 42
    /// Use mini-batches above this many points.
    public var miniBatchAbove: Int = 1_000_000
    public var batchSize: Int = 4_096

    public init(k: Int, nInit: Int = 1, seed: UInt64 = 42) {
        self.k = k
        self.nInit = nInit
        self.seed = seed
    }
}

/// A fitted clustering.
public struct KMeansResult: Sendable {
    public var centres: DenseMatrix
    public var labels: [Int32]
    public var inertia: Double
    public var iterations: Int
    public var sizes: [Int] { var s = [Int](repeating: 0, count: centres.rows); for l in labels { s[Int(l)] += 1 }; return s }
}

/// The non-zero entries of a mostly-zero dense matrix, row by row. k-means switches to it below
/// 10% density: products and sums then cost O(nnz · k) instead of O(n · d · k).
struct SparseRows {
    var pointers: [Int]
    var columns: [Int32]
    var values: [Float]

    init?(_ x: DenseMatrix, maxDensity: Double = 0.1) {
        var nnz = 0
        for v in x.values where v != 0 { nnz += 1 }
        guard Double(nnz) < maxDensity * Double(x.values.count) else { return nil }
        pointers = [0]
        pointers.reserveCapacity(x.rows + 1)
        columns = []
        values = []
        columns.reserveCapacity(nnz)
        values.reserveCapacity(nnz)
        for i in 0..<x.rows {
            for j in 0..<x.columns where x.values[i * x.columns + j] != 0 {
                columns.append(Int32(j))
                values.append(x.values[i * x.columns + j])
            }
            pointers.append(columns.count)
        }
    }
}

/// k-means.
public enum KMeans {
    public static func fit(_ x: DenseMatrix, configuration c: KMeansConfiguration) throws -> KMeansResult {
        guard x.rows > 0, x.columns > 0 else { throw ClusteringError("k-means needs data: got \(x.rows) points of \(x.columns) dimensions") }
        guard c.k > 0 else { throw ClusteringError("k must be positive, got \(c.k)") }
        guard c.k <= x.rows else { throw ClusteringError("k (\(c.k)) is larger than the number of points (\(x.rows))") }
        guard c.nInit > 0, c.maxIterations > 0 else { throw ClusteringError("n_init and max_iterations must be positive") }
        guard x.values.allSatisfy({ $0.isFinite }) else { throw ClusteringError("the data holds NaN or infinite values") }
        let norms = rowNorms(x)
        let sparse = SparseRows(x)
        // Tolerance relative to the mean per-feature variance, as scikit-learn.
        var columnSum = [Double](repeating: 0, count: x.columns), columnSquares = [Double](repeating: 0, count: x.columns)
        for i in 0..<x.rows {
            for j in 0..<x.columns { let v = Double(x.values[i * x.columns + j]); columnSum[j] += v; columnSquares[j] += v * v }
        }
        var variance = 0.0
        for j in 0..<x.columns {
            let mean = columnSum[j] / Double(x.rows)
            variance += columnSquares[j] / Double(x.rows) - mean * mean
        }
        let tol = c.tolerance * variance / Double(x.columns)
        var best: KMeansResult? = nil
        for run in 0..<c.nInit {
            var rng = SeededGenerator(seed: c.seed, stream: UInt64(run))
            let initial = plusPlus(x, norms: norms, k: c.k, rng: &rng, sparse: sparse)
            let result = x.rows > c.miniBatchAbove
                ? miniBatch(x, norms: norms, centres: initial, configuration: c, rng: &rng)
                : lloyd(x, norms: norms, centres: initial, maxIterations: c.maxIterations, tolerance: tol, sparse: sparse)
            if best == nil || result.inertia < best!.inertia { best = result }
        }
        return best!
    }

    public static func rowNorms(_ x: DenseMatrix) -> [Float] {
        (0..<x.rows).map { r in
            var s: Float = 0
            for j in 0..<x.columns { let v = x.values[r * x.columns + j]; s += v * v }
            return s
        }
    }

    /// For each point: (nearest centre, its squared distance). Parallel over chunks of points.
    public static func assign(_ x: DenseMatrix, norms: [Float], centres: DenseMatrix) -> (labels: [Int32], distances: [Float]) {
        let r = assign(x, norms: norms, centres: centres, accumulate: false)
        return (r.labels, r.distances)
    }

    /// Assignment, and (when `accumulate`) the per-cluster sums of the points, computed chunk by
    /// chunk while the chunk is still in cache; partial sums are added in chunk order, so the
    /// result does not depend on the thread count.
    static func assign(_ x: DenseMatrix, norms: [Float], centres: DenseMatrix, accumulate: Bool, sparse: SparseRows? = nil)
        -> (labels: [Int32], distances: [Float], sums: [Double], counts: [Int]) {
        let k = centres.rows, d = x.columns
        let cNorms = rowNorms(centres)
        if let sparse { return assignSparse(sparse, rows: x.rows, d: d, norms: norms, centres: centres, cNorms: cNorms, accumulate: accumulate) }
        var labels = [Int32](repeating: 0, count: x.rows)
        var dist = [Float](repeating: 0, count: x.rows)
        // Chunks of about a million input values, so a chunk stays in cache between the two passes.
        let chunkRows = max(8, min(2_048, 1_000_000 / max(d, 1)))
        let chunks = (x.rows + chunkRows - 1) / chunkRows
        let partials: [(sums: [Float], counts: [Int])] = labels.withUnsafeMutableBufferPointer { L in
            dist.withUnsafeMutableBufferPointer { D in
                nonisolated(unsafe) let l = L.baseAddress!, dd = D.baseAddress!
                return ParallelLoop.mapChunks(count: chunks, chunks: chunks) { range -> (sums: [Float], counts: [Int]) in
                    var products = [Float](repeating: 0, count: chunkRows * k)
                    var sums = [Float](repeating: 0, count: accumulate ? k * d : 0)
                    var counts = [Int](repeating: 0, count: k)
                    for chunk in range {
                        let lo = chunk * chunkRows, hi = min(x.rows, lo + chunkRows)
                        x.values.withUnsafeBufferPointer { X in
                            centres.values.withUnsafeBufferPointer { C in
                                products.withUnsafeMutableBufferPointer { P in
                                    BLAS.sgemm(transB: true, m: hi - lo, n: k, k: d, a: X.baseAddress! + lo * d, lda: d,
                                               b: C.baseAddress!, ldb: d, c: P.baseAddress!, ldc: k)
                                }
                            }
                            for i in lo..<hi {
                                var bestJ = 0
                                var bestD = Float.infinity
                                for j in 0..<k {
                                    let v = norms[i] - 2 * products[(i - lo) * k + j] + cNorms[j]
                                    if v < bestD { bestD = v; bestJ = j }
                                }
                                l[i] = Int32(bestJ)
                                dd[i] = max(0, bestD)
                                counts[bestJ] += 1
                                if accumulate {
                                    sums.withUnsafeMutableBufferPointer { S in
                                        let row = X.baseAddress! + i * d, target = S.baseAddress! + bestJ * d
                                        for q in 0..<d { target[q] += row[q] }
                                    }
                                }
                            }
                        }
                    }
                    return (sums, counts)
                }
            }
        }
        var sums = [Double](repeating: 0, count: accumulate ? k * d : 0)
        var counts = [Int](repeating: 0, count: k)
        for p in partials {
            for j in 0..<k { counts[j] += p.counts[j] }
            if accumulate { for q in 0..<(k * d) { sums[q] += Double(p.sums[q]) } }
        }
        return (labels, dist, sums, counts)
    }

    static func assignSparse(_ s: SparseRows, rows n: Int, d: Int, norms: [Float], centres: DenseMatrix, cNorms: [Float], accumulate: Bool)
        -> (labels: [Int32], distances: [Float], sums: [Double], counts: [Int]) {
        let k = centres.rows
        // Centres transposed (d × k), so one non-zero meets all k centres in one cache line.
        var ct = [Float](repeating: 0, count: d * k)
        for j in 0..<k { for q in 0..<d { ct[q * k + j] = centres.values[j * d + q] } }
        var labels = [Int32](repeating: 0, count: n)
        var dist = [Float](repeating: 0, count: n)
        // A fixed number of chunks: the partial sums add up in the same order on any machine.
        let parts = ParallelLoop.mapChunks(count: n, chunks: 8) { [ct] range -> (labels: [Int32], dist: [Float], sums: [Double], counts: [Int]) in
            var l: [Int32] = [], dd: [Float] = []
            var sums = [Double](repeating: 0, count: accumulate ? k * d : 0)
            var counts = [Int](repeating: 0, count: k)
            var p = [Float](repeating: 0, count: k)
            for i in range {
                for j in 0..<k { p[j] = 0 }
                for e in s.pointers[i]..<s.pointers[i + 1] {
                    let v = s.values[e], base = Int(s.columns[e]) * k
                    for j in 0..<k { p[j] += v * ct[base + j] }
                }
                var bestJ = 0
                var bestD = Float.infinity
                for j in 0..<k {
                    let v = norms[i] - 2 * p[j] + cNorms[j]
                    if v < bestD { bestD = v; bestJ = j }
                }
                l.append(Int32(bestJ))
                dd.append(max(0, bestD))
                counts[bestJ] += 1
                if accumulate { for e in s.pointers[i]..<s.pointers[i + 1] { sums[bestJ * d + Int(s.columns[e])] += Double(s.values[e]) } }
            }
            return (l, dd, sums, counts)
        }
        var sums = [Double](repeating: 0, count: accumulate ? k * d : 0)
        var counts = [Int](repeating: 0, count: k)
        var offset = 0
        for part in parts {
            for (n, v) in part.labels.enumerated() { labels[offset + n] = v; dist[offset + n] = part.dist[n] }
            offset += part.labels.count
            for j in 0..<k { counts[j] += part.counts[j] }
            if accumulate { for q in 0..<(k * d) { sums[q] += part.sums[q] } }
        }
        return (labels, dist, sums, counts)
    }

    /// Greedy k-means++ seeding.
    static func plusPlus(_ x: DenseMatrix, norms: [Float], k: Int, rng: inout SeededGenerator, sparse: SparseRows? = nil) -> DenseMatrix {
        let squaredDistances: (DenseMatrix, [Float], Int) -> [Float] = { x, norms, row in
            guard let s = sparse else { return Self.squaredDistances(x, norms: norms, to: row) }
            let d = x.columns
            let target = Array(x.values[(row * d)..<((row + 1) * d)])
            return (0..<x.rows).map { i in
                var dot: Float = 0
                for e in s.pointers[i]..<s.pointers[i + 1] { dot += s.values[e] * target[Int(s.columns[e])] }
                return max(0, norms[i] - 2 * dot + norms[row])
            }
        }
        let d = x.columns
        let trials = 2 + Int(log(Double(k)))
        var chosen = [rng.nextInt(below: x.rows)]
        var closest = squaredDistances(x, norms, chosen[0])
        var potential = closest.reduce(0.0) { $0 + Double($1) }
        while chosen.count < k {
            var bestCandidate = -1
            var bestPotential = Double.infinity
            var bestClosest: [Float] = []
            for _ in 0..<trials {
                // Sample proportionally to the current squared distance.
                var target = rng.nextDouble() * potential
                var candidate = x.rows - 1
                for (i, v) in closest.enumerated() {
                    target -= Double(v)
                    if target <= 0 { candidate = i; break }
                }
                let dc = squaredDistances(x, norms, candidate)
                var newClosest = closest
                var p = 0.0
                for i in 0..<x.rows {
                    if dc[i] < newClosest[i] { newClosest[i] = dc[i] }
                    p += Double(newClosest[i])
                }
                if p < bestPotential { bestPotential = p; bestCandidate = candidate; bestClosest = newClosest }
            }
            chosen.append(bestCandidate)
            closest = bestClosest
            potential = bestPotential
        }
        var v = [Float]()
        v.reserveCapacity(k * d)
        for c in chosen { v.append(contentsOf: x.values[(c * d)..<((c + 1) * d)]) }
        return DenseMatrix(rows: k, columns: d, values: v)
    }

    static func squaredDistances(_ x: DenseMatrix, norms: [Float], to row: Int) -> [Float] {
        let d = x.columns
        var out = [Float](repeating: 0, count: x.rows)
        x.values.withUnsafeBufferPointer { X in
            out.withUnsafeMutableBufferPointer { O in
                BLAS.sgemv(m: x.rows, n: d, a: X.baseAddress!, lda: d, x: X.baseAddress! + row * d, y: O.baseAddress!)
            }
        }
        for i in 0..<x.rows { out[i] = max(0, norms[i] - 2 * out[i] + norms[row]) }
        return out
    }

    static func lloyd(_ x: DenseMatrix, norms: [Float], centres start: DenseMatrix, maxIterations: Int, tolerance: Double, sparse: SparseRows? = nil) -> KMeansResult {
        var centres = start
        let k = centres.rows, d = x.columns
        var labels: [Int32] = []
        var distances: [Float] = []
        var iterations = 0
        for it in 0..<maxIterations {
            iterations = it + 1
            let pass = assign(x, norms: norms, centres: centres, accumulate: true, sparse: sparse)
            labels = pass.labels
            distances = pass.distances
            var sums = pass.sums
            var counts = pass.counts
            // Empty clusters take the points farthest from their centres.
            let empty = (0..<k).filter { counts[$0] == 0 }
            if !empty.isEmpty {
                let far = distances.indices.sorted { distances[$0] != distances[$1] ? distances[$0] > distances[$1] : $0 < $1 }
                for (n, j) in empty.enumerated() {
                    let p = far[n]
                    let old = Int(labels[p])
                    counts[old] -= 1
                    for q in 0..<d { sums[old * d + q] -= Double(x.values[p * d + q]); sums[j * d + q] = Double(x.values[p * d + q]) }
                    counts[j] = 1
                    labels[p] = Int32(j)
                }
            }
            var shift = 0.0
            var next = centres.values
            for j in 0..<k where counts[j] > 0 {
                for q in 0..<d {
                    let v = Float(sums[j * d + q] / Double(counts[j]))
                    shift += Double((v - next[j * d + q]) * (v - next[j * d + q]))
                    next[j * d + q] = v
                }
            }
            centres = DenseMatrix(rows: k, columns: d, values: next)
            if shift <= tolerance { break }
        }
        let last = assign(x, norms: norms, centres: centres, accumulate: false, sparse: sparse)
        labels = last.labels
        distances = last.distances
        return KMeansResult(centres: centres, labels: labels, inertia: distances.reduce(0.0) { $0 + Double($1) }, iterations: iterations)
    }

    static func miniBatch(_ x: DenseMatrix, norms: [Float], centres start: DenseMatrix, configuration c: KMeansConfiguration, rng: inout SeededGenerator) -> KMeansResult {
        var centres = start
        let k = centres.rows, d = x.columns
        var counts = [Double](repeating: 0, count: k)
        let steps = max(1, min(c.maxIterations, 100)) * max(1, x.rows / c.batchSize) / 10
        for _ in 0..<steps {
            let batch = (0..<c.batchSize).map { _ in rng.nextInt(below: x.rows) }
            let sub = x.rows(batch)
            let (labels, _) = assign(sub, norms: batch.map { norms[$0] }, centres: centres)
            var v = centres.values
            for (n, l) in labels.enumerated() {
                let j = Int(l)
                counts[j] += 1
                let eta = Float(1 / counts[j])
                for q in 0..<d { v[j * d + q] += eta * (sub.values[n * d + q] - v[j * d + q]) }
            }
            centres = DenseMatrix(rows: k, columns: d, values: v)
        }
        let (labels, distances) = assign(x, norms: norms, centres: centres)
        return KMeansResult(centres: centres, labels: labels, inertia: distances.reduce(0.0) { $0 + Double($1) }, iterations: steps)
    }
}
