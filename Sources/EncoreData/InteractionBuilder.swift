// Accumulates (user, item, plays) rows as they are parsed and turns them into an
// InteractionMatrix: a counting sort by user, a sort by item inside each row, and a merge of
// duplicate (user, item) rows whose plays are summed. O(nnz log d) for row degree d.

/// Collects interaction rows with dense indices and builds the CSR matrix.
public struct InteractionBuilder {
    public private(set) var users: [Int32] = []
    public private(set) var items: [Int32] = []
    public private(set) var plays: [Float] = []
    public private(set) var times: [Int64] = []
    public let hasTimestamps: Bool

    /// Rows are addressed with 32 bits while sorting.
    public static let maximumRows = Int(UInt32.max)

    public init(hasTimestamps: Bool = false, reserve: Int = 0) {
        self.hasTimestamps = hasTimestamps
        if hasTimestamps { times.reserveCapacity(reserve) }
        users.reserveCapacity(reserve)
        items.reserveCapacity(reserve)
        plays.reserveCapacity(reserve)
    }

    public var count: Int { users.count }

    public mutating func reserve(_ n: Int) {
        users.reserveCapacity(n)
        items.reserveCapacity(n)
        plays.reserveCapacity(n)
        if hasTimestamps { times.reserveCapacity(n) }
    }

    @inline(__always)
    public mutating func append(user: Int32, item: Int32, plays value: Double, timestamp: Int64 = 0) {
        users.append(user)
        items.append(item)
        plays.append(Float(value))
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
        var keys: [UInt64] = []
        for u in 0..<nUsers {
            // Sort by (item, original row) packed in one integer: no comparison closure.
            keys.removeAll(keepingCapacity: true)
            for k in order[counts[u]..<counts[u + 1]] { keys.append(UInt64(UInt32(bitPattern: items[k])) << 32 | UInt64(k)) }
            keys.sort()
            var j = 0
            while j < keys.count {
                let first = Int(keys[j] & 0xFFFF_FFFF)
                let item = items[first]
                var sum = Double(plays[first])
                var latest = hasTimestamps ? times[first] : 0
                var l = j + 1
                while l < keys.count && items[Int(keys[l] & 0xFFFF_FFFF)] == item {
                    let row = Int(keys[l] & 0xFFFF_FFFF)
                    sum += Double(plays[row])
                    if hasTimestamps { latest = max(latest, times[row]) }
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
