// Cluster quality: the silhouette score (Rousseeuw 1987) — for each point, (b − a) / max(a, b)
// with a the mean distance to its own cluster and b the lowest mean distance to another cluster
// (0 for a point alone in its cluster), averaged — exact up to `exactLimit` points and on a seeded
// sample beyond (O(s · n · d) with s sampled points against all n); and the Davies–Bouldin index
// (1979): the mean over clusters of max_j (s_i + s_j) / ‖c_i − c_j‖, s = mean distance to the
// centroid (O(n · d + k² · d)). Euclidean distances, as scikit-learn.
import Foundation

/// Silhouette and Davies–Bouldin.
public enum ClusterQuality {
    public struct Silhouette: Sendable {
        public var score: Double
        /// Points the score was computed on (all, or the sample).
        public var sampleSize: Int
        public var sampled: Bool

        public init(score: Double, sampleSize: Int, sampled: Bool) {
            self.score = score
            self.sampleSize = sampleSize
            self.sampled = sampled
        }
    }

    public static func silhouette(_ x: DenseMatrix, labels: [Int32], exactLimit: Int = 20_000, sampleSize: Int = 20_000, seed: UInt64 = 42) throws -> Silhouette {
        guard labels.count == x.rows else { throw ClusteringError("one label per point is needed") }
        let k = (labels.max().map { Int($0) } ?? -1) + 1
        guard k >= 2, Set(labels).count >= 2 else { throw ClusteringError("the silhouette needs at least 2 clusters") }
        guard k < x.rows else { throw ClusteringError("the silhouette needs fewer clusters than points") }
        var subset = Array(0..<x.rows)
        var sampled = false
        if x.rows > exactLimit {
            var rng = SeededGenerator(seed: seed)
            rng.shuffle(&subset)
            subset = Array(subset.prefix(sampleSize)).sorted()
            sampled = true
        }
        var sizes = [Int](repeating: 0, count: k)
        for l in labels { sizes[Int(l)] += 1 }
        let d = x.columns, n = x.rows
        var norms = [Float](repeating: 0, count: n)
        for i in 0..<n { var s: Float = 0; for q in 0..<d { s += x.values[i * d + q] * x.values[i * d + q] }; norms[i] = s }
        // Blocks of query points against all points: one sgemm per block gives the dot products.
        let block = 256
        let blocks = (subset.count + block - 1) / block
        let parts = ParallelLoop.mapChunks(count: blocks, chunks: min(blocks, 8)) { [subset, norms, sizes] range -> Double in
            var total = 0.0
            var queries = [Float](repeating: 0, count: block * d)
            var products = [Float](repeating: 0, count: block * n)
            var sums = [Double](repeating: 0, count: k)
            for b in range {
                let lo = b * block, hi = min(subset.count, lo + block)
                for (r, idx) in subset[lo..<hi].enumerated() {
                    for q in 0..<d { queries[r * d + q] = x.values[subset[lo + r] * d + q] }
                    _ = idx
                }
                queries.withUnsafeBufferPointer { Q in
                    x.values.withUnsafeBufferPointer { X in
                        products.withUnsafeMutableBufferPointer { P in
                            BLAS.sgemm(transB: true, m: hi - lo, n: n, k: d, a: Q.baseAddress!, lda: d, b: X.baseAddress!, ldb: d, c: P.baseAddress!, ldc: n)
                        }
                    }
                }
                for r in 0..<(hi - lo) {
                    let i = subset[lo + r]
                    for c in 0..<k { sums[c] = 0 }
                    for j in 0..<n where j != i {
                        let sq = max(0, norms[i] + norms[j] - 2 * products[r * n + j])
                        sums[Int(labels[j])] += Double(sq.squareRoot())
                    }
                    let own = Int(labels[i])
                    guard sizes[own] > 1 else { continue }  // a singleton scores 0
                    let a = sums[own] / Double(sizes[own] - 1)
                    var bMin = Double.infinity
                    for c in 0..<k where c != own && sizes[c] > 0 { bMin = min(bMin, sums[c] / Double(sizes[c])) }
                    total += (bMin - a) / max(a, bMin)
                }
            }
            return total
        }
        return Silhouette(score: parts.reduce(0, +) / Double(subset.count), sampleSize: subset.count, sampled: sampled)
    }

    public static func daviesBouldin(_ x: DenseMatrix, labels: [Int32]) throws -> Double {
        guard labels.count == x.rows else { throw ClusteringError("one label per point is needed") }
        let k = (labels.max().map { Int($0) } ?? -1) + 1
        guard Set(labels).count >= 2 else { throw ClusteringError("the Davies–Bouldin index needs at least 2 clusters") }
        let d = x.columns
        var centroids = [Double](repeating: 0, count: k * d)
        var counts = [Int](repeating: 0, count: k)
        for i in 0..<x.rows {
            let c = Int(labels[i])
            counts[c] += 1
            for q in 0..<d { centroids[c * d + q] += Double(x.values[i * d + q]) }
        }
        for c in 0..<k where counts[c] > 0 { for q in 0..<d { centroids[c * d + q] /= Double(counts[c]) } }
        var scatter = [Double](repeating: 0, count: k)
        for i in 0..<x.rows {
            let c = Int(labels[i])
            var s = 0.0
            for q in 0..<d { let v = Double(x.values[i * d + q]) - centroids[c * d + q]; s += v * v }
            scatter[c] += s.squareRoot()
        }
        for c in 0..<k where counts[c] > 0 { scatter[c] /= Double(counts[c]) }
        let present = (0..<k).filter { counts[$0] > 0 }
        var total = 0.0
        for i in present {
            var worst = 0.0
            for j in present where j != i {
                var s = 0.0
                for q in 0..<d { let v = centroids[i * d + q] - centroids[j * d + q]; s += v * v }
                let separation = s.squareRoot()
                worst = max(worst, separation > 0 ? (scatter[i] + scatter[j]) / separation : .infinity)
            }
            total += worst
        }
        return total / Double(present.count)
    }
}
