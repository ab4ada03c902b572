// SVD++ (Koren 2008, "Factorization meets the neighborhood"): SVD plus implicit feedback — every
// played item j carries a factor y_j, and the user's taste is p_u + |N(u)|^(−1/2) Σ_{j∈N(u)} y_j,
// so r̂ = μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^(−1/2) Σ y_j). Trained by SGD in Surprise's order and
// with its parameter names (n_factors 20, n_epochs 20, lr_all 0.007, reg_all 0.02); the implicit
// sum follows every update of the y factors (Surprise recomputes it per rating; the total of the
// y steps gives the same value in O(factors)).
// fit: O(epochs · Σ_u |N(u)|² · factors); predict: O(|N(u)| · factors).
import EncoreData
import EncoreMath

/// Hyper-parameters of SVD++ (Surprise's names and defaults).
public struct SVDppConfiguration: Codable, Sendable, Equatable, ModelConfiguration {
    public var nFactors: Int = 20
    public var nEpochs: Int = 20
    public var initMean: Double = 0
    public var initStd: Double = 0.1
    public var lrAll: Double = 0.007
    public var regAll: Double = 0.02
    public var seed: UInt64 = 42
    public init() {}

    public func validate() throws {
        guard nFactors > 0, nEpochs >= 0, lrAll > 0, regAll >= 0, initStd >= 0 else {
            throw ModelError("SVD++ needs n_factors > 0, n_epochs ≥ 0, lr_all > 0, reg_all ≥ 0, init_std ≥ 0")
        }
        try ConfigurationLimits.checkIterations(nEpochs, "n_epochs")
        try ConfigurationLimits.checkFactors(nFactors, "n_factors")
    }
}

/// SVD++.
public struct SVDpp: RatingPredictor {
    public let name = "svdpp"
    public let configuration: SVDppConfiguration
    public let train: InteractionMatrix
    let profile: TrainingProfile
    public let userBias: [Float], itemBias: [Float]
    public let userFactors: [Float], itemFactors: [Float], implicitFactors: [Float]

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration c: SVDppConfiguration = SVDppConfiguration()) throws {
        try c.validate()
        configuration = c
        self.train = train
        let profile = TrainingProfile(train)
        self.profile = profile
        let f = c.nFactors
        var p = SeededGenerator.gaussianMatrix(rows: train.userCount, width: f, mean: c.initMean, std: c.initStd, seed: c.seed, skipRow: { !profile.userKnown[$0] })
        var q = SeededGenerator.gaussianMatrix(rows: train.itemCount, width: f, mean: c.initMean, std: c.initStd, seed: c.seed ^ 1, skipRow: { !profile.itemKnown[$0] })
        var y = SeededGenerator.gaussianMatrix(rows: train.itemCount, width: f, mean: c.initMean, std: c.initStd, seed: c.seed ^ 2, skipRow: { !profile.itemKnown[$0] })
        var bu = [Float](repeating: 0, count: train.userCount), bi = [Float](repeating: 0, count: train.itemCount)
        let mu = Float(profile.globalMean), lr = Float(c.lrAll), reg = Float(c.regAll)
        var implicit = [Float](repeating: 0, count: f)
        var cancelled = false
        p.withUnsafeMutableBufferPointer { P in
            q.withUnsafeMutableBufferPointer { Q in
                y.withUnsafeMutableBufferPointer { Y in
                    implicit.withUnsafeMutableBufferPointer { IM in
                        train.columnIndices.withUnsafeBufferPointer { C in
                            train.values.withUnsafeBufferPointer { V in
                                let p = P.baseAddress!, q = Q.baseAddress!, y = Y.baseAddress!, implicit = IM.baseAddress!
                                let cols = C.baseAddress!, vals = V.baseAddress!
                                for _ in 0..<c.nEpochs {
                                    if Task.isCancelled { cancelled = true; break }
                                    for u in 0..<train.userCount {
                                        let r = train.rowRange(u)
                                        guard !r.isEmpty else { continue }
                                        let n = Float(r.count)
                                        let norm = 1 / n.squareRoot()
                                        // |N(u)|^(−1/2) Σ y_j, then kept current as the y factors move.
                                        for t in 0..<f { implicit[t] = 0 }
                                        for kk in r { let yj = y + Int(cols[kk]) * f; for t in 0..<f { implicit[t] += yj[t] } }
                                        for t in 0..<f { implicit[t] *= norm }
                                        let pu = p + u * f
                                        for k in r {
                                            let i = Int(cols[k])
                                            let qi = q + i * f
                                            var dot: Float = 0
                                            for t in 0..<f { dot += qi[t] * (pu[t] + implicit[t]) }
                                            let err = vals[k] - (mu + bu[u] + bi[i] + dot)
                                            bu[u] += lr * (err - reg * bu[u])
                                            bi[i] += lr * (err - reg * bi[i])
                                            for t in 0..<f {
                                                let puf = pu[t], qif = qi[t]
                                                pu[t] += lr * (err * qif - reg * puf)
                                                qi[t] += lr * (err * (puf + implicit[t]) - reg * qif)
                                            }
                                            // y_j += lr (err q_i / √|N(u)| − reg y_j) for every played j; the implicit
                                            // sum moves by the same total, so it is updated in O(f), not recomputed.
                                            let step = lr * err * norm
                                            for kk in r {
                                                let yj = y + Int(cols[kk]) * f
                                                for t in 0..<f { yj[t] += step * qi[t] - lr * reg * yj[t] }
                                            }
                                            for t in 0..<f { implicit[t] += norm * (n * step * qi[t] - lr * reg * implicit[t] / norm) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if cancelled { throw CancellationError() }
        userBias = bu
        itemBias = bi
        userFactors = p
        itemFactors = q
        implicitFactors = y
    }

    public init(train: InteractionMatrix, configuration c: SVDppConfiguration, state: ModelState) throws {
        try c.validate()
        configuration = c
        self.train = train
        profile = TrainingProfile(train)
        userBias = try state.floats("user_bias")
        itemBias = try state.floats("item_bias")
        userFactors = try state.floats("user_factors")
        itemFactors = try state.floats("item_factors")
        implicitFactors = try state.floats("implicit_factors")
        let f = c.nFactors
        try ModelState.require(userBias.count, train.userCount, "user_bias")
        try ModelState.require(itemBias.count, train.itemCount, "item_bias")
        try ModelState.require(userFactors.count, train.userCount * f, "user_factors")
        try ModelState.require(itemFactors.count, train.itemCount * f, "item_factors")
        try ModelState.require(implicitFactors.count, train.itemCount * f, "implicit_factors")
    }

    public func state() -> ModelState {
        ModelState(arrays: ["user_bias": .float(userBias), "item_bias": .float(itemBias), "user_factors": .float(userFactors),
                            "item_factors": .float(itemFactors), "implicit_factors": .float(implicitFactors)])
    }

    public func predict(user u: Int, item i: Int) -> Prediction {
        profile.predict(user: u, item: i) { ku, ki in
            var e = profile.globalMean
            if ku { e += Double(userBias[u]) }
            if ki { e += Double(itemBias[i]) }
            if ku && ki {
                let f = configuration.nFactors
                let r = train.rowRange(u)
                let norm = 1 / Float(r.count).squareRoot()
                var dot: Float = 0
                for t in 0..<f {
                    var implicit: Float = 0
                    for k in r { implicit += implicitFactors[Int(train.columnIndices[k]) * f + t] }
                    dot += itemFactors[i * f + t] * (userFactors[u * f + t] + implicit * norm)
                }
                e += Double(dot)
            }
            return Estimate(e)
        }
    }
}

extension SVDppConfiguration {
    /// User, item and implicit factors, biases, and the per-user implicit sums.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        (2 * Double(users) + 2 * Double(items)) * (Double(nFactors) + 1) * 4 + Double(nnz) * 12
    }

    public var divergenceHint: String { learningRateHint }
}

extension SVDpp: HistoryRecommender {
    /// Fold-in: the implicit part |N|^(−1/2) Σ y_j comes from the history's songs as in training;
    /// the user's bias and explicit factors from SVD++'s own steps over the history
    /// (FoldIn.squaredErrorUser), with the item side (b_i, q_i, y_j) held at its trained values.
    public func scoreAll(history: UserHistory) -> [Float] {
        let f = configuration.nFactors
        let known = zip(history.items, history.weights).filter { profile.knows(item: $0.0) }
        var implicit = [Float](repeating: 0, count: f)
        if !known.isEmpty {
            for (j, _) in known { for t in 0..<f { implicit[t] += implicitFactors[j * f + t] } }
            let norm = 1 / Float(known.count).squareRoot()
            for t in 0..<f { implicit[t] *= norm }
        }
        let mu = Float(profile.globalMean), lr = Float(configuration.lrAll), reg = Float(configuration.regAll)
        let (p, b) = FoldIn.squaredErrorUser(items: known.map(\.0), values: known.map(\.1), factors: itemFactors, width: f,
                                             start: Float(configuration.initMean), bias: true, epochs: configuration.nEpochs,
                                             lrBias: lr, regBias: reg, lrFactors: lr, regFactors: reg,
                                             base: { i in
                                                 var dot: Float = 0
                                                 for t in 0..<f { dot += itemFactors[i * f + t] * implicit[t] }
                                                 return mu + itemBias[i] + dot
                                             })
        let bu = Double(b)
        return (0..<train.itemCount).map { i in
            Float(profile.predict(user: -1, item: i) { _, ki in
                var e = profile.globalMean + bu
                if ki {
                    e += Double(itemBias[i])
                    var dot: Float = 0
                    for t in 0..<f { dot += itemFactors[i * f + t] * (p[t] + implicit[t]) }
                    e += Double(dot)
                }
                return Estimate(e)
            }.value)
        }
    }
}
