// BaselineOnly: the baseline estimate b_ui = μ + b_u + b_i (Koren 2010, "Factor in the
// neighbors"), fitted as Surprise does it: alternating least squares (items, then users, each
// epoch, with regularisation reg_i and reg_u) or stochastic gradient descent. Unknown users or
// items contribute no bias. fit: O(epochs · nnz); predict: O(1).
import EncoreData

/// Hyper-parameters of the baseline estimate (Surprise's bsl_options).
public struct BaselineConfiguration: Codable, Sendable, Equatable {
    /// How the biases are fitted (Surprise's bsl_options method).
    public enum Method: String, Codable, Sendable, CaseIterable { case als, sgd }

    /// "als" or "sgd".
    public var method: Method = .als
    /// Epochs; nil means the method's default (ALS 10, SGD 20).
    public var nEpochs: Int? = nil
    /// ALS regularisation of user and item biases.
    public var regU: Double = 15
    public var regI: Double = 10
    /// SGD regularisation and learning rate.
    public var reg: Double = 0.02
    public var learningRate: Double = 0.005

    public init() {}

    var epochs: Int { nEpochs ?? (method == .sgd ? 20 : 10) }

    public func validate() throws {
        guard epochs >= 0 else { throw ModelError("n_epochs must be ≥ 0") }
        try ConfigurationLimits.checkIterations(epochs, "n_epochs")
        guard regU >= 0, regI >= 0, reg >= 0, learningRate > 0 else { throw ModelError("regularisation must be ≥ 0 and the learning rate > 0") }
    }
}

/// Fitted user and item biases around the global mean.
public struct Baselines: Sendable {
    public let globalMean: Double
    public let userBias: [Double]
    public let itemBias: [Double]

    public init(globalMean: Double, userBias: [Double], itemBias: [Double]) {
        self.globalMean = globalMean
        self.userBias = userBias
        self.itemBias = itemBias
    }

    /// Fits biases on `m` (rows = users).
    public static func fit(_ m: InteractionMatrix, configuration c: BaselineConfiguration) throws -> Baselines {
        try c.validate()
        let profile = TrainingProfile(m)
        let mu = profile.globalMean
        var bu = [Double](repeating: 0, count: m.userCount)
        var bi = [Double](repeating: 0, count: m.itemCount)
        if c.method == .als {
            let cols = m.columns
            for _ in 0..<c.epochs {
                for i in 0..<m.itemCount {
                    let lo = cols.columnPointers[i], hi = cols.columnPointers[i + 1]
                    var dev = 0.0
                    for k in lo..<hi { dev += Double(cols.values[k]) - mu - bu[Int(cols.rowIndices[k])] }
                    bi[i] = dev / (c.regI + Double(hi - lo))
                }
                for u in 0..<m.userCount {
                    let r = m.rowRange(u)
                    var dev = 0.0
                    for k in r { dev += Double(m.values[k]) - mu - bi[Int(m.columnIndices[k])] }
                    bu[u] = dev / (c.regU + Double(r.count))
                }
            }
        } else {
            for _ in 0..<c.epochs {
                for u in 0..<m.userCount {
                    for k in m.rowRange(u) {
                        let i = Int(m.columnIndices[k])
                        let err = Double(m.values[k]) - (mu + bu[u] + bi[i])
                        bu[u] += c.learningRate * (err - c.reg * bu[u])
                        bi[i] += c.learningRate * (err - c.reg * bi[i])
                    }
                }
            }
        }
        return Baselines(globalMean: mu, userBias: bu, itemBias: bi)
    }

    /// μ + b_u + b_i, leaving out the bias of an unknown side.
    @inline(__always)
    public func estimate(user u: Int, item i: Int, profile: TrainingProfile) -> Double {
        var e = globalMean
        if profile.knows(user: u) { e += userBias[u] }
        if profile.knows(item: i) { e += itemBias[i] }
        return e
    }

    /// The bias of a listener with this history, against the trained item biases. With the ALS
    /// method this is the fit's own last user step, so a training user gets the trained bias;
    /// with SGD it is the same number of epochs over the history with the item biases held.
    public func userBias(history: UserHistory, configuration c: BaselineConfiguration) -> Double {
        guard !history.isEmpty else { return 0 }
        if c.method == .als {
            var dev = 0.0
            for (i, w) in zip(history.items, history.weights) where i < itemBias.count { dev += Double(w) - globalMean - itemBias[i] }
            return dev / (c.regU + Double(history.count))
        }
        var bu = 0.0
        for _ in 0..<c.epochs {
            for (i, w) in zip(history.items, history.weights) where i < itemBias.count {
                let err = Double(w) - (globalMean + bu + itemBias[i])
                bu += c.learningRate * (err - c.reg * bu)
            }
        }
        return bu
    }

    /// The same biases with users and items swapped (for item-based neighbourhoods).
    public var transposed: Baselines { Baselines(globalMean: globalMean, userBias: itemBias, itemBias: userBias) }
}

/// The BaselineOnly model.
public struct BaselineOnly: RatingPredictor {
    public let name = "baseline"
    public let configuration: BaselineConfiguration
    public let train: InteractionMatrix
    public let baselines: Baselines
    let profile: TrainingProfile

    public init(train: InteractionMatrix, configuration: BaselineConfiguration = BaselineConfiguration()) throws {
        self.configuration = configuration
        self.train = train
        self.profile = TrainingProfile(train)
        self.baselines = try Baselines.fit(train, configuration: configuration)
    }

    public init(train: InteractionMatrix, configuration: BaselineConfiguration, state: ModelState) throws {
        self.configuration = configuration
        self.train = train
        self.profile = TrainingProfile(train)
        let bu = try state.doubles("user_bias"), bi = try state.doubles("item_bias")
        try ModelState.require(bu.count, train.userCount, "user_bias")
        try ModelState.require(bi.count, train.itemCount, "item_bias")
        self.baselines = Baselines(globalMean: profile.globalMean, userBias: bu, itemBias: bi)
    }

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public func predict(user: Int, item: Int) -> Prediction {
        profile.predict(user: user, item: item) { _, _ in Estimate(baselines.estimate(user: user, item: item, profile: profile)) }
    }

    public func state() -> ModelState {
        ModelState(arrays: ["user_bias": .double(baselines.userBias), "item_bias": .double(baselines.itemBias)])
    }
}

extension BaselineConfiguration {
    public var divergenceHint: String { method == .sgd ? learningRateHint : "raise reg_u and reg_i" }
}

extension BaselineOnly: HistoryRecommender {
    /// μ + b_u(history) + b_i, clipped as predict clips; the bias of an empty history is 0.
    public func scoreAll(history: UserHistory) -> [Float] {
        let bu = baselines.userBias(history: history, configuration: configuration)
        return (0..<train.itemCount).map { i in
            Float(profile.predict(user: -1, item: i) { _, ki in Estimate(baselines.globalMean + bu + (ki ? baselines.itemBias[i] : 0)) }.value)
        }
    }
}
