// The report's rule-based ranker for cold-start and low-engagement users. Each list holds
// `popularCount` (10) songs drawn from the `popularPool` (20) songs with the highest Song
// Popularity Score, then `discoveryCount` (20) "discovery" songs: the `perBucket` (2) songs with
// the most plays per listener inside each popularity-percentile bucket, buckets of `bucketWidth`
// (5) points between `lowestPercentile` (5) and `highestPercentile` (90), visited from the most
// popular bucket down. Played songs are skipped; preferred artists or tags restrict every pick
// (onboarding). Each song carries its reason. fit: O(items log items); recommend: O(items).
//
// The report's score ranks a song with one listener and many plays among the most popular (on
// Last.fm, Viking Quest: 1 listener, 35,323 plays), so by default the popular pool takes only songs
// with at least as many listeners as the median listening (`popularMinListenerPercentile` 50: the
// listener count of the song behind the median (user, song) pair; 25 on the Last.fm split). Setting
// it to 0 is the report's pool. The discovery buckets are the report's either way.
//
// Named `artists` (onboarding) give their own songs first and then, with `around_artists`, the
// songs around them: songs sharing two of the artists' five most used tags, ranked by the same popular
// and discovery pools. An artist or tag that matches nothing is a warning; nothing matching at all
// is an error.
import EncoreData

/// The popular + discovery mix.
public struct PopularityRankerConfiguration: Codable, Sendable, Equatable {
    public var popularCount: Int = 10
    public var popularPool: Int = 20
    public var discoveryCount: Int = 20
    public var perBucket: Int = 2
    public var bucketWidth: Double = 5
    public var lowestPercentile: Double = 5
    public var highestPercentile: Double = 90
    /// The popular pool's listener floor, as a percentile (0–100) of listener counts weighted by
    /// listening pairs; 0 is the report's pool (no floor).
    public var popularMinListenerPercentile: Double = 50
    /// Onboarding: only songs by these artists (case-insensitive), when not empty.
    public var artists: [String] = []
    /// Onboarding: only songs with one of these tags, when not empty.
    public var tags: [String] = []
    /// With both artists and tags: a song qualifies by either (true) or must match both (false).
    public var matchAny: Bool = false
    /// With artists: after their own songs, the songs sharing their most used tags.
    public var aroundArtists: Bool = true

    public init() {}

    /// The report's ranker exactly: no listener floor on the popular pool (the evaluation
    /// protocols' fallback for users a model cannot rank).
    public static var report: PopularityRankerConfiguration {
        var c = PopularityRankerConfiguration()
        c.popularMinListenerPercentile = 0
        return c
    }

    public func validate() throws {
        guard popularCount >= 0, discoveryCount >= 0, perBucket > 0, popularPool >= popularCount else {
            throw ModelError("popularity ranker: counts must be ≥ 0, per_bucket > 0 and popular_pool ≥ popular_count")
        }
        guard bucketWidth > 0, lowestPercentile >= 0, highestPercentile <= 100, lowestPercentile < highestPercentile else {
            throw ModelError("popularity ranker: buckets need 0 ≤ lowest < highest ≤ 100 and a positive width")
        }
        guard popularMinListenerPercentile >= 0, popularMinListenerPercentile <= 100 else {
            throw ModelError("popularity ranker: popular_min_listener_percentile must be between 0 and 100")
        }
    }
}

/// The report's popular + discovery ranker.
public struct PopularityRanker: HistoryRecommender {
    public let name = "popularity"
    public let configuration: PopularityRankerConfiguration
    public let train: InteractionMatrix
    /// Song Popularity Score (0–1) and plays per listener, per item.
    public let score: [Double]
    public let averagePlays: [Double]
    let allowed: [Bool]
    /// Allowed items by popularity score, best first; and each discovery bucket's items by plays per listener.
    let popularOrder: [Int]
    let buckets: [(low: Double, high: Double, items: [Int])]
    /// Songs around the named artists (their tags), after their own: the same pools over them.
    let around: [Bool]
    let aroundPopularOrder: [Int]
    let aroundBuckets: [(low: Double, high: Double, items: [Int])]
    /// Named artists and tags that match no song.
    public let unmatched: [String]

    public var warnings: [String] { unmatched.map { "no song in the catalogue matches '\($0)'" } }

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration: PopularityRankerConfiguration = PopularityRankerConfiguration(), catalog: Catalog? = nil) throws {
        try configuration.validate()
        self.train = train
        let p = PopularityScore(train)
        score = p.scores
        averagePlays = p.averagePlays
        let selection = try Self.selection(train: train, configuration: configuration, catalog: catalog)
        (allowed, around, unmatched) = (selection.own, selection.around, selection.unmatched)
        // The configuration keeps the names that matched (the warnings name the others).
        let missing = selection.unmatched
        var kept = configuration
        kept.artists = configuration.artists.filter { !missing.contains($0) }
        kept.tags = configuration.tags.filter { !missing.contains($0) }
        self.configuration = kept
        let listeners = train.itemDegrees()
        (popularOrder, buckets) = Self.orders(score: score, averagePlays: averagePlays, allowed: allowed, listeners: listeners, configuration: configuration)
        (aroundPopularOrder, aroundBuckets) = Self.orders(score: score, averagePlays: averagePlays, allowed: around, listeners: listeners, configuration: configuration)
    }

    /// The same scores over another set of allowed songs (onboarding's artists and tags): no
    /// recount of the plays, only the pools' order. `allowed` has one flag per song.
    public func restricted(to allowed: [Bool], configuration c: PopularityRankerConfiguration) throws -> PopularityRanker {
        try c.validate()
        guard allowed.count == train.itemCount else { throw ModelError("one allowed flag per song is needed") }
        return PopularityRanker(train: train, configuration: c, score: score, averagePlays: averagePlays, allowed: allowed)
    }

    init(train: InteractionMatrix, configuration: PopularityRankerConfiguration, score: [Double], averagePlays: [Double], allowed: [Bool],
         around: [Bool]? = nil) {
        self.configuration = configuration
        self.train = train
        self.score = score
        self.averagePlays = averagePlays
        self.allowed = allowed
        self.around = around ?? Array(repeating: false, count: allowed.count)
        unmatched = []
        let listeners = train.itemDegrees()
        (popularOrder, buckets) = Self.orders(score: score, averagePlays: averagePlays, allowed: allowed, listeners: listeners, configuration: configuration)
        (aroundPopularOrder, aroundBuckets) = Self.orders(score: score, averagePlays: averagePlays, allowed: self.around, listeners: listeners, configuration: configuration)
    }

    static func orders(score: [Double], averagePlays: [Double], allowed: [Bool], listeners: [Int], configuration c: PopularityRankerConfiguration)
        -> ([Int], [(low: Double, high: Double, items: [Int])]) {
        let candidates = allowed.indices.filter { allowed[$0] }
        let floor = minimumListeners(listeners, percentile: c.popularMinListenerPercentile)
        let popular = candidates.filter { listeners[$0] >= floor }.sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }
        var buckets: [(low: Double, high: Double, items: [Int])] = []
        var hi = c.highestPercentile
        while hi - c.bucketWidth >= c.lowestPercentile - 1e-9 {
            let lo = hi - c.bucketWidth
            let top = hi
            let members = candidates.filter {
                let pct = score[$0] * 100
                return pct >= lo && (pct < top || (top >= c.highestPercentile && pct <= top))
            }.sorted { averagePlays[$0] != averagePlays[$1] ? averagePlays[$0] > averagePlays[$1] : $0 < $1 }
            buckets.append((lo, top, members))
            hi = lo
        }
        return (popular, buckets)
    }

    public init(train: InteractionMatrix, configuration: PopularityRankerConfiguration, state: ModelState) throws {
        try configuration.validate()
        self.configuration = configuration
        self.train = train
        score = try state.doubles("popularity_score")
        averagePlays = try state.doubles("average_plays")
        let a = try state.int32s("allowed")
        try ModelState.require(score.count, train.itemCount, "popularity_score")
        try ModelState.require(averagePlays.count, train.itemCount, "average_plays")
        try ModelState.require(a.count, train.itemCount, "allowed")
        // 1: allowed (the artists' own songs when artists are named); 2: around them.
        allowed = a.map { $0 == 1 }
        around = a.map { $0 == 2 }
        unmatched = []
        let listeners = train.itemDegrees()
        (popularOrder, buckets) = Self.orders(score: score, averagePlays: averagePlays, allowed: allowed, listeners: listeners, configuration: configuration)
        (aroundPopularOrder, aroundBuckets) = Self.orders(score: score, averagePlays: averagePlays, allowed: around, listeners: listeners, configuration: configuration)
    }

    /// The songs the pools draw from: the named artists' and tags' own (all played songs when none
    /// is named), the songs around the artists, and the names that matched nothing.
    static func selection(train: InteractionMatrix, configuration c: PopularityRankerConfiguration, catalog: Catalog?) throws
        -> (own: [Bool], around: [Bool], unmatched: [String]) {
        let degrees = train.itemDegrees()
        let none = [Bool](repeating: false, count: train.itemCount)
        guard !c.artists.isEmpty || !c.tags.isEmpty else { return (degrees.map { $0 > 0 }, none, []) }
        guard let catalog, catalog.count == train.itemCount else {
            throw ModelError("restricting the popularity ranker to artists or tags needs the catalogue (give --data with a catalogue)")
        }
        let artists = Set(c.artists.map { $0.lowercased() })
        let tags = Set(c.tags.map { $0.lowercased() })
        var foundArtists = Set<String>(), foundTags = Set<String>()
        for i in 0..<train.itemCount where degrees[i] > 0 {
            let e = catalog[i]
            if artists.contains(e.artist.lowercased()) { foundArtists.insert(e.artist.lowercased()) }
            for t in e.tags where tags.contains(t.lowercased()) { foundTags.insert(t.lowercased()) }
        }
        let unmatched = c.artists.filter { !foundArtists.contains($0.lowercased()) } + c.tags.filter { !foundTags.contains($0.lowercased()) }
        guard !foundArtists.isEmpty || !foundTags.isEmpty else {
            throw ModelError("no song in the catalogue matches \(unmatched.map { "'\($0)'" }.joined(separator: ", ")) (artists and tags are matched by name, ignoring case)")
        }
        let own = (0..<train.itemCount).map { i -> Bool in
            let e = catalog[i]
            let byArtist = artists.contains(e.artist.lowercased())
            let byTag = e.tags.contains { tags.contains($0.lowercased()) }
            if c.matchAny, !artists.isEmpty, !tags.isEmpty { return degrees[i] > 0 && (byArtist || byTag) }
            return degrees[i] > 0 && (artists.isEmpty || byArtist) && (tags.isEmpty || byTag)
        }
        guard c.aroundArtists, !foundArtists.isEmpty else { return (own, none, unmatched) }
        // The artists' five most used tags, by their songs' listeners.
        var tagWeight: [String: Int] = [:]
        for i in 0..<train.itemCount where artists.contains(catalog[i].artist.lowercased()) {
            for t in catalog[i].tags { tagWeight[t.lowercased(), default: 0] += degrees[i] }
        }
        let near = Set(tagWeight.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map(\.key))
        // Two of those tags in common (one when the artists have one): a single broad tag such as
        // "rock" put Shakira and U2 around Metallica on Last.fm.
        let needed = min(2, near.count)
        let around = (0..<train.itemCount).map { i in
            degrees[i] > 0 && !own[i] && !artists.contains(catalog[i].artist.lowercased())
                && Set(catalog[i].tags.map { $0.lowercased() }).intersection(near).count >= needed
        }
        return (own, around, unmatched)
    }

    public func state() -> ModelState {
        ModelState(arrays: ["popularity_score": .double(score), "average_plays": .double(averagePlays),
                            "allowed": .int32(zip(allowed, around).map { $0 ? 1 : ($1 ? 2 : 0) })])
    }

    /// The list for a user (or a new user with no history), with reasons.
    /// With named artists, their own songs come first and the songs around them fill the list.
    public func rankedList(user: Int?, excluding: Set<Int> = []) -> [ScoredItem] {
        let own = rankedItems(user: user, excluding: excluding)
        var list = own.map { ScoredItem(item: $0.item, score: score[$0.item], explanation: explanation(bucket: $0.bucket)) }
        let room = configuration.popularCount + configuration.discoveryCount - list.count
        guard room > 0, !aroundPopularOrder.isEmpty || aroundBuckets.contains(where: { !$0.items.isEmpty }) else { return list }
        var skip = excluding.union(own.map(\.item))
        if let user, user >= 0, user < train.userCount { for c in train.row(user).items { skip.insert(Int(c)) } }
        let names = configuration.artists.joined(separator: ", ")
        for (i, bucket) in Self.pick(popularOrder: aroundPopularOrder, buckets: aroundBuckets, skip: skip, configuration: configuration).prefix(room) {
            let base = explanation(bucket: bucket, in: aroundBuckets)
            list.append(ScoredItem(item: i, score: score[i], explanation: Explanation(kind: base.kind, sentence: "around \(names): \(base.sentence)")))
        }
        return list
    }

    /// The ranked list without its reasons: each song with its discovery bucket (nil: popular).
    /// A caller that shows a few of the songs builds only their reasons (`explanation(bucket:)`).
    /// `discovery` false: the popular picks only (the discovery picks need them, not the reverse).
    public func rankedItems(user: Int?, excluding: Set<Int> = [], discovery: Bool = true) -> [(item: Int, bucket: Int?)] {
        var skip = excluding
        if let user, user >= 0, user < train.userCount { for c in train.row(user).items { skip.insert(Int(c)) } }
        return Self.pick(popularOrder: popularOrder, buckets: buckets, skip: skip, configuration: configuration, discovery: discovery)
    }

    /// The popular picks then the discovery picks of one set of pools, `skip` left out.
    static func pick(popularOrder: [Int], buckets: [(low: Double, high: Double, items: [Int])], skip: Set<Int>,
                     configuration c: PopularityRankerConfiguration, discovery withDiscovery: Bool = true) -> [(item: Int, bucket: Int?)] {
        var out: [(item: Int, bucket: Int?)] = []
        // Popular: the best `popularCount` of the `popularPool` most popular songs the user has not played.
        for i in popularOrder.prefix(c.popularPool) where !skip.contains(i) && out.count < c.popularCount { out.append((i, nil)) }
        guard withDiscovery else { return out }
        var taken = Set(out.map(\.item))
        // Discovery: buckets of popularity percentile, most popular bucket first.
        var discovery = 0
        for (b, bucket) in buckets.enumerated() where discovery < c.discoveryCount {
            var fromBucket = 0
            for i in bucket.items where fromBucket < c.perBucket && discovery < c.discoveryCount {
                if skip.contains(i) || taken.contains(i) { continue }
                out.append((i, b))
                taken.insert(i)
                fromBucket += 1
                discovery += 1
            }
        }
        return out
    }

    /// The reason of a popular song (bucket nil) or of a discovery song of a bucket.
    public func explanation(bucket: Int?) -> Explanation { explanation(bucket: bucket, in: buckets) }

    func explanation(bucket: Int?, in buckets: [(low: Double, high: Double, items: [Int])]) -> Explanation {
        guard let b = bucket, b >= 0, b < buckets.count else { return Explanation(kind: .popular, sentence: "popular by the report's score") }
        return Explanation(kind: .discovery, sentence: "discovery: \(Self.format(buckets[b].low))–\(Self.format(buckets[b].high))th percentile")
    }

    /// The listener count at `percentile` of the listening pairs: each song counted once per
    /// listener, so a song with many listeners weighs as much as they do. 0 for percentile 0.
    static func minimumListeners(_ listeners: [Int], percentile: Double) -> Int {
        guard percentile > 0 else { return 0 }
        var counts = listeners.filter { $0 > 0 }
        guard !counts.isEmpty else { return 0 }
        counts.sort()
        let total = counts.reduce(0, +)
        let target = Double(total) * percentile / 100
        var seen = 0
        for c in counts {
            seen += c
            if Double(seen) >= target { return c }
        }
        return counts[counts.count - 1]
    }

    static func format(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }

    /// The list with its reasons ("popular by the report's score", "discovery: 40–45th percentile").
    public func recommend(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem] {
        guard k > 0 else { return [] }
        return Array(rankedList(user: user >= 0 && user < train.userCount ? user : nil, excluding: excluding).prefix(k))
    }

    public func scoreAll(user: Int) -> [Float] { rankScores(rankedList(user: user)) }

    /// The same recipe for any history: its songs are skipped; the history needs nothing else.
    public func scoreAll(history: UserHistory) -> [Float] { rankScores(rankedList(user: nil, excluding: Set(history.items))) }

    /// The list with its reasons for a history that is not in the training data.
    public func recommend(history: UserHistory, k: Int, excluding: Set<Int>) -> [ScoredItem] {
        guard k > 0 else { return [] }
        return Array(rankedList(user: nil, excluding: excluding.union(history.items)).prefix(k))
    }

    /// Rank order of a list as a score: first item highest; everything else cannot be ranked.
    func rankScores(_ list: [ScoredItem]) -> [Float] {
        var s = [Float](repeating: -.infinity, count: train.itemCount)
        for (n, e) in list.enumerated() { s[e.item] = Float(list.count - n) }
        return s
    }

}
