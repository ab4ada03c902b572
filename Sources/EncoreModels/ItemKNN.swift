// Item-based nearest neighbours for implicit feedback, as the `implicit` library's
// ItemItemRecommender family: the item × user matrix (binarised by default) is weighted by
// cosine normalisation, BM25 (Robertson; K1 = 100, B = 0.8, items as documents) or TF-IDF
// (√count · idf, then normalised); similarity = dot products of weighted item rows; each item
// keeps its K most similar items (itself included); a user's score for item j is
// Σ_{i played} x_ui · S[i, j]. Like Mahout's ItemSimilarityJob (maxPrefsPerUser), the
// similarities count at most `maxListenerSongs` songs of each listener, their most played (a
// listener of thousands of songs adds little signal and the square of their count in work; at the
// Million Song Dataset's size the cap of 500 cuts Σ d_u² from 3.9·10¹⁰ to 6.0·10⁹); scoring uses
// every played song. fit: O(Σ_u min(d_u, cap)²); recommend: O(d_u · K + items).
import EncoreData
import EncoreMath
import Foundation

/// Configuration of the implicit item-KNN.
public struct ItemKNNConfiguration: Codable, Sendable, Equatable {
    /// How plays are weighted before the cosine (implicit's CosineRecommender, BM25Recommender, TFIDFRecommender).
    public enum Weighting: String, Codable, Sendable, CaseIterable { case cosine, bm25, tfidf }

    /// "cosine", "bm25" or "tfidf".
    public var weighting: Weighting = .cosine
    /// Neighbours kept per item.
    public var k: Int = 100
    /// Treat every play count as 1.
    public var binarize: Bool = true
    public var bm25K1: Double = 100
    public var bm25B: Double = 0.8
    /// The most songs of one listener the similarities count (their most played); 0: all.
    public var maxListenerSongs: Int = 500

    public init() {}

    enum CodingKeys: String, CodingKey { case weighting, k, binarize, bm25K1, bm25B, maxListenerSongs }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        weighting = try c.decodeIfPresent(Weighting.self, forKey: .weighting) ?? .cosine
        k = try c.decodeIfPresent(Int.self, forKey: .k) ?? 100
        binarize = try c.decodeIfPresent(Bool.self, forKey: .binarize) ?? true
        bm25K1 = try c.decodeIfPresent(Double.self, forKey: .bm25K1) ?? 100
        bm25B = try c.decodeIfPresent(Double.self, forKey: .bm25B) ?? 0.8
        // Artifacts written before the cap counted every song.
        maxListenerSongs = try c.decodeIfPresent(Int.self, forKey: .maxListenerSongs) ?? 0
    }

    public func validate() throws {
        guard k > 0 else { throw ModelError("k must be positive, got \(k)") }
        guard maxListenerSongs >= 0 else { throw ModelError("maxListenerSongs must be 0 (all) or positive, got \(maxListenerSongs)") }
        guard bm25K1 >= 0, bm25B >= 0, bm25B <= 1 else { throw ModelError("bm25 needs K1 ≥ 0 and 0 ≤ B ≤ 1") }
    }
}

/// Item-item KNN for implicit data.
public struct ItemKNN: HistoryRecommender, SimilarItemsModel {
    public let name = "item-knn"
    public let configuration: ItemKNNConfiguration
    public let train: InteractionMatrix
    public let neighbours: SimilarityMatrix

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration c: ItemKNNConfiguration = ItemKNNConfiguration()) throws {
        try c.validate()
        self.configuration = c
        self.train = train
        // Weighted item × user rows, of each listener's most played songs up to the cap.
        let pruned = Self.capped(train, perListener: c.maxListenerSongs)
        let items = pruned.transposed
        let nItems = items.userCount, nUsers = items.itemCount
        var w = items.values.map { c.binarize ? Float(1) : $0 }
        let userDegree = pruned.userDegrees()
        switch c.weighting {
        case .bm25:
            let idf = userDegree.map { Float(log(Double(nItems)) - log1p(Double($0))) }
            var lengths = [Double](repeating: 0, count: nItems)
            for i in 0..<nItems { for k in items.rowRange(i) { lengths[i] += Double(w[k]) } }
            let average = max(lengths.reduce(0, +) / Double(max(nItems, 1)), 1e-12)
            for i in 0..<nItems {
                let norm = (1 - c.bm25B) + c.bm25B * lengths[i] / average
                for k in items.rowRange(i) {
                    let x = Double(w[k])
                    w[k] = Float(x * (c.bm25K1 + 1) / (c.bm25K1 * norm + x)) * idf[Int(items.columnIndices[k])]
                }
            }
        case .tfidf:
            let idf = userDegree.map { Float(log(Double(nItems)) - log1p(Double($0))) }
            for k in 0..<w.count { w[k] = w[k].squareRoot() * idf[Int(items.columnIndices[k])] }
            Self.normaliseRows(items, &w)
        case .cosine:
            Self.normaliseRows(items, &w)
        }
        let weights = w
        let userRows = InteractionMatrix(users: items.users, items: items.items, rowPointers: items.rowPointers,
                                         columnIndices: items.columnIndices, values: weights).transposed  // users × items, weighted
        let k = c.k
        // Pieces of equal work, not equal item counts: item i costs the sum of its listeners'
        // play counts, and the popular songs (numbered first on a Zipf catalogue) cost most.
        let ranges = ParallelLoop.balancedRanges(count: nItems, chunks: ParallelLoop.defaultWorkers * 16) { i in
            var work = 1
            for q in items.rowRange(i) { work += userRows.rowRange(Int(items.columnIndices[q])).count }
            return work
        }
        let parts = ParallelLoop.map(ranges: ranges) { range -> (counts: [Int], cols: [Int32], vals: [Float]) in
            var acc = [Float](repeating: 0, count: nItems)
            var touched: [Int] = []
            var counts: [Int] = [], cols: [Int32] = [], vals: [Float] = []
            for i in range {
                touched.removeAll(keepingCapacity: true)
                for q in items.rowRange(i) {
                    let u = Int(items.columnIndices[q])
                    let wi = weights[q]
                    for r in userRows.rowRange(u) {
                        let j = Int(userRows.columnIndices[r])
                        if acc[j] == 0 { touched.append(j) }
                        acc[j] += wi * userRows.values[r]
                    }
                }
                // The k best by a bounded heap (a popular song touches most of the catalogue:
                // sorting all of them dominated the fit), ties towards the lower index.
                let candidates = touched.lazy.filter { acc[$0] > 0 }.map { (index: $0, score: acc[$0]) }
                var row: [(index: Int, score: Float)] = TopK.best(candidates, k: k) { (a: (index: Int, score: Float), b: (index: Int, score: Float)) -> Bool in
                    a.score != b.score ? a.score > b.score : a.index < b.index
                }
                for j in touched { acc[j] = 0 }
                row.sort { $0.index < $1.index }
                counts.append(row.count)
                for e in row { cols.append(Int32(e.index)); vals.append(e.score) }
            }
            return (counts, cols, vals)
        }
        var ptr = [0]
        var cols: [Int32] = [], vals: [Float] = []
        for p in parts {
            for n in p.counts { ptr.append(ptr[ptr.count - 1] + n) }
            cols += p.cols
            vals += p.vals
        }
        _ = nUsers
        neighbours = SimilarityMatrix(rowPointers: ptr, columns: cols, values: vals)
    }

    public init(train: InteractionMatrix, configuration c: ItemKNNConfiguration, state: ModelState) throws {
        try c.validate()
        configuration = c
        self.train = train
        neighbours = try SimilarityMatrix(validating: try state.int64s("neighbour_row_pointers"), columns: try state.int32s("neighbour_columns"),
                                          values: try state.floats("neighbour_values"), rows: train.itemCount, columnCount: train.itemCount,
                                          what: "item-knn")
    }

    /// `m` with each row cut to its `perListener` largest values (ties: the lower song index); 0 keeps all.
    static func capped(_ m: InteractionMatrix, perListener cap: Int) -> InteractionMatrix {
        guard cap > 0, (0..<m.userCount).contains(where: { m.rowRange($0).count > cap }) else { return m }
        var keep = [Bool](repeating: true, count: m.nnz)
        for u in 0..<m.userCount where m.rowRange(u).count > cap {
            let r = m.rowRange(u)
            let order = r.sorted { m.values[$0] != m.values[$1] ? m.values[$0] > m.values[$1] : m.columnIndices[$0] < m.columnIndices[$1] }
            for k in order.dropFirst(cap) { keep[k] = false }
        }
        return m.masked(keep: keep)
    }

    static func normaliseRows(_ m: InteractionMatrix, _ w: inout [Float]) {
        for i in 0..<m.userCount {
            var s: Float = 0
            for k in m.rowRange(i) { s += w[k] * w[k] }
            let n = s.squareRoot()
            if n > 0 { for k in m.rowRange(i) { w[k] /= n } }
        }
    }

    public func state() -> ModelState {
        ModelState(arrays: ["neighbour_row_pointers": .int64(neighbours.rowPointers.map { Int64($0) }),
                            "neighbour_columns": .int32(neighbours.columns), "neighbour_values": .float(neighbours.values)])
    }

    /// The items most similar to `item` by the trained item-item weights, best first.
    public func similarItems(to item: Int, k: Int) -> [ScoredItem] {
        guard item >= 0, item < neighbours.count, k > 0 else { return [] }
        return neighbours.top(item, k: min(k, neighbours.count) + 1).filter { $0.index != item }.prefix(k).map {
            ScoredItem(item: $0.index, score: $0.similarity,
                       explanation: Explanation(kind: .listenedTogether, songs: [item], sentence: "often played by the same listeners"))
        }
    }

    public func scoreAll(user: Int) -> [Float] {
        guard user >= 0, user < train.userCount else { return [Float](repeating: 0, count: train.itemCount) }
        let r = train.rowRange(user)
        return scores(items: train.columnIndices[r].lazy.map { Int($0) }, weights: train.values[r])
    }

    /// Σ over the history of weight × the item's neighbour row.
    public func scoreAll(history: UserHistory) -> [Float] { scores(items: history.items, weights: history.weights) }

    func scores<I: Collection, W: Collection>(items: I, weights: W) -> [Float] where I.Element == Int, W.Element == Float {
        sparse(items: items, weights: weights).scores
    }

}

extension ItemKNNConfiguration {
    /// The k neighbours of every item (index and value) and the per-thread accumulators.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double {
        Double(items) * Double(min(k, max(items, 1))) * 8 + 4 * Double(items) * 8
    }
}
