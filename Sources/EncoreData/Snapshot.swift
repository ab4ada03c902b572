// A compact binary snapshot of a loaded dataset, so later commands skip parsing.
//
// Layout (little-endian): magic "ENCSNAP\0" (8 bytes), format version (UInt32), header length
// (UInt32), JSON header, then sections in a fixed order, each an 8-byte length and its bytes:
// row pointers (Int64), column indices (Int32), values (Float32), timestamps (Int64, may be
// empty), user ids, item ids, titles, releases, artists (string tables), years (Int32), tags
// (string table of "\u{1F}"-joined lists); finally a 64-bit checksum of everything before it.
// Reading verifies magic, version, lengths and checksum before trusting any byte. O(size).
import EncoreMath
import Foundation

/// Writes and reads dataset snapshots.
public enum Snapshot {
    public static let magic: [UInt8] = Array("ENCSNAP".utf8) + [0]
    public static let formatVersion: UInt32 = 1

    struct Header: Codable {
        var name: String
        var users: Int
        var items: Int
        var interactions: Int
        var hasTimestamps: Bool
        var transform: String
        var report: LoadReport
        var fingerprint: String
    }

    /// Whether the file starts with the snapshot magic.
    public static func isSnapshot(path: String) -> Bool { fileStarts(path, with: magic) }

    /// A stable fingerprint of the play matrix (ids, structure and values).
    public static func fingerprint(_ m: InteractionMatrix) -> String {
        var h = Checksum64()
        for id in m.users.ids { h.add(Array(id.utf8)); h.add([0]) }
        for id in m.items.ids { h.add(Array(id.utf8)); h.add([0]) }
        m.rowPointers.withUnsafeBytes { h.add($0) }
        m.columnIndices.withUnsafeBytes { h.add($0) }
        m.values.withUnsafeBytes { h.add($0) }
        return String(h.value, radix: 16)
    }

    static let container = BinaryContainer(magic: magic, version: formatVersion, kind: "snapshot", remedy: "re-create it with `encore import`")

    /// The snapshot's bytes.
    public static func encode(_ dataset: Dataset) throws -> Data {
        let m = dataset.interactions
        let header = Header(name: dataset.name, users: m.userCount, items: m.itemCount, interactions: m.nnz,
                            hasTimestamps: m.timestamps != nil, transform: dataset.transform.description,
                            report: dataset.report, fingerprint: fingerprint(m))
        let json = try JSONEncoder().encode(header)
        return container.encode(header: json) { out in
            m.appendSections(to: &out, timestampSection: true)
            let c = dataset.catalog.entries
            BinaryCoding.appendStrings(&out, c.map(\.title))
            BinaryCoding.appendStrings(&out, c.map(\.release))
            BinaryCoding.appendStrings(&out, c.map(\.artist))
            BinaryCoding.appendArray(&out, c.map { Int32(clamping: $0.year) })
            BinaryCoding.appendStrings(&out, c.map { $0.tags.joined(separator: "\u{1F}") })
        }
    }

    /// Writes atomically; `inputs` are the files the dataset came from, which the output must not replace.
    public static func write(_ dataset: Dataset, to path: String, inputs: [String] = []) throws {
        try AtomicFile.write(try encode(dataset), to: path, inputs: inputs)
    }

    public static func read(path: String) throws -> Dataset {
        let data = try BinaryContainer.contents(of: path)
        return try decode(data, source: path)
    }

    /// Decodes and validates snapshot bytes; `source` names them in messages.
    public static func decode(_ data: Data, source: String) throws -> Dataset {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> Dataset in
            try container.open(raw, source: source) { headerBytes, cursor, corrupt in
                let header: Header
                do { header = try JSONDecoder().decode(Header.self, from: headerBytes) } catch { throw corrupt("unreadable header") }
                let matrix = try InteractionMatrix.readSections(&cursor, timestampSection: true, corrupt: corrupt)
                let titles = try cursor.strings(corrupt)
                let releases = try cursor.strings(corrupt)
                let artists = try cursor.strings(corrupt)
                let years = try cursor.array(Int32.self, corrupt)
                let tags = try cursor.strings(corrupt)
                let items = matrix.items.ids
                guard matrix.userCount == header.users, matrix.itemCount == header.items, matrix.nnz == header.interactions,
                      header.hasTimestamps == (matrix.timestamps != nil) || matrix.nnz == 0,
                      [titles.count, releases.count, artists.count, years.count, tags.count].allSatisfy({ $0 == items.count })
                else { throw corrupt("section sizes disagree with the header") }
                guard let transform = ValueTransform(argument: header.transform) else { throw corrupt("unknown value transform '\(header.transform)'") }
                guard fingerprint(matrix) == header.fingerprint else { throw corrupt("the plays do not match the header's fingerprint") }
                var entries: [CatalogEntry] = []
                entries.reserveCapacity(items.count)
                for i in 0..<items.count {
                    entries.append(CatalogEntry(title: titles[i], release: releases[i], artist: artists[i], year: Int(years[i]),
                                                tags: tags[i].isEmpty ? [] : tags[i].split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)))
                }
                return Dataset(name: header.name, interactions: matrix, catalog: Catalog(entries: entries), report: header.report,
                               transform: transform)
            }
        }
    }
}

/// Whether the file at `path` starts with `prefix` (false when it cannot be read).
public func fileStarts(_ path: String, with prefix: [UInt8]) -> Bool {
    guard let h = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? h.close() }
    guard let d = try? h.read(upToCount: prefix.count) else { return false }
    return Array(d) == prefix
}
