// Batch scoring: the models whose every-song scores for a listener are one product of a query
// vector with a fixed song matrix — ALS and BPR (the user's factors against the item factors, a
// folded-in vector for a changed history) and the transformer (the history's unit profile against
// the song embeddings). Scoring one listener is bound by reading the song matrix: 97 MB at
// 380,000 songs × 64 factors, about 6 ms on one core. Several listeners' queries are scored in one
// pass over it (`ItemPanel`), which is what lets a service keep up at the Million Song Dataset's
// size; a song's score has the same bits alone or in a batch. O(b · n · d) flops and n · d reads
// per batch of b queries over n songs of d dimensions.
import EncoreData
import EncoreMath

/// A model that scores every song by one query vector per listener against a fixed song matrix.
public protocol BatchScoring: HistoryRecommender {
    /// Whether scoring goes by queries (the transformer running as its TF-IDF stand-in does not).
    var scoresByQuery: Bool { get }
    /// A trained user's query: `scoreAll(queries: [query(user: u)])[0]` is `scoreAll(user: u)`.
    func query(user: Int) -> [Float]
    /// A history's query (folded in for the factor models): the same relation to `scoreAll(history:)`.
    func query(history: UserHistory) -> [Float]
    /// Every song's score for each query, in one pass over the song matrix (split between
    /// `ParallelLoop.defaultWorkers` threads); row r is query r's.
    func scoreAll(queries: [[Float]]) -> [[Float]]
}

/// A model whose score for a song is the dot product of a query with the song's row, so its best
/// songs can be found by norm bounds without scoring every song (`NormOrderedPanel`): ALS and BPR.
/// The same query as `BatchScoring`'s; the scores have the same bits as `scoreAll`'s.
public protocol PrunedTopScoring: BatchScoring {
    var normPanel: NormOrderedPanel { get }
}

extension AlternatingLeastSquares: PrunedTopScoring {}
extension BayesianPersonalizedRanking: PrunedTopScoring {}

extension AlternatingLeastSquares: BatchScoring {
    public var scoresByQuery: Bool { true }

    public func query(user: Int) -> [Float] {
        let f = configuration.factors
        guard user >= 0, user < train.userCount else { return [Float](repeating: 0, count: f) }
        return Array(userFactors[(user * f)..<((user + 1) * f)])
    }

    public func query(history: UserHistory) -> [Float] { recalculateUser(history: history) }

    public func scoreAll(queries: [[Float]]) -> [[Float]] {
        panel.scores(queries: queries, threads: ParallelLoop.defaultWorkers)
    }
}

extension BayesianPersonalizedRanking: BatchScoring {
    public var scoresByQuery: Bool { true }

    /// The user's factors and their bias column (the item bias's weight).
    public func query(user: Int) -> [Float] {
        let w = configuration.factors + 1
        guard user >= 0, user < train.userCount else { return [Float](repeating: 0, count: w) }
        return Array(userFactors[(user * w)..<((user + 1) * w)])
    }

    public func query(history: UserHistory) -> [Float] {
        FoldIn.bprUser(history: history, items: itemFactors, train: train, configuration: configuration)
    }

    public func scoreAll(queries: [[Float]]) -> [[Float]] {
        panel.scores(queries: queries, threads: ParallelLoop.defaultWorkers)
    }
}

extension TransformerRecommender: BatchScoring {
    public var scoresByQuery: Bool { embedsSongs }
    public func query(user: Int) -> [Float] {
        guard user >= 0, user < train.userCount else { return [Float](repeating: 0, count: dimension) }
        return profile(UserHistory(user: user, of: train))
    }
    public func query(history: UserHistory) -> [Float] { profile(history) }
    public func scoreAll(queries: [[Float]]) -> [[Float]] { cosines(profiles: queries) }
}
