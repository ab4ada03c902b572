// What `encore serve` does besides HTTP: it loads the stored plays and catalogue, builds each
// policy's engine (the registry's active artifacts where they fit the stored plays, fitted
// otherwise), and answers requests from an immutable snapshot that an activation replaces whole
// (requests in flight finish on the snapshot they started with). Accepted plays go to the store
// and to an overlay of plays since the snapshot, so the next list of that listener folds them in
// at once (read your writes). A Thompson-sampling bandit per segment chooses between the policies;
// a play or like of a served song within the reward window rewards the list's arm, and a window
// that closes without one is a zero reward.
import EncoreData
import EncoreMath
import EncoreModels
import EncorePolicy
import EncoreStore
import EncoreText
import Foundation
import Synchronization

/// How the service serves.
public struct ServingOptions: Sendable {
    /// Policies the bandit chooses between (the first is the fallback); built-in names or policy files read at start.
    public var policies: [String] = ["default"]
    public var maxK = 500
    public var rewardWindowSeconds = 1800.0
    public var minimumShare = 0.05
    public var freezeBandit = false
    public var seed: UInt64 = 42
    /// An embedding cache file for the transformer, so a restart does not encode the catalogue again.
    public var embeddingCache: String?
    /// Composed lists kept per snapshot for listeners with no new plays (0: compose every list).
    public var listCacheSize = 20_000
    public init() {}
}

/// The trained state a request reads; replaced whole, never changed.
public final class ServingSnapshot: Sendable {
    public let version: Int
    /// Raw play counts and the catalogue, one item index space.
    public let train: InteractionMatrix
    public let catalog: Catalog
    public let engines: [String: PolicyEngine]
    /// Model kind → the registry record it was loaded from (absent: fitted at start).
    public let loaded: [String: ModelRecord]
    /// Every model the engines use, by name and configuration, for the next snapshot to reuse.
    let fitted: [String: FittedModel]
    /// The stored plays' fingerprint: a reload over the same plays reuses the fitted models.
    let fingerprint: String
    public let builtAt: Date
    /// Built on first use: co-listening neighbours and the TF-IDF index of `similar`.
    let coListening = LazyBox<ItemKNN?>()
    let tfidf = LazyBox<TFIDFRecommender?>()
    /// Per policy, per source that scores by a query vector (ALS, BPR, the content embeddings):
    /// concurrent lists share one pass over the source's song matrix.
    public let batchers: [String: [PolicySource: MicroBatcher<[Float], [Float]>]]
    /// Lists of listeners with no play since this snapshot, composed once.
    public let lists: ListCache

    init(version: Int, train: InteractionMatrix, catalog: Catalog, engines: [String: PolicyEngine], loaded: [String: ModelRecord],
         fitted: [String: FittedModel], fingerprint: String, listCacheSize: Int) {
        lists = ListCache(capacity: listCacheSize)
        self.version = version
        self.train = train
        self.catalog = catalog
        self.engines = engines
        self.loaded = loaded
        self.fitted = fitted
        self.fingerprint = fingerprint
        builtAt = Date()
        var batchers: [String: [PolicySource: MicroBatcher<[Float], [Float]>]] = [:]
        for (name, engine) in engines {
            for source in engine.policy.sources {
                let scorer: (any BatchScoring)?
                switch source {
                case .model(let m): scorer = engine.models[m]?.model as? any BatchScoring
                case .content: scorer = engine.content as? any BatchScoring
                default: scorer = nil
                }
                guard let scorer, scorer.scoresByQuery else { continue }
                batchers[name, default: [:]][source] = MicroBatcher(maxBatch: 32) { scorer.scoreAll(queries: $0) }
            }
        }
        self.batchers = batchers
    }
}

/// Errors a client caused, with the HTTP meaning.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case badRequest = "bad_request", notFound = "not_found", conflict, unavailable }
    public var kind: Kind
    public var message: String
    /// Per-item problems of a batch: index and message.
    public var details: [(index: Int, message: String)]
    public init(_ kind: Kind, _ message: String, details: [(index: Int, message: String)] = []) {
        self.kind = kind
        self.message = message
        self.details = details
    }
    public var description: String { message }
}

/// A served list with everything the API returns.
public struct ServedRecommendation: Sendable {
    public var requestID: String
    public var user: String
    public var known: Bool
    public var recommendation: PolicyRecommendation
    public var arm: String
    public var items: [(song: String, title: String, artist: String, item: PolicyItem)]
    public var foldedIn: Int
    /// The snapshot the list came from (names and ids of its songs).
    public var snapshot: ServingSnapshot
}

/// The recommendation service over a store.
public final class RecommendationService: Sendable {
    public let store: any Store
    public let options: ServingOptions
    let policies: [Policy]
    let current: Mutex<ServingSnapshot>
    let overlay = Mutex<[String: [String: Double]]>([:])
    let bandit: Mutex<(bandit: ThompsonBandit, rng: SeededGenerator)>
    let impressions = Mutex<Impressions>(Impressions())
    let counters = Mutex<Counters>(Counters())
    /// Served lists waiting to be logged: requests never wait for the log; one writer at a time
    /// commits what has gathered (group commit).
    let pendingServed = Mutex<(lists: [ServedList], flushing: Bool)>(([], false))
    /// Songs stored after the serving snapshot was built, with their sentence embedding computed on
    /// arrival: the new-song playlist serves them at once; a reload that includes them drops them.
    let arrivals = Mutex<[String: Arrival]>([:])
    /// Sentence encoders by folder, loaded on the first arrival.
    let encoders = Mutex<[String: SentenceEncoder]>([:])
    /// Whether the bandit changed since it was last stored, and whether a write is under way.
    let banditPersistence = Mutex<(dirty: Bool, writing: Bool)>((false, false))

    struct Arrival: Sendable {
        var entry: CatalogEntry
        var embedding: [Float]?
    }

    struct Impression: Sendable {
        var segment: Segment
        var arm: String
        var songs: Set<String>
        var servedAt: Double
    }

    /// Open impressions by request id, and their ids in the order served, so closing the expired
    /// ones costs only what expires. `closedBefore` and `rewarded` say which impressions already
    /// gave their reward, so a restart reopens only the others.
    struct Impressions: Sendable {
        var open: [String: Impression] = [:]
        var order: [String] = []
        var head = 0
        /// Every impression served before this time (seconds) has given its reward.
        var closedBefore = 0.0
        /// Impressions served since `closedBefore` that gave their reward early (a play or like): id → served at.
        var rewarded: [String: Double] = [:]

        mutating func add(_ id: String, _ i: Impression) {
            open[id] = i
            order.append(id)
        }

        /// Closes an open impression with its reward now.
        mutating func reward(_ id: String) -> Impression? {
            guard let i = open.removeValue(forKey: id) else { return nil }
            rewarded[id] = i.servedAt
            return i
        }

        /// Removes and returns the impressions served before `cutoff` that are still open.
        mutating func expire(before cutoff: Double) -> [Impression] {
            var out: [Impression] = []
            while head < order.count {
                let id = order[head]
                guard let i = open[id] else { head += 1; continue }
                guard i.servedAt < cutoff else { break }
                out.append(i)
                open[id] = nil
                head += 1
            }
            if head > 4_096, head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
            if cutoff > closedBefore {
                closedBefore = cutoff
                if rewarded.count > 1_024 { rewarded = rewarded.filter { $0.value >= cutoff } }
            }
            return out
        }
    }

    /// What survives a restart of the service: the bandit's posteriors and which impressions have
    /// given their reward (the open ones are reopened from the store's served lists).
    struct PersistedBandit: Codable {
        var posteriors: [String: [String: ArmPosterior]]
        var closedBefore: Double
        var rewarded: [String]

        enum CodingKeys: String, CodingKey {
            case posteriors
            case closedBefore = "closed_before"
            case rewarded
        }
    }

    /// The store's state name of the bandit.
    static let banditStateName = "bandit"

    /// Running totals for /metrics.
    public struct Counters: Sendable {
        public var eventsIngested = 0
        public var foldIns = 0
        public var served: [String: Int] = [:]
        public var rewards: [String: Double] = [:]
        public var servedLogFailures = 0
        public var banditStateFailures = 0
        /// Events other replicas stored, absorbed from their notifications.
        public var eventsFromReplicas = 0
        /// Background retrains by outcome (promoted, kept, failed, cancelled).
        public var retrains: [String: Int] = [:]
        /// Lists composed by norm bounds (a factor model blended with sparse sources) and the songs
        /// their model scored: their ratio over the catalogue is the share of songs a list reads.
        public var prunedLists = 0
        public var prunedSongsScored = 0
    }

    /// Loads the store and builds every policy's engine.
    public static func start(store: any Store, options: ServingOptions = ServingOptions(), progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> RecommendationService {
        guard !options.policies.isEmpty else { throw ServiceError(.badRequest, "serve needs at least one policy") }
        let named = try options.policies.map { try Policy.named($0) }
        guard Set(named.map(\.name)).count == named.count else { throw ServiceError(.badRequest, "two policies share a name") }
        let policies = named.map { p -> Policy in
            guard let cache = options.embeddingCache, PolicyEngine.requiredModels(p).contains("transformer") else { return p }
            var p = p
            var config = (try? JSONDecoder().decode([String: JSONValue].self, from: Data((p.models["transformer"] ?? "{}").utf8))) ?? [:]
            if config["cache"] == nil { config["cache"] = .string(cache) }
            p.models["transformer"] = ConfigurationOverrides.json(config)
            return p
        }
        let snapshot = try await build(store: store, policies: policies, version: 1, previous: nil, listCacheSize: options.listCacheSize, progress: progress)
        let service = try RecommendationService(store: store, options: options, policies: policies, snapshot: snapshot)
        try await service.restoreBandit(progress: progress)
        return service
    }

    /// Reads the bandit's posteriors stored by an earlier run (arms no longer served are dropped)
    /// and reopens the reward windows of the lists it served that are still open.
    func restoreBandit(progress: @Sendable (String) -> Void) async throws {
        guard let text = try await store.serviceState(Self.banditStateName) else { return }
        guard let stored = try? JSONDecoder().decode(PersistedBandit.self, from: Data(text.utf8)) else {
            progress("the stored bandit state could not be read: the bandit starts from its prior")
            return
        }
        let arms = Set(policies.map(\.name))
        var dropped = Set<String>()
        bandit.withLock { state in
            for (segment, posts) in stored.posteriors {
                for (arm, p) in posts {
                    if arms.contains(arm) { state.bandit.posteriors[segment, default: [:]][arm] = p } else { dropped.insert(arm) }
                }
            }
        }
        if !dropped.isEmpty { progress("the stored bandit had arms this service does not serve (\(dropped.sorted().joined(separator: ", "))): their posteriors are dropped") }
        let now = Date().timeIntervalSince1970
        let since = max(stored.closedBefore, now - options.rewardWindowSeconds)
        let lists = try await store.servedLists(since: Int64((since * 1000).rounded(.down)), limit: 1_000_000)
        let rewarded = Set(stored.rewarded)
        impressions.withLock { imps in
            imps.closedBefore = stored.closedBefore
            for l in lists.reversed() where !rewarded.contains(l.requestID) && arms.contains(l.arm) {
                guard let segment = Segment(rawValue: l.segment) else { continue }
                imps.add(l.requestID, Impression(segment: segment, arm: l.arm, songs: Set(l.items), servedAt: Double(l.timestamp) / 1000))
            }
        }
        let count = bandit.withLock { $0.bandit.posteriors.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.impressions } } }
        progress("restored the bandit: \(count) rewarded impressions, \(lists.count - rewarded.count) reward windows reopened")
    }

    /// Stores the bandit's state now (shutdown), after any write under way.
    public func persistBandit() async throws {
        while banditPersistence.withLock({ $0.writing }) { try await Task.sleep(for: .milliseconds(1)) }
        banditPersistence.withLock { $0.dirty = false }
        try await writeBandit()
    }

    func writeBandit() async throws {
        let posteriors = bandit.withLock { $0.bandit.posteriors }
        let (closed, rewarded) = impressions.withLock { ($0.closedBefore, $0.rewarded.keys.sorted()) }
        let data = try JSONEncoder().encode(PersistedBandit(posteriors: posteriors, closedBefore: closed, rewarded: rewarded))
        try await store.setServiceState(Self.banditStateName, json: String(decoding: data, as: UTF8.self))
    }

    /// Marks the bandit changed; one writer at a time stores it, at most about once a second.
    func banditChanged() {
        let start = banditPersistence.withLock { p -> Bool in
            p.dirty = true
            guard !p.writing else { return false }
            p.writing = true
            return true
        }
        guard start else { return }
        Task {
            while banditPersistence.withLock({ p -> Bool in
                guard p.dirty else { p.writing = false; return false }
                p.dirty = false
                return true
            }) {
                do { try await writeBandit() } catch { counters.withLock { $0.banditStateFailures += 1 } }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Everything a stopping service must leave in the store: the served lists logged, the bandit stored.
    public func flush() async {
        await flushServedLists()
        do { try await persistBandit() } catch { counters.withLock { $0.banditStateFailures += 1 } }
    }

    init(store: any Store, options: ServingOptions, policies: [Policy], snapshot: ServingSnapshot) throws {
        self.store = store
        self.options = options
        self.policies = policies
        current = Mutex(snapshot)
        var c = BanditConfiguration(arms: policies.map(\.name))
        c.minimumShare = min(options.minimumShare, 1 / Double(policies.count))
        c.frozen = options.freezeBandit
        c.rewardWindowSeconds = options.rewardWindowSeconds
        bandit = Mutex((try ThompsonBandit(configuration: c), SeededGenerator(seed: options.seed)))
    }

    static func build(store: any Store, policies: [Policy], version: Int, previous: ServingSnapshot?, listCacheSize: Int,
                      progress: @escaping @Sendable (String) -> Void) async throws -> ServingSnapshot {
        // Reads from the store here; decoding, fitting and building run on their own thread, so a
        // reload never holds one of the few threads that serve requests.
        let data = try await store.trainingData()
        guard data.interactions.nnz > 0 else { throw ServiceError(.unavailable, "the database holds no plays: import some first (encore import PATH --database …)") }
        let needed = Set(policies.flatMap { PolicyEngine.requiredModels($0) })
        var artifacts: [(ModelRecord, [UInt8])] = []
        for record in try await store.models() where record.status == .active && needed.contains(record.kind) && !artifacts.contains(where: { $0.0.kind == record.kind }) {
            artifacts.append((record, try await store.artifact(id: record.id)))
        }
        let fetched = artifacts
        return try await offPool {
            let train = data.interactions
            let fingerprint = Snapshot.fingerprint(train)
            // Over the same plays, the models fitted before are reused: an activation costs only the activated model.
            let reusable = previous.flatMap { $0.fingerprint == fingerprint ? $0.fitted : nil } ?? [:]
            var pool = ModelPool(train: train, catalog: data.catalog, progress: progress)
            var loaded: [String: ModelRecord] = [:]
            var models: [String: FittedModel] = [:]
            for (record, bytes) in fetched {
                // An artifact serves only when it was trained on exactly these plays (same ids, same values).
                guard let artifact = try? Artifact.decode(Data(bytes), source: "model \(record.id)"),
                      artifact.train.userCount == train.userCount, artifact.train.itemCount == train.itemCount,
                      Snapshot.fingerprint(artifact.train) == Snapshot.fingerprint(train.mapValues(artifact.transform)),
                      let model = try? artifact.model() else {
                    progress("model \(record.id) (\(record.kind)) was trained on other plays: fitting \(record.kind) instead")
                    continue
                }
                progress("loaded \(record.kind) v\(record.version) (model \(record.id)) from the registry")
                models[record.kind] = FittedModel(model: model, transform: artifact.transform)
                loaded[record.kind] = record
            }
            var engines: [String: PolicyEngine] = [:]
            var fitted: [String: FittedModel] = [:]
            for p in policies {
                var m: [String: FittedModel] = [:]
                for name in PolicyEngine.requiredModels(p) {
                    let key = try ModelPool.key(name, overrides: p.models[name])
                    let model = try models[name] ?? reusable[key] ?? pool.model(name, overrides: p.models[name])
                    m[name] = model
                    if models[name] == nil { fitted[key] = model }
                }
                engines[p.name] = try PolicyEngine(policy: p, train: train, catalog: data.catalog, models: m)
            }
            return ServingSnapshot(version: version, train: train, catalog: data.catalog, engines: engines, loaded: loaded, fitted: fitted,
                                   fingerprint: fingerprint, listCacheSize: listCacheSize)
        }
    }

    /// Runs synchronous work on a Dispatch thread outside Swift's cooperative pool.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            Thread.detachNewThread { c.resume(with: Result { try work() }) }
        }
    }

    public var snapshot: ServingSnapshot { current.withLock { $0 } }
    public var policyNames: [String] { policies.map(\.name) }
    public var counterValues: Counters { counters.withLock { $0 } }
    public var banditState: ThompsonBandit { bandit.withLock { $0.bandit } }
    /// Served lists whose reward window is open.
    public var openImpressionCount: Int { impressions.withLock { $0.open.count } }

    /// Rebuilds the snapshot from the store (after an activation) and swaps it in.
    public func reload(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let previous = snapshot
        let next = try await Self.build(store: store, policies: policies, version: previous.version + 1, previous: previous,
                                        listCacheSize: options.listCacheSize, progress: progress)
        current.withLock { $0 = next }
        // Plays already in the new snapshot's matrix leave the overlay.
        overlay.withLock { $0 = [:] }
    }

    /// Retrains every `seconds` in the background (the first policy's models, at the lowest CPU
    /// priority on one thread, while requests are served) and, when a candidate was promoted,
    /// reloads: the hot swap of an activation. Cancel the task to stop (a retrain in progress
    /// stops at its next step and registers nothing).
    public func retrainPeriodically(every seconds: Double, progress: @escaping @Sendable (String) -> Void = { _ in }) -> Task<Void, Never> {
        let policy = policies[0]
        return Task.detached(priority: .background) { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(seconds))
                if Task.isCancelled { break }
                var c = RetrainConfiguration(policy: policy)
                c.priority = .background
                do {
                    let outcome = try await Retraining.run(store: store, configuration: c, isCancelled: { Task.isCancelled }) { progress("retrain: \($0)") }
                    counters.withLock { $0.retrains[outcome.status.rawValue, default: 0] += 1 }
                    progress("retrain \(outcome.id): \(outcome.status.rawValue)")
                    if outcome.status == .promoted { try await reload { progress("reload: \($0)") } }
                } catch {
                    let status = error is Retraining.Cancelled ? RetrainStatus.cancelled : .failed
                    counters.withLock { $0.retrains[status.rawValue, default: 0] += 1 }
                    progress("retrain \(status.rawValue): \(error)")
                }
            }
        }
    }

    /// Activates a registered model and swaps the service onto it.
    public func activate(id: Int64) async throws -> ModelRecord {
        let record: ModelRecord
        do { record = try await store.activate(id: id, segment: nil) } catch let e as StoreError {
            if case .notFound(let m) = e { throw ServiceError(.notFound, m) }
            throw ServiceError(.conflict, e.description)
        }
        try await reload()
        return record
    }

    // MARK: Requests

    static func checkID(_ id: String, _ what: String) throws {
        guard !id.isEmpty, id.utf8.count <= 256, !id.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw ServiceError(.badRequest, "\(what) ids are 1 to 256 bytes without control characters")
        }
    }

    func checkK(_ k: Int) throws {
        guard k >= 1, k <= options.maxK else { throw ServiceError(.badRequest, "k must be between 1 and \(options.maxK)") }
    }

    /// The listener's history in the snapshot, with the plays accepted since.
    func listener(_ user: String, in s: ServingSnapshot) -> (listener: Listener, known: Bool, folded: Int) {
        let u = s.train.users.index(of: user)
        let extra = overlay.withLock { $0[user] } ?? [:]
        var plays: [Int: Float] = [:]
        if let u { for q in s.train.rowRange(u) { plays[Int(s.train.columnIndices[q])] = s.train.values[q] } }
        var folded = 0
        for (song, n) in extra {
            guard let i = s.train.items.index(of: song), n > 0 else { continue }
            plays[i, default: 0] += Float(n)
            folded += 1
        }
        let sorted = plays.sorted { $0.key < $1.key }
        let history = (try? UserHistory(items: sorted.map(\.key), weights: sorted.map(\.value), itemCount: s.train.itemCount))
            ?? UserHistory(user: -1, of: s.train)
        return (Listener(user: u, history: history), u != nil, folded)
    }

    /// The list for a user: a known user by their segment's recipe, an unknown one by the cold-start recipe
    /// (from their onboarding answers when stored). `policy` forces an arm; otherwise the bandit picks.
    public func recommend(user: String, k: Int, policy: String?) async throws -> ServedRecommendation {
        try Self.checkID(user, "user")
        try checkK(k)
        if let policy, !policies.contains(where: { $0.name == policy }) {
            throw ServiceError(.badRequest, "unknown policy '\(policy)'; this service serves \(policies.map(\.name).joined(separator: ", "))")
        }
        let s = snapshot
        let (l, known, folded) = listener(user, in: s)
        let segment = l.history.isEmpty ? Segment.coldStart : (s.engines[policies[0].name]?.segmenter.segment(of: l.history) ?? .coldStart)
        let arm = policy ?? bandit.withLock { state -> String in
            var rng = state.rng
            let choice = state.bandit.choose(segment: segment, using: &rng, propensityDraws: 8)
            state.rng = rng
            return choice.arm
        }
        guard let engine = s.engines[arm] else { throw ServiceError(.unavailable, "policy \(arm) is not loaded") }
        var r: PolicyRecommendation
        if l.history.isEmpty, let answers = try await store.onboarding(of: user), !(answers.artists.isEmpty && answers.tags.isEmpty && answers.songs.isEmpty) {
            r = (try? engine.recommend(onboarding: Preferences(artists: answers.artists, tags: answers.tags, songs: answers.songs), k: k))
                ?? engine.recommend(l, k: k)
        } else if known, folded == 0, let cached = s.lists.list(user: user, policy: arm, k: k) {
            // Unchanged since the snapshot: the list composed for this listener before.
            r = cached
        } else {
            // The sources that score by a query vector first, each batched with the concurrent requests'.
            var precomputed: [PolicySource: [Float]] = [:]
            for q in engine.batchQueries(for: l) {
                if let batcher = s.batchers[arm]?[q.source] { precomputed[q.source] = await batcher.run(q.query) }
            }
            r = engine.recommend(l, k: k, precomputed: precomputed)
            if let scored = r.scoredSongs {
                counters.withLock { $0.prunedLists += 1; $0.prunedSongsScored += scored }
            }
            if known, folded == 0, !l.history.isEmpty { s.lists.store(r, user: user, policy: arm, k: k) }
        }
        if !known && l.history.isEmpty { r.segmentReason = "unknown user: no plays yet, served the cold-start recipe" }
        if folded > 0 { counters.withLock { $0.foldIns += 1 } }
        let requestID = UUID().uuidString.lowercased()
        let items = r.items.map { (song: s.train.items[$0.item], title: s.catalog.count > $0.item ? s.catalog[$0.item].title : "",
                                   artist: s.catalog.count > $0.item ? s.catalog[$0.item].artist : "", item: $0) }
        let served = ServedList(requestID: requestID, user: user, segment: r.segment.rawValue, arm: arm, items: items.map(\.song))
        logServed(served)
        let now = Date().timeIntervalSince1970
        impressions.withLock { $0.add(requestID, Impression(segment: r.segment, arm: arm, songs: Set(served.items), servedAt: now)) }
        counters.withLock { $0.served[arm, default: 0] += 1 }
        closeWindows(now: now)
        return ServedRecommendation(requestID: requestID, user: user, known: known, recommendation: r, arm: arm, items: items, foldedIn: folded, snapshot: s)
    }

    func logServed(_ list: ServedList) {
        let start = pendingServed.withLock { p -> Bool in
            p.lists.append(list)
            guard !p.flushing else { return false }
            p.flushing = true
            return true
        }
        if start { Task { await drainServed() } }
    }

    func drainServed() async {
        while true {
            let batch = pendingServed.withLock { p -> [ServedList] in
                let b = p.lists
                p.lists = []
                if b.isEmpty { p.flushing = false }
                return b
            }
            guard !batch.isEmpty else { return }
            do { try await store.recordServedLists(batch) } catch { counters.withLock { $0.servedLogFailures += batch.count } }
        }
    }

    /// Waits until every served list so far is in the store (tests, and shutdown).
    public func flushServedLists() async {
        while pendingServed.withLock({ !$0.lists.isEmpty || $0.flushing }) { try? await Task.sleep(for: .milliseconds(1)) }
    }

    /// Onboarding answers → the cold-start list of the first policy.
    public func onboarding(_ p: Preferences, k: Int) throws -> (PolicyRecommendation, ServingSnapshot) {
        try checkK(k)
        for s in p.artists + p.tags + p.songs { try Self.checkID(s, "preference") }
        let s = snapshot
        guard let engine = s.engines[policies[0].name] else { throw ServiceError(.unavailable, "no policy is loaded") }
        do { return (try engine.recommend(onboarding: p, k: k), s) } catch let e as PolicyError { throw ServiceError(.badRequest, e.message) }
    }

    /// Songs similar to a song: `cf` (item-KNN or EASE neighbours from the first policy's models), `content`, `tfidf`.
    public func similar(song: String, by: String, k: Int) throws -> ([ScoredItem], ServingSnapshot) {
        try Self.checkID(song, "song")
        try checkK(k)
        let s = snapshot
        guard let i = s.train.items.index(of: song) else { throw ServiceError(.notFound, "unknown song '\(song)'") }
        let engine = s.engines[policies[0].name]
        let model: (any SimilarItemsModel)?
        switch by {
        case "content": model = engine?.content as? any SimilarItemsModel
        case "tfidf": model = s.tfidf.get { try? TFIDFRecommender(train: s.train, catalog: s.catalog) }
        case "cf":
            // Item-KNN's cosine over listener sets (the policy's own when it has one).
            model = coListening(s)
        default:
            throw ServiceError(.badRequest, "by must be cf, content or tfidf")
        }
        guard let model else { throw ServiceError(.unavailable, "no \(by) model is loaded") }
        return (model.similarItems(to: i, k: k), s)
    }

    /// Item-KNN's cosine over listener sets for a snapshot: the first policy's own item-KNN when it
    /// has one, else one built on first use and kept with the snapshot.
    public func coListening(_ s: ServingSnapshot) -> ItemKNN? {
        s.coListening.get { s.engines[policies[0].name]?.models["item-knn"]?.model as? ItemKNN ?? (try? ItemKNN(train: s.train)) }
    }

    /// The new-song playlist for a user: the snapshot's new songs and the songs stored since, the
    /// latter scored by the content term alone (they have no listeners or cluster yet).
    public func newSongs(user: String, k: Int) throws -> ([ServedSong], ServingSnapshot) {
        try Self.checkID(user, "user")
        try checkK(k)
        let s = snapshot
        guard let playlist = s.engines.values.compactMap(\.newSongs).first else {
            throw ServiceError(.unavailable, "no served policy builds the new-song playlist")
        }
        let l = listener(user, in: s).listener
        var list = playlist.playlist(history: l.history, k: k, excluding: l.blocked).map { item in
            let e = item.item < s.catalog.count ? s.catalog[item.item] : CatalogEntry()
            return ServedSong(song: s.train.items[item.item], title: e.title, artist: e.artist, score: item.score, explanation: item.explanation)
        }
        let pending = arrivals.withLock { $0 }.filter { s.train.items.index(of: $0.key) == nil }.sorted { $0.key < $1.key }
        for (id, a) in pending {
            let score = a.embedding.map { Double(playlist.arrivalScore(embedding: $0, history: l.history)) } ?? 0
            list.append(ServedSong(song: id, title: a.entry.title, artist: a.entry.artist, score: score,
                                   explanation: Explanation(kind: .newSong, sentence: "new song (just added, no listeners yet), close to your taste in content")))
        }
        // Stable: equal scores keep the snapshot's songs first.
        let ranked = list.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
        return (ranked.prefix(k).map(\.element), s)
    }

    /// A unit sentence embedding of a song's text with the content model's encoder, or nil when no
    /// served policy's new-song playlist embeds songs (or the weights cannot be read).
    func arrivalEmbedding(_ entry: CatalogEntry, in s: ServingSnapshot) -> [Float]? {
        guard let directory = s.engines.values.compactMap(\.newSongs).first?.contentModelDirectory else { return nil }
        let encoder: SentenceEncoder? = encoders.withLock { cache in
            if let e = cache[directory] { return e }
            guard let e = try? SentenceEncoder(directory: directory) else { return nil }
            cache[directory] = e
            return e
        }
        return encoder?.encode([entry.text]).first
    }

    /// Validates a batch (all or nothing), stores it, folds plays into the overlay and rewards the bandit.
    public func ingest(_ events: [Event], limit: Int = 10_000) async throws -> Int {
        guard !events.isEmpty else { throw ServiceError(.badRequest, "the batch holds no events") }
        guard events.count <= limit else { throw ServiceError(.badRequest, "a batch holds at most \(limit) events, got \(events.count)") }
        var problems: [(index: Int, message: String)] = []
        let s = snapshot
        for (n, e) in events.enumerated() {
            do {
                try e.validate()
                try Self.checkID(e.user, "user")
                try Self.checkID(e.song, "song")
                if let r = e.requestID { try Self.checkID(r, "request") }
                guard s.train.items.index(of: e.song) != nil || e.kind != .impression else { throw ServiceError(.badRequest, "unknown song '\(e.song)'") }
            } catch {
                problems.append((n, "\(error)"))
            }
        }
        guard problems.isEmpty else {
            throw ServiceError(.badRequest, "\(problems.count) of \(events.count) events are invalid; nothing was stored", details: problems)
        }
        try await store.append(events)
        counters.withLock { $0.eventsIngested += events.count }
        absorb(events)
        return events.count
    }

    /// Folds stored events into what the service serves: plays into the overlay (the listener's
    /// next list counts them) and rewards to the bandit arm whose list a play or like came from.
    /// For events this service stored and for those another replica stored (`followStore`).
    func absorb(_ events: [Event]) {
        overlay.withLock { o in
            for e in events where e.kind == .play && e.plays > 0 { o[e.user, default: [:]][e.song, default: 0] += e.plays }
        }
        // Rewards: a play or like of a served song within the window.
        let window = options.rewardWindowSeconds
        let rewarded: [(Segment, String)] = impressions.withLock { imps in
            var out: [(Segment, String)] = []
            for e in events where e.kind == .play || e.kind == .like {
                guard let id = e.requestID, let imp = imps.open[id], imp.songs.contains(e.song) else { continue }
                let t = Double(e.timestamp) / 1000
                guard t >= imp.servedAt - 60, t <= imp.servedAt + window else { continue }
                out.append((imp.segment, imp.arm))
                _ = imps.reward(id)
            }
            return out
        }
        reward(rewarded, value: 1)
        closeWindows(now: Date().timeIntervalSince1970)
    }

    /// Follows what other replicas over the same database commit (PostgreSQL's notifications):
    /// their events are absorbed within a notification's delay, an activation anywhere reloads
    /// the models here, and after a lost database connection comes back everything is read again.
    /// Runs until the store closes or the task is cancelled.
    public func followStore(progress: @escaping @Sendable (String) -> Void = { _ in }) -> Task<Void, Never> {
        let changes = store.changes()
        return Task.detached { [self] in
            for await change in changes {
                switch change {
                case .events(let events):
                    counters.withLock { $0.eventsFromReplicas += events.count }
                    absorb(events)
                case .models, .resync:
                    do { try await reload() } catch { progress("reload after a change in the database failed: \(error)") }
                }
            }
        }
    }

    func reward(_ arms: [(Segment, String)], value: Double) {
        guard !arms.isEmpty else { return }
        bandit.withLock { state in for (s, a) in arms { try? state.bandit.update(segment: s, arm: a, reward: value) } }
        counters.withLock { c in for (_, a) in arms { c.rewards[a, default: 0] += value } }
        banditChanged()
    }

    /// Impressions whose window closed without a play or like: zero rewards.
    func closeWindows(now: Double) {
        let window = options.rewardWindowSeconds
        let expired = impressions.withLock { $0.expire(before: now - window) }.map { ($0.segment, $0.arm) }
        reward(expired, value: 0)
    }

    /// Stores a song (title, artist, …). A song the serving snapshot does not hold is embedded at
    /// once and joins the new-song playlist; every other list serves it after the next reload
    /// (activation or restart).
    public func upsertSong(id: String, entry: CatalogEntry) async throws {
        try Self.checkID(id, "song")
        for (field, text) in [("title", entry.title), ("release", entry.release), ("artist", entry.artist)] where text.utf8.count > 1_000 {
            throw ServiceError(.badRequest, "\(field) is limited to 1,000 bytes")
        }
        guard entry.tags.count <= 100, entry.tags.allSatisfy({ $0.utf8.count <= 200 }) else { throw ServiceError(.badRequest, "at most 100 tags of 200 bytes") }
        guard entry.year >= 0, entry.year <= 3000 else { throw ServiceError(.badRequest, "year must be between 0 and 3000") }
        try await store.upsertSongs(ids: [id], entries: [entry])
        let s = snapshot
        if s.train.items.index(of: id) == nil {
            let embedding = arrivalEmbedding(entry, in: s)
            arrivals.withLock { $0[id] = Arrival(entry: entry, embedding: embedding) }
        }
    }

    /// Stores a user with their onboarding answers.
    public func upsertUser(id: String, onboarding: Onboarding?) async throws {
        try Self.checkID(id, "user")
        if let o = onboarding {
            guard o.artists.count + o.tags.count + o.songs.count <= 100 else { throw ServiceError(.badRequest, "onboarding takes at most 100 preferences") }
            for p in o.artists + o.tags + o.songs { try Self.checkID(p, "preference") }
        }
        try await store.upsertUser(id, onboarding: onboarding)
    }
}

/// A song on a list with the names a client shows, for lists that hold songs outside the
/// snapshot's index (songs that arrived since it was built).
public struct ServedSong: Sendable, Equatable {
    public var song: String
    public var title: String
    public var artist: String
    public var score: Double
    public var explanation: Explanation?
}
