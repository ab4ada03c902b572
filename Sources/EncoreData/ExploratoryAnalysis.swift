// The EDA of the report, computed from a dataset: its six distributions (total plays per user,
// unique songs per user, average plays per song per user, average plays per listener per song,
// listeners per song, total plays per song), plus sparsity, the Gini coefficient of song plays,
// the share of plays of the top 1% and 10% of songs, top songs, artists and tags, release
// years, and the users' engagement levels. O(nnz + n log n).
import EncoreMath

/// One of the six distributions, with a key stable across output formats.
public struct Distribution: Encodable, Sendable {
    public var key: String
    public var title: String
    public var values: [Double]
    public var statistics: DescriptiveStatistics

    enum CodingKeys: String, CodingKey { case title, statistics }

    public func encode(to encoder: Encoder) throws {
        // The raw values stay out of JSON: they are one number per user or song.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(title, forKey: .title)
        try c.encode(statistics, forKey: .statistics)
    }
}

/// A ranked song of the EDA.
public struct RankedSong: Codable, Sendable {
    public var id: String
    public var title: String
    public var artist: String
    public var plays: Double
    public var listeners: Int
    public var popularityScore: Double

    enum CodingKeys: String, CodingKey {
        case id, title, artist, plays, listeners
        case popularityScore = "popularity_score"
    }
}

/// A ranked artist or tag of the EDA.
public struct RankedGroup: Codable, Sendable {
    public var name: String
    public var plays: Double
    public var songs: Int
    public var listeners: Int
}

/// The engagement level of a user.
public enum EngagementLevel: String, Codable, Sendable, CaseIterable {
    case coldStart = "cold_start"
    case low, medium, high
}

/// Users per engagement level and the thresholds that define the levels.
public struct EngagementBreakdown: Codable, Sendable {
    /// Fewer than this many distinct songs: cold start.
    public var coldStartMaxSongs: Int
    /// Total plays below this (the 25th percentile): low.
    public var lowBelowPlays: Double
    /// Total plays at or above this (the 90th percentile): high; in between: medium.
    public var highFromPlays: Double
    public var counts: [String: Int]

    enum CodingKeys: String, CodingKey {
        case coldStartMaxSongs = "cold_start_below_songs"
        case lowBelowPlays = "low_below_plays"
        case highFromPlays = "high_from_plays"
        case counts
    }
}

/// Everything `encore eda` reports.
public struct ExploratoryAnalysis: Encodable, Sendable {
    public var name: String
    public var users: Int
    public var items: Int
    public var interactions: Int
    public var totalPlays: Double
    public var sparsity: Double
    public var giniSongPlays: Double
    public var top1PercentShare: Double
    public var top10PercentShare: Double
    public var distributions: [Distribution]
    public var topSongs: [RankedSong]
    public var topArtists: [RankedGroup]
    public var topTags: [RankedGroup]
    public var releaseYears: [String: Int]
    public var unknownYears: Int
    public var engagement: EngagementBreakdown

    enum CodingKeys: String, CodingKey {
        case name, users, items, interactions
        case totalPlays = "total_plays"
        case sparsity
        case giniSongPlays = "gini_song_plays"
        case top1PercentShare = "top_1_percent_share"
        case top10PercentShare = "top_10_percent_share"
        case distributions
        case topSongs = "top_songs"
        case topArtists = "top_artists"
        case topTags = "top_tags"
        case releaseYears = "release_years"
        case unknownYears = "unknown_years"
        case engagement
    }

    struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(users, forKey: .users)
        try c.encode(items, forKey: .items)
        try c.encode(interactions, forKey: .interactions)
        try c.encode(totalPlays, forKey: .totalPlays)
        try c.encode(sparsity, forKey: .sparsity)
        try c.encode(giniSongPlays.isNaN ? 0 : giniSongPlays, forKey: .giniSongPlays)
        try c.encode(top1PercentShare, forKey: .top1PercentShare)
        try c.encode(top10PercentShare, forKey: .top10PercentShare)
        try c.encode(topSongs, forKey: .topSongs)
        try c.encode(topArtists, forKey: .topArtists)
        try c.encode(topTags, forKey: .topTags)
        try c.encode(releaseYears, forKey: .releaseYears)
        try c.encode(unknownYears, forKey: .unknownYears)
        try c.encode(engagement, forKey: .engagement)
        // Each of the six analyses is a top-level object named by its key.
        var d = encoder.container(keyedBy: DynamicKey.self)
        for dist in distributions { try d.encode(dist, forKey: DynamicKey(stringValue: dist.key)) }
    }

    /// Users with fewer distinct songs than this are cold-start users.
    public static let coldStartSongs = 5

    public init(_ dataset: Dataset, top: Int = 10) {
        let m = dataset.interactions
        name = dataset.name
        users = m.userCount
        items = m.itemCount
        interactions = m.nnz
        sparsity = m.sparsity
        let userTotals = m.userTotals()
        let userSongs = m.userDegrees().map(Double.init)
        let songTotals = m.itemTotals()
        let listenersInt = m.itemDegrees()
        let listeners = listenersInt.map(Double.init)
        totalPlays = songTotals.reduce(0, +)
        let userAverage = zip(userTotals, userSongs).map { $1 > 0 ? $0 / $1 : 0 }
        let songAverage = zip(songTotals, listeners).map { $1 > 0 ? $0 / $1 : 0 }
        func dist(_ key: String, _ title: String, _ v: [Double]) -> Distribution {
            Distribution(key: key, title: title, values: v, statistics: DescriptiveStatistics(v))
        }
        distributions = [
            dist("user_total_plays", "Total plays per user", userTotals),
            dist("user_unique_songs", "Unique songs per user", userSongs),
            dist("user_average_plays_per_song", "Average plays per unique song, per user", userAverage),
            dist("song_average_plays_per_listener", "Average plays per listener, per song", songAverage),
            dist("song_listeners", "Unique listeners per song", listeners),
            dist("song_total_plays", "Total plays per song", songTotals),
        ]
        giniSongPlays = DescriptiveStatistics.gini(songTotals)
        let sortedSongs = songTotals.sorted(by: >)
        let playSum = songTotals.reduce(0, +)
        func share(_ fraction: Double) -> Double {
            guard playSum > 0, !sortedSongs.isEmpty else { return 0 }
            let n = max(1, Int((Double(sortedSongs.count) * fraction).rounded(.up)))
            return sortedSongs.prefix(n).reduce(0, +) / playSum
        }
        top1PercentShare = share(0.01)
        top10PercentShare = share(0.10)

        let popularity = PopularityScore(totalPlays: songTotals, averagePlays: songAverage)
        topSongs = TopK.select(songTotals, k: top).map { e in
            let c = dataset.catalog[e.index]
            return RankedSong(id: m.items[e.index], title: c.title, artist: c.artist, plays: e.value,
                              listeners: listenersInt[e.index], popularityScore: popularity.scores[e.index])
        }

        // Artists and tags: plays, songs and distinct listeners.
        func groups(_ keysOf: (Int) -> [String]) -> [RankedGroup] {
            var index: [String: Int] = [:]
            var names: [String] = []
            var itemGroups = [[Int]](repeating: [], count: m.itemCount)
            for i in 0..<m.itemCount {
                for key in keysOf(i) where !key.isEmpty {
                    let g: Int
                    if let existing = index[key] { g = existing } else {
                        g = names.count
                        index[key] = g
                        names.append(key)
                    }
                    itemGroups[i].append(g)
                }
            }
            guard !names.isEmpty else { return [] }
            var plays = [Double](repeating: 0, count: names.count)
            var songs = [Int](repeating: 0, count: names.count)
            var listeners = [Int](repeating: 0, count: names.count)
            for i in 0..<m.itemCount { for g in itemGroups[i] { plays[g] += songTotals[i]; songs[g] += 1 } }
            var lastUser = [Int](repeating: -1, count: names.count)
            for u in 0..<m.userCount {
                for k in m.rowRange(u) {
                    for g in itemGroups[Int(m.columnIndices[k])] where lastUser[g] != u {
                        lastUser[g] = u
                        listeners[g] += 1
                    }
                }
            }
            return TopK.select(plays, k: top).map { RankedGroup(name: names[$0.index], plays: $0.value, songs: songs[$0.index], listeners: listeners[$0.index]) }
        }
        topArtists = groups { [dataset.catalog[$0].artist] }
        topTags = groups { dataset.catalog[$0].tags }

        var years: [String: Int] = [:]
        var unknown = 0
        for e in dataset.catalog.entries {
            if e.year > 0 { years[String(e.year), default: 0] += 1 } else { unknown += 1 }
        }
        releaseYears = years
        unknownYears = unknown

        let sortedTotals = userTotals.sorted()
        let low = DescriptiveStatistics.quantile(sorted: sortedTotals, 0.25)
        let high = DescriptiveStatistics.quantile(sorted: sortedTotals, 0.90)
        var counts: [String: Int] = Dictionary(uniqueKeysWithValues: EngagementLevel.allCases.map { ($0.rawValue, 0) })
        for u in 0..<m.userCount {
            counts[Self.level(songs: Int(userSongs[u]), plays: userTotals[u], low: low, high: high).rawValue, default: 0] += 1
        }
        engagement = EngagementBreakdown(coldStartMaxSongs: Self.coldStartSongs, lowBelowPlays: low, highFromPlays: high, counts: counts)
    }

    /// The level of a user with `songs` distinct songs and `plays` total plays.
    public static func level(songs: Int, plays: Double, low: Double, high: Double) -> EngagementLevel {
        if songs < coldStartSongs { return .coldStart }
        if plays < low { return .low }
        if plays >= high { return .high }
        return .medium
    }

    /// The distribution with the given key.
    public func distribution(_ key: String) -> Distribution? { distributions.first { $0.key == key } }
}
