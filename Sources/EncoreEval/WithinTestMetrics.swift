// The report's "within-test" precision and recall at k (Surprise FAQ): for each user, the test
// pairs are ranked by predicted value; relevant = true value ≥ threshold; recommended = the top k
// with predicted value ≥ threshold. precision = |rec ∩ rel| / |rec| (0 when nothing is
// recommended), recall = |rec ∩ rel| / |rel|. Averaged over users with at least one relevant pair
// (DESIGN.md); F1 is the harmonic mean of the two averages. O(n log n) for n test pairs.

/// One scored test pair.
public struct ScoredPair: Sendable {
    public var user: Int
    public var item: Int
    public var truth: Double
    public var estimate: Double
    public init(user: Int, item: Int, truth: Double, estimate: Double) {
        self.user = user
        self.item = item
        self.truth = truth
        self.estimate = estimate
    }
}

/// Within-test precision, recall and F1 at k.
public struct WithinTestMetrics: Sendable, Equatable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var usersEvaluated: Int

    /// `pairs` in any order; ties in the estimate keep the input order (a stable sort, as Surprise).
    public static func compute(_ pairs: [ScoredPair], k: Int, threshold: Double) -> WithinTestMetrics {
        var byUser: [Int: [ScoredPair]] = [:]
        for p in pairs { byUser[p.user, default: []].append(p) }
        var precisionSum = 0.0, recallSum = 0.0
        var users = 0
        for (_, list) in byUser {
            let relevant = list.filter { $0.truth >= threshold }.count
            guard relevant > 0 else { continue }
            let ranked = list.enumerated().sorted { a, b in
                a.element.estimate != b.element.estimate ? a.element.estimate > b.element.estimate : a.offset < b.offset
            }.prefix(k).map(\.element)
            let recommended = ranked.filter { $0.estimate >= threshold }
            let hits = recommended.filter { $0.truth >= threshold }.count
            precisionSum += recommended.isEmpty ? 0 : Double(hits) / Double(recommended.count)
            recallSum += Double(hits) / Double(relevant)
            users += 1
        }
        let p = users > 0 ? precisionSum / Double(users) : 0
        let r = users > 0 ? recallSum / Double(users) : 0
        return WithinTestMetrics(precision: p, recall: r, f1: p + r > 0 ? 2 * p * r / (p + r) : 0, usersEvaluated: users)
    }
}
