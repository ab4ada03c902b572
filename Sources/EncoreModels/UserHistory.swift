// What a service knows about a listener who may not be in the training matrix: the songs (item
// indices of the model's training matrix) and their weights (play counts on the model's value
// scale). Models that can score such a history without refitting adopt HistoryRecommender; for a
// training user, scoring the user's own row as a history gives the trained result.
import EncoreData

/// Songs and their weights, sorted by item with each item once.
public struct UserHistory: Sendable, Equatable {
    public let items: [Int]
    public let weights: [Float]

    /// Merges repeated items (weights summed) and sorts; an item outside `0..<itemCount` or a
    /// weight that is not finite and positive is an error, not a trap later.
    public init(items: [Int], weights: [Float], itemCount: Int) throws {
        guard items.count == weights.count else { throw ModelError("a history needs one weight per song (\(items.count) songs, \(weights.count) weights)") }
        var merged: [Int: Float] = [:]
        for (i, w) in zip(items, weights) {
            guard i >= 0, i < itemCount else { throw ModelError("song index \(i) is outside the model's \(itemCount) songs") }
            guard w.isFinite, w > 0 else { throw ModelError("the weight \(w) of song \(i) must be finite and positive") }
            merged[i, default: 0] += w
        }
        let sorted = merged.sorted { $0.key < $1.key }
        self.items = sorted.map(\.key)
        self.weights = sorted.map(\.value)
    }

    /// Every song played once (weight 1).
    public init(items: [Int], itemCount: Int) throws {
        try self.init(items: items, weights: [Float](repeating: 1, count: items.count), itemCount: itemCount)
    }

    /// A training user's row, as the model saw it.
    public init(user u: Int, of m: InteractionMatrix) {
        let r = u >= 0 && u < m.userCount ? m.rowRange(u) : 0..<0
        items = r.map { Int(m.columnIndices[$0]) }
        weights = Array(m.values[r])
    }

    public var isEmpty: Bool { items.isEmpty }
    public var count: Int { items.count }
}
