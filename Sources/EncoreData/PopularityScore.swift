// The report's Song Popularity Score, computed exactly as:
//
//   a_i   = plays_i / listeners_i                 (average plays per listener of song i)
//   t_i   = plays_i                               (total plays of song i)
//   raw_i = 0.6 · a_i / max_j a_j + 0.4 · t_i / max_j t_j
//   score_i = rank(raw_i) / (n − 1)               (0-based ascending rank, ties averaged;
//                                                   score 1 when n = 1)
//
// so the score is the song's population ranking in [0, 1]: 1 is the most popular song, 0 the
// least. Songs nobody played get a = t = 0. O(n log n) for n songs.

/// Song Popularity Score (60% average plays per listener, 40% total plays, as a 0–1 rank).
public struct PopularityScore: Sendable {
    public static let averageWeight = 0.6
    public static let totalWeight = 0.4

    /// Score per item, in [0, 1].
    public let scores: [Double]
    /// The unranked weighted combination raw_i.
    public let raw: [Double]
    public let averagePlays: [Double]
    public let totalPlays: [Double]

    public init(_ m: InteractionMatrix) {
        let totals = m.itemTotals()
        let listeners = m.itemDegrees()
        let averages = (0..<m.itemCount).map { listeners[$0] > 0 ? totals[$0] / Double(listeners[$0]) : 0 }
        self.init(totalPlays: totals, averagePlays: averages)
    }

    public init(totalPlays: [Double], averagePlays: [Double]) {
        precondition(totalPlays.count == averagePlays.count)
        let maxA = averagePlays.max() ?? 0
        let maxT = totalPlays.max() ?? 0
        let raw = zip(averagePlays, totalPlays).map { a, t in
            Self.averageWeight * (maxA > 0 ? a / maxA : 0) + Self.totalWeight * (maxT > 0 ? t / maxT : 0)
        }
        self.raw = raw
        self.averagePlays = averagePlays
        self.totalPlays = totalPlays
        self.scores = Self.percentileRank(raw)
    }

    /// rank/(n−1) with average ranks for ties.
    static func percentileRank(_ values: [Double]) -> [Double] {
        let n = values.count
        guard n > 1 else { return Array(repeating: 1, count: n) }
        let order = (0..<n).sorted { values[$0] < values[$1] }
        var result = [Double](repeating: 0, count: n)
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && values[order[j + 1]] == values[order[i]] { j += 1 }
            let rank = Double(i + j) / 2
            for k in i...j { result[order[k]] = rank / Double(n - 1) }
            i = j + 1
        }
        return result
    }
}
