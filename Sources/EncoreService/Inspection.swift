// What the dashboard shows about one listener or one song, read from the serving snapshot without
// serving anything: no request id, no impression, no bandit draw, no served-list log. A listener's
// view includes the plays accepted since the snapshot (read your writes), the first policy's list
// and each of its models' own top songs; a song's view has its plays, listeners, popularity score,
// neighbours, cluster and the listeners most likely to play it (by the ALS factors when the policy
// has them, else by the content profile).
import EncoreData
import EncoreMath
import EncoreModels
import EncorePolicy
import Foundation

/// One listener as the dashboard shows them.
public struct ListenerView: Sendable {
    public var user: String
    public var known: Bool
    /// Songs by plays, most first (the snapshot's and those accepted since).
    public var history: [(song: Int, plays: Double)]
    public var foldedIn: Int
    public var recommendation: PolicyRecommendation
    /// Each model of the first policy: its own top songs for this listener.
    public var models: [(name: String, songs: [Int])]
}

/// One song as the dashboard shows it.
public struct SongView: Sendable {
    public var item: Int
    public var plays: Double
    public var listeners: Int
    public var popularityScore: Double
    public var cluster: Int?
    /// Listener index and score, best first, among listeners who have not played it.
    public var audience: [(user: Int, score: Float)]
    public var audienceBy: String
}

extension RecommendationService {
    /// The first policy's engine in a snapshot.
    func firstEngine(_ s: ServingSnapshot) throws -> PolicyEngine {
        guard let engine = s.engines[policies[0].name] else { throw ServiceError(.unavailable, "no policy is loaded") }
        return engine
    }

    /// A listener's songs, segment, list and per-model lists, without serving anything.
    public func inspect(user: String, k: Int) throws -> (ListenerView, ServingSnapshot) {
        try Self.checkID(user, "user")
        try checkK(k)
        let s = snapshot
        let engine = try firstEngine(s)
        let (l, known, folded) = listener(user, in: s)
        let history = zip(l.history.items, l.history.weights).map { (song: $0.0, plays: Double($0.1)) }
            .sorted { $0.plays != $1.plays ? $0.plays > $1.plays : $0.song < $1.song }
        var r = engine.recommend(l, k: k)
        if !known && l.history.isEmpty { r.segmentReason = "unknown user: no plays yet, the cold-start recipe" }
        var models: [(name: String, songs: [Int])] = []
        if !l.history.isEmpty {
            let blocked = Set(l.history.items)
            for name in engine.models.keys.sorted() where name != "clustering" {
                guard let fitted = engine.models[name] else { continue }
                let scores = engine.modelScores(fitted, for: l)
                let top = TopScores.select(scores, k: k + blocked.count).map(\.index).filter { !blocked.contains($0) }
                models.append((name, Array(top.prefix(k))))
            }
        }
        return (ListenerView(user: user, known: known, history: history, foldedIn: folded, recommendation: r, models: models), s)
    }

    /// A song's figures, cluster and likely listeners.
    public func inspect(song: String, audience k: Int = 10) throws -> (SongView, ServingSnapshot) {
        try Self.checkID(song, "song")
        let s = snapshot
        guard let i = s.train.items.index(of: song) else { throw ServiceError(.notFound, "unknown song '\(song)'") }
        let engine = try firstEngine(s)
        var plays = 0.0, listeners = 0
        var played = Set<Int>()
        for u in 0..<s.train.userCount {
            for q in s.train.rowRange(u) where Int(s.train.columnIndices[q]) == i {
                plays += Double(s.train.values[q])
                listeners += 1
                played.insert(u)
            }
        }
        let cluster = engine.clustering.flatMap { c in i < c.itemLabels.count && c.itemLabels[i] >= 0 ? Int(c.itemLabels[i]) : nil }
        var scores: [(user: Int, score: Float)] = []
        var by = ""
        if let als = engine.models["als"]?.model as? AlternatingLeastSquares {
            let f = als.configuration.factors
            by = "ALS factors"
            als.userFactors.withUnsafeBufferPointer { U in
                als.itemFactors.withUnsafeBufferPointer { V in
                    for u in 0..<s.train.userCount where !played.contains(u) {
                        scores.append((u, VectorKernels.dot(U.baseAddress! + u * f, V.baseAddress! + i * f, f)))
                    }
                }
            }
        } else if let content = engine.content as? TransformerRecommender, content.embedsSongs {
            by = "content profile"
            for u in 0..<s.train.userCount where !played.contains(u) {
                scores.append((u, content.scores(history: UserHistory(user: u, of: s.train), items: [i])[0]))
            }
        }
        let audience = scores.filter { $0.score.isFinite }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.user < $1.user }.prefix(k)
        return (SongView(item: i, plays: plays, listeners: listeners, popularityScore: engine.popularity.score[i], cluster: cluster,
                         audience: Array(audience), audienceBy: by), s)
    }
}
