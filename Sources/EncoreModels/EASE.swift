// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): B = I − P · diagMat(1 / diag(P)) with
// P = (XᵀX + λI)⁻¹, so B has a zero diagonal and a user's scores are x_u B. Two equal forms:
// primal inverts the items × items Gram matrix (memory items² × 4 bytes, O(items³)); dual uses
// Woodbury, K = (XXᵀ + λI)⁻¹ over users, X P = K X and diag(P)_j = (1 − x_jᵀ (K X)_j) / λ, so
// S = X − (K X) diag(1/diag P) (memory users² + users × items, O(users³ + nnz · users)). `form`
// "auto" picks the smaller side. Items nobody played cannot be ranked. A dual-form artifact stores
// K (users²) and recomputes K X and diag(P) when loaded, O(nnz · users), instead of storing K X
// (users × items: 117 MB against 14 MB on Last.fm's 1,892 users × 15,350 artists).
import CBLAS
import EncoreData
import EncoreMath

/// Configuration of EASE.
public struct EASEConfiguration: Codable, Sendable, Equatable {
    /// Which system is solved: items × items (primal), users × users (dual), or the smaller (auto).
    public enum Form: String, Codable, Sendable, CaseIterable { case auto, primal, dual }

    public var lambda: Double = 100
    /// "auto", "primal" or "dual".
    public var form: Form = .auto
    /// Refuse when the dense matrix side would exceed this (memory grows with its square).
    public var maxDimension: Int = 20_000
    public var binarize: Bool = true

    public init() {}

    public func validate() throws {
        guard lambda > 0 else { throw ModelError("EASE lambda must be positive, got \(lambda)") }
        guard maxDimension > 0 else { throw ModelError("max_dimension must be positive") }
    }
}

/// EASE, primal or dual.
public struct EASE: HistoryRecommender {
    public let name = "ease"
    public let configuration: EASEConfiguration
    public let train: InteractionMatrix
    /// "primal": `weights` is B over active items (items² floats). "dual": `weights` is K X (users × active items).
    public let form: EASEConfiguration.Form
    public let weights: [Float]
    /// 1 / diag(P) per active item (dual form only).
    public let inverseDiagonal: [Float]
    /// K = (XXᵀ + λI)⁻¹ (dual form only): what an artifact stores, K X being recomputed from it.
    let kInverse: [Float]
    /// Active item index → item, and item → active index (or −1).
    public let activeItems: [Int32]
    let activeOf: [Int32]

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    /// Bytes of the dense matrices the chosen form holds.
    public var memoryBytes: Int { (weights.count + kInverse.count) * 4 }

    public init(train: InteractionMatrix, configuration c: EASEConfiguration = EASEConfiguration()) throws {
        try c.validate()
        configuration = c
        self.train = train
        let degrees = train.itemDegrees()
        var active: [Int32] = []
        var activeOf = [Int32](repeating: -1, count: train.itemCount)
        for i in 0..<train.itemCount where degrees[i] > 0 {
            activeOf[i] = Int32(active.count)
            active.append(Int32(i))
        }
        self.activeItems = active
        self.activeOf = activeOf
        let nI = active.count, nU = train.userCount
        let chosen: EASEConfiguration.Form = c.form == .auto ? (nU < nI ? .dual : .primal) : c.form
        let side = chosen == .dual ? nU : nI
        guard side <= c.maxDimension else {
            throw ModelError("EASE \(chosen) form needs a dense \(side) × \(side) matrix (\(side * side * 4 / 1_048_576) MiB) and more; raise max_dimension above \(c.maxDimension) if that fits in memory")
        }
        form = chosen
        let lambda = Float(c.lambda)
        let x: (Int) -> Float = { k in c.binarize ? 1 : train.values[k] }
        if chosen == .primal {
            // G = XᵀX + λI over active items, accumulated from each user's items.
            var g = [Float](repeating: 0, count: nI * nI)
            for u in 0..<nU {
                let r = train.rowRange(u)
                for a in r {
                    let ia = Int(activeOf[Int(train.columnIndices[a])]), xa = x(a)
                    for b in r { g[ia * nI + Int(activeOf[Int(train.columnIndices[b])])] += xa * x(b) }
                }
            }
            for i in 0..<nI { g[i * nI + i] += lambda }
            try SymmetricInverse.invert(&g, n: nI)
            var diag = [Float](repeating: 0, count: nI)
            for j in 0..<nI { diag[j] = g[j * nI + j] }
            for i in 0..<nI { for j in 0..<nI { g[i * nI + j] = i == j ? 0 : -g[i * nI + j] / diag[j] } }
            weights = g
            inverseDiagonal = []
            kInverse = []
        } else {
            // K = (XXᵀ + λI)⁻¹ over users, from each item's raters.
            let cols = train.columns
            var k = [Float](repeating: 0, count: nU * nU)
            for j in 0..<train.itemCount {
                let r = cols.columnPointers[j]..<cols.columnPointers[j + 1]
                for a in r {
                    let ua = Int(cols.rowIndices[a]), xa: Float = c.binarize ? 1 : cols.values[a]
                    for b in r { k[ua * nU + Int(cols.rowIndices[b])] += xa * (c.binarize ? 1 : cols.values[b]) }
                }
            }
            for u in 0..<nU { k[u * nU + u] += lambda }
            try SymmetricInverse.invert(&k, n: nU)
            (weights, inverseDiagonal) = Self.dualProducts(k: k, train: train, active: active, binarize: c.binarize, lambda: lambda)
            kInverse = k
        }
    }

    /// K X (users × active items) and 1/diag(P) per active item, from K: (K X)[u, j] = Σ_{v rated j}
    /// K[u, v] x_vj, one column per active item, in parallel; diag(P)_j = (1 − x_jᵀ (K X)_j) / λ.
    static func dualProducts(k: [Float], train: InteractionMatrix, active: [Int32], binarize: Bool, lambda: Float) -> (kx: [Float], inverseDiagonal: [Float]) {
        let nU = train.userCount, nI = active.count
        let cols = train.columns
        var kx = [Float](repeating: 0, count: nU * nI)
        var invDiag = [Float](repeating: 0, count: nI)
        let kk = k
        kx.withUnsafeMutableBufferPointer { out in
            invDiag.withUnsafeMutableBufferPointer { dOut in
                nonisolated(unsafe) let o = out.baseAddress!, d = dOut.baseAddress!
                ParallelLoop.forEachChunk(count: nI) { [active] _, range in
                    var column = [Float](repeating: 0, count: nU)
                    kk.withUnsafeBufferPointer { K in
                        for a in range {
                            let j = Int(active[a])
                            for q in 0..<nU { column[q] = 0 }
                            let r = cols.columnPointers[j]..<cols.columnPointers[j + 1]
                            for q in r {
                                let v = Int(cols.rowIndices[q]), xv: Float = binarize ? 1 : cols.values[q]
                                let row = K.baseAddress! + v * nU  // K is symmetric: row v = column v
                                for u in 0..<nU { column[u] += xv * row[u] }
                            }
                            var s: Float = 0
                            for q in r { s += (binarize ? 1 : cols.values[q]) * column[Int(cols.rowIndices[q])] }
                            let p = (1 - s) / lambda
                            d[a] = p != 0 ? 1 / p : 0
                            for u in 0..<nU { o[u * nI + a] = column[u] }
                        }
                    }
                }
            }
        }
        return (kx, invDiag)
    }


    public init(train: InteractionMatrix, configuration c: EASEConfiguration, state: ModelState) throws {
        try c.validate()
        configuration = c
        self.train = train
        activeItems = try state.int32s("active_items")
        guard activeItems.allSatisfy({ $0 >= 0 && Int($0) < train.itemCount }) else { throw ModelError("EASE active items out of range") }
        if state.arrays["k_inverse"] != nil {
            // The dual form's K, from which K X and diag(P) are recomputed.
            let k = try state.floats("k_inverse")
            try ModelState.require(k.count, train.userCount * train.userCount, "k_inverse")
            kInverse = k
            form = .dual
            (weights, inverseDiagonal) = Self.dualProducts(k: k, train: train, active: activeItems, binarize: c.binarize, lambda: Float(c.lambda))
        } else {
            // A primal form, or a dual one saved with K X itself (artifacts before K was stored).
            weights = try state.floats("weights")
            inverseDiagonal = try state.floats("inverse_diagonal")
            kInverse = []
            form = inverseDiagonal.isEmpty ? .primal : .dual
        }
        let nI = activeItems.count
        try ModelState.require(weights.count, form == .primal ? nI * nI : train.userCount * nI, "weights")
        var activeOf = [Int32](repeating: -1, count: train.itemCount)
        for (a, i) in activeItems.enumerated() { activeOf[Int(i)] = Int32(a) }
        self.activeOf = activeOf
    }

    public func state() -> ModelState {
        if form == .dual, !kInverse.isEmpty {
            return ModelState(arrays: ["active_items": .int32(activeItems), "k_inverse": .float(kInverse)])
        }
        return ModelState(arrays: ["active_items": .int32(activeItems), "weights": .float(weights), "inverse_diagonal": .float(inverseDiagonal)])
    }

    public func scoreAll(user: Int) -> [Float] {
        var s = [Float](repeating: -.infinity, count: train.itemCount)
        guard user >= 0, user < train.userCount else { return s }
        let nI = activeItems.count
        if form == .primal {
            let r = train.rowRange(user)
            return primalScores(items: train.columnIndices[r].lazy.map { Int($0) }, weights: train.values[r])
        } else {
            var played = [Float](repeating: 0, count: nI)
            for q in train.rowRange(user) { played[Int(activeOf[Int(train.columnIndices[q])])] = configuration.binarize ? 1 : train.values[q] }
            for a in 0..<nI { s[Int(activeItems[a])] = played[a] - weights[user * nI + a] * inverseDiagonal[a] }
        }
        return s
    }

    /// x B over the active items: the history times the item-item weights.
    func primalScores<I: Collection, W: Collection>(items: I, weights history: W) -> [Float] where I.Element == Int, W.Element == Float {
        var s = [Float](repeating: -.infinity, count: train.itemCount)
        let nI = activeItems.count
        var acc = [Float](repeating: 0, count: nI)
        for (i, w) in zip(items, history) {
            let a = Int(activeOf[i])
            guard a >= 0 else { continue }
            let xa: Float = configuration.binarize ? 1 : w
            weights.withUnsafeBufferPointer { b in for j in 0..<nI { acc[j] += xa * b[a * nI + j] } }
        }
        for a in 0..<nI { s[Int(activeItems[a])] = acc[a] }
        return s
    }

    /// Scores of a history. Primal: x B. Dual: with P = (XᵀX + λI)⁻¹ = (I − Xᵀ K X) / λ, the
    /// history's x P = (x − Σ_v (x·x_v) (K X)_v) / λ and the scores are x − (x P) ⊙ 1/diag(P);
    /// O(history × listeners + users × items). Songs nobody played in training cannot be ranked.
    public func scoreAll(history: UserHistory) -> [Float] {
        if form == .primal { return primalScores(items: history.items, weights: history.weights) }
        var s = [Float](repeating: -.infinity, count: train.itemCount)
        let nI = activeItems.count
        var x = [Float](repeating: 0, count: nI)
        for (i, w) in zip(history.items, history.weights) where activeOf[i] >= 0 { x[Int(activeOf[i])] = configuration.binarize ? 1 : w }
        // (x · x_v) for every training user v that shares a song with the history.
        var overlap = [Float](repeating: 0, count: train.userCount)
        let columns = train.columns
        for (i, w) in zip(history.items, history.weights) where activeOf[i] >= 0 {
            let xa: Float = configuration.binarize ? 1 : w
            for q in columns.columnPointers[i]..<columns.columnPointers[i + 1] {
                overlap[Int(columns.rowIndices[q])] += xa * (configuration.binarize ? 1 : columns.values[q])
            }
        }
        var xp = x
        weights.withUnsafeBufferPointer { kx in
            for v in 0..<train.userCount where overlap[v] != 0 {
                VectorKernels.axpy(-overlap[v], kx.baseAddress! + v * nI, &xp, nI)
            }
        }
        let inverseLambda = Float(1 / configuration.lambda)
        for a in 0..<nI { s[Int(activeItems[a])] = x[a] - xp[a] * inverseLambda * inverseDiagonal[a] }
        return s
    }

}

extension EASEConfiguration {
    /// The dense Gram (or kernel) matrix and its inverse, plus the dual form's K X; the form as `fit` chooses it.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        let dual = form == .dual || (form == .auto && users < items)
        let side = Double(dual ? users : items)
        return side * side * 4 * 2 + (dual ? Double(users) * Double(items) * 4 : 0)
    }

    /// EASE is dense in the smaller side: past a few tens of thousands of songs (and listeners) it
    /// cannot fit, while the sparse models grow with the plays.
    public var memoryAdvice: String {
        "EASE's dense matrices grow with the square of the songs (or listeners): use item-knn (sparse top-k neighbours) or als (factors), which grow with the plays"
    }
}
