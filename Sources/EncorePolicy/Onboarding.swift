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
        let norm = Self.normalised
        var unmatched: [String] = []
        var seeds: [Int] = []
        var named: [Int] = []
        // The pools allowed: songs by a matched artist or with a matched tag (names compared normalised).
        var matchedArtists = Set<Int32>()
        var allowed = [Bool](repeating: false, count: train.itemCount)
        for a in p.artists {
            let songs = artistNumbers[norm(a)].map { n in popularOrder.filter { artists[$0] == n } } ?? []
            guard let first = songs.first else { unmatched.append("artist: \(a)"); continue }
            matchedArtists.insert(artists[first])
            seeds += songs.prefix(3)
        }
        for i in popularOrder where matchedArtists.contains(artists[i]) { allowed[i] = true }
        var matchedTags = false
        for t in p.tags {
            guard let songs = tagSongs[norm(t)], !songs.isEmpty else { unmatched.append("tag: \(t)"); continue }
            matchedTags = true
            seeds += songs.prefix(3)
            for i in songs { allowed[i] = true }
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
        if !matchedArtists.isEmpty || matchedTags {
            ranker = try popularity.restricted(to: allowed, configuration: popularity.configuration)
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
