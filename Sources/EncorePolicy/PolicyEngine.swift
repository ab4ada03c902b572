// Serves a policy: places a listener in a segment, asks each source of the segment's recipe for
// its scores, and composes one list under the rules (no played song, each song once, an artist
// cap). Slot mode interleaves the sources by a smooth weighted round robin (or in order) and
// backfills from the other sources when one runs dry; blend mode standardises each source's
// scores over the songs it can rank (songs it cannot rank take its lowest z) and ranks by the
// weighted sum, crediting each song to the source that added most. A blend reads only the songs
// of its sparse sources (item-KNN, the pools: `BlendRanking`), and a blend of one factor model
// with sparse sources finds the model's songs by norm bounds (`PrunedBlend.swift`). Pure
// computation: models are fitted or loaded by the caller, or by `fit` from a training matrix.
// Per list: O(dense sources · items) scoring plus the models' own cost; a pruned blend scores
// about 1% of the songs at the Million Song Dataset's size.
import EncoreData
import EncoreMath
import EncoreModels
import Foundation

/// A fitted model and the value scale its training matrix used.
public struct FittedModel: Sendable {
    public var model: any Recommender
    public var transform: ValueTransform
    public init(model: any Recommender, transform: ValueTransform) {
        self.model = model
        self.transform = transform
    }
}

/// Who a list is for: a training user, a history, or onboarding preferences.
public struct Listener: Sendable {
    /// The training index, when the listener is in the training matrix.
    public var user: Int?
    /// Songs and raw play counts; for a training user, their row (plus any new plays).
    public var history: UserHistory
    /// Onboarding answers matched to the catalogue.
    public var preferences: MatchedPreferences?
    /// Songs never to recommend (besides the history).
    public var excluding: Set<Int>

    /// The songs a list never holds: the history, or for onboarding the songs the listener named.
    public var blocked: Set<Int> { excluding.union(preferences?.named ?? history.items) }

    public init(user: Int? = nil, history: UserHistory, preferences: MatchedPreferences? = nil, excluding: Set<Int> = []) {
        self.user = user
        self.history = history
        self.preferences = preferences
        self.excluding = excluding
    }
}

/// One song of a policy's list.
public struct PolicyItem: Sendable, Equatable, Codable {
    public var item: Int
    public var score: Double
    /// The source that put it there (`ease`, `popular`, `new-songs`, …).
    public var source: String
    public var explanation: Explanation

    public init(item: Int, score: Double, source: String, explanation: Explanation) {
        self.item = item
        self.score = score
        self.source = source
        self.explanation = explanation
    }
}

/// A policy's list for one listener, with the segment and why.
public struct PolicyRecommendation: Sendable {
    public var policy: String
    public var segment: Segment
    public var segmentReason: String
    public var values: SegmentValues
    public var items: [PolicyItem]
    /// Onboarding preferences that matched nothing.
    public var unmatched: [String]
    /// Songs the model of a blend that goes by norm bounds scored for this list (nil: it did not
    /// go that way).
    public var scoredSongs: Int? = nil
}

/// A policy with its sources ready.
public struct PolicyEngine: Sendable {
    public let policy: Policy
    /// Raw play counts; the segments read them.
    public let train: InteractionMatrix
    public let catalog: Catalog?
    public let segmenter: Segmenter
    public let models: [String: FittedModel]
    public let popularity: PopularityRanker
    public let clustering: ClusteringHybrid?
    public let content: (any HistoryRecommender)?
    public let newSongs: NewSongPlaylist?
    /// What the caller should tell a person (a content model that fell back to TF-IDF, …).
    public let warnings: [String]
    let popularOrder: [Int]
    /// The popular and discovery sources of a listener with no preferences and no blocked songs:
    /// the same for every such listener, so computed once.
    let sharedPools: [PolicySource: PoolScores]
    let listenersInUserCluster: [[Int]]
    let itemsByCluster: [[Int]]
    let degrees: [Int]
    /// Each song's artist number (trimmed, case-insensitive) for the artist cap and onboarding.
    let artists: [Int32]
    /// Artist name (trimmed, lower-cased) → its number.
    let artistNumbers: [String: Int32]
    /// Tag (trimmed, lower-cased) → its songs, most popular first.
    let tagSongs: [String: [Int]]

    /// Fits every model and pool the policy uses on `train` (raw plays). Rating models train on
    /// `ratingScale` (log1p, as the report), ranking models on raw plays unless `rankingScale` says otherwise.
    public static func fit(policy: Policy, train: InteractionMatrix, catalog: Catalog?, ratingScale: ValueTransform = .log1p,
                           rankingScale: ValueTransform = .none, addedDays: [Double?]? = nil,
                           progress: (String) -> Void = { _ in }) throws -> PolicyEngine {
        try policy.validate()
        var models: [String: FittedModel] = [:]
        for name in requiredModels(policy) {
            let entry = try ModelRegistry.entry(named: name)
            let t = entry.predictsValues ? ratingScale : rankingScale
            progress("fitting \(name)")
            let m = try entry.fit(train.mapValues(t), overrides: policy.models[name], catalog: catalog)
            models[name] = FittedModel(model: m, transform: t)
        }
        return try PolicyEngine(policy: policy, train: train, catalog: catalog, models: models, addedDays: addedDays)
    }

    /// The models a policy needs fitted: those it names, clustering for cluster mates and new
    /// songs, the transformer for content (it falls back to TF-IDF without its weights).
    public static func requiredModels(_ policy: Policy) -> [String] {
        var names = Set(policy.modelNames)
        let sources = policy.sources
        if sources.contains(.clusterMates) || sources.contains(.newSongs) { names.insert("clustering") }
        if (sources.contains(.content) || sources.contains(.newSongs)) && !names.contains("tfidf") { names.insert("transformer") }
        return names.sorted()
    }

    /// An engine over models fitted (or loaded) by the caller; `models` must hold every model the
    /// policy names, `clustering` for cluster mates and new songs, `transformer` (or `tfidf`) for content.
    public init(policy: Policy, train: InteractionMatrix, catalog: Catalog?, models: [String: FittedModel], addedDays: [Double?]? = nil) throws {
        try policy.validate()
        self.policy = policy
        self.train = train
        self.catalog = catalog
        self.models = models
        segmenter = try Segmenter(train, rules: policy.segments)
        var pool = PopularityRankerConfiguration()
        pool.popularCount = 500
        pool.popularPool = 500
        pool.discoveryCount = 1000
        pool.popularMinListenerPercentile = 0  // the report's pools: policies keep the report's recipe
        popularity = try PopularityRanker(train: train, configuration: pool)
        degrees = train.itemDegrees()
        (artists, artistNumbers) = Self.artistNumbers(catalog, items: train.itemCount)
        let score = popularity.score
        let played = degrees
        popularOrder = (0..<train.itemCount).filter { played[$0] > 0 }
            .sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }
        sharedPools = [.popular: Self.poolScores(popularity, blocked: [], source: .popular, count: train.itemCount),
                       .discovery: Self.poolScores(popularity, blocked: [], source: .discovery, count: train.itemCount)]
        var byTag: [String: [Int]] = [:]
        if let catalog, catalog.count == train.itemCount {
            for i in popularOrder { for t in Set(catalog[i].tags.map(Self.normalised)) where !t.isEmpty { byTag[t, default: []].append(i) } }
        }
        tagSongs = byTag
        for name in policy.modelNames where models[name] == nil { throw PolicyError("policy '\(policy.name)' uses \(name), which is not loaded") }
        for (name, m) in models where m.model.train.userCount != train.userCount || m.model.train.itemCount != train.itemCount {
            throw PolicyError("\(name) was trained on other data (\(m.model.train.userCount) users × \(m.model.train.itemCount) songs, not \(train.userCount) × \(train.itemCount))")
        }
        clustering = models["clustering"]?.model as? ClusteringHybrid
        content = (models["transformer"]?.model ?? models["tfidf"]?.model) as? any HistoryRecommender
        let sources = policy.sources
        if sources.contains(.clusterMates) || sources.contains(.newSongs), clustering == nil {
            throw PolicyError("policy '\(policy.name)' uses cluster mates or new songs: it needs the clustering model")
        }
        if sources.contains(.content) || sources.contains(.newSongs), content == nil {
            throw PolicyError("policy '\(policy.name)' uses content neighbours: it needs the transformer (or tfidf) model and a catalogue")
        }
        var listeners: [[Int]] = []
        var byCluster: [[Int]] = []
        if let c = clustering {
            listeners = [[Int]](repeating: [Int](repeating: 0, count: train.itemCount), count: c.configuration.userClusters)
            for u in 0..<train.userCount where c.userLabels[u] >= 0 {
                for q in train.rowRange(u) { listeners[Int(c.userLabels[u])][Int(train.columnIndices[q])] += 1 }
            }
            byCluster = [[Int]](repeating: [], count: c.configuration.itemClusters)
            for i in popularOrder where c.itemLabels[i] >= 0 && Int(c.itemLabels[i]) < byCluster.count { byCluster[Int(c.itemLabels[i])].append(i) }
        }
        listenersInUserCluster = listeners
        itemsByCluster = byCluster
        if sources.contains(.newSongs), let content {
            newSongs = try NewSongPlaylist(train: train, content: content, clustering: clustering, rules: policy.newSongs, addedDays: addedDays)
        } else {
            newSongs = nil
        }
        warnings = models.values.flatMap(\.model.warnings)
        // Build the norm-ordered panels of the parts that go by norm bounds now, not in a listener's request.
        for recipe in policy.recipes.values {
            if let p = prunedPart(recipe), case .model(let name) = recipe.sources[p].source, let model = models[name]?.model as? any PrunedTopScoring {
                _ = model.normPanel
            }
        }
    }

    /// A training user as a listener.
    public func listener(user u: Int) -> Listener { Listener(user: u, history: UserHistory(user: u, of: train)) }

    /// The listener's segment and the values that placed them there.
    public func segment(of listener: Listener) -> (segment: Segment, values: SegmentValues) {
        let values = segmenter.values(of: listener.history)
        let segment: Segment = listener.user.flatMap { u in u < segmenter.segments.count && listener.history == UserHistory(user: u, of: train) ? segmenter.segments[u] : nil }
            ?? segmenter.segment(for: values)
        return (segment, values)
    }

    /// The recipe a segment is served by.
    public func recipe(for segment: Segment) -> Recipe {
        policy.recipes[segment] ?? Recipe(mode: .slots, sources: [RecipePart(.popular, slots: 1)])
    }

    /// The sources of the listener's list that score by a query vector (`BatchScoring`: ALS, BPR, the
    /// transformer's content), each with the listener's query and its scorer, so a service can score
    /// the queries of concurrent lists in one pass (`recommend(_:k:precomputed:)` takes the results).
    public func batchQueries(for listener: Listener) -> [(source: PolicySource, query: [Float], scorer: any BatchScoring)] {
        let recipe = recipe(for: segment(of: listener).segment)
        let pruned = prunedPart(recipe)
        return recipe.sources.enumerated().compactMap { n, part -> (PolicySource, [Float], any BatchScoring)? in
            // A part that goes by norm bounds scores only the songs it needs, in `recommend`.
            guard n != pruned else { return nil }
            switch part.source {
            case .model(let name):
                guard let fitted = models[name], let b = fitted.model as? any BatchScoring, b.scoresByQuery else { return nil }
                switch scoring(fitted, for: listener) {
                case .user(let u): return (part.source, b.query(user: u), b)
                case .history(let h): return (part.source, b.query(history: h), b)
                case .none: return nil
                }
            case .content:
                guard let b = content as? any BatchScoring, b.scoresByQuery, !listener.history.isEmpty else { return nil }
                return (part.source, b.query(history: listener.history), b)
            default:
                return nil
            }
        }
    }

    /// The policy's list of k songs for a listener. `precomputed` holds sources' scores computed
    /// ahead (a service batches the `batchQueries`); the others are scored here.
    public func recommend(_ listener: Listener, k: Int, precomputed: [PolicySource: [Float]] = [:]) -> PolicyRecommendation {
        let (segment, values) = segment(of: listener)
        let reason = listener.preferences != nil && listener.history.count < policy.segments.coldMaxSongs
            ? "onboarding: \(listener.history.count) songs from the listener's preferences" : segmenter.reason(for: values)
        let (items, scored) = composeCounting(recipe(for: segment), for: listener, k: k, precomputed: precomputed)
        return PolicyRecommendation(policy: policy.name, segment: segment, segmentReason: reason, values: values, items: items,
                                    unmatched: listener.preferences?.unmatched ?? [], scoredSongs: scored)
    }

    // MARK: Sources

    /// A source's scores for a listener (-infinity: not a candidate) and its reason for a song.
    public struct SourceScores {
        public var scores: [Float]
        public var explain: (Int) -> Explanation
        /// The songs that may score other than `rest` (nil: any song may): a blend reads only
        /// these and takes `rest` for every other song.
        public var support: [Int32]?
        public var rest: Float

        public init(scores: [Float], support: [Int32]? = nil, rest: Float = -.infinity, explain: @escaping (Int) -> Explanation) {
            self.scores = scores
            self.support = support
            self.rest = rest
            self.explain = explain
        }

        /// Scores of some songs of a source that has no `scores` of every song (a pruned source:
        /// its best songs and the sparse sources' songs).
        var known: [Int: Float] = [:]

        /// The score of song i.
        func score(_ i: Int) -> Float { scores.isEmpty ? known[i] ?? -.infinity : scores[i] }

        /// The standardisation of these scores (over the support and `rest` when sparse).
        var standardisation: Standardisation {
            guard let support else { return Standardisation(scores) }
            return Standardisation(support: support, of: scores, rest: rest, count: scores.count)
        }
    }

    /// The scores of one source for a listener; `precomputed` (the source's scores computed ahead) when given.
    public func scores(of source: PolicySource, for l: Listener, precomputed: [Float]? = nil) -> SourceScores {
        let n = train.itemCount
        var none: SourceScores { SourceScores(scores: [Float](repeating: -.infinity, count: n)) { _ in Explanation(kind: .model, sentence: "") } }
        let ahead = precomputed.flatMap { $0.count == n ? $0 : nil }
        switch source {
        case .model(let name):
            guard let fitted = models[name] else { return none }
            let sparse = ahead == nil ? sparseModelScores(fitted, for: l) : nil
            var s = explainedModelScores(name, fitted, sparse?.scores ?? ahead ?? modelScores(fitted, for: l), for: l)
            s.support = sparse?.support
            s.rest = sparse?.rest ?? -.infinity
            return s
        case .popular, .discovery:
            let ranker = l.preferences?.ranker ?? popularity
            let restricted = l.preferences?.ranker != nil
            let pool = !restricted && l.blocked.isEmpty ? sharedPools[source] ?? Self.poolScores(ranker, blocked: [], source: source, count: n)
                : Self.poolScores(ranker, blocked: l.blocked, source: source, count: n)
            return SourceScores(scores: pool.scores, support: pool.support) { i in
                var e = ranker.explanation(bucket: pool.bucket[i])
                if restricted { e.sentence += ", within your preferences" }
                return e
            }
        case .clusterMates:
            return clusterMates(for: l)
        case .content:
            guard let content else { return none }
            let h = l.history.isEmpty ? nil : l.history
            let s = h.map { h in ahead ?? content.scoreAll(history: h) } ?? [Float](repeating: -.infinity, count: n)
            let top = topSongs(l.history)
            return SourceScores(scores: s.map { $0.isFinite && $0 > 0 ? $0 : -.infinity }) { _ in
                Explanation(kind: .similarContent, songs: top, sentence: "close in content to your songs")
            }
        case .newSongs:
            guard let newSongs else { return none }
            return SourceScores(scores: newSongs.scoreAll(history: l.history)) { newSongs.explanation($0) }
        }
    }

    /// A model's scores with its reasons: the played songs behind each song when the model can say
    /// (EASE, item-KNN, ALS, BPR, …), named from the catalogue.
    func explainedModelScores(_ name: String, _ fitted: FittedModel, _ scores: [Float], for l: Listener) -> SourceScores {
        let top = topSongs(l.history)
        if let explaining = fitted.model as? any ContributionExplaining {
            let weights = l.history.weights.map { fitted.transform.apply($0) }
            return SourceScores(scores: scores) { i in
                explaining.explanation(for: i, items: l.history.items, weights: weights, label: catalogName)
                    ?? Explanation(kind: .model, songs: top, sentence: "\(name), from your listening")
            }
        }
        return SourceScores(scores: scores) { _ in Explanation(kind: .model, songs: top, sentence: "\(name), from your listening") }
    }

    /// How a model scores a listener: as the trained user when the listener is that user unchanged
    /// (or cannot be folded in), else by the history on the model's value scale (fold-in).
    enum ModelScoring {
        case user(Int)
        case history(UserHistory)
        case none
    }

    func scoring(_ fitted: FittedModel, for l: Listener) -> ModelScoring {
        if let u = l.user, u < train.userCount, l.history == UserHistory(user: u, of: train) { return .user(u) }
        guard fitted.model is any HistoryRecommender, !l.history.isEmpty,
              let history = try? UserHistory(items: l.history.items, weights: l.history.weights.map { max(fitted.transform.apply($0), Float.leastNormalMagnitude) },
                                             itemCount: train.itemCount) else {
            if let u = l.user, u < train.userCount { return .user(u) }
            return .none
        }
        return .history(history)
    }

    /// The popular or discovery pool's songs as scores (the first of n songs scores n, the last 1;
    /// the others −∞) and each discovery song's popularity bucket.
    struct PoolScores: Sendable {
        var scores: [Float]
        var bucket: [Int: Int]
        /// The pool's songs (the only finite scores).
        var support: [Int32]
    }

    static func poolScores(_ ranker: PopularityRanker, blocked: Set<Int>, source: PolicySource, count n: Int) -> PoolScores {
        let list = ranker.rankedItems(user: nil, excluding: blocked, discovery: source != .popular).filter { ($0.bucket == nil) == (source == .popular) }
        var pool = PoolScores(scores: [Float](repeating: -.infinity, count: n), bucket: [:], support: list.map { Int32($0.item) })
        for (r, e) in list.enumerated() {
            pool.scores[e.item] = Float(list.count - r)
            if let b = e.bucket { pool.bucket[e.item] = b }
        }
        return pool
    }

    /// A model's scores: the trained user's when the listener is that user unchanged, else the history's (fold-in).
    public func modelScores(_ fitted: FittedModel, for l: Listener) -> [Float] {
        switch scoring(fitted, for: l) {
        case .user(let u): return fitted.model.scoreAll(user: u)
        case .history(let h): return (fitted.model as? any HistoryRecommender)?.scoreAll(history: h) ?? [Float](repeating: -.infinity, count: train.itemCount)
        case .none: return [Float](repeating: -.infinity, count: train.itemCount)
        }
    }

    /// A sparse model's scores (item-KNN) with the songs that may differ from its constant, as `modelScores` would score them.
    func sparseModelScores(_ fitted: FittedModel, for l: Listener) -> SparseScores? {
        guard let sparse = fitted.model as? any SparseScoring else { return nil }
        switch scoring(fitted, for: l) {
        case .user(let u): return sparse.sparseScores(user: u)
        case .history(let h): return sparse.sparseScores(history: h)
        case .none: return nil
        }
    }

    /// The listener's cluster mates' songs (a training user), or the songs of their songs' clusters (a history, onboarding).
    func clusterMates(for l: Listener) -> SourceScores {
        let n = train.itemCount
        var s = [Float](repeating: -.infinity, count: n)
        guard let c = clustering else { return SourceScores(scores: s) { _ in Explanation(kind: .clusterMates, sentence: "") } }
        let cluster: Int? = l.user.flatMap { $0 < c.userLabels.count && c.userLabels[$0] >= 0 ? Int(c.userLabels[$0]) : nil }
            ?? (l.history.count >= policy.segments.coldMaxSongs ? c.userCluster(history: l.history) : nil)
        if let cluster, cluster < listenersInUserCluster.count {
            let counts = listenersInUserCluster[cluster]
            for i in 0..<n where counts[i] > 0 { s[i] = Float(counts[i]) }
            return SourceScores(scores: s) { _ in Explanation(kind: .clusterMates, sentence: "popular with listeners like you (listener cluster \(cluster))") }
        }
        // Few songs: the clusters of the listener's (or preferred) songs, each in proportion to its songs.
        var seeds: [Int: [Int]] = [:]
        for i in l.history.items where i < c.itemLabels.count && c.itemLabels[i] >= 0 { seeds[Int(c.itemLabels[i]), default: []].append(i) }
        var from: [Int: Int] = [:]
        for (label, songs) in seeds where label < itemsByCluster.count {
            for (r, i) in itemsByCluster[label].prefix(2000).enumerated() {
                let v = Float(songs.count) / Float(r + 1)
                if v > s[i] { s[i] = v; from[i] = songs[0] }
            }
        }
        return SourceScores(scores: s) { i in
            Explanation(kind: .clusterMates, songs: from[i].map { [$0] } ?? [], sentence: "in the same song cluster as a song you chose")
        }
    }

    /// A song's title (and artist) from the catalogue, nil without one.
    func catalogName(_ i: Int) -> String? {
        guard let catalog, i >= 0, i < catalog.count, !catalog[i].title.isEmpty else { return nil }
        return catalog[i].artist.isEmpty || catalog[i].artist == catalog[i].title ? catalog[i].title : "\(catalog[i].title) — \(catalog[i].artist)"
    }

    func topSongs(_ h: UserHistory) -> [Int] {
        zip(h.items, h.weights).sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(3).map(\.0)
    }

    // MARK: Composition

    /// The song's artist as a number (case-insensitive), nil without one.
    func artistKey(_ i: Int) -> Int32? {
        guard i >= 0, i < artists.count, artists[i] >= 0 else { return nil }
        return artists[i]
    }

    /// How names are compared: trimmed, lower-cased.
    static func normalised(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }

    /// Each song's artist, numbered by normalised name (-1: no artist or no catalogue), and the numbers by name.
    static func artistNumbers(_ catalog: Catalog?, items: Int) -> ([Int32], [String: Int32]) {
        var numbers: [String: Int32] = [:]
        let songs = (0..<items).map { i -> Int32 in
            guard let catalog, i < catalog.count else { return -1 }
            let a = normalised(catalog[i].artist)
            guard !a.isEmpty else { return -1 }
            if let n = numbers[a] { return n }
            let n = Int32(numbers.count)
            numbers[a] = n
            return n
        }
        return (songs, numbers)
    }

    /// The recipe's list for a listener.
    public func compose(_ recipe: Recipe, for l: Listener, k: Int, precomputed: [PolicySource: [Float]] = [:]) -> [PolicyItem] {
        composeCounting(recipe, for: l, k: k, precomputed: precomputed).items
    }

    /// The list, and how many songs a part that goes by norm bounds scored for it.
    func composeCounting(_ recipe: Recipe, for l: Listener, k: Int, precomputed: [PolicySource: [Float]] = [:]) -> (items: [PolicyItem], scored: Int?) {
        guard k > 0 else { return ([], nil) }
        var blocked = l.excluding.union(l.blocked)
        if let u = l.user, u < train.userCount { for c in train.row(u).items { blocked.insert(Int(c)) } }
        if let p = prunedPart(recipe), precomputed[recipe.sources[p].source] == nil,
           let pruned = composePruned(recipe, part: p, for: l, blocked: blocked, k: k) {
            return (pruned.items, pruned.scored)
        }
        return (compose(recipe, sourced: recipe.sources.map { scores(of: $0.source, for: l, precomputed: precomputed[$0.source]) }, blocked: blocked, k: k), nil)
    }

    /// The recipe's list from the sources' scores (one per part of the recipe), under the rules.
    func compose(_ recipe: Recipe, sourced: [SourceScores], blocked: Set<Int>, k: Int) -> [PolicyItem] {
        let parts = recipe.sources
        var picker = ListPicker(blocked: blocked, cap: recipe.maxPerArtist, artist: artistKey)
        switch recipe.mode {
        case .slots:
            let quota = Self.allocate(k, parts.map { $0.slots ?? 0 })
            let ranked = sourced.enumerated().map { n, s in RankedSource(scores: s.scores, depth: quota[n] + blocked.count + 20) }
            var cursors = ranked
            var credit = [Double](repeating: 0, count: parts.count)
            var left = quota
            var order: [Int] = []
            if recipe.interleave == .sequential {
                for (n, q) in quota.enumerated() { order += [Int](repeating: n, count: q) }
            } else {
                let total = Double(quota.reduce(0, +))
                for _ in 0..<quota.reduce(0, +) {
                    for n in 0..<parts.count where left[n] > 0 { credit[n] += Double(quota[n]) }
                    guard let best = (0..<parts.count).filter({ left[$0] > 0 }).max(by: { credit[$0] != credit[$1] ? credit[$0] < credit[$1] : $0 > $1 }) else { break }
                    credit[best] -= total
                    left[best] -= 1
                    order.append(best)
                }
            }
            for n in order where picker.items.count < k {
                if let i = picker.next(from: &cursors[n]) {
                    picker.take(i, score: Double(sourced[n].scores[i]), source: parts[n].source.description, explanation: sourced[n].explain(i))
                }
            }
            // Backfill from the sources with the most slots first.
            for n in (0..<parts.count).sorted(by: { quota[$0] != quota[$1] ? quota[$0] > quota[$1] : $0 < $1 }) {
                while picker.items.count < k, let i = picker.next(from: &cursors[n]) {
                    picker.take(i, score: Double(sourced[n].scores[i]), source: parts[n].source.description, explanation: sourced[n].explain(i))
                }
            }
        case .blend:
            let weights = parts.map { $0.weight ?? 0 }
            let z = sourced.map(\.standardisation)
            // The best songs without the blend of every song.
            let top = BlendRanking(sources: sourced.map { ($0.scores, $0.support, $0.rest) }, z: z, weights: weights.map { Float($0) },
                                   blocked: blocked, count: train.itemCount, depth: k + 20)
            return pickBlend(recipe, sourced: sourced, z: z, blocked: blocked, k: k, top: top) { sourced }
        }
        return picker.items
    }

    /// The blend's list from its best songs (`top`), crediting each song to the source that added
    /// most; when the artist cap passes over all of them, from the whole blend of the sources
    /// `everySong` gives (with every song's scores).
    func pickBlend(_ recipe: Recipe, sourced: [SourceScores], z: [Standardisation], blocked: Set<Int>, k: Int, top: BlendRanking,
                   everySong: () -> [SourceScores]) -> [PolicyItem] {
        let parts = recipe.sources
        let weights = parts.map { $0.weight ?? 0 }
        func take(_ i: Int, total: Float, from sourced: [SourceScores], into picker: inout ListPicker) {
            var best = 0, bestValue = -Double.infinity
            for (n, zs) in z.enumerated() where weights[n] > 0 && sourced[n].score(i).isFinite {
                let v = weights[n] * Double(zs.z(sourced[n].score(i)))
                if v > bestValue { bestValue = v; best = n }
            }
            picker.take(i, score: Double(total), source: parts[best].source.description, explanation: sourced[best].explain(i))
        }
        var picker = ListPicker(blocked: blocked, cap: recipe.maxPerArtist, artist: artistKey)
        for (i, total) in top.order where picker.items.count < k && picker.allowed(i) { take(i, total: total, from: sourced, into: &picker) }
        guard picker.items.count < k, !top.complete else { return picker.items }
        let all = everySong()
        picker = ListPicker(blocked: blocked, cap: recipe.maxPerArtist, artist: artistKey)
        let total = Standardisation.blend(all.map(\.scores), z, weights: weights.map { Float($0) }, count: train.itemCount)
        var cursor = RankedSource(scores: total, depth: k + blocked.count + 20)
        while picker.items.count < k, let i = picker.next(from: &cursor) { take(i, total: total[i], from: all, into: &picker) }
        return picker.items
    }

    /// Slots for k songs in proportion to the recipe's slots, by largest remainder (ties to the earlier source).
    public static func allocate(_ k: Int, _ slots: [Int]) -> [Int] {
        let total = slots.reduce(0, +)
        guard total > 0, k > 0 else { return slots.map { _ in 0 } }
        let exact = slots.map { Double($0) * Double(k) / Double(total) }
        var out = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(out[$0])) != (exact[$1] - Double(out[$1])) ? (exact[$0] - Double(out[$0])) > (exact[$1] - Double(out[$1])) : $0 < $1 }
        var missing = k - out.reduce(0, +)
        for n in order where missing > 0 && slots[n] > 0 { out[n] += 1; missing -= 1 }
        return out
    }

    /// z-scores over the rankable songs; a song the source cannot rank takes the lowest z.
    public static func standardise(_ s: [Float]) -> (values: [Float], rankable: [Bool]) {
        let z = Standardisation(s)
        return (s.map { z.z($0) }, s.map(\.isFinite))
    }
}

/// A source's songs best first, found lazily: the top `depth` first, the whole order when they run out.
struct RankedSource {
    let scores: [Float]
    var order: [Int]
    var position = 0
    var complete: Bool

    init(scores: [Float], depth: Int) {
        self.scores = scores
        order = TopScores.select(scores, k: max(depth, 1)).map(\.index)
        complete = order.count < depth
    }

    mutating func next() -> Int? {
        if position == order.count, !complete {
            order = TopScores.select(scores, k: scores.count).map(\.index)
            complete = true
        }
        guard position < order.count else { return nil }
        defer { position += 1 }
        return order[position]
    }
}

/// The list being built and its rules: blocked songs, each song once, the artist cap.
struct ListPicker {
    var blocked: Set<Int>
    let cap: Int?
    let artist: (Int) -> Int32?
    var perArtist: [Int32: Int] = [:]
    var items: [PolicyItem] = []

    init(blocked: Set<Int>, cap: Int?, artist: @escaping (Int) -> Int32?) {
        self.blocked = blocked
        self.cap = cap
        self.artist = artist
    }

    func allowed(_ i: Int) -> Bool {
        guard !blocked.contains(i) else { return false }
        if let cap, let a = artist(i), perArtist[a, default: 0] >= cap { return false }
        return true
    }

    mutating func next(from source: inout RankedSource) -> Int? {
        while let i = source.next() { if allowed(i) { return i } }
        return nil
    }

    mutating func take(_ i: Int, score: Double, source: String, explanation: Explanation) {
        blocked.insert(i)
        if let a = artist(i) { perArtist[a, default: 0] += 1 }
        items.append(PolicyItem(item: i, score: score, source: source, explanation: explanation))
    }
}
