// SVD: biased matrix factorisation trained by stochastic gradient descent, the model Simon Funk
// popularised for the Netflix Prize (Koren, Bell, Volinsky 2009), with Surprise's parameter names
// and update order: r̂ = μ + b_u + b_i + q_iᵀp_u; for each training entry (user by user, items in
// order), e = r − r̂, then b_u += lr_bu (e − reg_bu b_u), b_i += lr_bi (e − reg_bi b_i),
// p_u += lr_pu (e q_i − reg_pu p_u), q_i += lr_qi (e p_u − reg_qi q_i). Factors start from
// N(init_mean, init_std) with the seed. Unknown users or items keep only the known terms.
// With `blocks` = B > 1 each epoch is stratified (Gemulla et al. 2011, DSGD): users and items
// fall into B groups, and in each of B sub-epochs the B diagonal blocks touch disjoint factor
// rows, so they run in parallel; the order inside a block is Surprise's, and the result depends
// only on the seed and B, never on the number of threads. blocks = 1 is Surprise's exact order.
// fit: O(epochs · nnz · factors); predict: O(factors).
import CBLAS
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
    /// Stratified parallel SGD blocks (1: Surprise's sequential order).
    public var blocks: Int = 2

    public init() {}

    /// The report's optimised setting.
    public static var reportOptimised: SVDConfiguration {
        var c = SVDConfiguration()
        c.nEpochs = 30
        c.lrAll = 0.01
        c.regAll = 0.2
        return c
    }

    public func validate() throws {
        guard nFactors > 0 else { throw ModelError("n_factors must be positive, got \(nFactors)") }
        guard blocks >= 1, blocks <= 64 else { throw ModelError("blocks must be between 1 and 64, got \(blocks)") }
        guard nEpochs >= 0 else { throw ModelError("n_epochs must be ≥ 0") }
        try ConfigurationLimits.checkIterations(nEpochs, "n_epochs")
        try ConfigurationLimits.checkFactors(nFactors, "n_factors")
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
        // Unknown users and items never get an update or a factor term: their rows stay zero.
        var pu = SeededGenerator.gaussianMatrix(rows: train.userCount, width: f, mean: c.initMean, std: c.initStd,
                                                seed: c.seed, skipRow: { !profile.userKnown[$0] })
        var qi = SeededGenerator.gaussianMatrix(rows: train.itemCount, width: f, mean: c.initMean, std: c.initStd,
                                                seed: c.seed ^ 0x5157_4954_454D_5321, skipRow: { !profile.itemKnown[$0] })
        var bu = [Float](repeating: 0, count: train.userCount)
        var bi = [Float](repeating: 0, count: train.itemCount)
        let mu = Float(profile.globalMean)
        let lrBu = Float(c.lrBu ?? c.lrAll), lrBi = Float(c.lrBi ?? c.lrAll), lrPu = Float(c.lrPu ?? c.lrAll), lrQi = Float(c.lrQi ?? c.lrAll)
        let regBu = Float(c.regBu ?? c.regAll), regBi = Float(c.regBi ?? c.regAll), regPu = Float(c.regPu ?? c.regAll), regQi = Float(c.regQi ?? c.regAll)
        // Entries grouped by (user block, item block), each list in Surprise's order (by user, then item).
        let nb = c.blocks
        let userBlock: (Int) -> Int = { u in u % nb }
        let itemBlock: (Int) -> Int = { i in Int((UInt64(i) &* 0x9E37_79B9_7F4A_7C15) >> 32) % nb }
        var lists = [[Int32]](repeating: [], count: nb * nb)
        var rowOf = [Int32](repeating: 0, count: train.nnz)
        for u in 0..<train.userCount {
            for k in train.rowRange(u) {
                lists[userBlock(u) * nb + itemBlock(Int(train.columnIndices[k]))].append(Int32(k))
                rowOf[k] = Int32(u)
            }
        }
        var history: [Double] = []
        var cancelled = false
        let biased = c.biased
        pu.withUnsafeMutableBufferPointer { P in
            qi.withUnsafeMutableBufferPointer { Q in
                bu.withUnsafeMutableBufferPointer { BU in
                    bi.withUnsafeMutableBufferPointer { BI in
                        train.columnIndices.withUnsafeBufferPointer { cols in
                            train.values.withUnsafeBufferPointer { vals in
                                // Raw pointers: no bounds or exclusivity checks in the SGD loop.
                                nonisolated(unsafe) let p0 = P.baseAddress!, q0 = Q.baseAddress!, bu0 = BU.baseAddress!, bi0 = BI.baseAddress!
                                nonisolated(unsafe) let col = cols.baseAddress!, val = vals.baseAddress!
                                let block: @Sendable ([Int32]) -> Double = { [rowOf] list in
                                    var squared = 0.0
                                    list.withUnsafeBufferPointer { entries in
                                        for n in 0..<entries.count {
                                            let k = Int(entries[n])
                                            let u = Int(rowOf[k])
                                            let i = Int(col[k])
                                            let p = p0 + u * f
                                            let q = q0 + i * f
                                            if n + 1 < entries.count {
                                                // The next item's factors are a random row: fetch them early.
                                                let next = UnsafeRawPointer(q0 + Int(col[Int(entries[n + 1])]) * f)
                                                var line = 0
                                                while line < f * 4 { encore_prefetch(next + line); line += 64 }
                                            }
                                            var estimate = mu + VectorKernels.dot(p, q, f)
                                            if biased { estimate += bu0[u] + bi0[i] }
                                            let err = val[k] - estimate
                                            squared += Double(err * err)
                                            if biased {
                                                bu0[u] += lrBu * (err - regBu * bu0[u])
                                                bi0[i] += lrBi * (err - regBi * bi0[i])
                                            }
                                            Self.step(p, q, f, err: err, lrP: lrPu, regP: regPu, lrQ: lrQi, regQ: regQi)
                                        }
                                    }
                                    return squared
                                }
                                for _ in 0..<c.nEpochs {
                                    if Task.isCancelled { cancelled = true; break }
                                    var squared = 0.0
                                    for shift in 0..<nb {
                                        // Blocks (b, b + shift) share no user and no item: they run in parallel.
                                        let parts = ParallelLoop.mapChunks(count: nb, chunks: nb) { [lists] range in
                                            range.reduce(0.0) { $0 + block(lists[$1 * nb + ($1 + shift) % nb]) }
                                        }
                                        squared += parts.reduce(0, +)
                                    }
                                    history.append(train.nnz > 0 ? (squared / Double(train.nnz)).squareRoot() : 0)
                                }
                            }
                        }
                    }
                }
            }
        }
        if cancelled { throw CancellationError() }
        userFactors = pu
        itemFactors = qi
        userBias = bu
        itemBias = bi
        epochRMSE = history
    }

    /// p += lrP (e q − regP p) and q += lrQ (e p − regQ q), both from the old values.
    @inline(__always)
    static func step(_ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ f: Int,
                     err: Float, lrP: Float, regP: Float, lrQ: Float, regQ: Float) {
        var j = 0
        let rp = UnsafeMutableRawPointer(p), rq = UnsafeMutableRawPointer(q)
        while j + 8 <= f {
            let pj = rp.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            let qj = rq.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            rp.storeBytes(of: pj + lrP * (err * qj - regP * pj), toByteOffset: j * 4, as: SIMD8<Float>.self)
            rq.storeBytes(of: qj + lrQ * (err * pj - regQ * qj), toByteOffset: j * 4, as: SIMD8<Float>.self)
            j += 8
        }
        if j + 4 <= f {
            let pj = rp.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self)
            let qj = rq.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self)
            rp.storeBytes(of: pj + lrP * (err * qj - regP * pj), toByteOffset: j * 4, as: SIMD4<Float>.self)
            rq.storeBytes(of: qj + lrQ * (err * pj - regQ * qj), toByteOffset: j * 4, as: SIMD4<Float>.self)
            j += 4
        }
        while j < f {
            let pj = p[j], qj = q[j]
            p[j] = pj + lrP * (err * qj - regP * pj)
            q[j] = qj + lrQ * (err * pj - regQ * qj)
            j += 1
        }
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

    /// Surprise's SVD.estimate: the known sides' terms; unbiased with a side unknown, impossible.
    public func predict(user u: Int, item i: Int) -> Prediction {
        profile.predict(user: u, item: i) { ku, ki throws(PredictionImpossible) in
            var e = profile.globalMean
            if configuration.biased {
                if ku { e += Double(userBias[u]) }
                if ki { e += Double(itemBias[i]) }
            } else if !(ku && ki) {
                throw .unknown(knownUser: ku, knownItem: ki)
            }
            if ku && ki {
                let f = configuration.nFactors
                var dot: Float = 0
                for j in 0..<f { dot += userFactors[u * f + j] * itemFactors[i * f + j] }
                e += Double(dot)
            }
            return Estimate(e)
        }
    }
}

extension SVDConfiguration {
    /// User and item factors and biases, plus a shuffled copy of the entries.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        (Double(users) + Double(items)) * (Double(nFactors) + 1) * 4 + Double(nnz) * 12
    }

    public var divergenceHint: String { learningRateHint }
}

extension SVD: HistoryRecommender {
    /// Fold-in (FoldIn.squaredErrorUser): the user's bias and factors by SVD's own steps over the
    /// history, the item biases and factors held at their trained values.
    public func foldIn(history: UserHistory) -> (factors: [Float], bias: Double) {
        let c = configuration
        let known = zip(history.items, history.weights).filter { profile.knows(item: $0.0) }
        let mu = Float(profile.globalMean)
        let r = FoldIn.squaredErrorUser(items: known.map(\.0), values: known.map(\.1), factors: itemFactors, width: c.nFactors,
                                        start: Float(c.initMean), bias: c.biased, epochs: c.nEpochs,
                                        lrBias: Float(c.lrBu ?? c.lrAll), regBias: Float(c.regBu ?? c.regAll),
                                        lrFactors: Float(c.lrPu ?? c.lrAll), regFactors: Float(c.regPu ?? c.regAll),
                                        base: { i in mu + (c.biased ? itemBias[i] : 0) })
        return (r.factors, Double(r.bias))
    }

    public func scoreAll(history: UserHistory) -> [Float] {
        let (p, bu) = foldIn(history: history)
        let f = configuration.nFactors
        return (0..<train.itemCount).map { i in
            Float(profile.predict(user: -1, item: i) { _, ki in
                var e = profile.globalMean + bu
                if ki {
                    if configuration.biased { e += Double(itemBias[i]) }
                    var dot: Float = 0
                    for j in 0..<f { dot += p[j] * itemFactors[i * f + j] }
                    e += Double(dot)
                }
                return Estimate(e)
            }.value)
        }
    }
}
