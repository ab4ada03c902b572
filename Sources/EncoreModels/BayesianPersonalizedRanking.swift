// Bayesian Personalised Ranking (Rendle et al. 2009) trained by SGD as the `implicit` library
// does it: each epoch draws as many (user, played item, random item) triples as there are plays
// (negatives in proportion to their plays rows, as implicit, or uniformly),
// skips a negative the user has played, and moves x_uij = x_uᵀ(y_i − y_j) up the log-sigmoid; an
// item bias rides in an extra factor whose user side is fixed at 1. Sampling is stratified
// (users and items in B groups; in each of B sub-epochs the diagonal blocks share no factor row
// and run in parallel), with one random stream per block, so the result depends only on the seed
// and B, never on the thread count. fit: O(epochs · nnz · f); recommend: O(items · f).
import EncoreData
import EncoreMath
import Foundation

/// Configuration of BPR; defaults as the peer setting.
public struct BPRConfiguration: Codable, Sendable, Equatable {
    /// How negative songs are drawn: in proportion to listeners (implicit's way) or uniformly.
    public enum NegativeSampling: String, Codable, Sendable, CaseIterable { case popularity, uniform }

    public var factors: Int = 64
    public var learningRate: Double = 0.01
    public var regularization: Double = 0.01
    public var epochs: Int = 100
    public var seed: UInt64 = 42
    public var blocks: Int = 2
    public var verifyNegatives: Bool = true
    /// "popularity": negatives drawn like positives, in proportion to plays rows (what `implicit`
    /// does: it samples the negative from the item column of a random training entry);
    /// "uniform": every item equally likely.
    public var negativeSampling: NegativeSampling = .popularity

    public init() {}

    public func validate() throws {
        guard factors > 0, epochs >= 0, learningRate > 0, regularization >= 0 else {
            throw ModelError("BPR needs factors > 0, epochs ≥ 0, learning_rate > 0, regularization ≥ 0")
        }
        guard blocks >= 1, blocks <= 64 else { throw ModelError("blocks must be between 1 and 64") }
        try ConfigurationLimits.checkIterations(epochs, "epochs")
        try ConfigurationLimits.checkFactors(factors, "factors")
    }
}

/// BPR-MF with item biases.
public struct BayesianPersonalizedRanking: Recommender {
    public let name = "bpr"
    public let configuration: BPRConfiguration
    public let train: InteractionMatrix
    /// users × (f + 1) (last column 1) and items × (f + 1) (last column the item bias).
    public let userFactors: [Float]
    public let itemFactors: [Float]
    private let panelCache = LazyBox<ItemPanel>()
    private let normPanelCache = LazyBox<NormOrderedPanel>()

    /// The item factors and bias column ordered by norm, for the top songs without scoring every song (built on first use).
    public var normPanel: NormOrderedPanel { normPanelCache.get { NormOrderedPanel(rows: itemFactors, items: train.itemCount, dims: configuration.factors + 1) } }

    /// The item factors and bias column in panel order, for scoring (built on first use).
    public var panel: ItemPanel { panelCache.get { ItemPanel(rows: itemFactors, items: train.itemCount, dims: configuration.factors + 1) } }
    /// Share of sampled triples ranked correctly, per epoch (the training objective's proxy).
    public let accuracyHistory: [Double]

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration c: BPRConfiguration = BPRConfiguration()) throws {
        try c.validate()
        configuration = c
        self.train = train
        let width = c.factors + 1
        var rng = SeededGenerator(seed: c.seed)
        var users = (0..<(train.userCount * width)).map { _ in Float((rng.nextDouble() - 0.5) / Double(c.factors)) }
        for u in 0..<train.userCount { users[u * width + c.factors] = 1 }
        var items = (0..<(train.itemCount * width)).map { _ in Float((rng.nextDouble() - 0.5) / Double(c.factors)) }
        let nb = c.blocks
        let itemBlock: (Int) -> Int = { i in Int((UInt64(i) &* 0x9E37_79B9_7F4A_7C15) >> 32) % nb }
        var positives = [[Int32]](repeating: [], count: nb * nb)  // entry indices per (user block, item block)
        var rowOf = [Int32](repeating: 0, count: train.nnz)
        // Negative pools per item block: each item once (uniform) or once per training row (popularity).
        var blockItems = [[Int32]](repeating: [], count: nb)
        if c.negativeSampling == .uniform {
            for i in 0..<train.itemCount { blockItems[itemBlock(i)].append(Int32(i)) }
        } else {
            for k in 0..<train.nnz { blockItems[itemBlock(Int(train.columnIndices[k]))].append(train.columnIndices[k]) }
        }
        for u in 0..<train.userCount {
            for k in train.rowRange(u) {
                positives[(u % nb) * nb + itemBlock(Int(train.columnIndices[k]))].append(Int32(k))
                rowOf[k] = Int32(u)
            }
        }
        let lr = Float(c.learningRate), reg = Float(c.regularization), f = c.factors
        var history: [Double] = []
        var cancelled = false
        let m = train
        users.withUnsafeMutableBufferPointer { U in
            items.withUnsafeMutableBufferPointer { I in
                nonisolated(unsafe) let u0 = U.baseAddress!, i0 = I.baseAddress!
                for epoch in 0..<c.epochs {
                    if Task.isCancelled { cancelled = true; break }
                    var correct = 0, drawn = 0
                    for shift in 0..<nb {
                        let parts = ParallelLoop.mapChunks(count: nb, chunks: nb) { [positives, blockItems, rowOf] range -> (Int, Int) in
                            var good = 0, n = 0
                            for b in range {
                                let list = positives[b * nb + (b + shift) % nb]
                                let negatives = blockItems[(b + shift) % nb]
                                guard !list.isEmpty, !negatives.isEmpty else { continue }
                                var g = SeededGenerator(seed: c.seed, stream: UInt64(epoch * nb * nb + shift * nb + b + 1))
                                for _ in 0..<list.count {
                                    let k = Int(list[g.nextInt(below: list.count)])
                                    let u = Int(rowOf[k]), i = Int(m.columnIndices[k])
                                    let j = Int(negatives[g.nextInt(below: negatives.count)])
                                    if c.verifyNegatives && m.value(user: u, item: j) != nil { continue }
                                    let xu = u0 + u * width, yi = i0 + i * width, yj = i0 + j * width
                                    var score: Float = 0
                                    for q in 0..<width { score += xu[q] * (yi[q] - yj[q]) }
                                    if score > 0 { good += 1 }
                                    n += 1
                                    let z = 1 / (1 + Float(Foundation.exp(Double(score))))
                                    for q in 0..<width {
                                        let uq = xu[q], iq = yi[q], jq = yj[q]
                                        if q < f { xu[q] = uq + lr * (z * (iq - jq) - reg * uq) }
                                        yi[q] = iq + lr * (z * uq - reg * iq)
                                        yj[q] = jq + lr * (-z * uq - reg * jq)
                                    }
                                }
                            }
                            return (good, n)
                        }
                        for p in parts { correct += p.0; drawn += p.1 }
                    }
                    history.append(drawn > 0 ? Double(correct) / Double(drawn) : 0)
                }
            }
        }
        if cancelled { throw CancellationError() }
        userFactors = users
        itemFactors = items
        accuracyHistory = history
    }

    public init(train: InteractionMatrix, configuration c: BPRConfiguration, state: ModelState) throws {
        try c.validate()
        configuration = c
        self.train = train
        userFactors = try state.floats("user_factors")
        itemFactors = try state.floats("item_factors")
        try ModelState.require(userFactors.count, train.userCount * (c.factors + 1), "user_factors")
        try ModelState.require(itemFactors.count, train.itemCount * (c.factors + 1), "item_factors")
        accuracyHistory = []
    }

    public func state() -> ModelState {
        ModelState(arrays: ["user_factors": .float(userFactors), "item_factors": .float(itemFactors)])
    }

    public func scoreAll(user: Int) -> [Float] {
        let w = configuration.factors + 1
        guard user >= 0, user < train.userCount else { return [Float](repeating: 0, count: train.itemCount) }
        return panel.scores(query: Array(userFactors[(user * w)..<((user + 1) * w)]))
    }

}

extension BPRConfiguration {
    /// User and item factors with a bias column each.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        (Double(users) + Double(items)) * (Double(factors) + 1) * 4
    }

    public var divergenceHint: String { learningRateHint }
}

extension BayesianPersonalizedRanking: HistoryRecommender {
    /// Fold-in: BPR's own SGD steps on the history's user vector, item vectors fixed (FoldIn.bprUser).
    public func scoreAll(history: UserHistory) -> [Float] {
        let x = FoldIn.bprUser(history: history, items: itemFactors, train: train, configuration: configuration)
        return panel.scores(query: x)
    }
}
