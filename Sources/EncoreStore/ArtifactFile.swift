// Model artifact files: a trained model with everything needed to use it again.
//
// Layout (little-endian): magic "ENCMODEL" (8 bytes), format version (UInt32), header length
// (UInt32), JSON header (algorithm, configuration, data fingerprint, value transform, metrics,
// array names and types), the training matrix (row pointers, columns, values, user ids, item
// ids), the model's arrays in header order, and a 64-bit checksum of everything before it.
// Loading checks magic, version, checksum, every length, and (when given) the dataset.
import EncoreData
import EncoreMath
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
        /// The catalogue the model was trained with (its songs' metadata, in the model's song
        /// order), when it had one: a different catalogue is refused where the model is used.
        public var catalogFingerprint: String?

        enum CodingKeys: String, CodingKey {
            case formatVersion = "format_version"
            case algorithm, configuration
            case dataFingerprint = "data_fingerprint"
            case valueTransform = "value_transform"
            case metrics, arrays, created
            case catalogFingerprint = "catalog_fingerprint"
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
    public init(model: any Recommender, transform: ValueTransform, metrics: [String: Double] = [:], catalog: Catalog? = nil) {
        let state = model.state()
        let infos = state.arrays.sorted(by: { $0.key < $1.key }).map { name, array -> ArrayInfo in
            switch array {
            case .float(let a): ArrayInfo(name: name, type: "float32", count: a.count)
            case .double(let a): ArrayInfo(name: name, type: "float64", count: a.count)
            case .int32(let a): ArrayInfo(name: name, type: "int32", count: a.count)
            case .int64(let a): ArrayInfo(name: name, type: "int64", count: a.count)
            }
        }
        header = Header(formatVersion: Int(Self.formatVersion), algorithm: model.name, configuration: model.configurationJSON,
                        dataFingerprint: Snapshot.fingerprint(model.train), valueTransform: transform.description,
                        metrics: metrics, arrays: infos, created: ISO8601DateFormatter().string(from: Date()),
                        catalogFingerprint: catalog.flatMap { $0.count == model.train.itemCount && $0.entries.contains { !$0.text.isEmpty } ? $0.fingerprint : nil })
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

    static let container = BinaryContainer(magic: magic, version: formatVersion, kind: "model artifact", remedy: "train it again with `encore train`")

    /// The artifact's bytes (for a file or a database).
    public func encode() throws -> Data {
        let json = try JSONEncoder().encode(header)
        return Self.container.encode(header: json) { out in
            train.appendSections(to: &out, timestampSection: false)
            for info in header.arrays {
                switch state.arrays[info.name] {
                case .float(let a)?: BinaryCoding.appendArray(&out, a)
                case .double(let a)?: BinaryCoding.appendArray(&out, a)
                case .int32(let a)?: BinaryCoding.appendArray(&out, a)
                case .int64(let a)?: BinaryCoding.appendArray(&out, a)
                case nil: BinaryCoding.appendArray(&out, [UInt8]())
                }
            }
        }
    }

    /// Writes atomically; `inputs` are the files the model was trained from, which the output must not replace.
    public func write(to path: String, inputs: [String] = []) throws {
        try AtomicFile.write(try encode(), to: path, inputs: inputs)
    }

    /// Reads and checks an artifact; `expectedFingerprint` refuses one trained on other data.
    public static func read(path: String, expectedFingerprint: String? = nil) throws -> Artifact {
        try decode(try BinaryContainer.contents(of: path), source: path, expectedFingerprint: expectedFingerprint)
    }

    /// Decodes and validates artifact bytes: the container, the training matrix, every array's
    /// type and length, finite values, and the model's own consistency checks.
    public static func decode(_ data: Data, source: String, expectedFingerprint: String? = nil) throws -> Artifact {
        let artifact: Artifact = try data.withUnsafeBytes { raw in
            try container.open(raw, source: source) { headerBytes, c, corrupt in
                let header: Header
                do { header = try JSONDecoder().decode(Header.self, from: headerBytes) } catch { throw corrupt("unreadable header") }
                let train = try InteractionMatrix.readSections(&c, timestampSection: false, corrupt: corrupt)
                var arrays: [String: StateArray] = [:]
                for info in header.arrays {
                    guard arrays[info.name] == nil else { throw corrupt("the array '\(info.name)' appears twice") }
                    let a: StateArray
                    switch info.type {
                    case "float32": a = .float(try c.array(Float.self, corrupt))
                    case "float64": a = .double(try c.array(Double.self, corrupt))
                    case "int32": a = .int32(try c.array(Int32.self, corrupt))
                    case "int64": a = .int64(try c.array(Int64.self, corrupt))
                    default: throw corrupt("unknown array type \(info.type)")
                    }
                    guard a.count == info.count else { throw corrupt("the array '\(info.name)' has \(a.count) entries, its header says \(info.count)") }
                    arrays[info.name] = a
                }
                let state = ModelState(arrays: arrays)
                if let bad = state.firstNonFinite { throw corrupt("the array '\(bad)' holds NaN or infinite values") }
                guard ValueTransform(argument: header.valueTransform) != nil else { throw corrupt("unknown value transform '\(header.valueTransform)'") }
                return Artifact(header: header, train: train, state: state)
            }
        }
        guard Snapshot.fingerprint(artifact.train) == artifact.header.dataFingerprint else {
            throw container.corrupt(source, "its training data does not match its fingerprint")
        }
        if let expectedFingerprint, expectedFingerprint != artifact.header.dataFingerprint {
            throw DataError(file: source, problem: .inconsistent(
                "this model was trained on other data (fingerprint \(artifact.header.dataFingerprint), the given data has \(expectedFingerprint)); train it on this dataset"))
        }
        return artifact
    }
}
