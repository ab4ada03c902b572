// Model artifact files: a trained model with everything needed to use it again.
//
// Layout (little-endian): magic "ENCMODEL" (8 bytes), format version (UInt32), header length
// (UInt32), JSON header (algorithm, configuration, data fingerprint, value transform, metrics,
// array names and types), the training matrix (row pointers, columns, values, user ids, item
// ids), the model's arrays in header order, and a 64-bit checksum of everything before it.
// Loading checks magic, version, checksum, every length, and (when given) the dataset.
import EncoreData
import EncoreModels
import Foundation

/// A trained model saved to disk.
public struct Artifact: Sendable {
    public struct Header: Codable, Sendable {
        public var formatVersion: Int
        public var algorithm: String
        public var configuration: String
        public var dataFingerprint: String
        public var valueTransform: String
        public var metrics: [String: Double]
        public var arrays: [ArrayInfo]
        public var created: String

        enum CodingKeys: String, CodingKey {
            case formatVersion = "format_version"
            case algorithm, configuration
            case dataFingerprint = "data_fingerprint"
            case valueTransform = "value_transform"
            case metrics, arrays, created
        }
    }

    public struct ArrayInfo: Codable, Sendable {
        public var name: String
        public var type: String
        public var count: Int
    }

    public var header: Header
    public var train: InteractionMatrix
    public var state: ModelState

    public static let magic: [UInt8] = Array("ENCMODEL".utf8)
    public static let formatVersion: UInt32 = 1

    /// Packs a fitted model.
    public init(model: any Recommender, transform: ValueTransform, metrics: [String: Double] = [:]) {
        let state = model.state()
        let infos = state.arrays.keys.sorted().map { name -> ArrayInfo in
            switch state.arrays[name]! {
            case .float(let a): ArrayInfo(name: name, type: "float32", count: a.count)
            case .double(let a): ArrayInfo(name: name, type: "float64", count: a.count)
            case .int32(let a): ArrayInfo(name: name, type: "int32", count: a.count)
            case .int64(let a): ArrayInfo(name: name, type: "int64", count: a.count)
            }
        }
        header = Header(formatVersion: Int(Self.formatVersion), algorithm: model.name, configuration: model.configurationJSON,
                        dataFingerprint: Snapshot.fingerprint(model.train), valueTransform: transform.description,
                        metrics: metrics, arrays: infos, created: ISO8601DateFormatter().string(from: Date()))
        train = model.train
        self.state = state
    }

    init(header: Header, train: InteractionMatrix, state: ModelState) {
        self.header = header
        self.train = train
        self.state = state
    }

    /// Rebuilds the model through the registry.
    public func model() throws -> any Recommender {
        let entry = try ModelRegistry.entry(named: header.algorithm)
        return try entry.load(train, configuration: header.configuration, state: state)
    }

    public var transform: ValueTransform { ValueTransform(argument: header.valueTransform) ?? .none }

    public func write(to path: String) throws {
        var out = Data()
        out.append(contentsOf: Self.magic)
        BinaryCoding.appendInt(&out, Self.formatVersion)
        let json = try JSONEncoder().encode(header)
        BinaryCoding.appendInt(&out, UInt32(json.count))
        out.append(json)
        BinaryCoding.appendArray(&out, train.rowPointers.map { Int64($0) })
        BinaryCoding.appendArray(&out, train.columnIndices)
        BinaryCoding.appendArray(&out, train.values)
        BinaryCoding.appendStrings(&out, train.users.ids)
        BinaryCoding.appendStrings(&out, train.items.ids)
        for info in header.arrays {
            switch state.arrays[info.name]! {
            case .float(let a): BinaryCoding.appendArray(&out, a)
            case .double(let a): BinaryCoding.appendArray(&out, a)
            case .int32(let a): BinaryCoding.appendArray(&out, a)
            case .int64(let a): BinaryCoding.appendArray(&out, a)
            }
        }
        var sum = Checksum64()
        out.withUnsafeBytes { sum.add($0) }
        BinaryCoding.appendInt(&out, sum.value)
        try writeAtomically(out, to: path)
    }

    /// Reads and checks an artifact; `expectedFingerprint` refuses one trained on other data.
    public static func read(path: String, expectedFingerprint: String? = nil) throws -> Artifact {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError(file: path, problem: .missingFile) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw DataError(file: path, problem: .unreadable(error.localizedDescription))
        }
        func corrupt(_ why: String) -> Error {
            DataError(file: path, problem: .inconsistent("not a valid Encore model artifact: \(why); train it again with `encore train`"))
        }
        let artifact: Artifact = try data.withUnsafeBytes { raw in
            guard raw.count >= 24, Array(raw[0..<8]) == magic else { throw corrupt("wrong magic bytes") }
            let version = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
            guard version == formatVersion else { throw corrupt("format version \(version), this build reads version \(formatVersion)") }
            var sum = Checksum64()
            sum.add(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]))
            guard sum.value == raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self) else {
                throw corrupt("checksum mismatch (the file is truncated or damaged)")
            }
            var c = BinaryCursor(raw: UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]), offset: 12)
            let hl = Int(try c.read(UInt32.self, corrupt))
            let header: Header
            do { header = try JSONDecoder().decode(Header.self, from: Data(try c.bytes(hl, corrupt))) } catch { throw corrupt("unreadable header") }
            let ptr = try c.array(Int64.self, corrupt).map { Int($0) }
            let cols = try c.array(Int32.self, corrupt)
            let vals = try c.array(Float.self, corrupt)
            let users = try c.strings(corrupt)
            let items = try c.strings(corrupt)
            guard ptr.count == users.count + 1, ptr.first == 0, ptr.last == cols.count, cols.count == vals.count,
                  zip(ptr, ptr.dropFirst()).allSatisfy({ $0 <= $1 }), cols.allSatisfy({ $0 >= 0 && Int($0) < items.count })
            else { throw corrupt("the training matrix is inconsistent") }
            let train = InteractionMatrix(users: IDMap(users), items: IDMap(items), rowPointers: ptr, columnIndices: cols, values: vals)
            var arrays: [String: StateArray] = [:]
            for info in header.arrays {
                let a: StateArray
                switch info.type {
                case "float32": a = .float(try c.array(Float.self, corrupt))
                case "float64": a = .double(try c.array(Double.self, corrupt))
                case "int32": a = .int32(try c.array(Int32.self, corrupt))
                case "int64": a = .int64(try c.array(Int64.self, corrupt))
                default: throw corrupt("unknown array type \(info.type)")
                }
                arrays[info.name] = a
            }
            guard c.offset == c.raw.count else { throw corrupt("trailing bytes") }
            return Artifact(header: header, train: train, state: ModelState(arrays: arrays))
        }
        guard Snapshot.fingerprint(artifact.train) == artifact.header.dataFingerprint else {
            throw corrupt("its training data does not match its fingerprint")
        }
        if let expectedFingerprint, expectedFingerprint != artifact.header.dataFingerprint {
            throw DataError(file: path, problem: .inconsistent(
                "this model was trained on other data (fingerprint \(artifact.header.dataFingerprint), the given data has \(expectedFingerprint)); train it on this dataset"))
        }
        return artifact
    }
}
