// Exact t-SNE (van der Maaten & Hinton 2008): Gaussian affinities with a per-point bandwidth
// found by binary search to match the perplexity, symmetrised; Student-t similarities in 2-D;
// gradient descent with momentum (0.5, then 0.8), early exaggeration (12 for the first 250
// iterations) and per-parameter gains, as the reference implementation. O(iterations · n²), so
// callers pass a seeded sample of at most a few thousand points.
import Foundation

/// t-SNE settings.
public struct TSNEConfiguration: Codable, Sendable, Equatable {
    public var perplexity: Double = 30
    public var iterations: Int = 750
    public var learningRate: Double = 200
    public var earlyExaggeration: Double = 12
    public var seed: UInt64 = 42
    public var maxPoints: Int = 5_000
    public init() {}
}

/// 2-D embeddings by exact t-SNE.
public enum TSNE {
    public static func embed(_ x: DenseMatrix, configuration c: TSNEConfiguration = TSNEConfiguration()) throws -> DenseMatrix {
        let n = x.rows, d = x.columns
        guard n >= 3 else { throw ClusteringError("t-SNE needs at least 3 points") }
        guard n <= c.maxPoints else { throw ClusteringError("exact t-SNE is O(n²): pass a sample of at most \(c.maxPoints) points, got \(n)") }
        guard c.perplexity > 0, Double(n - 1) > c.perplexity else { throw ClusteringError("perplexity must be positive and below the number of points") }
        // Squared distances.
        var dist = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in (i + 1)..<n {
            var s = 0.0
            for q in 0..<d { let v = Double(x.values[i * d + q] - x.values[j * d + q]); s += v * v }
            dist[i * n + j] = s
            dist[j * n + i] = s
        } }
        // Conditional probabilities with the bandwidth matched to the perplexity.
        var p = [Double](repeating: 0, count: n * n)
        let target = log(c.perplexity)
        let distances = dist
        p.withUnsafeMutableBufferPointer { P in
        nonisolated(unsafe) let pp = P.baseAddress!
        ParallelLoop.forEachChunk(count: n) { _, range in
            var row = [Double](repeating: 0, count: n)
            for i in range {
                var beta = 1.0, lo = 0.0, hi = Double.infinity
                for _ in 0..<64 {
                    var sum = 0.0, weighted = 0.0
                    for j in 0..<n where j != i {
                        let v = exp(-distances[i * n + j] * beta)
                        row[j] = v
                        sum += v
                        weighted += distances[i * n + j] * v
                    }
                    let entropy = sum > 0 ? log(sum) + beta * weighted / sum : 0
                    if abs(entropy - target) < 1e-5 { break }
                    if entropy > target { lo = beta; beta = hi.isInfinite ? beta * 2 : (beta + hi) / 2 } else { hi = beta; beta = (beta + lo) / 2 }
                }
                var sum = 0.0
                for j in 0..<n where j != i { sum += row[j] }
                for j in 0..<n { pp[i * n + j] = j == i || sum == 0 ? 0 : row[j] / sum }
            }
        }
        }
        for i in 0..<n { for j in (i + 1)..<n {
            let v = max((p[i * n + j] + p[j * n + i]) / (2 * Double(n)), 1e-12)
            p[i * n + j] = v
            p[j * n + i] = v
        } }
        var rng = SeededGenerator(seed: c.seed)
        var y = (0..<(2 * n)).map { _ in 1e-4 * rng.nextGaussian() }
        var velocity = [Double](repeating: 0, count: 2 * n)
        var gains = [Double](repeating: 1, count: 2 * n)
        var q = [Double](repeating: 0, count: n * n)
        for it in 0..<c.iterations {
            let exaggeration = it < 250 ? c.earlyExaggeration : 1
            let momentum = it < 250 ? 0.5 : 0.8
            var qSum = 0.0
            for i in 0..<n { for j in (i + 1)..<n {
                let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                let v = 1 / (1 + dx * dx + dy * dy)
                q[i * n + j] = v
                q[j * n + i] = v
                qSum += 2 * v
            } }
            var grad = [Double](repeating: 0, count: 2 * n)
            grad.withUnsafeMutableBufferPointer { G in
                nonisolated(unsafe) let g = G.baseAddress!
                ParallelLoop.forEachChunk(count: n) { [q, p, qSum, y] _, range in
                    for i in range {
                        var gx = 0.0, gy = 0.0
                        for j in 0..<n where j != i {
                            let w = q[i * n + j]
                            let m = (exaggeration * p[i * n + j] - w / qSum) * w
                            gx += m * (y[2 * i] - y[2 * j])
                            gy += m * (y[2 * i + 1] - y[2 * j + 1])
                        }
                        g[2 * i] = 4 * gx
                        g[2 * i + 1] = 4 * gy
                    }
                }
            }
            for k in 0..<(2 * n) {
                gains[k] = (grad[k] > 0) != (velocity[k] > 0) ? gains[k] + 0.2 : max(gains[k] * 0.8, 0.01)
                velocity[k] = momentum * velocity[k] - c.learningRate * gains[k] * grad[k]
                y[k] += velocity[k]
            }
            // Keep the embedding centred.
            var mx = 0.0, my = 0.0
            for i in 0..<n { mx += y[2 * i]; my += y[2 * i + 1] }
            for i in 0..<n { y[2 * i] -= mx / Double(n); y[2 * i + 1] -= my / Double(n) }
        }
        return DenseMatrix(rows: n, columns: 2, values: y.map { Float($0) })
    }
}
