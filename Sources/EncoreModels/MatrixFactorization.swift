// SVD: biased matrix factorisation trained by stochastic gradient descent, the model Simon Funk
// popularised for the Netflix Prize (Koren, Bell, Volinsky 2009), with Surprise's parameter names
// and update order: r̂ = μ + b_u + b_i + q_iᵀp_u; for each training entry (user by user, items in
// order), e = r − r̂, then b_u += lr_bu (e − reg_bu b_u), b_i += lr_bi (e − reg_bi b_i),
// p_u += lr_pu (e q_i − reg_pu p_u), q_i += lr_qi (e p_u − reg_qi q_i). Factors start from
// N(init_mean, init_std) with the seed. Unknown users or items keep only the known terms.
// fit: O(epochs · nnz · factors); predict: O(factors).
import EncoreData
import EncoreMath

/// Hyper-parameters of SVD (Surprise's names; defaults are Surprise's, the report's optimised
/// setting is n_epochs 30, lr_all 0.01, reg_all 0.2).
public struct SVDConfiguration: Codable, Sendable, Equatable {
    public var nFactors: Int = 100
    public var nEpochs: Int = 20
    public var biased: Bool = true
    public var initMean: Double = 0
    public var initStd: Double = 0.1
    public var lrAll: Double = 0.005
    public var regAll: Double = 0.02
    public var lrBu: Double? = nil
    public var lrBi: Double? = nil
    public var lrPu: Double? = nil
    public var lrQi: Double? = nil
    public var regBu: Double? = nil
    public var regBi: Double? = nil
    public var regPu: Double? = nil
    public var regQi: Double? = nil
    public var seed: UInt64 = 42

    public init() {}

    /// The report's optimised setting.
    public static var reportOptimised: SVDConfiguration {
        var c = SVDConfiguration()
        c.nEpochs = 30
        c.lrAll = 0.01
        c.regAll = 0.2
        return c
    }

    func validate() throws {
        guard nFactors > 0 else { throw ModelError("n_factors must be positive, got \(nFactors)") }
        guard nEpochs >= 0 else { throw ModelError("n_epochs must be ≥ 0") }
        guard initStd >= 0, lrAll > 0, regAll >= 0 else { throw ModelError("init_std and reg_all must be ≥ 0, lr_all > 0") }
    }
}

/// Biased matrix factorisation by SGD.
public struct SVD: RatingPredictor {
    public let name = "svd"
    public let configuration: SVDConfiguration
    public let train: InteractionMatrix
    let profile: TrainingProfile
    public let userBias: [Float]
    public let itemBias: [Float]
    /// users × factors and items × factors, row-major.
    public let userFactors: [Float]
    public let itemFactors: [Float]
    /// Training RMSE after each epoch (for monitoring and tests).
    public let epochRMSE: [Double]

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration c: SVDConfiguration = SVDConfiguration()) throws {
        try c.validate()
        self.configuration = c
        self.train = train
        let profile = TrainingProfile(train)
        self.profile = profile
        let f = c.nFactors
        var rng = SeededGenerator(seed: c.seed)
        var pu = [Float](repeating: 0, count: train.userCount * f)
        var qi = [Float](repeating: 0, count: train.itemCount * f)
        for k in pu.indices { pu[k] = Float(c.initMean + c.initStd * rng.nextGaussian()) }
        for k in qi.indices { qi[k] = Float(c.initMean + c.initStd * rng.nextGaussian()) }
        var bu = [Float](repeating: 0, count: train.userCount)
        var bi = [Float](repeating: 0, count: train.itemCount)
        let mu = Float(profile.globalMean)
        let lrBu = Float(c.lrBu ?? c.lrAll), lrBi = Float(c.lrBi ?? c.lrAll), lrPu = Float(c.lrPu ?? c.lrAll), lrQi = Float(c.lrQi ?? c.lrAll)
        let regBu = Float(c.regBu ?? c.regAll), regBi = Float(c.regBi ?? c.regAll), regPu = Float(c.regPu ?? c.regAll), regQi = Float(c.regQi ?? c.regAll)
        var history: [Double] = []
        pu.withUnsafeMutableBufferPointer { P in
            qi.withUnsafeMutableBufferPointer { Q in
                train.columnIndices.withUnsafeBufferPointer { cols in
                    train.values.withUnsafeBufferPointer { vals in
                        for _ in 0..<c.nEpochs {
                            var squared = 0.0
                            for u in 0..<train.userCount {
                                let p = P.baseAddress! + u * f
                                for k in train.rowPointers[u]..<train.rowPointers[u + 1] {
                                    let i = Int(cols[k])
                                    let q = Q.baseAddress! + i * f
                                    var dot: Float = 0
                                    for j in 0..<f { dot += p[j] * q[j] }
                                    var estimate = mu + dot
                                    if c.biased { estimate += bu[u] + bi[i] }
                                    let err = vals[k] - estimate
                                    squared += Double(err * err)
                                    if c.biased {
                                        bu[u] += lrBu * (err - regBu * bu[u])
                                        bi[i] += lrBi * (err - regBi * bi[i])
                                    }
                                    for j in 0..<f {
                                        let pj = p[j], qj = q[j]
                                        p[j] = pj + lrPu * (err * qj - regPu * pj)
                                        q[j] = qj + lrQi * (err * pj - regQi * qj)
                                    }
                                }
                            }
                            history.append(train.nnz > 0 ? (squared / Double(train.nnz)).squareRoot() : 0)
                        }
                    }
                }
            }
        }
        userFactors = pu
        itemFactors = qi
        userBias = bu
        itemBias = bi
        epochRMSE = history
    }

    public init(train: InteractionMatrix, configuration c: SVDConfiguration, state: ModelState) throws {
        try c.validate()
        configuration = c
        self.train = train
        profile = TrainingProfile(train)
        userFactors = try state.floats("user_factors")
        itemFactors = try state.floats("item_factors")
        userBias = try state.floats("user_bias")
        itemBias = try state.floats("item_bias")
        try ModelState.require(userFactors.count, train.userCount * c.nFactors, "user_factors")
        try ModelState.require(itemFactors.count, train.itemCount * c.nFactors, "item_factors")
        try ModelState.require(userBias.count, train.userCount, "user_bias")
        try ModelState.require(itemBias.count, train.itemCount, "item_bias")
        epochRMSE = []
    }

    public func state() -> ModelState {
        ModelState(arrays: ["user_factors": .float(userFactors), "item_factors": .float(itemFactors),
                            "user_bias": .float(userBias), "item_bias": .float(itemBias)])
    }

    public func predict(user u: Int, item i: Int) -> Prediction {
        let ku = profile.knows(user: u), ki = profile.knows(item: i)
        var e = profile.globalMean
        if configuration.biased {
            if ku { e += Double(userBias[u]) }
            if ki { e += Double(itemBias[i]) }
        }
        if ku && ki {
            let f = configuration.nFactors
            var dot: Float = 0
            for j in 0..<f { dot += userFactors[u * f + j] * itemFactors[i * f + j] }
            e += Double(dot)
        }
        return Prediction(value: profile.clip(e))
    }
}
