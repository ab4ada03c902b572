// Train/test splits, all seeded: a random ratio over rows (the report's 80/20), a per-user
// hold-out fraction (as the shared lastfm-2k split: n_test = max(1, round(f·n)) for users with
// n ≥ 2 items, none for n = 1), k-fold over rows, and leave-last-out by timestamp. Train and test
// keep the full id maps, so indices agree. O(nnz).
import EncoreMath

/// How to split interactions into train and test.
public enum SplitMethod: Sendable, Equatable {
    case ratio(testFraction: Double)
    case perUser(testFraction: Double)
    case kFold(folds: Int)
    case leaveLastOut
}

/// One train/test pair over the same users and items.
public struct TrainTestSplit: Sendable {
    public var train: InteractionMatrix
    public var test: InteractionMatrix
}

/// Makes seeded splits of an InteractionMatrix.
public enum DatasetSplitter {
    /// Returns one split, or `folds` splits for k-fold.
    public static func split(_ m: InteractionMatrix, method: SplitMethod, seed: UInt64) throws -> [TrainTestSplit] {
        var rng = SeededGenerator(seed: seed)
        switch method {
        case .ratio(let f):
            try check(fraction: f)
            var order = Array(0..<m.nnz)
            rng.shuffle(&order)
            let nTest = Int((Double(m.nnz) * f).rounded())
            var isTest = [Bool](repeating: false, count: m.nnz)
            for k in order.prefix(nTest) { isTest[k] = true }
            return [pair(m, isTest)]
        case .perUser(let f):
            try check(fraction: f)
            var isTest = [Bool](repeating: false, count: m.nnz)
            for u in 0..<m.userCount {
                let r = m.rowRange(u)
                let n = r.count
                guard n >= 2 else { continue }
                let nTest = max(1, Int((f * Double(n)).rounded()))
                var perm = Array(r)
                rng.shuffle(&perm)
                for k in perm.prefix(min(nTest, n - 1)) { isTest[k] = true }
            }
            return [pair(m, isTest)]
        case .kFold(let folds):
            guard folds >= 2 else { throw ParameterError("k-fold needs at least 2 folds, got \(folds)") }
            guard folds <= m.nnz else { throw ParameterError("k-fold with \(folds) folds needs at least \(folds) rows, the data has \(m.nnz)") }
            var order = Array(0..<m.nnz)
            rng.shuffle(&order)
            var fold = [Int](repeating: 0, count: m.nnz)
            for (position, k) in order.enumerated() { fold[k] = position * folds / m.nnz }
            return (0..<folds).map { f in pair(m, fold.map { $0 == f }) }
        case .leaveLastOut:
            guard let ts = m.timestamps else {
                throw ParameterError("leave-last-out needs timestamps, and this dataset has none (MovieLens has them); use --method per-user")
            }
            var isTest = [Bool](repeating: false, count: m.nnz)
            for u in 0..<m.userCount {
                let r = m.rowRange(u)
                guard r.count >= 2 else { continue }
                // Latest play; ties go to the larger item index so the choice is deterministic.
                var best = r.lowerBound
                for k in r where ts[k] > ts[best] || (ts[k] == ts[best] && m.columnIndices[k] > m.columnIndices[best]) { best = k }
                isTest[best] = true
            }
            return [pair(m, isTest)]
        }
    }

    static func check(fraction f: Double) throws {
        guard f > 0, f < 1 else { throw ParameterError("the test fraction must be between 0 and 1 (exclusive), got \(f)") }
    }

    static func pair(_ m: InteractionMatrix, _ isTest: [Bool]) -> TrainTestSplit {
        TrainTestSplit(train: m.masked(keep: isTest.map { !$0 }), test: m.masked(keep: isTest))
    }

    /// Writes a matrix as `user<TAB>item<TAB>plays` with a header, sorted by (user, item) index.
    public static func writeTSV(_ m: InteractionMatrix, to path: String, inputs: [String] = []) throws {
        var writer = try BufferedFileWriter(path: path, inputs: inputs)
        writer.write("user\titem\tplays\n")
        for u in 0..<m.userCount {
            let uid = m.users[u]
            for k in m.rowRange(u) {
                writer.write(uid)
                writer.write("\t")
                writer.write(m.items[Int(m.columnIndices[k])])
                writer.write("\t")
                writer.write(formatPlays(m.values[k]))
                writer.write("\n")
            }
        }
        try writer.close()
    }

    static func formatPlays(_ v: Float) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
    }
}

/// Counts of a ready-made train/test pair, and its cold items.
public struct SplitFilesSummary: Codable, Sendable {
    public struct Side: Codable, Sendable {
        public var rows: Int
        public var users: Int
        public var items: Int
    }
    public var train: Side
    public var test: Side
    /// Test rows whose item never occurs in train.
    public var coldItemRows: Int
    /// Distinct test items that never occur in train.
    public var coldItems: Int
    /// Test users that do not occur in train.
    public var coldUsers: Int

    enum CodingKeys: String, CodingKey {
        case train, test
        case coldItemRows = "cold_item_rows"
        case coldItems = "cold_items"
        case coldUsers = "cold_users"
    }
}

/// Ready-made `--train/--test` files, read into one id space (train ids first).
public struct SplitFiles: Sendable {
    public var train: InteractionMatrix
    public var test: InteractionMatrix
    public var summary: SplitFilesSummary

    /// Reads two play logs (any format the importer knows; `user item plays` TSV by default).
    public static func load(train: String, test: String, options: LoadOptions = LoadOptions()) throws -> SplitFiles {
        let a = try DatasetImporter.load(path: train, format: splitFormat(train), delimited: tsvWithHeader, options: options).interactions
        let b = try DatasetImporter.load(path: test, format: splitFormat(test), delimited: tsvWithHeader, options: options).interactions
        var users = a.users
        var items = a.items
        for id in b.users.ids { _ = users.intern(id) }
        for id in b.items.ids { _ = items.intern(id) }
        let trainM = remap(a, users: users, items: items)
        let testM = remap(b, users: users, items: items)
        let trainItemCount = a.itemCount
        var coldRows = 0
        var coldSet = Set<Int32>()
        for c in testM.columnIndices where Int(c) >= trainItemCount { coldRows += 1; coldSet.insert(c) }
        let coldUsers = b.users.ids.filter { a.users.index(of: $0) == nil }.count
        func side(_ m: InteractionMatrix) -> SplitFilesSummary.Side {
            SplitFilesSummary.Side(rows: m.nnz, users: m.userCount, items: m.itemCount)
        }
        return SplitFiles(train: trainM, test: testM,
                          summary: SplitFilesSummary(train: side(a), test: side(b), coldItemRows: coldRows, coldItems: coldSet.count, coldUsers: coldUsers))
    }

    static let tsvWithHeader = DelimitedLoadOptions(format: DelimitedFormat(delimiter: 9), hasHeader: true,
                                                    user: .index(0), item: .index(1), value: .index(2))

    static func splitFormat(_ path: String) throws -> ImportFormat {
        if let f = try? DatasetImporter.detect(path: path), f != .triplets { return f }
        return .delimited
    }

    /// The same entries expressed in larger id maps that extend the matrix's own.
    static func remap(_ m: InteractionMatrix, users: IDMap, items: IDMap) -> InteractionMatrix {
        var ptr = [Int](repeating: 0, count: users.count + 1)
        var cols = [Int32](repeating: 0, count: m.nnz)
        var vals = [Float](repeating: 0, count: m.nnz)
        var rowOf = [Int](repeating: -1, count: users.count)
        for u in 0..<m.userCount { rowOf[users.index(of: m.users[u])!] = u }
        let itemMap = (0..<m.itemCount).map { Int32(items.index(of: m.items[$0])!) }
        var out = 0
        for nu in 0..<users.count {
            if rowOf[nu] >= 0 {
                let u = rowOf[nu]
                var row = m.rowRange(u).map { (itemMap[Int(m.columnIndices[$0])], m.values[$0]) }
                row.sort { $0.0 < $1.0 }
                for (c, v) in row { cols[out] = c; vals[out] = v; out += 1 }
            }
            ptr[nu + 1] = out
        }
        return InteractionMatrix(users: users, items: items, rowPointers: ptr, columnIndices: cols, values: vals)
    }
}
