// The blend mode's per-source z-scores and weighted sum, vectorised: a list blends up to seven
// sources over every song, so this is the service's hottest loop after the models themselves.
// A source's scores are standardised over the songs it can rank (finite scores): z = (v − mean) / sd,
// and a song it cannot rank takes the lowest z. A sparse source's statistics come from its few
// songs and its constant (`init(support:of:rest:count:)`). The blend is Σ weight · z over the
// sources with a positive weight; a song no such source can rank is −∞. Statistics: one pass
// (CEncoreKernels: Float lanes summed into Doubles every 1,024 songs); the blend: one
// multiply-add pass per source. O(sources · songs).
import CEncoreKernels

/// One source's standardisation: z(v) = v · scale + offset for a finite v, `floor` otherwise.
public struct Standardisation: Sendable, Equatable {
    public var scale: Float
    public var offset: Float
    /// The z of the lowest finite score (what a song the source cannot rank takes).
    public var floor: Float
    /// How many scores are finite.
    public var rankable: Int

    /// The statistics of the finite scores; with none, every z is 0.
    public init(_ scores: [Float]) {
        var sum = 0.0, squares = 0.0, n: Int64 = 0, lowest = Float.infinity
        scores.withUnsafeBufferPointer { s in encore_moments(s.baseAddress, s.count, &sum, &squares, &n, &lowest) }
        self.init(sum: sum, squares: squares, rankable: Int(n), lowest: lowest)
    }

    /// The statistics of sparse scores: `scores` at the songs of `support` (each once), `rest` at
    /// the other `count − support.count` songs.
    public init(support: [Int32], of scores: [Float], rest: Float, count: Int) {
        var sum = 0.0, squares = 0.0, n = 0, lowest = Float.infinity
        for j in support where Int(j) < scores.count {
            let v = scores[Int(j)]
            guard v.isFinite else { continue }
            sum += Double(v)
            squares += Double(v) * Double(v)
            n += 1
            lowest = Swift.min(lowest, v)
        }
        let others = count - support.count
        if rest.isFinite && others > 0 {
            sum += Double(rest) * Double(others)
            squares += Double(rest) * Double(rest) * Double(others)
            n += others
            lowest = Swift.min(lowest, rest)
        }
        self.init(sum: sum, squares: squares, rankable: n, lowest: lowest)
    }

    init(sum: Double, squares: Double, rankable n: Int, lowest: Float) {
        rankable = n
        guard n > 0 else {
            (scale, offset, floor) = (0, 0, 0)
            return
        }
        let mean = sum / Double(n)
        let sd = Swift.max((Swift.max(squares / Double(n) - mean * mean, 0)).squareRoot(), 1e-9)
        scale = Float(1 / sd)
        offset = Float(-mean / sd)
        floor = Float((Double(lowest) - mean) / sd)
    }

    @inline(__always) public func z(_ v: Float) -> Float { v.isFinite ? v * scale + offset : floor }

    /// Σ weight · z over the sources with a positive weight; −∞ where none of them can rank the song.
    public static func blend(_ sources: [[Float]], _ z: [Standardisation], weights: [Float], count: Int) -> [Float] {
        var total = [Float](repeating: 0, count: count)
        var ranked = [Int32](repeating: 0, count: count)
        total.withUnsafeMutableBufferPointer { t in
            ranked.withUnsafeMutableBufferPointer { r in
                for (n, scores) in sources.enumerated() where weights[n] > 0 && scores.count == count {
                    let w = weights[n]
                    let a = SIMD8<Float>(repeating: w * z[n].scale), b = SIMD8<Float>(repeating: w * z[n].offset)
                    let f = SIMD8<Float>(repeating: w * z[n].floor)
                    scores.withUnsafeBufferPointer { s in
                        var j = 0
                        while j + 8 <= count {
                            let v = UnsafeRawPointer(s.baseAddress! + j).loadUnaligned(as: SIMD8<Float>.self)
                            let finite = (v .> -Float.infinity) .& (v .< Float.infinity)
                            let add = f.replacing(with: v * a + b, where: finite)
                            let tp = UnsafeMutableRawPointer(t.baseAddress! + j)
                            tp.storeBytes(of: tp.loadUnaligned(as: SIMD8<Float>.self) + add, as: SIMD8<Float>.self)
                            let rp = UnsafeMutableRawPointer(r.baseAddress! + j)
                            rp.storeBytes(of: rp.loadUnaligned(as: SIMD8<Int32>.self) | SIMD8<Int32>(repeating: 0).replacing(with: 1, where: finite), as: SIMD8<Int32>.self)
                            j += 8
                        }
                        while j < count {
                            let v = s[j]
                            t[j] += v.isFinite ? v * a[0] + b[0] : f[0]
                            if v.isFinite { r[j] = 1 }
                            j += 1
                        }
                    }
                }
                for j in 0..<count where r[j] == 0 { t[j] = -.infinity }
            }
        }
        return total
    }
}
