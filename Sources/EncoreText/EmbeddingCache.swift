// A file of embeddings keyed by the encoder's identity and a 64-bit hash of each text, so that
// re-encoding a catalogue costs nothing for songs whose text did not change. Layout: magic
// "ENCEMB1\0", identity length + identity, dimension, count, then (hash, Float32 × dimension)
// records. A file for another encoder or a damaged one is ignored and rewritten.
import EncoreMath
import Foundation

/// Cached sentence embeddings.
public struct EmbeddingCache: Sendable {
    public let path: String
    public let identity: String

    public init(path: String, identity: String) {
        self.path = path
        self.identity = identity
    }

    /// FNV-1a 64 of the text's UTF-8 bytes.
    public static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    public func load() -> (dimension: Int, vectors: [UInt64: [Float]]) {
        guard let data = FileManager.default.contents(atPath: path), data.count >= 16 else { return (0, [:]) }
        return data.withUnsafeBytes { raw -> (Int, [UInt64: [Float]]) in
            guard Array(raw[0..<8]) == Array("ENCEMB1\0".utf8) else { return (0, [:]) }
            var o = 8
            func u32() -> Int? {
                guard o + 4 <= raw.count else { return nil }
                defer { o += 4 }
                return Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
            }
            guard let idLength = u32(), o + idLength <= raw.count else { return (0, [:]) }
            let id = String(decoding: raw[o..<(o + idLength)], as: UTF8.self)
            o += idLength
            guard id == identity, let d = u32(), let n = u32(), d > 0, o + n * (8 + 4 * d) == raw.count else { return (0, [:]) }
            var out: [UInt64: [Float]] = [:]
            for _ in 0..<n {
                let h = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))
                o += 8
                out[h] = (0..<d).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o + 4 * $0, as: UInt32.self))) }
                o += 4 * d
            }
            return (d, out)
        }
    }

    public func save(_ vectors: [UInt64: [Float]], dimension d: Int) throws {
        var out = Data("ENCEMB1\0".utf8)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        let id = Array(identity.utf8)
        u32(id.count)
        out.append(contentsOf: id)
        u32(d)
        u32(vectors.count)
        for (h, v) in vectors.sorted(by: { $0.key < $1.key }) {
            withUnsafeBytes(of: h.littleEndian) { out.append(contentsOf: $0) }
            v.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        do { try AtomicFile.write(out, to: path) } catch {
            throw TextModelError("cannot write the embedding cache: \(error)")
        }
    }

    /// Embeddings of `texts`, encoding only those missing from the cache; returns them and the cache hits.
    public func embed(_ texts: [String], with encoder: SentenceEncoder, batchSize: Int = 64, progress: Bool = false) throws -> (vectors: [[Float]], hits: Int) {
        var (dimension, cached) = load()
        let hashes = texts.map(Self.hash)
        let missing = Array(Set(hashes.indices.filter { cached[hashes[$0]] == nil }.map { hashes[$0] }))
        let firstText = Dictionary(hashes.indices.map { (hashes[$0], texts[$0]) }, uniquingKeysWith: { a, _ in a })
        if !missing.isEmpty {
            let bar = progress ? ProgressReporter(label: "encoding", total: Double(missing.count)) : nil
            let encoded = encoder.encode(missing.map { firstText[$0]! }, batchSize: batchSize, progress: bar)
            for (h, v) in zip(missing, encoded) { cached[h] = v }
            dimension = encoded.first?.count ?? dimension
            try save(cached, dimension: dimension)
        }
        let hits = hashes.filter { !missing.contains($0) }.count
        return (hashes.map { cached[$0]! }, hits)
    }
}
