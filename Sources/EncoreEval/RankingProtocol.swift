// The full-catalogue ranking protocol: for every user with held-out items, rank every item the
// user did not play in training, take the top k, and score the list against the held-out set R
// with DESIGN.md's definitions: precision@k = |L ∩ R| / k; recall@k = |L ∩ R| / |R|; hit rate;
// F1 = harmonic mean of the averaged precision and recall; AP@k = Σ_i P@i · rel(i) / min(k, |R|);
// NDCG@k with binary gains and IDCG over min(k, |R|); novelty = mean −log2(pop(i) / |U|) over
// recommended items (pop = training listeners, at least 1); coverage = distinct recommended
// items / catalogue size. Users with no training history are served by the popularity ranker.
// Metrics are also broken down by segment: cold (fewer than 5 training songs), low engagement
// (training plays below the 25th percentile of users), regular.
import EncoreData
import EncoreMath
import EncoreModels
import Foundation

/// One model's ranking results.
public struct RankingEvaluation: Encodable, Sendable {
    public var model: String
    public var label: String
    public var configuration: String
    /// Metric name (`ndcg_at_10`, …) → value.
    public var metrics: [String: Double]
    public var usersEvaluated: Int
    public var fallbackUsers: Int
    public var fitSeconds: Double
    public var recommendSeconds: Double
    /// Segment → metric name → value (and `users`).
    public var segments: [String: [String: Double]]
    /// The fitted model's warnings, for the caller to show.
    public var warnings: [String] = []

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(model, forKey: Key("model"))
        try c.encode(label, forKey: Key("label"))
        try c.encode(JSONValue(parsing: configuration), forKey: Key("configuration"))
        for (k, v) in metrics { try c.encode(v, forKey: Key(k)) }
        try c.encode(usersEvaluated, forKey: Key("users_evaluated"))
        try c.encode(fallbackUsers, forKey: Key("fallback_users"))
        try c.encode(fitSeconds, forKey: Key("fit_seconds"))
        try c.encode(recommendSeconds, forKey: Key("recommend_seconds"))
        try c.encode(segments, forKey: Key("segments"))
    }
}

/// Ranking metrics of one list.
public enum RankingMetrics {
    public struct UserScores: Sendable {
        public var precision = 0.0, recall = 0.0, hit = 0.0, averagePrecision = 0.0, ndcg = 0.0, novelty = 0.0
    }

    /// Scores of the top-k of `list` against `relevant`; `popularity` and `users` feed novelty.
    public static func score(list: [Int], relevant: Set<Int>, k: Int, popularity: [Int], users: Int) -> UserScores {
        var s = UserScores()
        guard k > 0, !relevant.isEmpty else { return s }
        let top = list.prefix(k)
        var hits = 0, dcg = 0.0, apSum = 0.0, novelty = 0.0
        for (n, item) in top.enumerated() {
            if relevant.contains(item) {
                hits += 1
                dcg += 1 / log2(Double(n + 2))
                apSum += Double(hits) / Double(n + 1)
            }
            let pop = item < popularity.count ? max(popularity[item], 1) : 1
            novelty += -log2(Double(pop) / Double(max(users, 1)))
        }
        let ideal = min(k, relevant.count)
        var idcg = 0.0
        for n in 0..<ideal { idcg += 1 / log2(Double(n + 2)) }
        s.precision = Double(hits) / Double(k)
        s.recall = Double(hits) / Double(relevant.count)
        s.hit = hits > 0 ? 1 : 0
        s.averagePrecision = apSum / Double(ideal)
        s.ndcg = idcg > 0 ? dcg / idcg : 0
        s.novelty = top.isEmpty ? 0 : novelty / Double(top.count)
        return s
    }

    /// The protocol's metrics at each cutoff, averaged over users: `lists[n]` ranked for a user
    /// whose held-out songs are `relevant[n]`; coverage over `itemCount` songs. `each` sees every
    /// user's scores (list index, cutoff, scores), for breakdowns.
    public static func summarise(lists: [[Int]], relevant: [Set<Int>], popularity: [Int], users: Int, itemCount: Int,
                                 each: (Int, Int, UserScores) -> Void = { _, _, _ in }) -> [String: Double] {
        var metrics: [String: Double] = [:]
        let n = Double(max(lists.count, 1))
        for k in RankingProtocol.cutoffs {
            var p = 0.0, r = 0.0, h = 0.0, ap = 0.0, nd = 0.0, nov = 0.0
            var distinct = Set<Int>()
            for (index, (list, wanted)) in zip(lists, relevant).enumerated() {
                let s = score(list: list, relevant: wanted, k: k, popularity: popularity, users: users)
                p += s.precision; r += s.recall; h += s.hit; ap += s.averagePrecision; nd += s.ndcg; nov += s.novelty
                distinct.formUnion(list.prefix(k))
                each(index, k, s)
            }
            metrics["precision_at_\(k)"] = p / n
            metrics["recall_at_\(k)"] = r / n
            metrics["f1_at_\(k)"] = p + r > 0 ? 2 * (p / n) * (r / n) / (p / n + r / n) : 0
            metrics["hit_rate_at_\(k)"] = h / n
            metrics["map_at_\(k)"] = ap / n
            metrics["ndcg_at_\(k)"] = nd / n
            metrics["novelty_at_\(k)"] = nov / n
            metrics["coverage_at_\(k)"] = Double(distinct.count) / Double(max(itemCount, 1))
        }
        return metrics
    }
}

/// User segments of the ranking breakdown.
public enum UserSegment: String, CaseIterable, Sendable {
    case cold
    case lowEngagement = "low_engagement"
    case regular

    /// Segment of every user of `train`: cold (< 5 songs), low (plays < 25th percentile), regular.
    public static func assign(_ train: InteractionMatrix) -> [UserSegment] {
        let totals = train.userTotals()
        let sorted = totals.sorted()
        let low = DescriptiveStatistics.quantile(sorted: sorted, 0.25)
        return (0..<train.userCount).map { u in
            if train.rowRange(u).count < 5 { return .cold }
            return totals[u] < low ? .lowEngagement : .regular
        }
    }
}

/// Runs the ranking protocol.
public enum RankingProtocol {
    public static let cutoffs = [10, 30]

    public static func evaluate(model entry: ModelEntry, overrides: String?, label: String? = nil,
                                train: InteractionMatrix, test: InteractionMatrix, catalog: Catalog? = nil,
                                segmentsFrom raw: InteractionMatrix? = nil, showProgress: Bool = false) throws -> RankingEvaluation {
        guard test.nnz > 0 else { throw ModelError("the test set is empty") }
        let start = MonotonicClock.now()
        let show = showProgress && ProgressReporter.stderrIsTerminal
        let model = try ElapsedTicker.run("fitting \(label ?? entry.name)", enabled: show) {
            try entry.fit(train, overrides: overrides, catalog: catalog)
        }
        let fitted = MonotonicClock.now()
        let bar = show ? ProgressReporter(label: "ranking for \(label ?? entry.name)", total: Double((0..<test.userCount).filter { test.rowRange($0).count > 0 }.count)) : nil
        defer { bar?.finish() }
        let result = try evaluate(fitted: model, train: train, test: test, segmentsFrom: raw, progress: bar)
        return RankingEvaluation(model: entry.name, label: RankingProtocol.shownLabel(label ?? entry.name, model), configuration: model.configurationJSON,
                                 metrics: result.metrics, usersEvaluated: result.users, fallbackUsers: result.fallbacks,
                                 fitSeconds: fitted - start, recommendSeconds: result.seconds, segments: result.segments, warnings: model.warnings)
    }

    /// Ranks for every test user with a fitted model.
    /// `segmentsFrom` gives the raw plays when `train` holds transformed values, so segments do not move with the scale.
    /// A model that stands in for another says so in its column: a transformer without its
    /// weights ranks with TF-IDF.
    public static func shownLabel(_ label: String, _ model: any Recommender) -> String {
        model.standIn.map { "\(label) (\($0) stand-in)" } ?? label
    }

    public static func evaluate(fitted model: any Recommender, train: InteractionMatrix, test: InteractionMatrix, segmentsFrom raw: InteractionMatrix? = nil,
                                progress: ProgressReporter? = nil)
        throws -> (metrics: [String: Double], users: Int, fallbacks: Int, seconds: Double, segments: [String: [String: Double]]) {
        let kMax = cutoffs.max()!
        let popularity = train.itemDegrees()
        let trainUsers = train.rowPointers.indices.dropLast().filter { train.rowRange($0).count > 0 }.count
        let fallback = try PopularityRanker(train: train, configuration: .report)
        let segments = UserSegment.assign(raw ?? train)
        let evaluated = (0..<test.userCount).filter { test.rowRange($0).count > 0 }
        let start = MonotonicClock.now()
        // Finer chunks when a bar shows the pass (each chunk reports when done).
        let chunks = ParallelLoop.defaultWorkers * (progress == nil ? 4 : 64)
        let lists: [[(user: Int, items: [Int], fallback: Bool)]] = ParallelLoop.mapChunks(count: evaluated.count, chunks: chunks) { range in
            defer { progress?.advance(by: Double(range.count)) }
            return range.map { n in
                let u = evaluated[n]
                if u >= train.userCount || train.rowRange(u).isEmpty {
                    return (u, fallback.rankedList(user: nil).map(\.item), true)
                }
                return (u, model.recommend(user: u, k: kMax).map(\.item), false)
            }
        }
        let seconds = MonotonicClock.now() - start
        var segmentSums: [UserSegment: [String: Double]] = [:]
        var fallbacks = 0
        let all = lists.flatMap { $0 }
        let metrics = RankingMetrics.summarise(lists: all.map(\.items), relevant: all.map { Set(test.row($0.user).items.map { Int($0) }) },
                                               popularity: popularity, users: trainUsers, itemCount: train.itemCount) { n, k, s in
            let entry = all[n]
            let seg = entry.user < segments.count ? segments[entry.user] : .cold
            if k == cutoffs[0] {
                segmentSums[seg, default: [:]]["users", default: 0] += 1
                if entry.fallback { fallbacks += 1 }
            }
            segmentSums[seg, default: [:]]["ndcg_at_\(k)", default: 0] += s.ndcg
            segmentSums[seg, default: [:]]["recall_at_\(k)", default: 0] += s.recall
            segmentSums[seg, default: [:]]["precision_at_\(k)", default: 0] += s.precision
            segmentSums[seg, default: [:]]["hit_rate_at_\(k)", default: 0] += s.hit
        }
        var segmentMetrics: [String: [String: Double]] = [:]
        for (seg, sums) in segmentSums {
            let users = sums["users"] ?? 0
            var m: [String: Double] = ["users": users]
            for (k, v) in sums where k != "users" { m[k] = users > 0 ? v / users : 0 }
            segmentMetrics[seg.rawValue] = m
        }
        return (metrics, all.count, fallbacks, seconds, segmentMetrics)
    }
}

extension ComparisonTable {
    /// The ranking-protocol table.
    public static func ranking(_ results: [RankingEvaluation]) -> ComparisonTable {
        func f(_ v: Double?, _ d: Int = 4) -> String { v.map { $0.isFinite ? String(format: "%.\(d)f", $0) : "–" } ?? "–" }
        var rows: [(metric: String, values: [String])] = []
        for k in RankingProtocol.cutoffs {
            for (name, key, digits) in [("precision", "precision_at", 4), ("recall", "recall_at", 4), ("F1", "f1_at", 4), ("MAP", "map_at", 4),
                                        ("NDCG", "ndcg_at", 4), ("hit rate", "hit_rate_at", 4), ("coverage", "coverage_at", 4), ("novelty", "novelty_at", 4)] {
                rows.append(("\(name)@\(k)", results.map { f($0.metrics["\(key)_\(k)"], digits) }))
            }
        }
        for k in RankingProtocol.cutoffs {
            for seg in UserSegment.allCases {
                rows.append(("NDCG@\(k) \(seg.rawValue) users", results.map { r in
                    guard let s = r.segments[seg.rawValue] else { return "–" }
                    return "\(f(s["ndcg_at_\(k)"])) (\(Int(s["users"] ?? 0)))"
                }))
            }
        }
        rows.append(("users evaluated", results.map { String($0.usersEvaluated) }))
        rows.append(("served by the popularity fallback", results.map { String($0.fallbackUsers) }))
        rows.append(("fit seconds", results.map { f($0.fitSeconds) }))
        rows.append(("recommend seconds (all users)", results.map { f($0.recommendSeconds) }))
        return ComparisonTable(title: "Ranking protocol: full catalogue, training songs excluded, relevant = held-out songs",
                               columns: results.map(\.label), rows: rows)
    }
}
