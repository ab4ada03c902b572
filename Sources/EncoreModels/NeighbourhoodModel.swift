// k-nearest-neighbour collaborative filtering as Surprise implements it (Herlocker et al. 1999;
// Koren 2010 for the baseline variant), user-based or item-based. For a pair (u, i) the
// neighbours are the users who played i (or the items u played), the k most similar with a
// positive similarity are kept, and the estimate is
//   basic     Σ sim·r / Σ sim
//   means     μ_x + Σ sim·(r − μ_n) / Σ sim
//   zscore    μ_x + σ_x Σ sim·(r − μ_n)/σ_n / Σ sim
//   baseline  b_xy + Σ sim·(r − b_ny) / Σ sim
// With fewer than min_k such neighbours basic is impossible (the global mean stands in and the
// prediction is counted as impossible); the other variants fall back to their first term.
// Unknown users or items are impossible except for the baseline variant, which keeps its biases.
// fit: the similarity computation (see SimilarityMatrix); predict: O(d log d) for d neighbours.
import EncoreData
import EncoreMath

/// Hyper-parameters of the KNN models; the defaults are the report's (KNNBasic, pearson_baseline, k 30, min_k 1).
public struct KNNConfiguration: Codable, Sendable, Equatable {
    /// The four estimators of Surprise's KNN family.
    public enum Variant: String, Codable, Sendable, CaseIterable { case basic, means, zscore, baseline }

    /// Neighbours are users (true) or items (false).
    public var userBased: Bool = true
    /// basic, means, zscore or baseline (KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline).
    public var variant: Variant = .basic
    public var similarity: SimilarityMeasure = .pearsonBaseline
    /// Maximum number of neighbours.
    public var k: Int = 30
    /// Minimum number of neighbours for a real estimate.
    public var minK: Int = 1
    /// Minimum number of common entries for a non-zero similarity.
    public var minSupport: Int = 1
    /// Shrinkage of pearson_baseline.
    public var shrinkage: Double = 100
    /// Baselines for pearson_baseline and the baseline variant.
    public var baseline: BaselineConfiguration = BaselineConfiguration()
    /// Past this many users (or items), each similarity row keeps only its best `neighbourListSize` entries.
    public var sparseAbove: Int = 50_000
    public var neighbourListSize: Int = 200

    public init(userBased: Bool = true) { self.userBased = userBased }

    public func validate() throws {
        guard k > 0 else { throw ModelError("k must be positive, got \(k)") }
        // min_k > k is allowed, as in Surprise: every basic estimate is then impossible.
        guard minK >= 0 else { throw ModelError("min_k must be ≥ 0, got \(minK)") }
        guard neighbourListSize >= k else { throw ModelError("neighbour_list_size must be at least k") }
        try baseline.validate()
    }
}

/// KNNBasic / KNNWithMeans / KNNWithZScore / KNNBaseline.
public struct NeighbourhoodModel: RatingPredictor, NeighbourModel {
    public let configuration: KNNConfiguration
    public let train: InteractionMatrix
    public let similarities: SimilarityMatrix
    let profile: TrainingProfile
    /// Rows: the entities compared (users when user-based); columns: the other side.
    let rows: InteractionMatrix
    let columnsOfRows: CompressedColumns
    let means: [Double]
    let sigmas: [Double]
    /// Baselines in the rows' orientation (userBias = rows' biases).
    let baselines: Baselines?

    public var name: String { configuration.userBased ? "knn-user" : "knn-item" }
    public var userBased: Bool { configuration.userBased }
    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration: KNNConfiguration) throws {
        try configuration.validate()
        let needBaselines = configuration.similarity == .pearsonBaseline || configuration.variant == .baseline
        let userBaselines = needBaselines ? try Baselines.fit(train, configuration: configuration.baseline) : nil
        let rows = configuration.userBased ? train : train.transposed
        let oriented = configuration.userBased ? userBaselines : userBaselines?.transposed
        let sims = try SimilarityMatrix.compute(rows: rows, measure: configuration.similarity, minSupport: configuration.minSupport,
                                                shrinkage: configuration.shrinkage, baselines: oriented,
                                                denseLimit: configuration.sparseAbove, rowLimit: configuration.neighbourListSize)
        self.init(train: train, configuration: configuration, similarities: sims, baselines: oriented)
    }

    init(train: InteractionMatrix, configuration: KNNConfiguration, similarities: SimilarityMatrix, baselines: Baselines?) {
        self.configuration = configuration
        self.train = train
        self.profile = TrainingProfile(train)
        self.similarities = similarities
        self.baselines = baselines
        let rows = configuration.userBased ? train : train.transposed
        self.rows = rows
        self.columnsOfRows = rows.columns
        var means = [Double](repeating: 0, count: rows.userCount)
        var sigmas = [Double](repeating: 1, count: rows.userCount)
        for x in 0..<rows.userCount {
            let r = rows.rowRange(x)
            guard !r.isEmpty else { continue }
            var s = 0.0
            for k in r { s += Double(rows.values[k]) }
            let mean = s / Double(r.count)
            var ss = 0.0
            for k in r { ss += (Double(rows.values[k]) - mean) * (Double(rows.values[k]) - mean) }
            means[x] = mean
            let sigma = (ss / Double(r.count)).squareRoot()
            sigmas[x] = sigma > 0 ? sigma : 1
        }
        self.means = means
        self.sigmas = sigmas
    }

    /// Restores a saved model.
    public init(train: InteractionMatrix, configuration: KNNConfiguration, state: ModelState) throws {
        try configuration.validate()
        let n = configuration.userBased ? train.userCount : train.itemCount
        let similarities = try SimilarityMatrix(validating: try state.int64s("similarity_row_pointers"), columns: try state.int32s("similarity_columns"),
                                                values: try state.floats("similarity_values"), rows: n, columnCount: n, what: "knn")
        var baselines: Baselines? = nil
        if let bu = try? state.doubles("row_bias"), let bi = try? state.doubles("column_bias") {
            try ModelState.require(bu.count, configuration.userBased ? train.userCount : train.itemCount, "row_bias")
            try ModelState.require(bi.count, configuration.userBased ? train.itemCount : train.userCount, "column_bias")
            baselines = Baselines(globalMean: TrainingProfile(train).globalMean, userBias: bu, itemBias: bi)
        }
        self.init(train: train, configuration: configuration, similarities: similarities, baselines: baselines)
    }

    public func state() -> ModelState {
        var arrays: [String: StateArray] = [
            "similarity_row_pointers": .int64(similarities.rowPointers.map { Int64($0) }),
            "similarity_columns": .int32(similarities.columns),
            "similarity_values": .float(similarities.values),
        ]
        if let b = baselines {
            arrays["row_bias"] = .double(b.userBias)
            arrays["column_bias"] = .double(b.itemBias)
        }
        return ModelState(arrays: arrays)
    }

    public func neighbours(of index: Int, k: Int) -> [Neighbour] {
        guard index >= 0, index < similarities.count else { return [] }
        return similarities.top(index, k: k)
    }

    public func predict(user: Int, item: Int) -> Prediction {
        predict(user: user, item: item, similarity: { similarities.similarity($0, $1) })
    }

    /// Every item's estimate for a user. User-based: the user's similarity row is expanded once
    /// (predictAll). Item-based: the similarity rows of the user's songs are expanded into a dense
    /// block (songs played × items) when it stays small, so each lookup is O(1) instead of a binary
    /// search. Same estimates as predict.
    public func scoreAll(user: Int) -> [Float] {
        let pairs = (0..<train.itemCount).map { (user: user, item: $0) }
        if configuration.userBased { return predictAll(pairs).map { Float($0.value) } }
        guard user >= 0, user < train.userCount else { return pairs.map { Float(predict(user: $0.user, item: $0.item).value) } }
        let r = train.rowRange(user)
        return itemBasedScores(user: user, played: r.map { Int(train.columnIndices[$0]) }, values: Array(train.values[r]), userBias: nil)
    }

    /// Item-based estimates of every song from a listening history (songs ascending, values on
    /// the model's scale). The similarity rows of the songs played are expanded into a dense block
    /// (songs played × items) when it stays small, so each lookup is O(1). `user` is the training
    /// user (or -1); `userBias` replaces the trained bias for a history (baseline variant).
    func itemBasedScores(user: Int, played: [Int], values: [Float], userBias: Double?) -> [Float] {
        let n = train.itemCount
        var position = [Int](repeating: -1, count: n)
        var block: [Float] = []
        let dense = played.count * n <= 20_000_000
        if dense {
            block = [Float](repeating: 0, count: played.count * n)
            for (p, j) in played.enumerated() {
                position[j] = p
                for q in similarities.rowPointers[j]..<similarities.rowPointers[j + 1] { block[p * n + Int(similarities.columns[q])] = similarities.values[q] }
            }
        }
        // sim(i, j) is symmetric: row j of the played song holds it.
        let similarity: (Int, Int) -> Double = dense ? { a, b in a == b ? 1 : (position[b] >= 0 ? Double(block[position[b] * n + a]) : 0) }
            : { similarities.similarity($0, $1) }
        let otherBias = userBias ?? (user >= 0 ? baselines.map { $0.itemBias[user] } : nil)
        return (0..<n).map { i in
            let prediction = profile.resolve { () throws(PredictionImpossible) -> Estimate in
                guard !played.isEmpty, profile.knows(item: i) else {
                    return try unknownEstimate(user: user, item: i, userKnown: !played.isEmpty, userBias: userBias)
                }
                var candidates: [(index: Int, similarity: Double, value: Double)] = []
                for (j, v) in zip(played, values) where j != i {
                    let s = similarity(i, j)
                    if s > 0 { candidates.append((j, s, Double(v))) }
                }
                return try estimate(x: i, otherBias: otherBias, candidates: candidates)
            }
            return Float(prediction.value)
        }
    }

    /// Predictions for many pairs: pairs are grouped by the compared entity, whose similarity row
    /// is expanded once into a dense buffer, and groups run in parallel. Same results as predict.
    public func predictAll(_ pairs: [(user: Int, item: Int)]) -> [Prediction] {
        let n = similarities.count
        var order = Array(pairs.indices)
        let key: @Sendable (Int) -> Int = { [configuration] in configuration.userBased ? pairs[$0].user : pairs[$0].item }
        order.sort { key($0) != key($1) ? key($0) < key($1) : $0 < $1 }
        var results = [Prediction](repeating: Prediction(value: 0), count: pairs.count)
        // Group boundaries, split into chunks at group starts.
        var starts: [Int] = []
        for (p, idx) in order.enumerated() where p == 0 || key(order[p - 1]) != key(idx) { starts.append(p) }
        starts.append(order.count)
        let groups = starts.count - 1
        let parts = ParallelLoop.mapChunks(count: groups, chunks: ParallelLoop.defaultWorkers * 4) { [order, starts] range -> [(Int, Prediction)] in
            var dense = [Float](repeating: 0, count: n)
            var out: [(Int, Prediction)] = []
            for g in range {
                let x = key(order[starts[g]])
                let valid = x >= 0 && x < n
                if valid { for q in similarities.rowPointers[x]..<similarities.rowPointers[x + 1] { dense[Int(similarities.columns[q])] = similarities.values[q] } }
                for p in starts[g]..<starts[g + 1] {
                    let idx = order[p]
                    let pred = predict(user: pairs[idx].user, item: pairs[idx].item, similarity: { a, b in a == b ? 1 : Double(dense[b]) })
                    out.append((idx, pred))
                }
                if valid { for q in similarities.rowPointers[x]..<similarities.rowPointers[x + 1] { dense[Int(similarities.columns[q])] = 0 } }
            }
            return out
        }
        for part in parts { for (idx, pred) in part { results[idx] = pred } }
        return results
    }

    /// Keeps the k most similar candidates, best first; equal similarities keep the lower index
    /// (Surprise's heapq.nlargest over raters in index order).
    static func keepBest(_ c: inout [(index: Int, similarity: Double, value: Double)], k: Int) {
        c = TopK.best(c, k: k) { a, b in a.similarity != b.similarity ? a.similarity > b.similarity : a.index < b.index }
    }

    func predict(user u: Int, item i: Int, similarity: (Int, Int) -> Double) -> Prediction {
        profile.predict(user: u, item: i) { ku, ki throws(PredictionImpossible) in
            guard ku && ki else { return try unknownEstimate(user: u, item: i, userKnown: ku, userBias: nil) }
            let (x, y) = configuration.userBased ? (u, i) : (i, u)
            // Candidates: entities that rated y, with their value; in ascending index order.
            var candidates: [(index: Int, similarity: Double, value: Double)] = []
            for q in columnsOfRows.columnPointers[y]..<columnsOfRows.columnPointers[y + 1] {
                let x2 = Int(columnsOfRows.rowIndices[q])
                // A training pair's own entry is not its neighbour (test pairs never meet this).
                if x2 == x { continue }
                let s = similarity(x, x2)
                if s > 0 { candidates.append((x2, s, Double(columnsOfRows.values[q]))) }
            }
            return try estimate(x: x, otherBias: baselines.map { $0.itemBias[y] }, candidates: candidates)
        }
    }

    /// The estimate when the user or the item has no training entries: the baseline variant keeps
    /// the known biases, the others are impossible at the global mean.
    func unknownEstimate(user u: Int, item i: Int, userKnown: Bool, userBias: Double?) throws(PredictionImpossible) -> Estimate {
        if configuration.variant == .baseline, let b = baselines {
            var e = b.globalMean
            if configuration.userBased {
                if userKnown, u >= 0, u < b.userBias.count { e += userBias ?? b.userBias[u] }
                if profile.knows(item: i) { e += b.itemBias[i] }
            } else {
                if profile.knows(item: i) { e += b.userBias[i] }
                if userKnown { e += userBias ?? (u >= 0 && u < b.itemBias.count ? b.itemBias[u] : 0) }
            }
            return Estimate(e)
        }
        throw .unknown(knownUser: userKnown, knownItem: profile.knows(item: i))
    }

    /// The variant's estimate for entity x from its candidate neighbours; `otherBias` is the bias
    /// of the other side (the baseline variant needs it).
    func estimate(x: Int, otherBias: Double?, candidates all: [(index: Int, similarity: Double, value: Double)]) throws(PredictionImpossible) -> Estimate {
        var candidates = all
        let variant = configuration.variant
        Self.keepBest(&candidates, k: configuration.k)
        var sumSim = 0.0, sumValues = 0.0
        for c in candidates {
            sumSim += c.similarity
            switch variant {
            case .means: sumValues += c.similarity * (c.value - means[c.index])
            case .zscore: sumValues += c.similarity * (c.value - means[c.index]) / sigmas[c.index]
            case .baseline:
                let b = baselines!
                sumValues += c.similarity * (c.value - (b.globalMean + b.userBias[c.index] + (otherBias ?? 0)))
            case .basic: sumValues += c.similarity * c.value
            }
        }
        let enough = candidates.count >= configuration.minK
        switch variant {
        case .basic:
            guard enough, sumSim > 0 else {
                throw PredictionImpossible("not enough neighbours (\(candidates.count) < \(max(configuration.minK, 1)))", contributors: candidates)
            }
            return Estimate(sumValues / sumSim, contributors: candidates)
        case .means, .zscore:
            var e = means[x]
            if enough && sumSim > 0 { e += (variant == .zscore ? sigmas[x] : 1) * sumValues / sumSim }
            return Estimate(e, contributors: candidates)
        case .baseline:
            let b = baselines!
            var e = b.globalMean + b.userBias[x] + (otherBias ?? 0)
            if enough && sumSim > 0 { e += sumValues / sumSim }
            return Estimate(e, contributors: candidates)
        }
    }
}

extension KNNConfiguration {
    /// The stored neighbour lists of every row.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        let n = Double(userBased ? users : items)
        return n * Double(min(neighbourListSize, max(userBased ? users : items, 1))) * 8
    }
}

extension NeighbourhoodModel: HistoryRecommender {
    /// Item-based: the history's songs are the neighbours, as a training user's songs are. The
    /// baseline variant folds the history's bias in against the trained item biases. User-based
    /// neighbourhoods would need the history's similarity to every user: not scored ("cannot rank").
    public func scoreAll(history: UserHistory) -> [Float] {
        guard !configuration.userBased else { return [Float](repeating: -.infinity, count: train.itemCount) }
        let bias = baselines.map { $0.transposed.userBias(history: history, configuration: configuration.baseline) }
        return itemBasedScores(user: -1, played: history.items, values: history.weights, userBias: configuration.variant == .baseline ? bias : nil)
    }
}
