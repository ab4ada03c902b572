// LightGCN (He, Deng, Wang, Li, Zhang, Wang: "LightGCN: Simplifying and Powering Graph
// Convolution Network for Recommendation", SIGIR 2020), as its reference implementation trains
// it: users and songs are nodes of the play graph; one 64-d embedding per node (layer 0) is
// propagated through L layers of Â = D^-1/2 A D^-1/2 with no feature transform and no
// non-linearity; the final embedding is the mean of layers 0..L and a score is a dot product.
// Each epoch draws as many (user, played song, unplayed song) triples as there are plays (user
// uniform, played song uniform among the user's, the other uniform over songs and redrawn while
// played), in batches of 2048; each batch runs the whole propagation forward and backward on the
// EncoreNN tape, minimises mean −log σ(x_ui − x_uj) + λ/2 ‖batch's layer-0 rows‖² / batch, and
// takes an Adam step on every embedding. The propagation cannot be shared between the batches of
// an epoch: every Adam step changes all the layer-0 embeddings it reads.
// Batches are sampled from their own random streams in parallel; each propagation is parallel
// over rows. fit: O(epochs · nnz/batch · L · (nnz + U + I) · f); recommend: O(items · f).

import EncoreData
import EncoreMath
import EncoreNN
import Foundation

/// Configuration of LightGCN; defaults as the reference implementation (64-d, 3 layers, Adam
/// 1e-3, L2 1e-4, batch 2048), with the epochs that pass EASE on the Last.fm split.
public struct LightGCNConfiguration: Codable, Sendable, Equatable, ModelConfiguration {
    public var factors: Int = 64
    public var layers: Int = 3
    public var learningRate: Double = 1e-3
    public var regularization: Double = 1e-4
    public var batchSize: Int = 2048
    public var epochs: Int = 600
    /// Standard deviation of the Gaussian start of the layer-0 embeddings (the reference's 0.1).
    public var initStd: Double = 0.1
    public var seed: UInt64 = 42

    public init() {}

    public func validate() throws {
        try ConfigurationLimits.checkFactors(factors, "factors")
        try ConfigurationLimits.checkIterations(epochs, "epochs")
        guard layers >= 0, layers <= 16 else { throw ModelError("layers must be between 0 and 16, got \(layers)") }
        guard learningRate > 0, learningRate.isFinite else { throw ModelError("learning_rate must be positive") }
        guard regularization >= 0, regularization.isFinite else { throw ModelError("regularization must be ≥ 0") }
        guard batchSize >= 1, batchSize <= 1 << 20 else { throw ModelError("batch_size must be between 1 and 1048576") }
        guard initStd > 0, initStd.isFinite else { throw ModelError("init_std must be positive") }
    }

    /// Layer-0 embeddings, Adam's two moments and the gradient; the L + 2 layer tensors and their
    /// gradients on the tape.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        Double(users + items) * Double(factors) * 4 * Double(4 + 2 * (layers + 2))
    }

    public var divergenceHint: String { learningRateHint }
}

/// A trained LightGCN: the final (layer-mean) embeddings of users and songs.
public struct LightGCN: Recommender {
    public let name = "lightgcn"
    public let configuration: LightGCNConfiguration
    public let train: InteractionMatrix
    /// users × f and items × f, the mean over layers 0..L.
    public let userEmbeddings: [Float]
    public let itemEmbeddings: [Float]
    /// The mean training loss (BPR + L2) of each epoch.
    public let lossHistory: [Double]

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    /// Trains; `progress` hears each finished epoch, its mean loss and a way to take the model as
    /// it stands (for learning curves; the snapshot costs one propagation).
    public init(train: InteractionMatrix, configuration c: LightGCNConfiguration = LightGCNConfiguration(),
                progress: ((_ epoch: Int, _ loss: Double, _ snapshot: () -> LightGCN) -> Void)? = nil) throws {
        try c.validate()
        configuration = c
        self.train = train
        let users = train.userCount, items = train.itemCount, f = c.factors
        let adjacency = SparseOperator(BipartiteGraph.normalizedAdjacency(train, weight: .binary, selfLoops: false), symmetric: true)
        let embeddings = Parameter(name: "embeddings", rows: users + items, columns: f, std: c.initStd, seed: c.seed)
        let adam = Adam(parameters: [embeddings], learningRate: Float(c.learningRate))
        let tape = Tape()
        let sampler = TripleSampler(train)
        let batches = (sampler.count + c.batchSize - 1) / c.batchSize
        var history: [Double] = []
        for epoch in 0..<c.epochs {
            if Task.isCancelled { throw CancellationError() }
            let triples = sampler.draw(seed: c.seed, epoch: epoch, batchSize: c.batchSize)
            var total = 0.0
            for b in 0..<batches {
                let range = (b * c.batchSize)..<min(sampler.count, (b + 1) * c.batchSize)
                total += Self.step(tape, embeddings, adjacency, layers: c.layers, regularization: c.regularization, adam: adam,
                                   users: Array(triples.users[range]), positives: Array(triples.positives[range]), negatives: Array(triples.negatives[range]))
            }
            history.append(batches > 0 ? total / Double(batches) : 0)
            if let progress {
                progress(epoch + 1, history.last ?? 0) {
                    let (u, i) = Self.finalEmbeddings(embeddings, adjacency, layers: c.layers, users: users)
                    return LightGCN(train: train, configuration: c, users: u, items: i, history: history)
                }
            }
        }
        (userEmbeddings, itemEmbeddings) = Self.finalEmbeddings(embeddings, adjacency, layers: c.layers, users: users)
        lossHistory = history
    }

    init(train: InteractionMatrix, configuration: LightGCNConfiguration, users: [Float], items: [Float], history: [Double]) {
        self.train = train
        self.configuration = configuration
        userEmbeddings = users
        itemEmbeddings = items
        lossHistory = history
    }

    /// The layer mean of every node, split into users and songs.
    static func finalEmbeddings(_ e: Parameter, _ adjacency: SparseOperator, layers: Int, users: Int) -> ([Float], [Float]) {
        let tape = Tape(training: false)
        let final = tape.values(propagate(tape, tape.parameter(e), adjacency, layers: layers))
        let split = users * e.columns
        return (Array(final[0..<split]), Array(final[split...]))
    }

    /// One batch: the whole propagation, BPR on the batch's triples (node indices) plus
    /// λ/2 ‖their layer-0 rows‖² / batch, backward, one Adam step. Returns the loss.
    static func step(_ tape: Tape, _ embeddings: Parameter, _ adjacency: SparseOperator, layers: Int, regularization: Double, adam: Adam,
                     users u: [Int32], positives p: [Int32], negatives n: [Int32]) -> Double {
        tape.reset()
        adam.zeroGrad()
        let e0 = tape.parameter(embeddings)
        let final = propagate(tape, e0, adjacency, layers: layers)
        let eu = tape.gather(final, rows: u), ep = tape.gather(final, rows: p), en = tape.gather(final, rows: n)
        let ranking = tape.bprLoss(positive: tape.rowDot(eu, ep), negative: tape.rowDot(eu, en))
        let l2 = tape.add(tape.add(tape.squaredNorm(tape.gather(e0, rows: u)), tape.squaredNorm(tape.gather(e0, rows: p))),
                          tape.squaredNorm(tape.gather(e0, rows: n)))
        let loss = tape.add(ranking, tape.scale(l2, Float(regularization / 2 / Double(max(1, u.count)))))
        tape.backward(loss)
        adam.step()
        return Double(tape.values(loss)[0])
    }

    /// Mean of layers 0..L of Â^l E (one fused tape operation).
    static func propagate(_ tape: Tape, _ e0: Tensor, _ adjacency: SparseOperator, layers: Int) -> Tensor {
        tape.propagationMean(adjacency, e0, layers: layers)
    }

    public init(train: InteractionMatrix, configuration c: LightGCNConfiguration, state: ModelState) throws {
        try c.validate()
        configuration = c
        self.train = train
        userEmbeddings = try state.floats("user_embeddings")
        itemEmbeddings = try state.floats("item_embeddings")
        try ModelState.require(userEmbeddings.count, train.userCount * c.factors, "user_embeddings")
        try ModelState.require(itemEmbeddings.count, train.itemCount * c.factors, "item_embeddings")
        lossHistory = []
    }

    public func state() -> ModelState {
        ModelState(arrays: ["user_embeddings": .float(userEmbeddings), "item_embeddings": .float(itemEmbeddings)])
    }

    public func scoreAll(user: Int) -> [Float] {
        guard user >= 0, user < train.userCount else { return [Float](repeating: .nan, count: train.itemCount) }
        return VectorKernels.matrixVector(itemEmbeddings, rows: train.itemCount, columns: configuration.factors, x: userEmbeddings, offset: user * configuration.factors)
    }

    public func recommend(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem] {
        let top = unplayedTop(user: user, k: k, excluding: excluding)
        guard !top.isEmpty else { return [] }
        let played = train.row(user).items.map(Int.init)
        return top.map { ScoredItem(item: $0.index, score: Double($0.score), explanation: explain($0.index, played: played)) }
    }

    /// The played songs nearest to `item` in the final embedding space (cosine), best first.
    func explain(_ item: Int, played: [Int]) -> Explanation? {
        let f = configuration.factors
        guard !played.isEmpty else { return nil }
        let nearest = itemEmbeddings.withUnsafeBufferPointer { e -> [Int] in
            let base = e.baseAddress!
            let target = base + item * f
            let tn = VectorKernels.dot(target, target, f).squareRoot()
            let scored = played.map { j -> (Int, Float) in
                let v = base + j * f
                let n = VectorKernels.dot(v, v, f).squareRoot() * tn
                return (j, n > 0 ? VectorKernels.dot(target, v, f) / n : 0)
            }
            return TopK.best(scored, k: 2) { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map(\.0)
        }
        let names = nearest.map { train.items[$0] }.joined(separator: " and ")
        return Explanation(kind: .becauseYouPlayed, songs: nearest, sentence: "near \(names), which you played, in LightGCN's embedding space")
    }
}

extension LightGCN: HistoryRecommender {
    /// A listener outside the training graph: the mean of the propagated embeddings of the
    /// history's songs stands for the user's embedding.
    public func scoreAll(history: UserHistory) -> [Float] {
        let f = configuration.factors
        var v = [Float](repeating: 0, count: f)
        guard !history.isEmpty else { return [Float](repeating: 0, count: train.itemCount) }
        for i in history.items {
            for q in 0..<f { v[q] += itemEmbeddings[i * f + q] }
        }
        let s = 1 / Float(history.count)
        for q in 0..<f { v[q] *= s }
        return VectorKernels.matrixVector(itemEmbeddings, rows: train.itemCount, columns: f, x: v)
    }
}

/// The reference implementation's triple sampling, batch by batch from independent streams.
struct TripleSampler: Sendable {
    let train: InteractionMatrix
    /// Users with at least one play.
    let active: [Int32]
    /// Triples per epoch: one per play.
    let count: Int

    init(_ train: InteractionMatrix) {
        self.train = train
        active = (0..<train.userCount).filter { !train.rowRange($0).isEmpty }.map(Int32.init)
        count = active.isEmpty || train.itemCount <= 1 ? 0 : train.nnz
    }

    /// Node indices: users as they are, songs offset by the user count.
    func draw(seed: UInt64, epoch: Int, batchSize: Int) -> (users: [Int32], positives: [Int32], negatives: [Int32]) {
        var users = [Int32](repeating: 0, count: count), pos = users, neg = users
        let m = train, offset = Int32(train.userCount), active = active
        users.withUnsafeMutableBufferPointer { U in
            pos.withUnsafeMutableBufferPointer { P in
                neg.withUnsafeMutableBufferPointer { N in
                    nonisolated(unsafe) let U = U, P = P, N = N
                    let batches = (count + batchSize - 1) / batchSize
                    ParallelLoop.forEachChunk(count: batches) { _, chunk in
                        for b in chunk {
                            var g = SeededGenerator(seed: seed, stream: UInt64(epoch) << 24 | UInt64(b))
                            for q in (b * batchSize)..<min(count, (b + 1) * batchSize) {
                                let u = Int(active[g.nextInt(below: active.count)])
                                let row = m.rowRange(u)
                                let i = m.columnIndices[row.lowerBound + g.nextInt(below: row.count)]
                                var j = Int32(g.nextInt(below: m.itemCount))
                                // A user who played every song keeps the last draw.
                                var tries = 0
                                while m.value(user: u, item: Int(j)) != nil && tries < 100 {
                                    j = Int32(g.nextInt(below: m.itemCount))
                                    tries += 1
                                }
                                U[q] = Int32(u)
                                P[q] = offset + i
                                N[q] = offset + j
                            }
                        }
                    }
                }
            }
        }
        return (users, pos, neg)
    }
}
