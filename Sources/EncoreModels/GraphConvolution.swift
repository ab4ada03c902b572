// The report's graph neural network, done properly: a two-layer graph convolutional network
// (Kipf & Welling, ICLR 2017: H' = σ(Â H W + b), Â = D^-1/2 (A + I) D^-1/2) over the user–song
// play graph, whose song nodes carry the song's sentence embedding (all-MiniLM-L6-v2 of title,
// release, artist and tags, 384-d; a 768-d DistilBERT folder works the same) plus the report's
// Song Popularity Score, and whose user nodes carry the mean of their songs' features (or a
// learned vector). An edge decoder predicts the play value of a (user, song) pair: the dot
// product of the two output embeddings plus a user bias, a song bias and the global mean, or a
// small MLP on the concatenated pair. Training starts the biases at BaselineOnly's ridge fit and
// minimises the mean squared error over every training play (one full-graph Adam step per epoch)
// plus a ridge on the biases, on the EncoreNN tape.
// A song nobody played still gets an estimate from its text features (through its self-loop).
// fit: O(epochs · ((U + I) · F · h + nnz · h)); predict: O(h) (O(h²) with the MLP).

import EncoreData
import EncoreMath
import EncoreNN
import EncoreText
import Foundation

/// Configuration of the GCN. The defaults were chosen on a validation split carved from the
/// Last.fm training file (biases started at BaselineOnly's fit, Adam 0.01, 150 full-graph epochs,
/// bias ridge 3; 300 epochs overfit, a constant 0.03 oscillates);
/// `GCNConfiguration.report` is the report's own setting (ReLU, Adam 1e-4, 30 epochs).
public struct GCNConfiguration: Codable, Sendable, Equatable, ModelConfiguration {
    public enum Activation: String, Codable, Sendable, CaseIterable {
        case relu
        case leakyRelu = "leaky_relu"
    }
    /// Song node inputs: the sentence embedding plus the popularity score, or a learned vector.
    public enum SongFeatures: String, Codable, Sendable, CaseIterable { case text, learned }
    /// User node inputs: the mean of the user's songs' inputs, or a learned vector.
    public enum UserFeatures: String, Codable, Sendable, CaseIterable { case mean, learned }
    public enum Decoder: String, Codable, Sendable, CaseIterable { case dot, mlp }

    public var hidden: Int = 64
    /// Width of learned node inputs.
    public var embedding: Int = 64
    public var activation: Activation = .leakyRelu
    /// LeakyReLU's slope below zero.
    public var slope: Double = 0.2
    public var edgeWeight: BipartiteGraph.EdgeWeight = .binary
    public var songFeatures: SongFeatures = .text
    public var userFeatures: UserFeatures = .mean
    public var decoder: Decoder = .dot
    /// User and song biases in the dot decoder.
    public var biases: Bool = true
    public var dropout: Double = 0
    public var learningRate: Double = 0.01
    /// The learning rate is multiplied by this after every epoch (1 keeps it constant); full-graph
    /// Adam at a constant 0.03 oscillates late in training.
    public var learningRateDecay: Double = 1
    /// Adam's L2 weight decay on every parameter.
    public var weightDecay: Double = 0
    /// Start the biases at BaselineOnly's fit (ALS, reg_u 15, reg_i 10) instead of zero.
    public var biasStart: Bool = true
    /// Ridge penalty λ on the user and song biases, as Surprise's baselines: the loss adds
    /// λ (Σ b_u² + Σ b_i²) / plays.
    public var biasRegularization: Double = 3
    public var epochs: Int = 150
    public var seed: UInt64 = 42
    /// The sentence encoder's folder (text features).
    public var modelDirectory: String = ".models/all-MiniLM-L6-v2"
    /// An embedding cache file for the song texts ("" for none).
    public var cache: String = ""
    /// Learned song inputs (with a warning) when the encoder or the catalogue is missing.
    public var fallbackToLearned: Bool = true

    public init() {}

    /// The report's setting: ReLU, Adam lr 1e-4, 30 epochs, a plain dot-product decoder.
    public static var report: GCNConfiguration {
        var c = GCNConfiguration()
        c.activation = .relu
        c.learningRate = 1e-4
        c.epochs = 30
        c.biases = false
        c.biasStart = false
        return c
    }

    public func validate() throws {
        try ConfigurationLimits.checkFactors(hidden, "hidden")
        try ConfigurationLimits.checkFactors(embedding, "embedding")
        try ConfigurationLimits.checkIterations(epochs, "epochs")
        guard learningRate > 0, learningRate.isFinite else { throw ModelError("learning_rate must be positive") }
        guard learningRateDecay > 0, learningRateDecay <= 1 else { throw ModelError("learning_rate_decay must be in (0, 1]") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw ModelError("weight_decay must be ≥ 0") }
        guard biasRegularization >= 0, biasRegularization.isFinite else { throw ModelError("bias_regularization must be ≥ 0") }
        guard dropout >= 0, dropout < 1 else { throw ModelError("dropout must be in [0, 1)") }
        guard slope >= 0, slope < 1 else { throw ModelError("slope must be in [0, 1)") }
    }

    /// Node inputs, two layers and their gradients, Adam's moments.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        let nodes = Double(users + items)
        let width = Double(songFeatures == .text ? 769 : embedding)
        return nodes * width * 4 * 4 + nodes * Double(hidden) * 4 * 12 + Double(nnz) * Double(hidden) * 4 * 6
    }

    public var divergenceHint: String { learningRateHint }

    /// The configured activation on one value (the decoder and a new user node outside the tape).
    func activate(_ x: Float) -> Float { x > 0 ? x : (activation == .relu ? 0 : Float(slope) * x) }
}

/// A trained GCN: the output embeddings of every node and the decoder.
public struct GraphConvolution: RatingPredictor {
    public let name: String
    public let configuration: GCNConfiguration
    public let train: InteractionMatrix
    /// users × h and items × h: the second layer's outputs.
    public let userEmbeddings: [Float]
    public let itemEmbeddings: [Float]
    public let userBias: [Float]
    public let itemBias: [Float]
    /// MLP decoder: W3 (2h × h), b3 (h), W4 (h), b4 (1); empty for the dot decoder.
    public let decoderWeights: [Float]
    public let globalMean: Double
    /// Whether songs without plays have real inputs (text features).
    public let itemsHaveFeatures: Bool
    /// For new listeners: the songs' rows of X W1 and of H1 W2 (items × h each), W2, b1 and b2.
    public let songFirstLayer: [Float]
    public let songSecondLayer: [Float]
    public let secondWeights: [Float]
    public let firstBias: [Float]
    public let secondBias: [Float]
    /// Each song's weighted degree in the training graph, its self-loop included.
    let songDegrees: [Float]
    /// Training MSE per epoch.
    public let lossHistory: [Double]
    public let warnings: [String]
    let profile: TrainingProfile

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration c: GCNConfiguration = GCNConfiguration(), catalog: Catalog?, name: String = "gcn") throws {
        try c.validate()
        self.name = name
        configuration = c
        self.train = train
        profile = TrainingProfile(train)
        globalMean = profile.globalMean
        let users = train.userCount, items = train.itemCount, h = c.hidden
        var notes: [String] = []

        // Song inputs: text embedding + popularity score, or learned.
        var songInputs: [Float]? = nil
        var width = c.embedding
        if c.songFeatures == .text {
            do {
                guard let catalog, catalog.count == items else { throw ModelError("the text features need a catalogue (--data, or --catalog with split files)") }
                let encoder = try SentenceEncoder(directory: c.modelDirectory)
                let (vectors, d) = try TransformerRecommender.songEmbeddings(catalog, encoder: encoder, cache: c.cache, batchSize: 64)
                let popularity = PopularityScore(train).scores
                var x = [Float](repeating: 0, count: items * (d + 1))
                for i in 0..<items {
                    for q in 0..<d { x[i * (d + 1) + q] = vectors[i * d + q] }
                    x[i * (d + 1) + d] = Float(popularity[i])
                }
                songInputs = x
                width = d + 1
            } catch {
                guard c.fallbackToLearned else { throw error }
                width = c.embedding
                notes.append("gcn: learned song inputs instead of text features (\(error))")
            }
        }
        itemsHaveFeatures = songInputs != nil
        warnings = notes

        let network = GCNNetwork(train: train, configuration: c, songInputs: songInputs, width: width)
        if network.useBiases && c.biasStart {
            // Start the biases at BaselineOnly's ridge fit (ALS, Surprise's λ): the network then
            // learns what the biases leave.
            let base = try Baselines.fit(train, configuration: BaselineConfiguration())
            network.userBias.assign(base.userBias.map(Float.init))
            network.itemBias.assign(base.itemBias.map(Float.init))
        }
        let adam = Adam(parameters: network.parameters, learningRate: Float(c.learningRate), weightDecay: Float(c.weightDecay))
        var pairUsers: [Int32] = [], pairItems: [Int32] = [], targets: [Float] = []
        pairUsers.reserveCapacity(train.nnz)
        for u in 0..<users {
            for k in train.rowRange(u) {
                pairUsers.append(Int32(u))
                pairItems.append(train.columnIndices[k])
                targets.append(train.values[k] - Float(globalMean))
            }
        }
        let tape = Tape()
        var history: [Double] = []
        for epoch in 0..<c.epochs {
            if Task.isCancelled { throw CancellationError() }
            tape.reset()
            adam.zeroGrad()
            let nodes = network.encode(tape, epoch: epoch)
            var loss = tape.meanSquaredError(network.decode(tape, nodes, users: pairUsers, items: pairItems), target: targets)
            if network.useBiases && c.biasRegularization > 0 {
                let ridge = tape.add(tape.squaredNorm(tape.parameter(network.userBias)), tape.squaredNorm(tape.parameter(network.itemBias)))
                loss = tape.add(loss, tape.scale(ridge, Float(c.biasRegularization / Double(max(1, targets.count)))))
            }
            tape.backward(loss)
            adam.step()
            adam.learningRate *= Float(c.learningRateDecay)
            history.append(Double(tape.values(loss)[0]))
        }
        lossHistory = history
        let final = Tape(training: false)
        let (output, xw, hw) = network.layers(final, epoch: 0)
        let nodes = final.values(output)
        userEmbeddings = Array(nodes[0..<(users * h)])
        itemEmbeddings = Array(nodes[(users * h)...])
        songFirstLayer = Array(final.values(xw)[(users * h)...])
        songSecondLayer = Array(final.values(hw)[(users * h)...])
        secondWeights = network.w2.values
        firstBias = network.b1.values
        secondBias = network.b2.values
        songDegrees = Self.songDegrees(train, weight: c.edgeWeight)
        userBias = network.useBiases ? network.userBias.values : []
        itemBias = network.useBiases ? network.itemBias.values : []
        decoderWeights = c.decoder == .mlp ? network.w3.values + network.b3.values + network.w4.values + network.b4.values : []
    }

    /// Each user's row scaled to sum 1 (binary plays).
    static func rowNormalised(_ m: InteractionMatrix) -> SparseMatrix {
        let values = (0..<m.userCount).flatMap { u -> [Float] in
            let n = m.rowRange(u).count
            return [Float](repeating: n > 0 ? 1 / Float(n) : 0, count: n)
        }
        guard let s = try? SparseMatrix(rows: m.userCount, columns: m.itemCount, rowPointers: m.rowPointers, columnIndices: m.columnIndices, values: values) else {
            preconditionFailure("an interaction matrix is valid CSR")
        }
        return s
    }

    public init(train: InteractionMatrix, configuration c: GCNConfiguration, state: ModelState, name: String = "gcn") throws {
        try c.validate()
        self.name = name
        configuration = c
        self.train = train
        profile = TrainingProfile(train)
        let h = c.hidden
        userEmbeddings = try state.floats("user_embeddings")
        itemEmbeddings = try state.floats("item_embeddings")
        userBias = try state.floats("user_bias")
        itemBias = try state.floats("item_bias")
        decoderWeights = try state.floats("decoder")
        let meta = try state.doubles("meta")
        songFirstLayer = try state.floats("song_first_layer")
        songSecondLayer = try state.floats("song_second_layer")
        secondWeights = try state.floats("w2")
        firstBias = try state.floats("b1")
        secondBias = try state.floats("b2")
        try ModelState.require(songFirstLayer.count, train.itemCount * h, "song_first_layer")
        try ModelState.require(songSecondLayer.count, train.itemCount * h, "song_second_layer")
        try ModelState.require(secondWeights.count, h * h, "w2")
        try ModelState.require(firstBias.count, h, "b1")
        try ModelState.require(secondBias.count, h, "b2")
        songDegrees = Self.songDegrees(train, weight: c.edgeWeight)
        try ModelState.require(userEmbeddings.count, train.userCount * h, "user_embeddings")
        try ModelState.require(itemEmbeddings.count, train.itemCount * h, "item_embeddings")
        guard userBias.isEmpty || (userBias.count == train.userCount && itemBias.count == train.itemCount) else { throw ModelError("gcn: biases do not match the data") }
        guard decoderWeights.isEmpty || decoderWeights.count == 2 * h * h + h + h + 1 else { throw ModelError("gcn: decoder weights do not match hidden \(h)") }
        try ModelState.require(meta.count, 2, "meta")
        globalMean = meta[0]
        itemsHaveFeatures = meta[1] != 0
        lossHistory = []
        warnings = []
    }

    public func state() -> ModelState {
        ModelState(arrays: ["user_embeddings": .float(userEmbeddings), "item_embeddings": .float(itemEmbeddings),
                            "user_bias": .float(userBias), "item_bias": .float(itemBias), "decoder": .float(decoderWeights),
                            "meta": .double([globalMean, itemsHaveFeatures ? 1 : 0]),
                            "song_first_layer": .float(songFirstLayer), "song_second_layer": .float(songSecondLayer),
                            "w2": .float(secondWeights), "b1": .float(firstBias), "b2": .float(secondBias)])
    }

    /// The decoder's value for a pair, global mean included.
    func estimate(user u: Int, item i: Int) -> Double {
        userEmbeddings.withUnsafeBufferPointer { ue in
            decode(ue.baseAddress! + u * configuration.hidden, bias: userBias.isEmpty ? 0 : userBias[u], item: i)
        }
    }

    /// The decoder on a user embedding `hu` with the user's bias.
    func decode(_ hu: UnsafePointer<Float>, bias: Float, item i: Int) -> Double {
        let h = configuration.hidden
        return itemEmbeddings.withUnsafeBufferPointer { ie in
            let hi = ie.baseAddress! + i * h
            guard !decoderWeights.isEmpty else {
                var v = Double(VectorKernels.dot(hu, hi, h)) + globalMean
                if !itemBias.isEmpty { v += Double(bias + itemBias[i]) }
                return v
            }
            return decoderWeights.withUnsafeBufferPointer { w in
                let w3 = w.baseAddress!, b3 = w3 + 2 * h * h, w4 = b3 + h, b4 = w4 + h
                var out = Double(b4[0])
                for q in 0..<h {
                    var z = b3[q]
                    for p in 0..<h { z += hu[p] * w3[p * h + q] + hi[p] * w3[(h + p) * h + q] }
                    out += Double(configuration.activate(z) * w4[q])
                }
                return out + globalMean
            }
        }
    }

    /// Weighted degree of every song node, the self-loop included (as the training adjacency).
    static func songDegrees(_ m: InteractionMatrix, weight: BipartiteGraph.EdgeWeight) -> [Float] {
        var d = [Float](repeating: 1, count: m.itemCount)
        for k in 0..<m.nnz { d[Int(m.columnIndices[k])] += weight == .binary ? 1 : max(0, m.values[k]) }
        return d
    }

    public func predict(user u: Int, item i: Int) -> Prediction {
        profile.predict(user: u, item: i) { (ku, ki) throws(PredictionImpossible) -> Estimate in
            guard ku, i >= 0, i < train.itemCount else { throw .unknown(knownUser: ku, knownItem: ki) }
            if ki || itemsHaveFeatures { return Estimate(estimate(user: u, item: i)) }
            // A song without plays or inputs: the user's side of the estimate, as BaselineOnly.
            guard !userBias.isEmpty else { throw .unknown(knownUser: ku, knownItem: ki) }
            return Estimate(globalMean + Double(userBias[u]), reason: "song unknown: the mean and the user's bias")
        }
    }

    public func scoreAll(user: Int) -> [Float] {
        guard user >= 0, user < train.userCount else { return [Float](repeating: .nan, count: train.itemCount) }
        return (0..<train.itemCount).map { Float(predict(user: user, item: $0).value) }
    }
}

/// The GCN's parameters and its forward pass on a tape: two convolutions over every node, then the
/// edge decoder over (user, song) pairs.
final class GCNNetwork {
    let configuration: GCNConfiguration
    let users: Int, items: Int, width: Int
    let adjacency: SparseOperator
    let songInputs: [Float]?
    let songParameter: Parameter?, userParameter: Parameter?
    let w1: Parameter, b1: Parameter, w2: Parameter, b2: Parameter
    let userBias: Parameter, itemBias: Parameter
    let w3: Parameter, b3: Parameter, w4: Parameter, b4: Parameter
    let useBiases: Bool
    /// The mean of each user's songs' inputs, when the song inputs are fixed.
    let meanOperator: SparseOperator?
    let constantUsers: [Float]?

    init(train: InteractionMatrix, configuration c: GCNConfiguration, songInputs: [Float]?, width: Int) {
        configuration = c
        users = train.userCount
        items = train.itemCount
        self.width = width
        self.songInputs = songInputs
        let h = c.hidden
        adjacency = SparseOperator(BipartiteGraph.normalizedAdjacency(train, weight: c.edgeWeight, selfLoops: true), symmetric: true)
        var seed = c.seed
        func nextSeed() -> UInt64 { seed &+= 0x9E37_79B9; return seed }
        songParameter = songInputs == nil ? Parameter(name: "song_inputs", rows: items, columns: width, std: 0.1, seed: nextSeed()) : nil
        userParameter = c.userFeatures == .learned ? Parameter(name: "user_inputs", rows: users, columns: width, std: 0.1, seed: nextSeed()) : nil
        w1 = Parameter(glorot: "w1", rows: width, columns: h, seed: nextSeed())
        b1 = Parameter(name: "b1", rows: 1, columns: h, values: .init(repeating: 0, count: h))
        w2 = Parameter(glorot: "w2", rows: h, columns: h, seed: nextSeed())
        b2 = Parameter(name: "b2", rows: 1, columns: h, values: .init(repeating: 0, count: h))
        useBiases = c.decoder == .dot && c.biases
        userBias = Parameter(name: "user_bias", rows: users, columns: 1, values: .init(repeating: 0, count: users))
        itemBias = Parameter(name: "item_bias", rows: items, columns: 1, values: .init(repeating: 0, count: items))
        w3 = Parameter(glorot: "w3", rows: 2 * h, columns: h, seed: nextSeed())
        b3 = Parameter(name: "b3", rows: 1, columns: h, values: .init(repeating: 0, count: h))
        w4 = Parameter(glorot: "w4", rows: h, columns: 1, seed: nextSeed())
        b4 = Parameter(name: "b4", rows: 1, columns: 1, values: [0])
        let mean: SparseOperator? = c.userFeatures == .mean ? SparseOperator(GraphConvolution.rowNormalised(train)) : nil
        meanOperator = mean
        if let mean, let songInputs {
            var out = [Float](repeating: 0, count: users * width)
            songInputs.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { o in
                mean.multiply(x.baseAddress!, d: width, into: o.baseAddress!, accumulate: false)
            } }
            constantUsers = out
        } else {
            constantUsers = nil
        }
    }

    /// Every trained parameter.
    var parameters: [Parameter] {
        var p = [w1, b1, w2, b2]
        if let songParameter { p.append(songParameter) }
        if let userParameter { p.append(userParameter) }
        if useBiases { p += [userBias, itemBias] }
        if configuration.decoder == .mlp { p += [w3, b3, w4, b4] }
        return p
    }

    func act(_ t: Tape, _ x: Tensor) -> Tensor {
        configuration.activation == .relu ? t.relu(x) : t.leakyReLU(x, slope: Float(configuration.slope))
    }

    /// H2 = Â (σ(Â X W1 + b1) W2) + b2 over every node: (U + I) × h, users first.
    func encode(_ t: Tape, epoch: Int) -> Tensor { layers(t, epoch: epoch).output }

    /// The output and the two pre-propagation products X W1 and H1 W2 (every node, users first).
    func layers(_ t: Tape, epoch: Int) -> (output: Tensor, xw: Tensor, hw: Tensor) {
        let xs = songParameter.map { t.parameter($0) } ?? t.constant(songInputs ?? [], rows: items, columns: width)
        let xu: Tensor
        if let userParameter {
            xu = t.parameter(userParameter)
        } else if let constantUsers {
            xu = t.constant(constantUsers, rows: users, columns: width)
        } else if let meanOperator {
            xu = t.sparseMultiply(meanOperator, xs)
        } else {
            preconditionFailure("user inputs are learned or a mean")
        }
        let w = t.parameter(w1)
        let xw = t.concatenateRows(t.matmul(xu, w), t.matmul(xs, w))
        var h1 = act(t, t.add(t.sparseMultiply(adjacency, xw), t.parameter(b1)))
        h1 = t.dropout(h1, p: configuration.dropout, seed: configuration.seed &+ UInt64(epoch))
        let hw = t.matmul(h1, t.parameter(w2))
        return (t.add(t.sparseMultiply(adjacency, hw), t.parameter(b2)), xw, hw)
    }

    /// The predicted value minus the global mean for each (user, song) pair.
    func decode(_ t: Tape, _ nodes: Tensor, users pu: [Int32], items pi: [Int32]) -> Tensor {
        let eu = t.gather(nodes, rows: pu), ei = t.gather(nodes, rows: pi.map { $0 + Int32(users) })
        switch configuration.decoder {
        case .dot:
            var out = t.rowDot(eu, ei)
            if useBiases { out = t.add(t.add(out, t.gather(t.parameter(userBias), rows: pu)), t.gather(t.parameter(itemBias), rows: pi)) }
            return out
        case .mlp:
            let z = act(t, t.add(t.matmul(t.concatenateColumns(eu, ei), t.parameter(w3)), t.parameter(b3)))
            return t.add(t.matmul(z, t.parameter(w4)), t.parameter(b4))
        }
    }
}

extension GraphConvolution: HistoryRecommender {
    /// A listener outside the training graph becomes a new user node joined to the history's songs
    /// (the songs' degrees as trained): its input is the mean of the songs' inputs (zero with
    /// learned user inputs), it passes through both convolutions against the songs' stored layer
    /// products, and its bias is the ridge fit of the history's residuals. For a training user the
    /// node embedding is the trained one; only the bias is refitted.
    public func scoreAll(history: UserHistory) -> [Float] {
        let h = configuration.hidden, n = train.itemCount
        guard !history.isEmpty else { return [Float](repeating: .nan, count: n) }
        let weights = configuration.edgeWeight == .binary ? [Float](repeating: 1, count: history.count) : history.weights
        let degree = 1 + weights.reduce(0, +)
        var first = [Float](repeating: 0, count: h), second = [Float](repeating: 0, count: h)
        songFirstLayer.withUnsafeBufferPointer { x in
            songSecondLayer.withUnsafeBufferPointer { y in
                let xw = x.baseAddress!, hw = y.baseAddress!
                first.withUnsafeMutableBufferPointer { f in
                    second.withUnsafeMutableBufferPointer { g in
                        for (j, w) in zip(history.items, weights) {
                            let a = w / (degree * songDegrees[j]).squareRoot()
                            VectorKernels.axpy(a, xw + j * h, f.baseAddress!, h)
                            VectorKernels.axpy(a, hw + j * h, g.baseAddress!, h)
                            // The user's own input: the mean of its songs' inputs, through W1 (linear).
                            if configuration.userFeatures == .mean {
                                VectorKernels.axpy(1 / (degree * Float(history.count)), xw + j * h, f.baseAddress!, h)
                            }
                        }
                    }
                }
            }
        }
        let h1 = (0..<h).map { configuration.activate(first[$0] + firstBias[$0]) }
        var user = [Float](repeating: 0, count: h)
        for q in 0..<h {
            var v = second[q] + secondBias[q]
            for p in 0..<h { v += h1[p] * secondWeights[p * h + q] / degree }
            user[q] = v
        }
        return user.withUnsafeBufferPointer { hu in
            var bias: Float = 0
            if !userBias.isEmpty {
                var residual = 0.0
                for (j, w) in zip(history.items, history.weights) { residual += Double(w) - decode(hu.baseAddress!, bias: 0, item: j) }
                bias = Float(residual / (Double(history.count) + configuration.biasRegularization))
            }
            return (0..<n).map { i in
                if !profile.knows(item: i) && !itemsHaveFeatures { return Float(profile.clip(globalMean + Double(bias))) }
                return Float(profile.clip(decode(hu.baseAddress!, bias: bias, item: i)))
            }
        }
    }
}
