// Accumulates (user, item, plays) rows as they are parsed and turns them into an
// InteractionMatrix: a counting sort by user, a sort by item inside each row, and a merge of
// duplicate (user, item) rows whose plays are summed. O(nnz log d) for row degree d.

/// Collects interaction rows with dense indices and builds the CSR matrix.
public struct InteractionBuilder {
    public private(set) var users: [Int32] = []
    public private(set) var items: [Int32] = []
    public private(set) var plays: [Double] = []
    public private(set) var times: [Int64] = []
    public let hasTimestamps: Bool

    public init(hasTimestamps: Bool = false, reserve: Int = 0) {
        self.hasTimestamps = hasTimestamps
        users.reserveCapacity(reserve)
        items.reserveCapacity(reserve)
        plays.reserveCapacity(reserve)
    }

    public var count: Int { users.count }

    @inline(__always)
    public mutating func append(user: Int32, item: Int32, plays value: Double, timestamp: Int64 = 0) {
        users.append(user)
        items.append(item)
        plays.append(value)
        if hasTimestamps { times.append(timestamp) }
    }

    /// Builds the matrix; returns it with the number of duplicate rows merged into others.
    public func build(users userIDs: IDMap, items itemIDs: IDMap) -> (matrix: InteractionMatrix, duplicatesMerged: Int) {
        let nUsers = userIDs.count
        var counts = [Int](repeating: 0, count: nUsers + 1)
        for u in users { counts[Int(u) + 1] += 1 }
        for u in 0..<nUsers { counts[u + 1] += counts[u] }
        var order = [Int](repeating: 0, count: users.count)
        var next = counts
        for (k, u) in users.enumerated() {
            order[next[Int(u)]] = k
            next[Int(u)] += 1
        }
        var ptr = [Int](repeating: 0, count: nUsers + 1)
        var cols: [Int32] = []
        var vals: [Float] = []
        var ts: [Int64]? = hasTimestamps ? [] : nil
        cols.reserveCapacity(users.count)
        vals.reserveCapacity(users.count)
        var duplicates = 0
        for u in 0..<nUsers {
            var slice = Array(order[counts[u]..<counts[u + 1]])
            // Stable by item, then by original row order.
            slice.sort { items[$0] != items[$1] ? items[$0] < items[$1] : $0 < $1 }
            var j = 0
            while j < slice.count {
                let item = items[slice[j]]
                var sum = plays[slice[j]]
                var latest = hasTimestamps ? times[slice[j]] : 0
                var l = j + 1
                while l < slice.count && items[slice[l]] == item {
                    sum += plays[slice[l]]
                    if hasTimestamps { latest = max(latest, times[slice[l]]) }
                    duplicates += 1
                    l += 1
                }
                cols.append(item)
                vals.append(Float(min(sum, PlayCountParser.maximum)))
                if hasTimestamps { ts?.append(latest) }
                j = l
            }
            ptr[u + 1] = cols.count
        }
        let m = InteractionMatrix(users: userIDs, items: itemIDs, rowPointers: ptr, columnIndices: cols, values: vals, timestamps: ts)
        return (m, duplicates)
    }
}
