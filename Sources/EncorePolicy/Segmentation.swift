// The report's user segments, made exact. Every user gets exactly one, checked in this order:
//   cold start      fewer than `coldMaxSongs` (5) distinct songs;
//   low engagement  total plays below the `lowEngagementPercentile` (25th) of users' totals;
//   low discovery   a history concentrated on popular songs: the mean popularity percentile of the
//                   user's songs (a song's percentile = share of played songs with fewer listeners,
//                   ties at the mid-rank, 0–100) at or above the `lowDiscoveryPercentile` (75th) of
//                   users' means;
//   regular         everyone else.
// Percentile thresholds are taken over the users who are not cold, so the rules mean the same on
// any dataset; fixed thresholds replace them when given. The share of the user's songs in the top
// 10% by listeners is reported beside the mean as a second view of the same concentration.
// fit: O(nnz + items log items + users log users); a history: O(its songs).
import EncoreData
import EncoreMath
import EncoreModels

/// The four kinds of listener the report serves differently.
public enum Segment: String, CaseIterable, Codable, Sendable, Comparable {
    case coldStart = "cold_start"
    case lowEngagement = "low_engagement"
    case lowDiscovery = "low_discovery"
    case regular

    public static func < (a: Segment, b: Segment) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }

    /// Words for tables.
    public var label: String {
        switch self {
        case .coldStart: "cold start"
        case .lowEngagement: "low engagement"
        case .lowDiscovery: "low discovery"
        case .regular: "regular"
        }
    }
}

/// The segment rules; percentiles are of the data, fixed values replace them when set.
public struct SegmentRules: Codable, Sendable, Equatable {
    /// A user with fewer distinct songs than this is cold.
    public var coldMaxSongs: Int = 5
    /// Total plays below this percentile of users' totals is low engagement.
    public var lowEngagementPercentile: Double = 25
    /// A mean song-popularity percentile at or above this percentile of users' means is low discovery.
    public var lowDiscoveryPercentile: Double = 75
    /// Fixed total-plays threshold, instead of the percentile.
    public var lowEngagementPlays: Double?
    /// Fixed mean-popularity-percentile threshold (0–100), instead of the percentile.
    public var lowDiscoveryPopularity: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case coldMaxSongs = "cold_max_songs", lowEngagementPercentile = "low_engagement_percentile"
        case lowDiscoveryPercentile = "low_discovery_percentile", lowEngagementPlays = "low_engagement_plays"
        case lowDiscoveryPopularity = "low_discovery_popularity"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        coldMaxSongs = try c.decodeIfPresent(Int.self, forKey: .coldMaxSongs) ?? 5
        lowEngagementPercentile = try c.decodeIfPresent(Double.self, forKey: .lowEngagementPercentile) ?? 25
        lowDiscoveryPercentile = try c.decodeIfPresent(Double.self, forKey: .lowDiscoveryPercentile) ?? 75
        lowEngagementPlays = try c.decodeIfPresent(Double.self, forKey: .lowEngagementPlays)
        lowDiscoveryPopularity = try c.decodeIfPresent(Double.self, forKey: .lowDiscoveryPopularity)
    }

    public func validate() throws {
        guard coldMaxSongs >= 0 else { throw PolicyError("segments: cold_max_songs must be ≥ 0") }
        for (name, p) in [("low_engagement_percentile", lowEngagementPercentile), ("low_discovery_percentile", lowDiscoveryPercentile)] {
            guard p.isFinite, p >= 0, p <= 100 else { throw PolicyError("segments: \(name) must be between 0 and 100, got \(p)") }
        }
        if let v = lowEngagementPlays, !(v.isFinite && v >= 0) { throw PolicyError("segments: low_engagement_plays must be a number ≥ 0") }
        if let v = lowDiscoveryPopularity, !(v.isFinite && v >= 0 && v <= 100) {
            throw PolicyError("segments: low_discovery_popularity must be between 0 and 100")
        }
    }
}

/// The values that place one listener in a segment.
public struct SegmentValues: Sendable, Equatable, Codable {
    public var songs: Int
    public var plays: Double
    /// Mean popularity percentile (0–100) of the listener's songs; 0 with no songs.
    public var popularityPercentile: Double
    /// Share of the listener's songs in the top 10% by listeners.
    public var topShare: Double

    enum CodingKeys: String, CodingKey {
        case songs, plays
        case popularityPercentile = "popularity_percentile", topShare = "top_share"
    }
}

/// The rules resolved on one training matrix: thresholds and every song's popularity percentile,
/// so a listener who is not in the data (a history) is placed by the same numbers.
public struct Segmenter: Sendable {
    public let rules: SegmentRules
    /// Resolved thresholds: low engagement below `lowEngagementPlays`; low discovery at or above `lowDiscoveryPopularity`.
    public let lowEngagementPlays: Double
    public let lowDiscoveryPopularity: Double
    /// Popularity percentile (0–100) of each song by training listeners; 0 for unplayed songs.
    public let itemPercentile: [Double]
    /// Whether a song is in the top 10% of played songs by listeners.
    public let itemInTop: [Bool]
    /// Every training user's segment and values.
    public let segments: [Segment]
    public let userValues: [SegmentValues]

    public init(_ train: InteractionMatrix, rules: SegmentRules = SegmentRules()) throws {
        try rules.validate()
        self.rules = rules
        let degrees = train.itemDegrees()
        let played = degrees.indices.filter { degrees[$0] > 0 }.sorted { degrees[$0] < degrees[$1] }
        var percentile = [Double](repeating: 0, count: train.itemCount)
        var top = [Bool](repeating: false, count: train.itemCount)
        var start = 0
        while start < played.count {
            var end = start
            while end < played.count, degrees[played[end]] == degrees[played[start]] { end += 1 }
            let mid = (Double(start) + Double(end - 1)) / 2
            let p = played.count > 1 ? 100 * mid / Double(played.count - 1) : 100
            for n in start..<end { percentile[played[n]] = p; top[played[n]] = p >= 90 }
            start = end
        }
        itemPercentile = percentile
        itemInTop = top
        let values = (0..<train.userCount).map { u in
            let r = train.rowRange(u)
            return Self.values(items: r.map { Int(train.columnIndices[$0]) }, plays: r.reduce(0.0) { $0 + Double(train.values[$1]) },
                               percentile: percentile, top: top)
        }
        userValues = values
        let warm = values.filter { $0.songs >= rules.coldMaxSongs }
        let plays = warm.map(\.plays).sorted(), pops = warm.map(\.popularityPercentile).sorted()
        lowEngagementPlays = rules.lowEngagementPlays ?? (plays.isEmpty ? 0 : DescriptiveStatistics.quantile(sorted: plays, rules.lowEngagementPercentile / 100))
        lowDiscoveryPopularity = rules.lowDiscoveryPopularity ?? (pops.isEmpty ? 100 : DescriptiveStatistics.quantile(sorted: pops, rules.lowDiscoveryPercentile / 100))
        let (le, ld, cold) = (lowEngagementPlays, lowDiscoveryPopularity, rules.coldMaxSongs)
        segments = values.map { Self.classify($0, coldMaxSongs: cold, lowEngagementPlays: le, lowDiscoveryPopularity: ld) }
    }

    static func values(items: [Int], plays: Double, percentile: [Double], top: [Bool]) -> SegmentValues {
        var sum = 0.0, inTop = 0
        for i in items where i >= 0 && i < percentile.count {
            sum += percentile[i]
            if top[i] { inTop += 1 }
        }
        let n = items.count
        return SegmentValues(songs: n, plays: plays, popularityPercentile: n > 0 ? sum / Double(n) : 0,
                             topShare: n > 0 ? Double(inTop) / Double(n) : 0)
    }

    static func classify(_ v: SegmentValues, coldMaxSongs: Int, lowEngagementPlays: Double, lowDiscoveryPopularity: Double) -> Segment {
        if v.songs < coldMaxSongs { return .coldStart }
        if v.plays < lowEngagementPlays { return .lowEngagement }
        if v.popularityPercentile >= lowDiscoveryPopularity { return .lowDiscovery }
        return .regular
    }

    /// The values of a listening history (play counts as weights, on the raw scale).
    public func values(of history: UserHistory) -> SegmentValues {
        Self.values(items: history.items, plays: history.weights.reduce(0.0) { $0 + Double($1) }, percentile: itemPercentile, top: itemInTop)
    }

    /// The segment of a history, by the training data's thresholds.
    public func segment(of history: UserHistory) -> Segment { segment(for: values(of: history)) }

    public func segment(for v: SegmentValues) -> Segment {
        Self.classify(v, coldMaxSongs: rules.coldMaxSongs, lowEngagementPlays: lowEngagementPlays, lowDiscoveryPopularity: lowDiscoveryPopularity)
    }

    /// The sentence that says why a listener is in their segment.
    public func reason(for v: SegmentValues) -> String {
        func n(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(format: "%.1f", x) }
        switch segment(for: v) {
        case .coldStart: return "\(v.songs) songs, fewer than \(rules.coldMaxSongs)"
        case .lowEngagement: return "\(n(v.plays)) plays, below \(n(lowEngagementPlays)) (the \(n(rules.lowEngagementPercentile))th percentile)"
        case .lowDiscovery:
            return "mean popularity percentile of their songs \(n(v.popularityPercentile)), at or above \(n(lowDiscoveryPopularity))"
        case .regular:
            return "\(v.songs) songs, \(n(v.plays)) plays, mean popularity percentile \(n(v.popularityPercentile)) below \(n(lowDiscoveryPopularity))"
        }
    }

    /// How many training users fall in each segment.
    public var sizes: [Segment: Int] {
        var out: [Segment: Int] = [:]
        for s in segments { out[s, default: 0] += 1 }
        return out
    }
}

/// Errors of policies, policy files and the policy commands.
public struct PolicyError: UserFacingError, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
