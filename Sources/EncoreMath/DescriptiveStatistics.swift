// Summary statistics as pandas' describe() reports them: sample standard deviation (ddof 1) and
// quantiles by linear interpolation between order statistics (numpy's default). O(n log n).

/// Count, mean, standard deviation, extremes and quantiles of a sample.
public struct DescriptiveStatistics: Codable, Sendable, Equatable {
    public var count: Int
    public var mean: Double
    public var std: Double
    public var min: Double
    public var p25: Double
    public var median: Double
    public var p75: Double
    public var p90: Double
    public var p99: Double
    public var max: Double

    public init(_ values: [Double]) {
        count = values.count
        guard !values.isEmpty else {
            mean = .nan; std = .nan; min = .nan; p25 = .nan; median = .nan
            p75 = .nan; p90 = .nan; p99 = .nan; max = .nan
            return
        }
        let sorted = values.sorted()
        var sum = 0.0
        for v in sorted { sum += v }
        let m = sum / Double(sorted.count)
        var ss = 0.0
        for v in sorted { ss += (v - m) * (v - m) }
        mean = m
        std = sorted.count > 1 ? (ss / Double(sorted.count - 1)).squareRoot() : .nan
        min = sorted[0]
        max = sorted[sorted.count - 1]
        p25 = Self.quantile(sorted: sorted, 0.25)
        median = Self.quantile(sorted: sorted, 0.5)
        p75 = Self.quantile(sorted: sorted, 0.75)
        p90 = Self.quantile(sorted: sorted, 0.90)
        p99 = Self.quantile(sorted: sorted, 0.99)
    }

    public func encode(to encoder: Encoder) throws {
        // NaN (an empty sample, or the deviation of one value) is written as null: JSON has no NaN.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        func put(_ v: Double, _ k: CodingKeys) throws { if v.isNaN { try c.encodeNil(forKey: k) } else { try c.encode(v, forKey: k) } }
        try put(mean, .mean); try put(std, .std); try put(min, .min); try put(p25, .p25); try put(median, .median)
        try put(p75, .p75); try put(p90, .p90); try put(p99, .p99); try put(max, .max)
    }

    /// Linear-interpolation quantile of an ascending sample (numpy `linear`, pandas default).
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let pos = q * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down))
        let hi = Swift.min(lo + 1, sorted.count - 1)
        let frac = pos - Double(lo)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac
    }

    /// Gini coefficient of non-negative values (0 = perfectly even, → 1 = concentrated).
    public static func gini(_ values: [Double]) -> Double {
        let n = values.count
        guard n > 0 else { return .nan }
        let sorted = values.sorted()
        var cum = 0.0, weighted = 0.0
        for (i, v) in sorted.enumerated() {
            cum += v
            weighted += Double(i + 1) * v
        }
        guard cum > 0 else { return 0 }
        return (2 * weighted) / (Double(n) * cum) - Double(n + 1) / Double(n)
    }
}
