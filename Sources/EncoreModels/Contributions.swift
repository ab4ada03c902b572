// Reasons for the ranking models: which of the listener's songs a recommendation comes from.
// Each model says how much one played song adds to (or shares with) a recommended song:
// - EASE: x_j · B[j, i], the song's term of x B;
// - item-KNN: x_j · sim(j, i), its term of the neighbourhood sum;
// - ALS and BPR: the cosine of the two songs' item factors;
// - the transformer: the cosine of their sentence embeddings.
// The reason names the (at most) two played songs with the largest positive contributions, by
// external id in curly quotes; `Explanation.naming` puts titles in their place where a catalogue is
// known. O(|history| · one term) per recommended song.
import EncoreData
import EncoreMath

/// A model that can attribute a recommendation to the listener's played songs.
public protocol ContributionExplaining: Recommender {
    /// How much played song `song` (played `weight`, on the model's scale) adds to `item`; ≤ 0: nothing.
    func contribution(of song: Int, weight: Float, to item: Int) -> Float
    /// How the reason describes the link ("weighs them together", "close in the ALS factors").
    var contributionPhrase: String { get }
}

extension ContributionExplaining {
    /// The played songs behind `item`, best first, as a reason; nil when none contributes. `label`
    /// names a song (title and artist) where it can; the others go by external id.
    public func explanation(for item: Int, items: [Int], weights: [Float], label: (Int) -> String? = { _ in nil }) -> Explanation? {
        // Read once: through the protocol, each read of `train` copies the matrix's references.
        let count = train.itemCount
        guard item >= 0, item < count else { return nil }
        let scored = zip(items, weights).compactMap { j, w -> (Int, Float)? in
            guard j >= 0, j < count, j != item else { return nil }
            let c = contribution(of: j, weight: w, to: item)
            return c.isFinite && c > 0 ? (j, c) : nil
        }
        let top = TopK.best(scored, k: 2) { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map(\.0)
        guard !top.isEmpty else { return nil }
        let names = top.map { "“\(label($0).flatMap { $0.isEmpty ? nil : $0 } ?? train.items[$0])”" }.joined(separator: " and ")
        return Explanation(kind: .becauseYouPlayed, songs: top, sentence: "because you played \(names) (\(name): \(contributionPhrase))")
    }

    /// The top-k unplayed songs of a training user, each with the played songs behind it.
    public func reasonedTop(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem] {
        let top = unplayedTop(user: user, k: k, excluding: excluding)
        guard !top.isEmpty else { return [] }
        let r = train.rowRange(user)
        let items = train.columnIndices[r].map(Int.init), weights = Array(train.values[r])
        return top.map { ScoredItem(item: $0.index, score: Double($0.score), explanation: explanation(for: $0.index, items: items, weights: weights)) }
    }
}

/// The cosine of rows `a` and `b` of a row-major matrix with `width` columns (0 when either is zero).
func rowCosine(_ m: [Float], _ a: Int, _ b: Int, width: Int) -> Float {
    m.withUnsafeBufferPointer { p in
        guard let base = p.baseAddress, (a + 1) * width <= p.count, (b + 1) * width <= p.count else { return 0 }
        let x = base + a * width, y = base + b * width
        let n = (VectorKernels.dot(x, x, width) * VectorKernels.dot(y, y, width)).squareRoot()
        return n > 0 ? VectorKernels.dot(x, y, width) / n : 0
    }
}

extension EASE: ContributionExplaining {
    public var contributionPhrase: String { form == .primal ? "the item-item weights link them" : "often played by the same listeners" }

    /// x_j · B[j, i] in the primal form; the dual form keeps no B, so its reason is the songs most
    /// often played together (the Gram matrix's entry, by a merge of the two columns).
    public func contribution(of song: Int, weight: Float, to item: Int) -> Float {
        let a = Int(activeOf[song]), b = Int(activeOf[item])
        guard a >= 0, b >= 0 else { return 0 }
        let x: Float = configuration.binarize ? 1 : weight
        if form == .primal { return x * weights[a * activeItems.count + b] }
        let c = train.columns
        var p = c.columnPointers[song], q = c.columnPointers[item], shared: Float = 0
        while p < c.columnPointers[song + 1], q < c.columnPointers[item + 1] {
            let u = c.rowIndices[p], v = c.rowIndices[q]
            if u == v { shared += 1; p += 1; q += 1 } else if u < v { p += 1 } else { q += 1 }
        }
        return shared
    }

    public func recommend(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem] { reasonedTop(user: user, k: k, excluding: excluding) }
}

extension ItemKNN: ContributionExplaining {
    public var contributionPhrase: String { "often played by the same listeners" }

    public func contribution(of song: Int, weight: Float, to item: Int) -> Float {
        guard song >= 0, song < neighbours.count else { return 0 }
        let x: Float = configuration.binarize ? 1 : weight
        let lo = neighbours.rowPointers[song], hi = neighbours.rowPointers[song + 1]
        // Rows are sorted by column: binary search for the item.
        var l = lo, h = hi
        while l < h {
            let m = (l + h) / 2
            if Int(neighbours.columns[m]) < item { l = m + 1 } else { h = m }
        }
        return l < hi && Int(neighbours.columns[l]) == item ? x * neighbours.values[l] : 0
    }

    public func recommend(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem] { reasonedTop(user: user, k: k, excluding: excluding) }
}

extension AlternatingLeastSquares: ContributionExplaining {
    public var contributionPhrase: String { "close in the ALS item factors" }
    public func contribution(of song: Int, weight: Float, to item: Int) -> Float { rowCosine(itemFactors, song, item, width: configuration.factors) }
    public func recommend(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem] { reasonedTop(user: user, k: k, excluding: excluding) }
}

extension BayesianPersonalizedRanking: ContributionExplaining {
    public var contributionPhrase: String { "close in the BPR item factors" }
    public func contribution(of song: Int, weight: Float, to item: Int) -> Float { rowCosine(itemFactors, song, item, width: configuration.factors) }
    public func recommend(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem] { reasonedTop(user: user, k: k, excluding: excluding) }
}

extension Explanation {
    /// The reason with each song's external id in curly quotes replaced by `name` (title and artist),
    /// where `name` knows it.
    public func naming(ids: IDMap, _ name: (Int) -> String?) -> Explanation {
        var e = self
        for j in songs where j >= 0 && j < ids.count {
            if let n = name(j), !n.isEmpty { e.sentence = e.sentence.replacingOccurrences(of: "“\(ids[j])”", with: "“\(n)”") }
        }
        return e
    }
}

extension TransformerRecommender: ContributionExplaining {
    public var contributionPhrase: String { "close in meaning" }

    /// The cosine of the two songs' unit embeddings (0 when running as the TF-IDF stand-in).
    public func contribution(of song: Int, weight: Float, to item: Int) -> Float {
        guard fallback == nil, dimension > 0 else { return 0 }
        return rowCosine(embeddings, song, item, width: dimension)
    }

    public func recommend(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem] { reasonedTop(user: user, k: k, excluding: excluding) }
}
