// The round trip with Apache Spark, for training past one machine: `export` writes the plays with
// integer ids for a Spark job (interactions.csv: user,item,plays in the matrix's row and column
// numbers, user-major and sorted; users.csv and items.csv: number,id; manifest.json: the counts,
// the value scale and the matrix's fingerprint), and `importFactors` reads the factors MLlib's
// implicit ALS wrote beside them (user_factors.csv and item_factors.csv: number,f0,…,f(rank−1);
// spark_params.json: rank, regParam, alpha) back as an `als` model over exactly the exported
// matrix, which Encore serves like its own (scores are the factors' dot products; a new
// listener is folded in with Encore's ALS solve, λ unscaled where Spark scales it by the plays).
// The confidence is Spark's 1 + α·value on the exported values; exported with the log1p scale
// (the default) that is Encore's own 1 + α·log1p(plays). O(plays + (users + songs) · rank).
import EncoreData
import EncoreMath
import EncoreModels
import Foundation

public enum SparkExchange {
    /// What an export holds.
    public struct Manifest: Codable, Sendable {
        public var users: Int
        public var items: Int
        public var interactions: Int
        /// The value scale of the exported plays (`log1p` or `none`).
        public var value: String
        public var fingerprint: String
    }

    public struct ExchangeError: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// Writes `raw` (play counts) on the `transform` scale into `directory` (created).
    @discardableResult
    public static func export(_ raw: InteractionMatrix, transform: ValueTransform, to directory: String) throws -> Manifest {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let m = raw.mapValues(transform)
        if let bad = (m.users.ids + m.items.ids).first(where: { $0.contains(where: \.isNewline) }) {
            throw ExchangeError("the id '\(bad.prefix(40))' holds a line break; the export writes one id per line")
        }
        var text = "user,item,plays\n"
        text.reserveCapacity(m.nnz * 16)
        for u in 0..<m.userCount {
            for k in m.rowRange(u) { text += "\(u),\(m.columnIndices[k]),\(m.values[k])\n" }
        }
        try AtomicFile.write(text: text, to: directory + "/interactions.csv")
        for (name, ids) in [("users", m.users.ids), ("items", m.items.ids)] {
            try AtomicFile.write(text: (["number,id"] + ids.enumerated().map { "\($0),\(csvField($1))" }).joined(separator: "\n") + "\n",
                                 to: directory + "/\(name).csv")
        }
        let manifest = Manifest(users: m.userCount, items: m.itemCount, interactions: m.nnz, value: transform.description, fingerprint: Snapshot.fingerprint(m))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(manifest), to: directory + "/manifest.json")
        return manifest
    }

    /// The exported matrix, its value scale, and the factors as an ALS model over it.
    public static func importFactors(from directory: String) throws -> (model: AlternatingLeastSquares, transform: ValueTransform) {
        let manifest = try JSONDecoder().decode(Manifest.self, from: try read(directory + "/manifest.json"))
        guard let transform = ValueTransform(argument: manifest.value) else { throw ExchangeError("manifest.json: unknown value scale '\(manifest.value)'") }
        let users = try ids(directory + "/users.csv", count: manifest.users)
        let items = try ids(directory + "/items.csv", count: manifest.items)
        // The interactions, user-major and sorted as export wrote them.
        var pointers = [Int64](repeating: 0, count: users.count + 1)
        var columns: [Int32] = [], values: [Float] = []
        columns.reserveCapacity(manifest.interactions); values.reserveCapacity(manifest.interactions)
        try lines(directory + "/interactions.csv") { n, fields in
            guard fields.count == 3, let u = Int(fields[0]), let i = Int32(fields[1]), let v = Float(fields[2]), u >= 0, u < users.count, i >= 0, Int(i) < items.count else {
                throw ExchangeError("interactions.csv:\(n): expected user,item,plays with numbers in range")
            }
            pointers[u + 1] += 1
            columns.append(i); values.append(v)
        }
        for u in 0..<users.count { pointers[u + 1] += pointers[u] }
        let train = try InteractionMatrix.validated(users: users, items: items, rowPointers: pointers, columnIndices: columns, values: values,
                                                    timestamps: nil, corrupt: { ExchangeError("interactions.csv: \($0)") })
        guard Snapshot.fingerprint(train) == manifest.fingerprint else {
            throw ExchangeError("interactions.csv does not match manifest.json's fingerprint: the export was changed")
        }
        let params = (try? JSONSerialization.jsonObject(with: try read(directory + "/spark_params.json")) as? [String: Any]) ?? nil
        guard let params, let rank = (params["rank"] as? NSNumber)?.intValue, rank > 0 else {
            throw ExchangeError("spark_params.json: the Spark job writes rank, regParam and alpha there")
        }
        var c = ALSConfiguration()
        c.factors = rank
        c.regularization = (params["regParam"] as? NSNumber)?.doubleValue ?? c.regularization
        c.alpha = (params["alpha"] as? NSNumber)?.doubleValue ?? 1
        c.confidence = .linear
        c.iterations = (params["maxIter"] as? NSNumber)?.intValue ?? c.iterations
        let userFactors = try factors(directory + "/user_factors.csv", count: users.count, rank: rank, what: "user")
        let itemFactors = try factors(directory + "/item_factors.csv", count: items.count, rank: rank, what: "item")
        let model = try AlternatingLeastSquares(train: train, configuration: c,
                                                state: ModelState(arrays: ["user_factors": .float(userFactors), "item_factors": .float(itemFactors)]))
        return (model, transform)
    }

    /// number,f0,…: one row per number in 0..<count, each exactly once.
    static func factors(_ path: String, count: Int, rank: Int, what: String) throws -> [Float] {
        var out = [Float](repeating: 0, count: count * rank)
        var seen = [Bool](repeating: false, count: count)
        try lines(path) { n, fields in
            guard fields.count == rank + 1, let id = Int(fields[0]), id >= 0, id < count else {
                throw ExchangeError("\(lastComponent(path)):\(n): expected a \(what) number below \(count) and \(rank) factors")
            }
            guard !seen[id] else { throw ExchangeError("\(lastComponent(path)):\(n): \(what) \(id) appears twice") }
            seen[id] = true
            for j in 0..<rank {
                guard let v = Float(fields[j + 1]), v.isFinite else { throw ExchangeError("\(lastComponent(path)):\(n): factor \(j) is not a finite number") }
                out[id * rank + j] = v
            }
        }
        if let missing = seen.firstIndex(of: false) { throw ExchangeError("\(lastComponent(path)): no factors for \(what) \(missing) (of \(count))") }
        return out
    }

    static func ids(_ path: String, count: Int) throws -> [String] {
        var out = [String?](repeating: nil, count: count)
        try lines(path) { n, fields in
            guard fields.count >= 2, let k = Int(fields[0]), k >= 0, k < count, out[k] == nil else {
                throw ExchangeError("\(lastComponent(path)):\(n): expected number,id with each number below \(count) once")
            }
            out[k] = fields.dropFirst().joined(separator: ",").replacingOccurrences(of: "\"\"", with: "\"").trimmingQuotes
        }
        guard let missing = out.firstIndex(where: { $0 == nil }) else { return out.map { $0 ?? "" } }
        throw ExchangeError("\(lastComponent(path)): number \(missing) is missing")
    }

    /// Calls `body` with each data line's comma-separated fields (the header skipped), 1-based line numbers.
    static func lines(_ path: String, _ body: (Int, [Substring]) throws -> Void) throws {
        let text = String(decoding: try read(path), as: UTF8.self)
        // "\r\n" (Python's csv writer) is one Character: split on any line end.
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() where n > 0 && !line.isEmpty {
            try body(n + 1, line.split(separator: ",", omittingEmptySubsequences: false))
        }
    }

    static func read(_ path: String) throws -> Data {
        guard let d = FileManager.default.contents(atPath: path) else { throw ExchangeError("cannot read \(path)") }
        return d
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func lastComponent(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }
}

extension String {
    fileprivate var trimmingQuotes: String {
        count >= 2 && hasPrefix("\"") && hasSuffix("\"") ? String(dropFirst().dropLast()) : self
    }
}
