// The report's hybrid clustering model: users and songs are clustered separately with k-means
// (users as rows of the log1p play matrix, songs as its columns, both first reduced by a
// truncated SVD to `dimensions` (64) so that a million users still cluster quickly; 0 keeps the
// raw rows). The prediction for (u, i) is the mean of two estimates: what u's cluster played of
// i (the mean value over the cluster's listeners of i), and what u played of i's cluster (u's
// mean value over the songs of that cluster). When one estimate is missing the other stands;
// when both are, the user's mean, then the song's mean, then the global mean (and the
// prediction counts as impossible only in that last case). fit: O(SVD + k-means); predict: O(1).
import EncoreData
import EncoreMath
import Foundation

/// Configuration of the hybrid; defaults are the report's (8 and 8 clusters, n_init 1); its
/// optimised setting is 7 user clusters, 5 item clusters, n_init 10.
public struct ClusteringConfiguration: Codable, Sendable, Equatable {
    public var userClusters: Int = 8
    public var itemClusters: Int = 8
    public var nInit: Int = 1
    public var maxIterations: Int = 300
    /// Truncated-SVD dimensions before k-means (0: cluster the raw rows).
    public var dimensions: Int = 64
    public var seed: UInt64 = 42

    public init() {}

    public func validate() throws {
        guard userClusters > 0, itemClusters > 0 else { throw ModelError("cluster counts must be positive") }
        guard nInit > 0, maxIterations > 0, dimensions >= 0 else { throw ModelError("n_init and max_iterations must be positive, dimensions ≥ 0") }
        try ConfigurationLimits.checkIterations(maxIterations, "max_iterations")
        try ConfigurationLimits.checkIterations(nInit, "n_init")
    }
}

/// How a row (column, value pairs) becomes a feature vector: its projection on a truncated SVD's
/// components, or the dense row itself. Training rows and new histories go through the same code.
public struct FeatureProjection: Sendable, Equatable {
    /// columns × dimensions (row j: the loadings of column j); empty when the row is the feature.
    public let loadings: [Float]
    public let columns: Int
    public let dimensions: Int

    public init(loadings: [Float], columns: Int, dimensions: Int) throws {
        guard columns >= 0, dimensions >= 0, loadings.isEmpty ? dimensions == columns : loadings.count == columns * dimensions else {
            throw ModelError("a feature projection of \(loadings.count) loadings does not fit \(columns) columns and \(dimensions) dimensions")
        }
        self.loadings = loadings
        self.columns = columns
        self.dimensions = dimensions
    }

    /// The features of a row, added into `out` (length `dimensions`, zeroed by the caller).
    public func project<I: Sequence<Int>, W: Sequence<Float>>(items: I, weights: W, into out: UnsafeMutableBufferPointer<Float>) {
        let k = dimensions
        for (j, v) in zip(items, weights) where j >= 0 && j < columns {
            if loadings.isEmpty { out[j] += v; continue }
            let base = j * k
            for c in 0..<k { out[c] += v * loadings[base + c] }
        }
    }

    public func project(items: [Int], weights: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: dimensions)
        out.withUnsafeMutableBufferPointer { project(items: items, weights: weights, into: $0) }
        return out
    }
}

/// Features of the rows of a sparse matrix: X Vᵀ on a truncated SVD's `dimensions` components,
/// or the dense rows when `dimensions` is 0 or not below the matrix's sides.
public struct ClusterFeatures: Sendable {
    public let projection: FeatureProjection
    /// rows × dimensions.
    public let features: DenseMatrix

    public init(_ m: InteractionMatrix, dimensions: Int, seed: UInt64) throws {
        let n = m.userCount, d = m.itemCount
        if dimensions == 0 || dimensions >= min(n, d) {
            projection = try FeatureProjection(loadings: [], columns: d, dimensions: d)
        } else {
            let result = try RandomizedPCA.fit(rows: n, columns: d, components: dimensions, oversampling: 10, powerIterations: 4, seed: seed,
                rowTimes: { i, b, width, out in
                    for k in m.rowRange(i) {
                        let v = Double(m.values[k]), j = Int(m.columnIndices[k])
                        for c in 0..<width { out[c] += v * b[j * width + c] }
                    }
                },
                transposeTimes: { q, width, out in
                    for i in 0..<n { for k in m.rowRange(i) {
                        let v = Double(m.values[k]), j = Int(m.columnIndices[k])
                        for c in 0..<width { out[j * width + c] += v * q[i * width + c] }
                    } }
                })
            let comps = result.components
            var loadings = [Float](repeating: 0, count: d * dimensions)
            for c in 0..<dimensions { for j in 0..<d { loadings[j * dimensions + c] = comps.values[c * d + j] } }
            projection = try FeatureProjection(loadings: loadings, columns: d, dimensions: dimensions)
        }
        let k = projection.dimensions, p = projection
        var values = [Float](repeating: 0, count: n * k)
        values.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            ParallelLoop.forEachChunk(count: n) { _, range in
                for u in range {
                    let r = m.rowRange(u)
                    p.project(items: r.lazy.map { Int(m.columnIndices[$0]) }, weights: r.lazy.map { m.values[$0] },
                              into: UnsafeMutableBufferPointer(rebasing: out[(u * k)..<((u + 1) * k)]))
                }
            }
        }
        features = DenseMatrix(rows: n, columns: k, values: values)
    }

    /// The features alone (cluster analysis).
    public static func rows(_ m: InteractionMatrix, dimensions: Int, seed: UInt64) throws -> DenseMatrix {
        try ClusterFeatures(m, dimensions: dimensions, seed: seed).features
    }
}

/// The report's KMeans user/song clustering hybrid.
public struct ClusteringHybrid: RatingPredictor {
    public let name = "clustering"
    public let configuration: ClusteringConfiguration
    public let train: InteractionMatrix
    public let userLabels: [Int32]
    public let itemLabels: [Int32]
    /// user cluster × item: mean value of the cluster's listeners of the item (NaN when none).
    let clusterItemMean: [Float]
    /// user × item cluster: the user's mean value over the cluster's songs (NaN when none).
    let userClusterMean: [Float]
    let userMean: [Float]
    let itemMean: [Float]
    let profile: TrainingProfile
    /// How a listening history becomes user features, and the user centroids in that space (for
    /// history scoring; absent in artifacts written before they were saved).
    let userProjection: FeatureProjection?
    let userCentres: DenseMatrix?

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration c: ClusteringConfiguration = ClusteringConfiguration()) throws {
        try c.validate()
        let activeUsers = (0..<train.userCount).filter { !train.rowRange($0).isEmpty }
        let itemDegrees = train.itemDegrees()
        let activeItems = (0..<train.itemCount).filter { itemDegrees[$0] > 0 }
        guard c.userClusters <= activeUsers.count else { throw ModelError("\(c.userClusters) user clusters but only \(activeUsers.count) users with plays") }
        guard c.itemClusters <= activeItems.count else { throw ModelError("\(c.itemClusters) song clusters but only \(activeItems.count) songs with plays") }
        let userSpace = try ClusterFeatures(train, dimensions: c.dimensions, seed: c.seed)
        let userFeatures = userSpace.features.rows(activeUsers)
        let itemFeatures = try ClusterFeatures.rows(train.transposed, dimensions: c.dimensions, seed: c.seed).rows(activeItems)
        var ku = KMeansConfiguration(k: c.userClusters, nInit: c.nInit, seed: c.seed)
        ku.maxIterations = c.maxIterations
        var ki = KMeansConfiguration(k: c.itemClusters, nInit: c.nInit, seed: c.seed ^ 0x1715)
        ki.maxIterations = c.maxIterations
        let ur = try KMeans.fit(userFeatures, configuration: ku)
        let ir = try KMeans.fit(itemFeatures, configuration: ki)
        var userLabels = [Int32](repeating: -1, count: train.userCount)
        for (n, u) in activeUsers.enumerated() { userLabels[u] = ur.labels[n] }
        var itemLabels = [Int32](repeating: -1, count: train.itemCount)
        for (n, i) in activeItems.enumerated() { itemLabels[i] = ir.labels[n] }
        try self.init(train: train, configuration: c, userLabels: userLabels, itemLabels: itemLabels,
                      userProjection: userSpace.projection, userCentres: ur.centres)
    }

    init(train: InteractionMatrix, configuration c: ClusteringConfiguration, userLabels: [Int32], itemLabels: [Int32],
         userProjection: FeatureProjection? = nil, userCentres: DenseMatrix? = nil) throws {
        configuration = c
        self.userProjection = userProjection
        self.userCentres = userCentres
        self.train = train
        self.userLabels = userLabels
        self.itemLabels = itemLabels
        profile = TrainingProfile(train)
        let ku = c.userClusters, ki = c.itemClusters, nI = train.itemCount, nU = train.userCount
        var sumCI = [Double](repeating: 0, count: ku * nI), cntCI = [Int32](repeating: 0, count: ku * nI)
        var sumUC = [Double](repeating: 0, count: nU * ki), cntUC = [Int32](repeating: 0, count: nU * ki)
        var uSum = [Double](repeating: 0, count: nU), uCnt = [Int](repeating: 0, count: nU)
        var iSum = [Double](repeating: 0, count: nI), iCnt = [Int](repeating: 0, count: nI)
        for u in 0..<nU {
            for k in train.rowRange(u) {
                let i = Int(train.columnIndices[k]), v = Double(train.values[k])
                let cu = Int(userLabels[u]), ci = Int(itemLabels[i])
                guard cu >= 0, ci >= 0 else { continue }
                sumCI[cu * nI + i] += v; cntCI[cu * nI + i] += 1
                sumUC[u * ki + ci] += v; cntUC[u * ki + ci] += 1
                uSum[u] += v; uCnt[u] += 1
                iSum[i] += v; iCnt[i] += 1
            }
        }
        clusterItemMean = (0..<(ku * nI)).map { cntCI[$0] > 0 ? Float(sumCI[$0] / Double(cntCI[$0])) : .nan }
        userClusterMean = (0..<(nU * ki)).map { cntUC[$0] > 0 ? Float(sumUC[$0] / Double(cntUC[$0])) : .nan }
        userMean = (0..<nU).map { uCnt[$0] > 0 ? Float(uSum[$0] / Double(uCnt[$0])) : .nan }
        itemMean = (0..<nI).map { iCnt[$0] > 0 ? Float(iSum[$0] / Double(iCnt[$0])) : .nan }
    }

    public init(train: InteractionMatrix, configuration c: ClusteringConfiguration, state: ModelState) throws {
        try c.validate()
        let ul = try state.int32s("user_labels"), il = try state.int32s("item_labels")
        try ModelState.require(ul.count, train.userCount, "user_labels")
        try ModelState.require(il.count, train.itemCount, "item_labels")
        guard ul.allSatisfy({ $0 >= -1 && $0 < c.userClusters }), il.allSatisfy({ $0 >= -1 && $0 < c.itemClusters }) else {
            throw ModelError("cluster labels out of range")
        }
        // The history-scoring arrays: both or neither (an artifact from before they were saved).
        var projection: FeatureProjection? = nil, centres: DenseMatrix? = nil
        if state.arrays["user_centres"] != nil || state.arrays["user_loadings"] != nil {
            let loadings = try state.floats("user_loadings"), flat = try state.floats("user_centres")
            let dims = loadings.isEmpty ? train.itemCount : loadings.count / max(train.itemCount, 1)
            projection = try FeatureProjection(loadings: loadings, columns: train.itemCount, dimensions: dims)
            try ModelState.require(flat.count, c.userClusters * dims, "user_centres")
            centres = DenseMatrix(rows: c.userClusters, columns: dims, values: flat)
        }
        try self.init(train: train, configuration: c, userLabels: ul, itemLabels: il, userProjection: projection, userCentres: centres)
    }

    public func state() -> ModelState {
        var arrays: [String: StateArray] = ["user_labels": .int32(userLabels), "item_labels": .int32(itemLabels)]
        if let p = userProjection, let c = userCentres {
            arrays["user_loadings"] = .float(p.loadings)
            arrays["user_centres"] = .float(c.values)
        }
        return ModelState(arrays: arrays)
    }

    public func predict(user u: Int, item i: Int) -> Prediction {
        profile.predict(user: u, item: i) { ku, ki throws(PredictionImpossible) in
            var estimates: [Double] = []
            if ku && ki {
                let a = clusterItemMean[Int(userLabels[u]) * train.itemCount + i]
                let b = userClusterMean[u * configuration.itemClusters + Int(itemLabels[i])]
                if a.isFinite { estimates.append(Double(a)) }
                if b.isFinite { estimates.append(Double(b)) }
            }
            if !estimates.isEmpty { return Estimate(estimates.reduce(0, +) / Double(estimates.count)) }
            if ku, userMean[u].isFinite { return Estimate(Double(userMean[u]), reason: "no cluster estimate: the user's mean") }
            if ki, itemMean[i].isFinite { return Estimate(Double(itemMean[i]), reason: "unknown user: the song's mean") }
            throw .unknown(knownUser: ku, knownItem: ki)
        }
    }

    public func scoreAll(user: Int) -> [Float] {
        guard profile.knows(user: user) else { return [Float](repeating: -.infinity, count: train.itemCount) }
        return (0..<train.itemCount).map { profile.knows(item: $0) ? Float(predict(user: user, item: $0).value) : -.infinity }
    }

    /// "More from your cluster": the songs the user's cluster played most (by listeners), unplayed by the user.
    public func moreFromCluster(user u: Int, k: Int) -> [ScoredItem] {
        guard profile.knows(user: u), k > 0 else { return [] }
        let cu = userLabels[u]
        var listeners = [Float](repeating: 0, count: train.itemCount)
        for v in 0..<train.userCount where userLabels[v] == cu { for q in train.rowRange(v) { listeners[Int(train.columnIndices[q])] += 1 } }
        for q in train.rowRange(u) { listeners[Int(train.columnIndices[q])] = -.infinity }
        for i in 0..<listeners.count where listeners[i] == 0 { listeners[i] = -.infinity }
        return TopScores.select(listeners, k: k).map { ScoredItem(item: $0.index, score: Double($0.score), explanation: Explanation(kind: .clusterMates, sentence: "popular in your cluster")) }
    }
}

extension ClusteringConfiguration: ModelConfiguration {}

extension ClusteringConfiguration {
    /// Dense features of users and of items (the rows themselves when `dimensions` is 0 or not
    /// below the matrix's sides), the centroids and the cluster tables.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        let u = Double(users), i = Double(items)
        let d = dimensions == 0 || dimensions >= min(users, items) ? nil : Double(dimensions)
        let features = d.map { (u + i) * $0 * 4 * 3 } ?? u * i * 4 * 2
        return features + (Double(userClusters) + Double(itemClusters)) * (u + i) * 4
    }
}

extension ClusteringHybrid: HistoryRecommender {
    /// The history's user cluster: its features (the training projection) against the user
    /// centroids, nearest by squared distance as k-means' last assignment; nil when it cannot be
    /// placed (an empty history, or an artifact without centroids).
    public func userCluster(history: UserHistory) -> Int? {
        guard !history.isEmpty, let p = userProjection, let centres = userCentres else { return nil }
        let x = DenseMatrix(rows: 1, columns: p.dimensions, values: p.project(items: history.items, weights: history.weights))
        let label = KMeans.assign(x, norms: KMeans.rowNorms(x), centres: centres).labels[0]
        return label >= 0 ? Int(label) : nil
    }

    /// predict's formula with the history in the user's place: its nearest user centroid's mean of
    /// each song, and the history's own mean over each song cluster; then the history's mean.
    public func scoreAll(history: UserHistory) -> [Float] {
        let nI = train.itemCount, ki = configuration.itemClusters
        guard let cu = userCluster(history: history) else { return [Float](repeating: -.infinity, count: nI) }
        var sum = [Double](repeating: 0, count: ki), count = [Int](repeating: 0, count: ki)
        var total = 0.0, n = 0
        for (i, w) in zip(history.items, history.weights) where profile.knows(item: i) {
            let ci = Int(itemLabels[i])
            guard ci >= 0 else { continue }
            sum[ci] += Double(w); count[ci] += 1
            total += Double(w); n += 1
        }
        let mean = n > 0 ? total / Double(n) : Double.nan
        return (0..<nI).map { i -> Float in
            guard profile.knows(item: i) else { return -.infinity }
            return Float(profile.resolve { () throws(PredictionImpossible) -> Estimate in
                var estimates: [Double] = []
                let a = clusterItemMean[cu * nI + i]
                let ci = Int(itemLabels[i])
                if a.isFinite { estimates.append(Double(a)) }
                if ci >= 0, count[ci] > 0 { estimates.append(Double(Float(sum[ci] / Double(count[ci])))) }
                if !estimates.isEmpty { return Estimate(estimates.reduce(0, +) / Double(estimates.count)) }
                if mean.isFinite { return Estimate(Double(Float(mean))) }
                return Estimate(Double(itemMean[i]))
            }.value)
        }
    }
}
