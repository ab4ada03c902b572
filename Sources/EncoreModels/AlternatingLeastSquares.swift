// Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren, Volinsky 2008,
// "Collaborative Filtering for Implicit Feedback Datasets"), with the conjugate-gradient inner
// solver of Takács et al. 2011 as the `implicit` library organises it: every play is a preference
// p = 1 with confidence c = 1 + α f(plays), f = identity or log1p; each half-iteration precomputes
// YᵀY + λI once (BLAS), then improves every user's (item's) factors by `cgSteps` CG steps on
// (YᵀY + λI + Σ (c − 1) y yᵀ) x = Σ c y, starting from the current factors. Rows are solved in
// parallel and independently, so results depend only on the seed. fit: O(iterations · cgSteps ·
// (nnz · f + rows · f²)); recommend: O(items · f). `recalculateUser` folds in a new or changed
// history by solving the same system for one user against the trained item factors.
import EncoreData
import EncoreMath
import Foundation

/// Configuration of ALS; the defaults are the best peer setting on lastfm-2k.
public struct ALSConfiguration: Codable, Sendable, Equatable {
    /// How plays become confidence.
    public enum Confidence: String, Codable, Sendable, CaseIterable { case log1p, linear }

    public var factors: Int = 64
    public var regularization: Double = 0.05
    public var iterations: Int = 15
    public var alpha: Double = 1
    /// log1p (c = 1 + α log1p(plays)) or linear (c = 1 + α plays).
    public var confidence: Confidence = .log1p
    public var cgSteps: Int = 3
    public var seed: UInt64 = 42
    /// Compute the weighted loss after every iteration (costs about a third of an iteration).
    public var trackLoss: Bool = false

    public init() {}

    public func validate() throws {
        guard factors > 0 else { throw ModelError("factors must be positive, got \(factors)") }
        guard regularization >= 0, alpha >= 0 else { throw ModelError("regularization and alpha must be ≥ 0") }
        guard iterations >= 0, cgSteps > 0 else { throw ModelError("iterations must be ≥ 0 and cg_steps > 0") }
        try ConfigurationLimits.checkIterations(iterations, "iterations")
        try ConfigurationLimits.checkFactors(factors, "factors")
        try ConfigurationLimits.checkIterations(cgSteps, "cg_steps")
    }

    func confidence(_ plays: Float) -> Float {
        switch confidence {
        case .log1p: 1 + Float(alpha) * Float(Foundation.log1p(Double(plays)))
        case .linear: 1 + Float(alpha) * plays
        }
    }
}

/// Implicit ALS.
public struct AlternatingLeastSquares: HistoryRecommender {
    public let name = "als"
    public let configuration: ALSConfiguration
    public let train: InteractionMatrix
    /// users × factors and items × factors, row-major.
    public let userFactors: [Float]
    public let itemFactors: [Float]
    /// The weighted squared loss after each iteration, when `trackLoss` is on.
    public let lossHistory: [Double]
    /// YᵀY + λI of the trained item factors, built on the first fold-in and kept.
    private let gramCache = LazyBox<[Float]>()
    private let panelCache = LazyBox<ItemPanel>()
    private let normPanelCache = LazyBox<NormOrderedPanel>()

    /// The item factors ordered by norm, for the top songs without scoring every song (built on first use).
    public var normPanel: NormOrderedPanel { normPanelCache.get { NormOrderedPanel(rows: itemFactors, items: train.itemCount, dims: configuration.factors) } }

    /// The item factors in panel order, for scoring (built on first use).
    public var panel: ItemPanel { panelCache.get { ItemPanel(rows: itemFactors, items: train.itemCount, dims: configuration.factors) } }

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration c: ALSConfiguration = ALSConfiguration()) throws {
        try c.validate()
        configuration = c
        self.train = train
        let f = c.factors
        var rng = SeededGenerator(seed: c.seed)
        var x = (0..<(train.userCount * f)).map { _ in Float(rng.nextDouble() * 0.01) }
        var y = (0..<(train.itemCount * f)).map { _ in Float(rng.nextDouble() * 0.01) }
        let confidences = train.values.map { c.confidence($0) }
        let items = train.transposed
        let itemConfidences = items.values.map { c.confidence($0) }
        var history: [Double] = []
        for _ in 0..<c.iterations {
            // A fit started from a task stops between iterations when the task is cancelled.
            if Task.isCancelled { throw CancellationError() }
            Self.solveRows(rows: train, confidences: confidences, target: &x, fixed: y, configuration: c)
            Self.solveRows(rows: items, confidences: itemConfidences, target: &y, fixed: x, configuration: c)
            if c.trackLoss { history.append(Self.loss(train, confidences, x, y, c)) }
        }
        userFactors = x
        itemFactors = y
        lossHistory = history
    }

    public init(train: InteractionMatrix, configuration c: ALSConfiguration, state: ModelState) throws {
        try c.validate()
        configuration = c
        self.train = train
        userFactors = try state.floats("user_factors")
        itemFactors = try state.floats("item_factors")
        try ModelState.require(userFactors.count, train.userCount * c.factors, "user_factors")
        try ModelState.require(itemFactors.count, train.itemCount * c.factors, "item_factors")
        lossHistory = []
    }

    public func state() -> ModelState {
        ModelState(arrays: ["user_factors": .float(userFactors), "item_factors": .float(itemFactors)])
    }

    /// YᵀY + λI for the fixed side (f × f).
    static func gram(_ y: [Float], rows: Int, f: Int, regularization: Double) -> [Float] {
        var g = [Float](repeating: 0, count: f * f)
        if rows > 0 {
            y.withUnsafeBufferPointer { Y in
                g.withUnsafeMutableBufferPointer { G in
                    BLAS.sgemm(transA: true, m: f, n: f, k: rows, a: Y.baseAddress!, lda: f, b: Y.baseAddress!, ldb: f, c: G.baseAddress!, ldc: f)
                }
            }
        }
        for i in 0..<f { g[i * f + i] += Float(regularization) }
        return g
    }

    /// CG steps for every row of `rows` (users when fixed = item factors, or the reverse).
    static func solveRows(rows: InteractionMatrix, confidences: [Float], target: inout [Float], fixed: [Float], configuration c: ALSConfiguration) {
        let f = c.factors
        let yty = gram(fixed, rows: rows.itemCount, f: f, regularization: c.regularization)
        // Pieces of equal work (a row costs its plays plus the f × f product, f/2 plays' worth),
        // not equal row counts: on a Zipf catalogue the first eighth of the songs holds half the
        // plays, and one thread solved it while the other waited.
        let ranges = ParallelLoop.balancedRanges(count: rows.userCount, chunks: ParallelLoop.defaultWorkers * 8) { rows.rowRange($0).count + f / 2 }
        target.withUnsafeMutableBufferPointer { T in
            nonisolated(unsafe) let t = T.baseAddress!
            ParallelLoop.forEach(ranges: ranges) { _, range in
                var scratch = CGScratch(f: f)
                fixed.withUnsafeBufferPointer { Y in
                    yty.withUnsafeBufferPointer { G in
                        for u in range {
                            let r = rows.rowRange(u)
                            conjugateGradient(x: t + u * f, f: f, gram: G.baseAddress!, fixed: Y.baseAddress!,
                                              items: rows.columnIndices[r], confidences: confidences[r], steps: c.cgSteps, scratch: &scratch)
                        }
                    }
                }
            }
        }
    }

    struct CGScratch {
        var r: [Float], p: [Float], ap: [Float]
        init(f: Int) {
            r = [Float](repeating: 0, count: f)
            p = r
            ap = r
        }
    }

    /// `steps` CG iterations on (G + Σ (c − 1) y yᵀ) x = Σ c y, from the x given.
    static func conjugateGradient(x: UnsafeMutablePointer<Float>, f: Int, gram: UnsafePointer<Float>, fixed: UnsafePointer<Float>,
                                  items: ArraySlice<Int32>, confidences: ArraySlice<Float>, steps: Int, scratch: inout CGScratch) {
        scratch.r.withUnsafeMutableBufferPointer { R in
            scratch.p.withUnsafeMutableBufferPointer { P in
                scratch.ap.withUnsafeMutableBufferPointer { AP in
                    let r = R.baseAddress!, p = P.baseAddress!, ap = AP.baseAddress!
                    // r = b − A x = −G x + Σ (c − (c − 1) yᵀx) y
                    BLAS.sgemv(m: f, n: f, alpha: -1, a: gram, lda: f, x: UnsafePointer(x), y: r)
                    for (i, conf) in zip(items, confidences) {
                        let yi = fixed + Int(i) * f
                        VectorKernels.axpy(conf - (conf - 1) * VectorKernels.dot(yi, x, f), yi, r, f)
                    }
                    for k in 0..<f { p[k] = r[k] }
                    var rsold = VectorKernels.dot(r, r, f)
                    if rsold < 1e-20 { return }
                    for _ in 0..<steps {
                        BLAS.sgemv(m: f, n: f, a: gram, lda: f, x: UnsafePointer(p), y: ap)
                        for (i, conf) in zip(items, confidences) {
                            let yi = fixed + Int(i) * f
                            VectorKernels.axpy((conf - 1) * VectorKernels.dot(yi, p, f), yi, ap, f)
                        }
                        let pap = VectorKernels.dot(p, ap, f)
                        guard pap > 0 else { return }
                        let alpha = rsold / pap
                        VectorKernels.axpy(alpha, p, x, f)
                        VectorKernels.axpy(-alpha, ap, r, f)
                        let rsnew = VectorKernels.dot(r, r, f)
                        if rsnew < 1e-20 { return }
                        for k in 0..<f { p[k] = r[k] + (rsnew / rsold) * p[k] }
                        rsold = rsnew
                    }
                }
            }
        }
    }

    /// Σ_ui c_ui (p_ui − x_uᵀy_i)² + λ(‖X‖² + ‖Y‖²), with p = 1 on plays and 0 elsewhere.
    static func loss(_ m: InteractionMatrix, _ conf: [Float], _ x: [Float], _ y: [Float], _ c: ALSConfiguration) -> Double {
        let f = c.factors
        // Σ over all pairs of (xᵀy)² = Σ_u xᵀ (YᵀY) x; plays add the confidence-weighted correction.
        let yty = gram(y, rows: m.itemCount, f: f, regularization: 0)
        var total = 0.0
        x.withUnsafeBufferPointer { X in
            y.withUnsafeBufferPointer { Y in
                yty.withUnsafeBufferPointer { G in
                    var tmp = [Float](repeating: 0, count: f)
                    for u in 0..<m.userCount {
                        let xu = X.baseAddress! + u * f
                        tmp.withUnsafeMutableBufferPointer { T in BLAS.sgemv(m: f, n: f, a: G.baseAddress!, lda: f, x: xu, y: T.baseAddress!) }
                        total += Double(tmp.withUnsafeBufferPointer { VectorKernels.dot($0.baseAddress!, xu, f) })
                        for k in m.rowRange(u) {
                            let s = Double(VectorKernels.dot(xu, Y.baseAddress! + Int(m.columnIndices[k]) * f, f))
                            total += Double(conf[k]) * (1 - s) * (1 - s) - s * s
                        }
                    }
                }
            }
        }
        let norms = x.reduce(0.0) { $0 + Double($1 * $1) } + y.reduce(0.0) { $0 + Double($1 * $1) }
        return total + c.regularization * norms
    }

    public func scoreAll(user: Int) -> [Float] {
        guard user >= 0, user < train.userCount else { return [Float](repeating: 0, count: train.itemCount) }
        return panel.scores(query: Array(userFactors[(user * configuration.factors)..<((user + 1) * configuration.factors)]))
    }


    /// Factors for a new or changed listening history (item index, plays), without retraining.
    public func recalculateUser(history: [(item: Int, plays: Float)]) -> [Float] {
        let valid = history.filter { $0.item >= 0 && $0.item < train.itemCount && $0.plays.isFinite && $0.plays > 0 }
        guard let h = try? UserHistory(items: valid.map(\.item), weights: valid.map(\.plays), itemCount: train.itemCount) else {
            return [Float](repeating: 0, count: configuration.factors)
        }
        return recalculateUser(history: h)
    }

    /// The user's least-squares system solved against the trained item factors (CG to
    /// convergence), with YᵀY + λI computed once per model.
    public func recalculateUser(history: UserHistory) -> [Float] {
        let f = configuration.factors
        var x = [Float](repeating: 0, count: f)
        let yty = gramCache.get { Self.gram(itemFactors, rows: train.itemCount, f: f, regularization: configuration.regularization) }
        var scratch = CGScratch(f: f)
        let items = ArraySlice(history.items.map { Int32($0) })
        let conf = ArraySlice(history.weights.map { configuration.confidence($0) })
        x.withUnsafeMutableBufferPointer { X in
            itemFactors.withUnsafeBufferPointer { Y in
                yty.withUnsafeBufferPointer { G in
                    Self.conjugateGradient(x: X.baseAddress!, f: f, gram: G.baseAddress!, fixed: Y.baseAddress!, items: items, confidences: conf,
                                           steps: 4 * f, scratch: &scratch)
                }
            }
        }
        return x
    }

    /// Scores of every item for a history: its folded-in factors against the item factors.
    public func scoreAll(history: UserHistory) -> [Float] {
        panel.scores(query: recalculateUser(history: history))
    }
}

extension ALSConfiguration {
    /// Both factor matrices, YᵀY and per-thread CG vectors.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        let f = Double(factors)
        return (Double(users) + Double(items)) * f * 4 + f * f * 8 + 64 * f * 4
    }
}
