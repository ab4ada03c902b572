// Walker's alias method (Vose 1991 variant) for sampling from a fixed discrete distribution.
// Build is O(n); each draw is O(1), which the generator needs to sample millions of plays
// from a power-law song popularity.

/// O(1) sampling of an index with probability proportional to a fixed weight.
public struct AliasTable: Sendable {
    private let probability: [Double]
    private let alias: [Int32]

    public var count: Int { probability.count }

    /// Weights must be finite and non-negative with a positive sum.
    public init?(weights: [Double]) {
        let n = weights.count
        guard n > 0, n < Int(Int32.max) else { return nil }
        var total = 0.0
        for w in weights {
            guard w.isFinite, w >= 0 else { return nil }
            total += w
        }
        guard total > 0 else { return nil }
        var scaled = weights.map { $0 * Double(n) / total }
        var prob = [Double](repeating: 0, count: n)
        var alias = [Int32](repeating: 0, count: n)
        var small: [Int] = []
        var large: [Int] = []
        small.reserveCapacity(n)
        large.reserveCapacity(n)
        for (i, p) in scaled.enumerated() {
            if p < 1 { small.append(i) } else { large.append(i) }
        }
        while let s = small.popLast() {
            guard let l = large.popLast() else {
                prob[s] = 1
                continue
            }
            prob[s] = scaled[s]
            alias[s] = Int32(l)
            scaled[l] = (scaled[l] + scaled[s]) - 1
            if scaled[l] < 1 { small.append(l) } else { large.append(l) }
        }
        for l in large { prob[l] = 1 }
        self.probability = prob
        self.alias = alias
    }

    @inline(__always)
    public func sample(using rng: inout SeededGenerator) -> Int {
        let i = rng.nextInt(below: probability.count)
        return rng.nextDouble() < probability[i] ? i : Int(alias[i])
    }
}
