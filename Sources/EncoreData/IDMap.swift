// The bijection between external string ids (user ids, song ids) and dense Int32 indices.

/// External ids ↔ dense indices, in index order.
public struct IDMap: Sendable, Equatable {
    public private(set) var ids: [String]
    private var index: [String: Int32]

    public init(_ ids: [String] = []) {
        self.ids = ids
        var index = [String: Int32](minimumCapacity: ids.count)
        for (i, id) in ids.enumerated() where index[id] == nil { index[id] = Int32(i) }
        self.index = index
    }

    public var count: Int { ids.count }

    /// False when an id repeats (only possible for maps read from damaged files).
    public var isBijective: Bool { index.count == ids.count }

    public subscript(i: Int) -> String { ids[i] }

    /// The dense index of an external id, or nil when unknown.
    public func index(of id: String) -> Int? { index[id].map(Int.init) }

    /// Adds the id when new and returns its index.
    public mutating func intern(_ id: String) -> Int32 {
        if let i = index[id] { return i }
        let i = Int32(ids.count)
        ids.append(id)
        index[id] = i
        return i
    }

    public static func == (a: IDMap, b: IDMap) -> Bool { a.ids == b.ids }
}
