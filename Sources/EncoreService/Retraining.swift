// Offline retraining with promotion, the report's "offline model re-training for scalability".
// One retrain: take the store's retrain lock (renewed while it runs; it expires if the process
// dies), read the stored plays, hold out each user's most recently discovered songs (a time-based
// holdout: the songs whose first play event is latest, see below), and for every model the policy uses fit a
// candidate on the rest. The candidate and the kind's active version are scored alike on that
// holdout with the history protocol (each user's remaining plays as a history; the active version
// may know other songs and users). A candidate whose metric beats the active version's by more than
// the margin is promoted; a kind with no active version takes its candidate. Every candidate is
// then fitted on all the plays and registered with both scores; registration, activation and the
// pruning to the newest N versions of each kind happen in one transaction at the end, so a
// cancelled or failed retrain changes nothing but its line in the retrain log.
// Cost: one read of the events (grouped per user and song), and per model two fits and two passes
// of fold-in ranking over the holdout users.
//
// The holdout is fair to both: when active versions exist it holds only songs first played after
// the newest of them was trained (by event time), which none of them saw; with none, the latest
// discoveries of each user. No new discovery since the active versions: nothing to compare; the
// retrain keeps them, registers nothing and says why.
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
import EncorePolicy
import EncoreStore
import Foundation

/// What a retrain trains and when it promotes.
public struct RetrainConfiguration: Sendable {
    /// The policy whose models are retrained.
    public var policy: Policy
    /// Only these of the policy's models (nil: all of them).
    public var models: [String]?
    /// The metric that decides (a key of the ranking protocol's metrics).
    public var metric = "ndcg_at_10"
    /// How much better than the active version a candidate must be, in the metric's units.
    public var margin = 0.001
    /// Versions of each kind kept in the registry (the active one always stays).
    public var keep = 5
    /// The share of each user's songs held out, the most recently discovered.
    public var holdoutFraction = 0.2
    /// Users with fewer played songs are not held out.
    public var minimumSongs = 5
    /// At most this many held-out listeners are ranked (a seeded sample; 0: all of them). Ranking
    /// every listener of the Million Song Dataset's million would take longer than the fits.
    public var evaluateUsers = 10_000
    public var seed: UInt64 = 42
    /// How long the lock lasts without renewal; the retrain renews it at a third of this.
    public var lockSeconds = 60
    /// `background`: fits and rankings run on one thread at the lowest CPU priority (nice 19), so
    /// a serving process keeps its cores; `normal` (the CLI) uses every core.
    public var priority = RetrainPriority.normal

    public init(policy: Policy) { self.policy = policy }

    public static let metrics = ["ndcg_at_10", "ndcg_at_30", "map_at_10", "recall_at_10", "precision_at_10", "hit_rate_at_10"]
}

public enum RetrainPriority: Sendable { case normal, background }

/// What a retrain did, per model and overall; stored as the retrain's report.
public struct RetrainOutcome: Sendable, Codable {
    public struct Model: Sendable, Codable {
        public var kind: String
        /// The registered candidate (nil when the retrain stopped before registering).
        public var candidateID: Int64?
        public var candidate: Double
        public var activeID: Int64?
        /// The active version's metric on the same holdout (nil: no active version).
        public var active: Double?
        public var promoted: Bool
        public var fitSeconds: Double

        enum CodingKeys: String, CodingKey {
            case kind, candidate, active, promoted
            case candidateID = "candidate_id", activeID = "active_id", fitSeconds = "fit_seconds"
        }
    }

    public var id: Int64
    public var status: RetrainStatus
    public var policy: String
    public var metric: String
    public var margin: Double
    public var usersEvaluated: Int
    public var heldOut: Int
    public var models: [Model]
    public var seconds: Double
    /// Why a retrain failed or was cancelled.
    public var error: String?
    /// Why a retrain kept everything without training (no new discoveries).
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case id, status, policy, metric, margin, models, seconds, error, note
        case usersEvaluated = "users_evaluated", heldOut = "held_out"
    }
}

public enum Retraining {
    /// The store lock one retrain holds at a time.
    public static let lockName = "retrain"

    /// Thrown when `isCancelled` says so between steps.
    public struct Cancelled: Error, CustomStringConvertible {
        public var description: String { "the retrain was cancelled; nothing was registered" }
    }

    /// Runs one retrain (see the file's header). `isCancelled` is polled between steps (and the
    /// task's own cancellation too). Returns the outcome; a failure is logged and rethrown.
    public static func run(store: any Store, configuration c: RetrainConfiguration, isCancelled: @escaping @Sendable () -> Bool = { false },
                           progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> RetrainOutcome {
        guard RetrainConfiguration.metrics.contains(c.metric) else {
            throw StoreError.badInput("unknown metric '\(c.metric)'; use one of \(RetrainConfiguration.metrics.joined(separator: ", "))")
        }
        guard c.keep >= 1, c.margin.isFinite, c.holdoutFraction > 0, c.holdoutFraction < 1 else {
            throw StoreError.badInput("--keep must be at least 1, --margin finite, --holdout between 0 and 1")
        }
        let required = PolicyEngine.requiredModels(c.policy)
        let names = c.models ?? required
        for name in names where !required.contains(name) {
            throw StoreError.badInput("the policy '\(c.policy.name)' does not use '\(name)'; it uses \(required.joined(separator: ", "))")
        }
        let holder = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"
        guard try await store.acquireLock(lockName, holder: holder, seconds: c.lockSeconds) else {
            throw StoreError.conflict("another retrain is running on this database (one at a time); try again when it ends")
        }
        // The lock is renewed while the retrain runs; losing it (the store unreachable past its
        // expiry) stops the retrain before it registers anything.
        let lost = OnceFlag()
        let renewal = Task.detached(priority: .background) {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(1, c.lockSeconds / 3)))
                if Task.isCancelled { break }
                if (try? await store.renewLock(lockName, holder: holder, seconds: c.lockSeconds)) != true { lost.set() }
            }
        }
        let start = MonotonicClock.now()
        var outcome = RetrainOutcome(id: 0, status: .running, policy: c.policy.name, metric: c.metric, margin: c.margin,
                                     usersEvaluated: 0, heldOut: 0, models: [], seconds: 0)
        do {
            outcome.id = try await store.startRetrain(policy: c.policy.name)
        } catch {
            renewal.cancel()
            try? await store.releaseLock(lockName, holder: holder)
            throw error
        }
        func check() throws {
            if isCancelled() || Task.isCancelled { throw Cancelled() }
            if lost.isSet { throw StoreError.conflict("the retrain lost its lock (the database was unreachable past \(c.lockSeconds) s); nothing was registered") }
        }
        do {
            try await body(store: store, configuration: c, names: names, outcome: &outcome, check: check, progress: progress)
        } catch {
            outcome.seconds = MonotonicClock.now() - start
            outcome.status = error is Cancelled ? .cancelled : .failed
            outcome.error = "\(error)"
            for n in outcome.models.indices { outcome.models[n].candidateID = nil; outcome.models[n].promoted = false }
            try? await store.finishRetrain(id: outcome.id, status: outcome.status, report: (try? report(outcome)) ?? "{}")
            renewal.cancel()
            try? await store.releaseLock(lockName, holder: holder)
            throw error
        }
        // Committed: the log line follows (a database lost just now leaves it `running`, never `failed`).
        outcome.seconds = MonotonicClock.now() - start
        outcome.status = outcome.models.contains(where: \.promoted) ? .promoted : .kept
        try? await store.finishRetrain(id: outcome.id, status: outcome.status, report: (try? report(outcome)) ?? "{}")
        renewal.cancel()
        try? await store.releaseLock(lockName, holder: holder)
        return outcome
    }

    static func report(_ outcome: RetrainOutcome) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(outcome), as: UTF8.self)
    }

    private static func body(store: any Store, configuration c: RetrainConfiguration, names: [String], outcome: inout RetrainOutcome,
                             check: () throws -> Void, progress: @escaping @Sendable (String) -> Void) async throws {
        let data = try await store.trainingData()
        let all = data.interactions
        guard all.nnz > 0 else { throw StoreError.badInput("the database holds no plays: import some first (encore import PATH --database …)") }
        // The active versions never saw the songs discovered after they were trained: those are
        // the holdout (with no active version, the latest discoveries of all).
        let active = try await store.models().filter { $0.status == .active && $0.segment == nil && names.contains($0.kind) }
        let since = active.map(\.trainedAt).max().map { $0 + 1 }
        let held = try await store.recentDiscoveries(fraction: c.holdoutFraction, minimumSongs: c.minimumSongs, since: since, seed: c.seed)
        let (train, allTest) = holdout(all, held)
        let test = sample(allTest, users: c.evaluateUsers, seed: c.seed)
        guard test.nnz > 0 else {
            guard since != nil else { throw StoreError.badInput("no user has \(c.minimumSongs) or more songs to hold out; nothing to compare the models on") }
            outcome.note = "no listener of \(c.minimumSongs) or more songs discovered a song since the active versions were trained: nothing to compare them on; nothing was registered"
            progress(outcome.note ?? "")
            return
        }
        outcome.heldOut = test.nnz
        progress("holdout: \(test.nnz) most recently discovered plays of \((0..<test.userCount).filter { !test.rowRange($0).isEmpty }.count) users"
                 + (since == nil ? "" : ", each discovered after the active versions were trained"))
        try check()
        var candidates: [NewModel] = []
        var promote: [Bool] = []
        for name in names {
            let entry = try ModelRegistry.entry(named: name)
            let overrides = c.policy.models[name]
            let transform: ValueTransform = entry.predictsValues ? .log1p : .none
            progress("\(name): fitting the candidate on the holdout's training part")
            let fitStart = MonotonicClock.now()
            let catalog = data.catalog
            let candidate = try await compute(c.priority) { try entry.fit(train.mapValues(transform), overrides: overrides, catalog: catalog) }
            try check()
            guard let scorer = candidate as? any HistoryRecommender else { throw StoreError.badInput("\(name) cannot score histories") }
            let mine = try await compute(c.priority) { HistoryProtocol.evaluate(model: scorer, transform: transform, train: train, test: test) }
            outcome.usersEvaluated = max(outcome.usersEvaluated, mine.users)
            var result = RetrainOutcome.Model(kind: name, candidate: mine.metrics[c.metric] ?? 0, promoted: false, fitSeconds: 0)
            if let record = active.first(where: { $0.kind == name }) {
                result.activeID = record.id
                let bytes = try await store.artifact(id: record.id)
                let artifact = try Artifact.decode(Data(bytes), source: "model \(record.id)")
                if let old = try artifact.model() as? any HistoryRecommender {
                    let scale = artifact.transform
                    result.active = try await compute(c.priority) { HistoryProtocol.evaluate(model: old, transform: scale, train: train, test: test) }.metrics[c.metric] ?? 0
                }
            }
            result.promoted = result.active.map { result.candidate > $0 + c.margin } ?? true
            progress("\(name): candidate \(c.metric) \(Format.number(result.candidate, digits: 4))"
                     + (result.active.map { ", active \(Format.number($0, digits: 4))" } ?? ", no active version")
                     + (result.promoted ? ": promote" : ": keep the active version"))
            try check()
            progress("\(name): fitting on all the plays")
            let full = try await compute(c.priority) { try entry.fit(all.mapValues(transform), overrides: overrides, catalog: catalog) }
            result.fitSeconds = MonotonicClock.now() - fitStart
            try check()
            var metrics = mine.metrics
            metrics["users_evaluated"] = Double(mine.users)
            if let a = result.active { metrics["active_\(c.metric)"] = a }
            let artifact = Artifact(model: full, transform: transform, metrics: metrics, catalog: data.catalog)
            let metricsJSON = String(decoding: try JSONSerialization.data(withJSONObject: metrics, options: [.sortedKeys]), as: UTF8.self)
            candidates.append(NewModel(kind: name, configuration: full.configurationJSON, dataFingerprint: artifact.header.dataFingerprint,
                                       metrics: metricsJSON, artifact: [UInt8](try artifact.encode())))
            promote.append(result.promoted)
            outcome.models.append(result)
        }
        try check()
        let records = try await store.commitRetrain(candidates, promote: promote, keep: c.keep)
        for (n, record) in records.enumerated() { outcome.models[n].candidateID = record.id }
    }

    /// Runs CPU work at the retrain's priority: inline, or on a thread of its own at nice 19 with
    /// every parallel loop inside it on that thread.
    static func compute<T: Sendable>(_ priority: RetrainPriority, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard priority == .background else { return try work() }
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            Thread.detachNewThread {
                // Linux keeps a nice value per thread; 0 names the calling thread, so this one only.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
                c.resume(with: Result { try ParallelLoop.$workerOverride.withValue(1) { try work() } })
            }
        }
    }

    /// `m` with only a seeded sample of `users` of its non-empty rows kept (all when fewer or 0).
    static func sample(_ m: InteractionMatrix, users: Int, seed: UInt64) -> InteractionMatrix {
        var rows = (0..<m.userCount).filter { !m.rowRange($0).isEmpty }
        guard users > 0, rows.count > users else { return m }
        var rng = SeededGenerator(seed: seed ^ 0x5A4D_504C_4553)
        rows.shuffle(using: &rng)
        var keep = [Bool](repeating: false, count: m.nnz)
        for u in rows.prefix(users) { for k in m.rowRange(u) { keep[k] = true } }
        return m.masked(keep: keep)
    }

    /// The stored plays split by the held-out (user, song) pairs: the rest to train on, those to test.
    public static func holdout(_ m: InteractionMatrix, _ held: [(user: String, song: String)]) -> (train: InteractionMatrix, test: InteractionMatrix) {
        var byUser: [Int: Set<Int32>] = [:]
        for h in held {
            guard let u = m.users.index(of: h.user), let i = m.items.index(of: h.song) else { continue }
            byUser[u, default: []].insert(Int32(i))
        }
        var isTest = [Bool](repeating: false, count: m.nnz)
        for (u, songs) in byUser { for k in m.rowRange(u) where songs.contains(m.columnIndices[k]) { isTest[k] = true } }
        return (m.masked(keep: isTest.map { !$0 }), m.masked(keep: isTest))
    }
}
