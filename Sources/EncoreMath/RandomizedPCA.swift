// Randomised principal components (Halko, Martinsson, Tropp 2011): a Gaussian sketch with
// oversampling, a few power iterations with re-orthonormalisation, then the exact eigen-
// decomposition of the small projected covariance (cyclic Jacobi). `center: false` is a
// truncated SVD (scikit-learn's TruncatedSVD), which keeps sparse inputs sparse: the rows are
// given by a closure that adds row · B into an output, so CSR matrices never become dense.
// Time O((power + 2) · nnz · (k + p) + n · (k + p)²).
import Foundation

/// Principal axes and projected coordinates.
public struct PCAResult: Sendable {
    /// components × features, row-major, orthonormal rows.
    public var components: DenseMatrix
    /// Variance of the data along each component.
    public var explainedVariance: [Double]
    /// points × components.
    public var projection: DenseMatrix
}

/// Randomised PCA and truncated SVD.
public enum RandomizedPCA {
    /// PCA of a dense matrix (centred).
    public static func fit(_ x: DenseMatrix, components k: Int, oversampling: Int = 10, powerIterations: Int = 4, seed: UInt64 = 42, center: Bool = true) throws -> PCAResult {
        var mean = [Double](repeating: 0, count: x.columns)
        if center {
            for i in 0..<x.rows { for j in 0..<x.columns { mean[j] += Double(x.values[i * x.columns + j]) } }
            for j in 0..<x.columns { mean[j] /= Double(max(x.rows, 1)) }
        }
        let d = x.columns
        return try fit(rows: x.rows, columns: d, components: k, oversampling: oversampling, powerIterations: powerIterations, seed: seed,
                       rowTimes: { i, b, width, out in
                           // out[0..<width] += (x_i − mean) · B (B is d × width)
                           for j in 0..<d {
                               let v = Double(x.values[i * d + j]) - mean[j]
                               if v != 0 { for c in 0..<width { out[c] += v * b[j * width + c] } }
                           }
                       },
                       transposeTimes: { q, width, out in
                           // out (d × width) = (X − 1 meanᵀ)ᵀ Q
                           var colSums = [Double](repeating: 0, count: width)
                           for i in 0..<x.rows { for c in 0..<width { colSums[c] += q[i * width + c] } }
                           for i in 0..<x.rows {
                               for j in 0..<d {
                                   let v = Double(x.values[i * d + j])
                                   if v != 0 { for c in 0..<width { out[j * width + c] += v * q[i * width + c] } }
                               }
                           }
                           if center { for j in 0..<d { for c in 0..<width { out[j * width + c] -= mean[j] * colSums[c] } } }
                       })
    }

    /// The generic core: `rowTimes(i, B, width, out)` adds row i of the data times B (d × width)
    /// into out; `transposeTimes(Q, width, out)` adds Xᵀ Q (Q is n × width) into out (d × width).
    public static func fit(rows n: Int, columns d: Int, components k: Int, oversampling: Int, powerIterations: Int, seed: UInt64,
                           rowTimes: (Int, [Double], Int, inout [Double]) -> Void,
                           transposeTimes: ([Double], Int, inout [Double]) -> Void) throws -> PCAResult {
        guard n > 1, d > 0 else { throw ClusteringError("PCA needs at least 2 points") }
        guard k > 0, k <= min(n, d) else { throw ClusteringError("components must be between 1 and min(points, features) = \(min(n, d)), got \(k)") }
        let width = min(k + oversampling, min(n, d))
        var rng = SeededGenerator(seed: seed)
        var omega = (0..<(d * width)).map { _ in rng.nextGaussian() }
        func times(_ b: [Double]) -> [Double] {  // X B: n × width
            var y = [Double](repeating: 0, count: n * width)
            var row = [Double](repeating: 0, count: width)
            for i in 0..<n {
                for c in 0..<width { row[c] = 0 }
                rowTimes(i, b, width, &row)
                for c in 0..<width { y[i * width + c] = row[c] }
            }
            return y
        }
        var q = orthonormalise(times(omega), rows: n, width: width)
        for _ in 0..<powerIterations {
            var z = [Double](repeating: 0, count: d * width)
            transposeTimes(q, width, &z)
            omega = orthonormalise(z, rows: d, width: width)
            q = orthonormalise(times(omega), rows: n, width: width)
        }
        // B = Qᵀ X (width × d); the small matrix B Bᵀ (width × width) has the wanted eigenpairs.
        var bt = [Double](repeating: 0, count: d * width)  // Bᵀ = Xᵀ Q
        transposeTimes(q, width, &bt)
        var small = [Double](repeating: 0, count: width * width)
        for a in 0..<width { for b in a..<width {
            var s = 0.0
            for j in 0..<d { s += bt[j * width + a] * bt[j * width + b] }
            small[a * width + b] = s
            small[b * width + a] = s
        } }
        let (values, vectors) = symmetricEigen(small, n: width)
        let order = (0..<width).sorted { values[$0] > values[$1] }.prefix(k)
        // Right singular vectors: v = Bᵀ u / σ; projection = X v = Q B v = Q u σ.
        var comps = [Float](repeating: 0, count: k * d)
        var proj = [Float](repeating: 0, count: n * k)
        var variance = [Double]()
        for (c, e) in order.enumerated() {
            let sigma = max(values[e], 0).squareRoot()
            variance.append(values[e] / Double(n - 1))
            for j in 0..<d {
                var s = 0.0
                for a in 0..<width { s += bt[j * width + a] * vectors[a * width + e] }
                comps[c * d + j] = Float(sigma > 0 ? s / sigma : 0)
            }
            for i in 0..<n {
                var s = 0.0
                for a in 0..<width { s += q[i * width + a] * vectors[a * width + e] }
                proj[i * k + c] = Float(s * sigma)
            }
        }
        return PCAResult(components: DenseMatrix(rows: k, columns: d, values: comps), explainedVariance: variance,
                         projection: DenseMatrix(rows: n, columns: k, values: proj))
    }

    /// Modified Gram–Schmidt on the columns of a rows × width matrix.
    static func orthonormalise(_ a: [Double], rows: Int, width: Int) -> [Double] {
        var m = a
        for c in 0..<width {
            for p in 0..<c {
                var dot = 0.0
                for r in 0..<rows { dot += m[r * width + c] * m[r * width + p] }
                for r in 0..<rows { m[r * width + c] -= dot * m[r * width + p] }
            }
            var norm = 0.0
            for r in 0..<rows { norm += m[r * width + c] * m[r * width + c] }
            norm = norm.squareRoot()
            if norm > 1e-12 { for r in 0..<rows { m[r * width + c] /= norm } } else { for r in 0..<rows { m[r * width + c] = 0 } }
        }
        return m
    }

    /// Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations.
    static func symmetricEigen(_ input: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        var a = input
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { off += a[i * n + j] * a[i * n + j] } }
            if off < 1e-22 { break }
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) {
                let apq = a[p * n + q]
                if abs(apq) < 1e-300 { continue }
                let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {
                    let akp = a[k * n + p], akq = a[k * n + q]
                    a[k * n + p] = c * akp - s * akq
                    a[k * n + q] = s * akp + c * akq
                }
                for k in 0..<n {
                    let apk = a[p * n + k], aqk = a[q * n + k]
                    a[p * n + k] = c * apk - s * aqk
                    a[q * n + k] = s * apk + c * aqk
                }
                for k in 0..<n {
                    let vkp = v[k * n + p], vkq = v[k * n + q]
                    v[k * n + p] = c * vkp - s * vkq
                    v[k * n + q] = s * vkp + c * vkq
                }
            } }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
