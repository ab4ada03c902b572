// Offline evaluation of policies and single models per segment, on the ranking protocol: every
// test user with held-out songs gets a list of 30 unplayed songs, scored against the held-out set
// with DESIGN.md's definitions. Accuracy: NDCG@10 and recall@30. Discovery: novelty@10, catalogue
// coverage@30 (distinct songs on the segment's lists / catalogue), the long-tail share@10 (songs
// outside the top 20% by training listeners) and distinct artists per list@10. Segments come from
// the raw training plays by the policy's rules, so every column is split the same way.
// O(test users · one list).
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels

/// One segment's metrics for one policy or model.
public struct SegmentMetrics: Sendable, Codable, Equatable {
    public var users = 0
    public var ndcgAt10 = 0.0
    public var recallAt30 = 0.0
    public var noveltyAt10 = 0.0
    public var coverageAt30 = 0.0
    public var longTailAt10 = 0.0
    public var artistsAt10 = 0.0

    enum CodingKeys: String, CodingKey {
        case users
        case ndcgAt10 = "ndcg_at_10", recallAt30 = "recall_at_30", noveltyAt10 = "novelty_at_10", coverageAt30 = "coverage_at_30"
        case longTailAt10 = "long_tail_at_10", artistsAt10 = "artists_at_10"
    }
}

/// A policy's or a model's metrics, per segment and over all users.
public struct PolicyEvaluationResult: Sendable, Codable {
    public var label: String
    public var segments: [String: SegmentMetrics]
    public var all: SegmentMetrics
    public var seconds: Double
}

/// Scores lists per segment.
public struct PolicyEvaluator: Sendable {
    public let train: InteractionMatrix
    public let test: InteractionMatrix
    public let catalog: Catalog?
    public let segments: [Segment]
    public let users: [Int]
    let relevant: [Set<Int>]
    let popularity: [Int]
    let trainUsers: Int
    let head: [Bool]

    /// `train` holds raw plays; `segmenter` places the users (the policy's rules on this train).
    public init(train: InteractionMatrix, test: InteractionMatrix, catalog: Catalog?, segmenter: Segmenter) throws {
        guard test.nnz > 0 else { throw PolicyError("the test set is empty") }
        guard test.itemCount == train.itemCount, test.userCount >= train.userCount || test.userCount == train.userCount else {
            throw PolicyError("train and test must share one id space")
        }
        self.train = train
        self.test = test
        self.catalog = catalog
        segments = segmenter.segments
        users = (0..<min(test.userCount, train.userCount)).filter { !test.rowRange($0).isEmpty }
        relevant = users.map { Set(test.row($0).items.map { Int($0) }) }
        let popularity = train.itemDegrees()
        self.popularity = popularity
        trainUsers = (0..<train.userCount).filter { !train.rowRange($0).isEmpty }.count
        let played = popularity.indices.filter { popularity[$0] > 0 }.sorted { popularity[$0] != popularity[$1] ? popularity[$0] > popularity[$1] : $0 < $1 }
        var top = [Bool](repeating: false, count: train.itemCount)
        for i in played.prefix(Int((Double(played.count) * 0.2).rounded(.up))) { top[i] = true }
        head = top
    }

    /// Metrics of the lists `list(user)` gives (30 songs, best first).
    public func evaluate(label: String, list: @Sendable (Int) -> [Int]) -> PolicyEvaluationResult {
        let start = MonotonicClock.now()
        let lists: [[Int]] = ParallelLoop.mapChunks(count: users.count, chunks: ParallelLoop.defaultWorkers * 4) { range in
            range.map { list(users[$0]) }
        }.flatMap { $0 }
        let seconds = MonotonicClock.now() - start
        var sums: [Segment: SegmentMetrics] = [:]
        var distinct: [Segment: Set<Int>] = [:]
        var all = SegmentMetrics()
        var allDistinct = Set<Int>()
        for (n, u) in users.enumerated() {
            let seg = u < segments.count ? segments[u] : .coldStart
            let l = lists[n]
            let s10 = RankingMetrics.score(list: l, relevant: relevant[n], k: 10, popularity: popularity, users: trainUsers)
            let s30 = RankingMetrics.score(list: l, relevant: relevant[n], k: 30, popularity: popularity, users: trainUsers)
            let top = l.prefix(10)
            let tail = top.isEmpty ? 0 : Double(top.filter { !head[$0] }.count) / Double(top.count)
            let artists = Double(Set(top.map { i -> String in
                guard let catalog, i < catalog.count, !catalog[i].artist.isEmpty else { return "#\(i)" }
                return catalog[i].artist.lowercased()
            }).count)
            for key in [seg] {
                var m = sums[key] ?? SegmentMetrics()
                m.users += 1; m.ndcgAt10 += s10.ndcg; m.recallAt30 += s30.recall; m.noveltyAt10 += s10.novelty
                m.longTailAt10 += tail; m.artistsAt10 += artists
                sums[key] = m
                distinct[key, default: []].formUnion(l.prefix(30))
            }
            all.users += 1; all.ndcgAt10 += s10.ndcg; all.recallAt30 += s30.recall; all.noveltyAt10 += s10.novelty
            all.longTailAt10 += tail; all.artistsAt10 += artists
            allDistinct.formUnion(l.prefix(30))
        }
        func finish(_ m: SegmentMetrics, _ d: Set<Int>) -> SegmentMetrics {
            var m = m
            let n = Double(max(m.users, 1))
            m.ndcgAt10 /= n; m.recallAt30 /= n; m.noveltyAt10 /= n; m.longTailAt10 /= n; m.artistsAt10 /= n
            m.coverageAt30 = Double(d.count) / Double(max(train.itemCount, 1))
            return m
        }
        var out: [String: SegmentMetrics] = [:]
        for (s, m) in sums { out[s.rawValue] = finish(m, distinct[s] ?? []) }
        return PolicyEvaluationResult(label: label, segments: out, all: finish(all, allDistinct), seconds: seconds)
    }

    /// A policy's lists.
    public func evaluate(engine: PolicyEngine, label: String? = nil) -> PolicyEvaluationResult {
        evaluate(label: label ?? engine.policy.name) { u in engine.recommend(engine.listener(user: u), k: 30).items.map(\.item) }
    }

    /// A single model's lists; a user it cannot rank gets the popularity ranker's list, as the ranking protocol does.
    public func evaluate(model: any Recommender, fallback: PopularityRanker, label: String? = nil) -> PolicyEvaluationResult {
        evaluate(label: label ?? model.name) { u in
            let l = model.recommend(user: u, k: 30).map(\.item)
            return l.isEmpty ? fallback.rankedList(user: u).prefix(30).map(\.item) : l
        }
    }
}

extension ComparisonTable {
    /// Per-segment policy table: accuracy and discovery rows for each segment, then all users.
    public static func policies(_ results: [PolicyEvaluationResult]) -> ComparisonTable {
        func f(_ v: Double, _ d: Int) -> String { v.isFinite ? String(format: "%.\(d)f", v) : "–" }
        var rows: [(metric: String, values: [String])] = []
        let groups: [(String, String)] = Segment.allCases.map { ($0.rawValue, $0.label) } + [("all", "all users")]
        for (key, label) in groups {
            let ms = results.map { key == "all" ? $0.all : $0.segments[key] }
            guard let users = ms.compactMap({ $0?.users }).first, users > 0 else { continue }
            rows.append(("\(label) (\(users) users): NDCG@10", ms.map { $0.map { f($0.ndcgAt10, 4) } ?? "–" }))
            rows.append(("\(label): recall@30", ms.map { $0.map { f($0.recallAt30, 4) } ?? "–" }))
            rows.append(("\(label): novelty@10", ms.map { $0.map { f($0.noveltyAt10, 2) } ?? "–" }))
            rows.append(("\(label): coverage@30", ms.map { $0.map { f($0.coverageAt30, 4) } ?? "–" }))
            rows.append(("\(label): long-tail share@10", ms.map { $0.map { f($0.longTailAt10, 3) } ?? "–" }))
            rows.append(("\(label): artists per list@10", ms.map { $0.map { f($0.artistsAt10, 2) } ?? "–" }))
        }
        rows.append(("list seconds (all users)", results.map { f($0.seconds, 3) }))
        return ComparisonTable(title: "Policies per segment: ranking protocol, full catalogue, played songs excluded",
                               columns: results.map(\.label), rows: rows)
    }
}
