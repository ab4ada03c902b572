// The protocols every Encore model implements, and the value types they exchange. Users and
// items are dense indices of the training InteractionMatrix; a user or item with no training
// entries is "unknown" to a collaborative model.
import EncoreData
import EncoreMath

/// An item with its score, and why it was chosen when the model can say.
public struct ScoredItem: Sendable, Equatable, Codable {
    public var item: Int
    public var score: Double
    public var explanation: Explanation?

    public init(item: Int, score: Double, explanation: Explanation? = nil) {
        self.item = item
        self.score = score
        self.explanation = explanation
    }

    /// The explanation's sentence.
    public var reason: String? { explanation?.sentence }
}

/// A neighbour (user or item) with its similarity.
public struct Neighbour: Sendable, Equatable, Codable {
    public var index: Int
    public var similarity: Double
    public init(index: Int, similarity: Double) {
        self.index = index
        self.similarity = similarity
    }
}

/// A predicted value. `impossible` marks a fallback estimate (Surprise's PredictionImpossible).
public struct Prediction: Sendable, Equatable {
    public var value: Double
    public var impossible: Bool
    /// Why the prediction was impossible ("user is unknown", "not enough neighbours").
    public var reason: String?
    /// The neighbours that produced a KNN estimate: index, similarity, their value.
    public var contributors: [(index: Int, similarity: Double, value: Double)]

    public init(value: Double, impossible: Bool = false, reason: String? = nil, contributors: [(index: Int, similarity: Double, value: Double)] = []) {
        self.value = value
        self.impossible = impossible
        self.reason = reason
        self.contributors = contributors
    }

    public static func == (a: Prediction, b: Prediction) -> Bool {
        a.value == b.value && a.impossible == b.impossible && a.reason == b.reason && a.contributors.count == b.contributors.count
    }
}

/// Errors of model fitting, loading and use.
public struct ModelError: UserFacingError, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A trained model that ranks items for a user. Users and items are indices of `train`; an index
/// out of range is "cannot rank" (NaN scores, empty lists), never a trap.
public protocol Recommender: Sendable {
    /// The command-line name (`svd`, `knn-user`, …).
    var name: String { get }
    /// The configuration as JSON-compatible data, for artifacts and tables.
    var configurationJSON: String { get }
    /// The matrix the model was trained on.
    var train: InteractionMatrix { get }
    /// Scores for the given items (higher is better); NaN for an item or a user out of range.
    func score(user: Int, items: [Int]) -> [Double]
    /// Scores of every item for a user (higher is better); NaN or -infinity means "cannot rank".
    func scoreAll(user: Int) -> [Float]
    /// The model's arrays, for the artifact file.
    func state() -> ModelState
    /// The top-k unplayed items, best first, with reasons where the model has them.
    func recommend(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem]
    /// What the caller should tell a person about this model (a fallback taken while fitting);
    /// library code never writes to stderr itself.
    var warnings: [String] { get }
    /// What stands in for this model when it could not be fitted as asked ("TF-IDF" for a
    /// transformer without its weights), shown beside its name in comparison tables; nil otherwise.
    var standIn: String? { get }
}

extension Recommender {
    public var warnings: [String] { [] }
    public var standIn: String? { nil }

    public func scoreAll(user: Int) -> [Float] {
        score(user: user, items: Array(0..<train.itemCount)).map { Float($0) }
    }

    /// Candidate scoring through `scoreAll`, with bounds checked: NaN for what cannot be ranked.
    public func score(user: Int, items: [Int]) -> [Double] {
        guard user >= 0, user < train.userCount else { return [Double](repeating: .nan, count: items.count) }
        let all = scoreAll(user: user)
        return items.map { $0 >= 0 && $0 < all.count ? Double(all[$0]) : .nan }
    }

    /// The top-k of many users at once (in parallel), in the order given; an unknown index gets [].
    public func recommend(users: [Int], k: Int) -> [[ScoredItem]] {
        var lists = [[ScoredItem]](repeating: [], count: users.count)
        lists.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            ParallelLoop.forEachChunk(count: users.count) { _, range in
                for n in range { out[n] = recommend(user: users[n], k: k) }
            }
        }
        return lists
    }

    /// The top-k items, excluding the user's training items.
    public func recommend(user: Int, k: Int) -> [ScoredItem] { recommend(user: user, k: k, excluding: []) }

    /// The top-k items by score, excluding the user's training items and `excluding`.
    public func recommend(user: Int, k: Int, excluding: Set<Int>) -> [ScoredItem] {
        unplayedTop(user: user, k: k, excluding: excluding).map { ScoredItem(item: $0.index, score: Double($0.score)) }
    }

    /// The top-k by `scoreAll`, the user's training items and `excluding` left out; what a model
    /// that adds reasons to `recommend` ranks with.
    public func unplayedTop(user: Int, k: Int, excluding: Set<Int>) -> [(index: Int, score: Float)] {
        guard k > 0, user >= 0, user < train.userCount else { return [] }
        var scores = scoreAll(user: user)
        for c in train.row(user).items { scores[Int(c)] = -.infinity }
        for e in excluding where e >= 0 && e < scores.count { scores[e] = -.infinity }
        return TopScores.select(scores, k: k)
    }
}

/// Top-k over Float scores, best first, ties to the lower index; NaN and -infinity never selected.
public enum TopScores {
    /// The k best (index, score) pairs, score descending then index ascending; NaN and −∞ cannot
    /// rank. TopK's bounded heap, specialised: songs are visited in index order, so once the heap
    /// is full a score no greater than its worst is rejected by one comparison.
    public static func select(_ scores: [Float], k: Int) -> [(index: Int, score: Float)] {
        typealias Entry = (index: Int, score: Float)
        guard k > 0 else { return [] }
        @inline(__always) func better(_ a: Entry, _ b: Entry) -> Bool { a.score != b.score ? a.score > b.score : a.index < b.index }
        var heap: [Entry] = []
        heap.reserveCapacity(Swift.min(k, 4_096))
        scores.withUnsafeBufferPointer { s in
            var worst = -Float.infinity
            for i in 0..<s.count {
                let v = s[i]
                // `worst` is −∞ until the heap is full, so this rejects NaN and −∞ too: neither compares greater.
                guard v > worst else { continue }
                let e = Entry(i, v)
                if heap.count < k {
                    heap.append(e)
                    var c = heap.count - 1
                    while c > 0 {
                        let p = (c - 1) / 2
                        guard better(heap[p], heap[c]) else { break }
                        heap.swapAt(c, p)
                        c = p
                    }
                } else {
                    heap[0] = e
                    var i = 0
                    while true {
                        let l = 2 * i + 1, r = l + 1
                        var m = i
                        if l < heap.count && better(heap[m], heap[l]) { m = l }
                        if r < heap.count && better(heap[m], heap[r]) { m = r }
                        if m == i { break }
                        heap.swapAt(i, m)
                        i = m
                    }
                }
                if heap.count == k { worst = heap[0].score }
            }
        }
        return heap.sorted(by: better)
    }
}

/// A model that estimates a value (play count on the model's scale) for a (user, item) pair.
public protocol RatingPredictor: Recommender {
    func predict(user: Int, item: Int) -> Prediction
}

extension RatingPredictor {
    public func score(user: Int, items: [Int]) -> [Double] {
        guard user >= 0, user < train.userCount else { return [Double](repeating: .nan, count: items.count) }
        return items.map { $0 >= 0 && $0 < train.itemCount ? predict(user: user, item: $0).value : .nan }
    }
}

/// A model that scores a listening history that is not in its training matrix, without refitting
/// (fold-in). For a training user, the user's own row as a history gives the trained scores.
public protocol HistoryRecommender: Recommender {
    /// Scores of every item for the history (higher is better); NaN or -infinity means "cannot rank".
    func scoreAll(history: UserHistory) -> [Float]
    /// The top-k items for the history, its own songs and `excluding` left out.
    func recommend(history: UserHistory, k: Int, excluding: Set<Int>) -> [ScoredItem]
}

extension HistoryRecommender {
    /// Scores for the given candidates; NaN for an item out of range.
    public func score(history: UserHistory, items: [Int]) -> [Double] {
        let all = scoreAll(history: history)
        return items.map { $0 >= 0 && $0 < all.count ? Double(all[$0]) : .nan }
    }

    public func recommend(history: UserHistory, k: Int) -> [ScoredItem] { recommend(history: history, k: k, excluding: []) }

    public func recommend(history: UserHistory, k: Int, excluding: Set<Int>) -> [ScoredItem] {
        guard k > 0 else { return [] }
        var scores = scoreAll(history: history)
        for i in history.items where i < scores.count { scores[i] = -.infinity }
        for e in excluding where e >= 0 && e < scores.count { scores[e] = -.infinity }
        return TopScores.select(scores, k: k).map { ScoredItem(item: $0.index, score: Double($0.score)) }
    }
}

/// A model that lists the songs most similar to a song, with the reason.
public protocol SimilarItemsModel: Recommender {
    /// The k songs most similar to `item` (itself excluded), best first; [] for an index out of range.
    func similarItems(to item: Int, k: Int) -> [ScoredItem]
}

/// A model that can list the nearest neighbours of a user or an item.
public protocol NeighbourModel: Recommender {
    /// Whether neighbours are users (user-based) or items.
    var userBased: Bool { get }
    func neighbours(of index: Int, k: Int) -> [Neighbour]
}

/// A rating model's raw estimate for a pair, before `TrainingProfile.predict` clips it.
public struct Estimate: Sendable {
    public var value: Double
    /// A fallback the model took that is still a real estimate ("the user's mean").
    public var reason: String?
    public var contributors: [(index: Int, similarity: Double, value: Double)]

    public init(_ value: Double, reason: String? = nil, contributors: [(index: Int, similarity: Double, value: Double)] = []) {
        self.value = value
        self.reason = reason
        self.contributors = contributors
    }
}

/// Surprise's PredictionImpossible: the model has no estimate for the pair, and the shared
/// fallback (the global mean, flagged impossible) stands in.
public struct PredictionImpossible: Error, Sendable {
    public var reason: String
    public var contributors: [(index: Int, similarity: Double, value: Double)]

    public init(_ reason: String, contributors: [(index: Int, similarity: Double, value: Double)] = []) {
        self.reason = reason
        self.contributors = contributors
    }

    /// "user is unknown", "item is unknown", "user and item are unknown".
    public static func unknown(knownUser: Bool, knownItem: Bool) -> PredictionImpossible {
        PredictionImpossible("\(!knownUser && !knownItem ? "user and item are" : (!knownUser ? "user is" : "item is")) unknown")
    }
}

/// Which entries of the training matrix are known, and the value range used for clipping.
public struct TrainingProfile: Sendable {
    public let globalMean: Double
    public let minimum: Double
    public let maximum: Double
    public let userKnown: [Bool]
    public let itemKnown: [Bool]

    public init(_ m: InteractionMatrix) {
        var sum = 0.0
        var lo = Double.infinity, hi = -Double.infinity
        for v in m.values {
            sum += Double(v)
            lo = min(lo, Double(v))
            hi = max(hi, Double(v))
        }
        globalMean = m.nnz > 0 ? sum / Double(m.nnz) : 0
        minimum = m.nnz > 0 ? lo : 0
        maximum = m.nnz > 0 ? hi : 0
        userKnown = m.userDegrees().map { $0 > 0 }
        itemKnown = m.itemDegrees().map { $0 > 0 }
    }

    @inline(__always) public func knows(user u: Int) -> Bool { u >= 0 && u < userKnown.count && userKnown[u] }
    @inline(__always) public func knows(item i: Int) -> Bool { i >= 0 && i < itemKnown.count && itemKnown[i] }

    /// Clips an estimate to the training value range, as Surprise clips to the rating scale.
    @inline(__always) public func clip(_ v: Double) -> Double { min(maximum, max(minimum, v)) }

    /// The one place where every rating model's prediction is finished, as Surprise's
    /// `AlgoBase.predict`: the estimate is clipped to the training range; an impossible estimate
    /// becomes the global mean, flagged, with its reason.
    @inline(__always)
    public func resolve(_ estimate: () throws(PredictionImpossible) -> Estimate) -> Prediction {
        do {
            let e = try estimate()
            return Prediction(value: clip(e.value), reason: e.reason, contributors: e.contributors)
        } catch {
            return Prediction(value: globalMean, impossible: true, reason: error.reason, contributors: error.contributors)
        }
    }

    /// `resolve` for a (user, item) pair: the estimate is told which sides the training matrix
    /// knows (an index out of range is unknown), so no model checks them itself.
    @inline(__always)
    public func predict(user u: Int, item i: Int, _ estimate: (_ knownUser: Bool, _ knownItem: Bool) throws(PredictionImpossible) -> Estimate) -> Prediction {
        let ku = knows(user: u), ki = knows(item: i)
        return resolve { () throws(PredictionImpossible) -> Estimate in try estimate(ku, ki) }
    }
}
