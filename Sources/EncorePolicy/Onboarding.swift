// Onboarding, the report's cold start: "collect some basic information on their preferences and
// then use the rule-based recommendation system to recommend top popularity songs per their
// preference and also use the hybrid clustering model to recommend similar songs from the same
// cluster of those in their preference." Named artists, tags and songs are matched to the
// catalogue (case-insensitive; songs by external id or title). The popularity pools are
// restricted to songs by a matched artist or with a matched tag; the matched songs, plus the three most played songs
// of each matched artist and tag, seed the cluster, content and model sources. What matched
// nothing is reported back. O(items) per request.
import EncoreData
import EncoreModels

/// What a new listener tells Encore.
public struct Preferences: Codable, Sendable, Equatable {
    public var artists: [String]
    public var tags: [String]
    public var songs: [String]

    public init(artists: [String] = [], tags: [String] = [], songs: [String] = []) {
        self.artists = artists
        self.tags = tags
        self.songs = songs
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        artists = try c.decodeIfPresent([String].self, forKey: .artists) ?? []
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        songs = try c.decodeIfPresent([String].self, forKey: .songs) ?? []
    }

    public var isEmpty: Bool { artists.isEmpty && tags.isEmpty && songs.isEmpty }
}

/// Preferences matched to the catalogue.
public struct MatchedPreferences: Sendable {
    /// Seed songs: the named songs, then the most played songs of each matched artist and tag.
    public var songs: [Int]
    /// The songs the listener named: never recommended back (an artist's or tag's seed songs may be).
    public var named: [Int]
    /// The popularity ranker restricted to the matched artists and tags (nil: no restriction).
    public var ranker: PopularityRanker?
    /// Preferences that matched nothing, as "artist: X", "tag: Y", "song: Z".
    public var unmatched: [String]
}

extension PolicyEngine {
    /// Matches onboarding answers and returns the listener the cold-start recipe serves.
    public func onboard(_ p: Preferences) throws -> Listener {
        guard !p.isEmpty else { throw PolicyError("onboarding needs at least one artist, tag or song") }
        let limit = 100
        guard p.artists.count + p.tags.count + p.songs.count <= limit else { throw PolicyError("onboarding takes at most \(limit) preferences") }
        if (!p.artists.isEmpty || !p.tags.isEmpty) && (catalog == nil || catalog?.count != train.itemCount) {
            throw PolicyError("matching artists and tags needs the catalogue (give the dataset with its catalogue)")
        }
        func norm(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
        var unmatched: [String] = []
        var seeds: [Int] = []
        var named: [Int] = []
        let byPopularity = popularOrder
        var artistNames: [String] = [], tagNames: [String] = []
        for a in p.artists {
            let key = norm(a)
            let songs = byPopularity.filter { i in catalog.map { c in norm(c[i].artist) == key } ?? false }
            if songs.isEmpty { unmatched.append("artist: \(a)") } else {
                artistNames.append(catalog.map { $0[songs[0]].artist } ?? a)
                seeds += songs.prefix(3)
            }
        }
        for t in p.tags {
            let key = norm(t)
            let songs = byPopularity.filter { i in catalog.map { c in c[i].tags.contains { norm($0) == key } } ?? false }
            if songs.isEmpty { unmatched.append("tag: \(t)") } else {
                tagNames.append(key)
                seeds += songs.prefix(3)
            }
        }
        for s in p.songs {
            if let i = train.items.index(of: s) { seeds.append(i); named.append(i); continue }
            let key = norm(s)
            if let catalog, let i = (0..<min(catalog.count, train.itemCount)).first(where: { norm(catalog[$0].title) == key }) {
                seeds.append(i)
                named.append(i)
            } else {
                unmatched.append("song: \(s)")
            }
        }
        var ranker: PopularityRanker? = nil
        if !artistNames.isEmpty || !tagNames.isEmpty {
            var c = popularity.configuration
            c.artists = artistNames.map { $0.lowercased() }
            c.tags = tagNames
            c.matchAny = true
            ranker = try PopularityRanker(train: train, configuration: c, catalog: catalog)
        }
        var seen = Set<Int>()
        seeds = seeds.filter { seen.insert($0).inserted }
        let history = try UserHistory(items: seeds, itemCount: train.itemCount)
        return Listener(history: history, preferences: MatchedPreferences(songs: seeds, named: named, ranker: ranker, unmatched: unmatched))
    }

    /// The cold-start recipe for onboarding answers (whatever the seed songs' count would say).
    public func recommend(onboarding p: Preferences, k: Int) throws -> PolicyRecommendation {
        let l = try onboard(p)
        let recipe = policy.recipes[.coldStart] ?? Recipe(mode: .slots, sources: [RecipePart(.popular, slots: 1)])
        let values = segmenter.values(of: l.history)
        let matched = l.preferences.map { $0.songs.count } ?? 0
        var items = compose(recipe, for: l, k: k)
        // Narrow preferences can run the recipe dry: the rest of the list is popular songs outside them.
        if items.count < k {
            var taken = l.blocked.union(items.map(\.item))
            for i in popularOrder where items.count < k && !taken.contains(i) {
                taken.insert(i)
                items.append(PolicyItem(item: i, score: popularity.score[i], source: PolicySource.popular.description,
                                        explanation: Explanation(kind: .popular, sentence: "popular (beyond your preferences)")))
            }
        }
        return PolicyRecommendation(policy: policy.name, segment: .coldStart,
                                    segmentReason: "onboarding: \(matched) seed songs from \(p.artists.count + p.tags.count + p.songs.count) preferences",
                                    values: values, items: items, unmatched: l.preferences?.unmatched ?? [])
    }
}
