// Sparse scoring: models whose scores for a listener differ from one constant on a few songs only —
// item-KNN (Σ over the played songs of their neighbour rows: at most |history| · K songs score
// other than 0). Scoring keeps the dense array (a consumer reads any song's score by index) and
// adds the list of songs that may differ, so a blend can treat every other song as one constant
// instead of reading all of them. A sparse accumulator (the dense array and a bitmap of songs
// touched) is how item-KNN scores every listener; `scoreAll` keeps its dense array.
// O(items / 64 + |history| · K) beyond clearing the array.
import EncoreData
import EncoreMath

/// Every song's score, and the songs that may score other than `rest`.
public struct SparseScores: Sendable {
    /// Every song's score: `rest` except (at most) the songs of `support`.
    public var scores: [Float]
    /// Songs that may score other than `rest`, each once, in no particular order.
    public var support: [Int32]
    /// The score of every song outside `support`.
    public var rest: Float

    public init(scores: [Float], support: [Int32], rest: Float) {
        self.scores = scores
        self.support = support
        self.rest = rest
    }
}

/// A model whose scores are one constant outside a few songs.
public protocol SparseScoring: HistoryRecommender {
    /// `scoreAll(user:)` with the songs that may differ from its constant.
    func sparseScores(user: Int) -> SparseScores
    /// `scoreAll(history:)` with the songs that may differ from its constant.
    func sparseScores(history: UserHistory) -> SparseScores
}

extension ItemKNN: SparseScoring {
    public func sparseScores(user: Int) -> SparseScores {
        guard user >= 0, user < train.userCount else { return SparseScores(scores: [Float](repeating: 0, count: train.itemCount), support: [], rest: 0) }
        let r = train.rowRange(user)
        return sparse(items: train.columnIndices[r].lazy.map { Int($0) }, weights: train.values[r])
    }

    public func sparseScores(history: UserHistory) -> SparseScores { sparse(items: history.items, weights: history.weights) }

    /// Σ over the history of weight × the song's neighbour row, and the songs touched (a bitmap
    /// keeps each once).
    func sparse<I: Collection, W: Collection>(items: I, weights: W) -> SparseScores where I.Element == Int, W.Element == Float {
        let n = train.itemCount
        var s = [Float](repeating: 0, count: n)
        var touched = [UInt64](repeating: 0, count: (n + 63) / 64)
        var support: [Int32] = []
        for (i, w) in zip(items, weights) where i >= 0 && i < neighbours.count {
            let x: Float = configuration.binarize ? 1 : w
            for r in neighbours.rowPointers[i]..<neighbours.rowPointers[i + 1] {
                let j = Int(neighbours.columns[r])
                s[j] += x * neighbours.values[r]
                let bit = UInt64(1) << UInt64(j & 63)
                if touched[j >> 6] & bit == 0 {
                    touched[j >> 6] |= bit
                    support.append(Int32(j))
                }
            }
        }
        return SparseScores(scores: s, support: support, rest: 0)
    }
}
