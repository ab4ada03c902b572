// The users × items play matrix in compressed sparse row form with Float32 values, plus a
// compressed sparse column twin built on first use. Built once, shared read-only.
import EncoreMath
import Foundation

/// Compressed sparse columns: for each item, the users who played it.
public struct CompressedColumns: Sendable {
    public let columnPointers: [Int]
    public let rowIndices: [Int32]
    public let values: [Float]
}

/// Users × items plays (CSR + lazy CSC, Float32), with the id maps of both axes.
public struct InteractionMatrix: Sendable {
    public let users: IDMap
    public let items: IDMap
    public let rowPointers: [Int]
    public let columnIndices: [Int32]
    public let values: [Float]
    /// Unix timestamps parallel to `values` (latest play of the pair), when the source had them.
    public let timestamps: [Int64]?
    private let columnCache = LazyBox<CompressedColumns>()

    /// Builds from CSR arrays; rows must be sorted by column with no duplicates.
    public init(users: IDMap, items: IDMap, rowPointers: [Int], columnIndices: [Int32], values: [Float], timestamps: [Int64]? = nil) {
        precondition(rowPointers.count == users.count + 1, "rowPointers must have users + 1 entries")
        precondition(columnIndices.count == values.count, "one value per stored entry")
        precondition(timestamps == nil || timestamps?.count == values.count, "one timestamp per stored entry")
        self.users = users
        self.items = items
        self.rowPointers = rowPointers
        self.columnIndices = columnIndices
        self.values = values
        self.timestamps = timestamps
    }

    /// Builds from untrusted arrays (a file or a database blob): every structure is checked first,
    /// so a damaged or crafted file fails through `corrupt`, never with a trap later.
    public static func validated(users: [String], items: [String], rowPointers: [Int64], columnIndices: [Int32], values: [Float],
                                 timestamps: [Int64]?, corrupt: (String) -> Error) throws -> InteractionMatrix {
        guard users.count < Int(Int32.max), items.count < Int(Int32.max) else { throw corrupt("too many users or items") }
        guard rowPointers.count == users.count + 1 else { throw corrupt("\(rowPointers.count) row pointers for \(users.count) users") }
        guard columnIndices.count == values.count else { throw corrupt("\(columnIndices.count) column indices for \(values.count) values") }
        if let timestamps, timestamps.count != values.count { throw corrupt("\(timestamps.count) timestamps for \(values.count) values") }
        guard rowPointers.first == 0, rowPointers.last == Int64(values.count) else { throw corrupt("the row pointers do not span the values") }
        let itemCount = Int32(items.count)
        for u in 0..<users.count where rowPointers[u] > rowPointers[u + 1] {
            throw corrupt("row pointers are not monotonic at user \(u)")
        }
        for u in 0..<users.count {
            let lo = rowPointers[u], hi = rowPointers[u + 1]
            var previous: Int32 = -1
            for k in Int(lo)..<Int(hi) {
                let c = columnIndices[k]
                guard c >= 0, c < itemCount else { throw corrupt("item index \(c) out of range at entry \(k)") }
                guard c > previous else { throw corrupt("the items of user \(u) are not sorted or repeat") }
                previous = c
            }
        }
        for (k, v) in values.enumerated() where !(v.isFinite && v > 0) {
            throw corrupt("value \(v) at entry \(k): plays must be finite and positive")
        }
        let userMap = IDMap(users), itemMap = IDMap(items)
        guard userMap.isBijective else { throw corrupt("a user id repeats") }
        guard itemMap.isBijective else { throw corrupt("an item id repeats") }
        return InteractionMatrix(users: userMap, items: itemMap, rowPointers: rowPointers.map { Int($0) }, columnIndices: columnIndices,
                                 values: values, timestamps: timestamps)
    }

    public var userCount: Int { users.count }
    public var itemCount: Int { items.count }
    public var nnz: Int { values.count }

    /// Share of empty cells: 1 − nnz / (users × items).
    public var sparsity: Double {
        let cells = Double(userCount) * Double(itemCount)
        return cells > 0 ? 1 - Double(nnz) / cells : 1
    }

    /// The range of stored entries of user `u`.
    @inline(__always) public func rowRange(_ u: Int) -> Range<Int> { rowPointers[u]..<rowPointers[u + 1] }

    /// Items and values of user `u`.
    public func row(_ u: Int) -> (items: ArraySlice<Int32>, values: ArraySlice<Float>) {
        let r = rowRange(u)
        return (columnIndices[r], values[r])
    }

    /// The stored value of (u, i), or nil.
    public func value(user u: Int, item i: Int) -> Float? {
        let r = rowRange(u)
        var lo = r.lowerBound, hi = r.upperBound
        let target = Int32(i)
        while lo < hi {
            let mid = (lo + hi) / 2
            if columnIndices[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        return lo < r.upperBound && columnIndices[lo] == target ? values[lo] : nil
    }

    /// Items × users: the same entries with the axes swapped.
    public var transposed: InteractionMatrix {
        let c = columns
        return InteractionMatrix(users: items, items: users, rowPointers: c.columnPointers, columnIndices: c.rowIndices, values: c.values)
    }

    /// The CSC twin (built on first use, then cached).
    public var columns: CompressedColumns {
        columnCache.get { Self.transpose(self) }
    }

    static func transpose(_ m: InteractionMatrix) -> CompressedColumns {
        var counts = [Int](repeating: 0, count: m.itemCount + 1)
        for c in m.columnIndices { counts[Int(c) + 1] += 1 }
        for i in 0..<m.itemCount { counts[i + 1] += counts[i] }
        var next = counts
        var rows = [Int32](repeating: 0, count: m.nnz)
        var vals = [Float](repeating: 0, count: m.nnz)
        for u in 0..<m.userCount {
            for k in m.rowRange(u) {
                let c = Int(m.columnIndices[k])
                let dst = next[c]
                rows[dst] = Int32(u)
                vals[dst] = m.values[k]
                next[c] += 1
            }
        }
        return CompressedColumns(columnPointers: counts, rowIndices: rows, values: vals)
    }

    /// Number of entries per user (unique songs) and per item (listeners).
    public func userDegrees() -> [Int] { (0..<userCount).map { rowPointers[$0 + 1] - rowPointers[$0] } }
    public func itemDegrees() -> [Int] {
        var d = [Int](repeating: 0, count: itemCount)
        for c in columnIndices { d[Int(c)] += 1 }
        return d
    }
    /// Sum of values per user and per item.
    public func userTotals() -> [Double] {
        (0..<userCount).map { u in rowRange(u).reduce(0.0) { $0 + Double(values[$1]) } }
    }
    public func itemTotals() -> [Double] {
        var t = [Double](repeating: 0, count: itemCount)
        for k in 0..<nnz { t[Int(columnIndices[k])] += Double(values[k]) }
        return t
    }

    /// The same matrix with every value passed through `transform`.
    public func mapValues(_ transform: ValueTransform) -> InteractionMatrix {
        InteractionMatrix(users: users, items: items, rowPointers: rowPointers, columnIndices: columnIndices,
                          values: values.map { transform.apply($0) }, timestamps: timestamps)
    }

    /// Keeps the entries whose flag is set and drops users and items left with none.
    public func subset(keep: [Bool]) -> (matrix: InteractionMatrix, keptUsers: [Int], keptItems: [Int]) {
        precondition(keep.count == nnz)
        var itemUsed = [Bool](repeating: false, count: itemCount)
        var keptUsers: [Int] = []
        for u in 0..<userCount {
            var any = false
            for k in rowRange(u) where keep[k] { any = true; itemUsed[Int(columnIndices[k])] = true }
            if any { keptUsers.append(u) }
        }
        var newItem = [Int32](repeating: -1, count: itemCount)
        var keptItems: [Int] = []
        for i in 0..<itemCount where itemUsed[i] {
            newItem[i] = Int32(keptItems.count)
            keptItems.append(i)
        }
        var ptr = [0]
        ptr.reserveCapacity(keptUsers.count + 1)
        var cols: [Int32] = []
        var vals: [Float] = []
        var ts: [Int64]? = timestamps == nil ? nil : []
        for u in keptUsers {
            for k in rowRange(u) where keep[k] {
                cols.append(newItem[Int(columnIndices[k])])
                vals.append(values[k])
                if let t = timestamps { ts?.append(t[k]) }
            }
            ptr.append(cols.count)
        }
        let m = InteractionMatrix(users: IDMap(keptUsers.map { users[$0] }), items: IDMap(keptItems.map { items[$0] }),
                                  rowPointers: ptr, columnIndices: cols, values: vals, timestamps: ts)
        return (m, keptUsers, keptItems)
    }

    /// Keeps the entries whose flag is set, with the same users and items (no compaction).
    public func masked(keep: [Bool]) -> InteractionMatrix {
        precondition(keep.count == nnz)
        var ptr = [0]
        ptr.reserveCapacity(userCount + 1)
        var cols: [Int32] = []
        var vals: [Float] = []
        var ts: [Int64]? = timestamps == nil ? nil : []
        for u in 0..<userCount {
            for k in rowRange(u) where keep[k] {
                cols.append(columnIndices[k])
                vals.append(values[k])
                if let t = timestamps { ts?.append(t[k]) }
            }
            ptr.append(cols.count)
        }
        return InteractionMatrix(users: users, items: items, rowPointers: ptr, columnIndices: cols, values: vals, timestamps: ts)
    }
}

/// How play counts are turned into model values.
public enum ValueTransform: Sendable, Equatable, Codable, CustomStringConvertible {
    case none
    /// log(1 + plays), the report's choice for skewed counts.
    case log1p
    /// min(plays, cap).
    case capped(Float)

    public func apply(_ v: Float) -> Float {
        switch self {
        case .none: v
        case .log1p: Float(Foundation.log1p(Double(v)))
        case .capped(let c): Swift.min(v, c)
        }
    }

    /// Parses `none`, `log1p` or `cap:N`.
    public init?(argument: String) {
        switch argument.lowercased() {
        case "none": self = .none
        case "log1p": self = .log1p
        default:
            let parts = argument.split(separator: ":")
            guard parts.count == 2, parts[0].lowercased() == "cap", let c = Float(parts[1]), c > 0, c.isFinite else { return nil }
            self = .capped(c)
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .log1p: "log1p"
        case .capped(let c): "cap:\(c)"
        }
    }
}

extension InteractionMatrix {
    /// The sections Encore's binary files store a matrix in: row pointers, column indices, values,
    /// timestamps (only with `timestampSection`; empty when the matrix has none), user ids, item ids.
    public func appendSections(to out: inout Data, timestampSection: Bool) {
        BinaryCoding.appendArray(&out, rowPointers.map { Int64($0) })
        BinaryCoding.appendArray(&out, columnIndices)
        BinaryCoding.appendArray(&out, values)
        if timestampSection { BinaryCoding.appendArray(&out, timestamps ?? []) }
        BinaryCoding.appendStrings(&out, users.ids)
        BinaryCoding.appendStrings(&out, items.ids)
    }

    /// Reads what `appendSections` wrote and validates it; an empty timestamp section means none.
    public static func readSections(_ cursor: inout BinaryCursor, timestampSection: Bool, corrupt: (String) -> Error) throws -> InteractionMatrix {
        let ptr = try cursor.array(Int64.self, corrupt)
        let cols = try cursor.array(Int32.self, corrupt)
        let vals = try cursor.array(Float.self, corrupt)
        let ts = timestampSection ? try cursor.array(Int64.self, corrupt) : []
        let users = try cursor.strings(corrupt)
        let items = try cursor.strings(corrupt)
        return try validated(users: users, items: items, rowPointers: ptr, columnIndices: cols, values: vals,
                             timestamps: ts.isEmpty ? nil : ts, corrupt: corrupt)
    }
}
