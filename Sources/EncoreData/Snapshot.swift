// A compact binary snapshot of a loaded dataset, so later commands skip parsing.
//
// Layout (little-endian): magic "ENCSNAP\0" (8 bytes), format version (UInt32), header length
// (UInt32), JSON header, then sections in a fixed order, each an 8-byte length and its bytes:
// row pointers (Int64), column indices (Int32), values (Float32), timestamps (Int64, may be
// empty), user ids, item ids, titles, releases, artists (string tables), years (Int32), tags
// (string table of "\u{1F}"-joined lists); finally a 64-bit checksum of everything before it.
// Reading verifies magic, version, lengths and checksum before trusting any byte. O(size).
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
    public static func isSnapshot(path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let d = try? h.read(upToCount: 8) else { return false }
        return Array(d) == magic
    }

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

    public static func write(_ dataset: Dataset, to path: String) throws {
        let m = dataset.interactions
        var out = Data()
        out.append(contentsOf: magic)
        BinaryCoding.appendInt(&out, UInt32(formatVersion))
        let header = Header(name: dataset.name, users: m.userCount, items: m.itemCount, interactions: m.nnz,
                            hasTimestamps: m.timestamps != nil, transform: dataset.transform.description,
                            report: dataset.report, fingerprint: fingerprint(m))
        let json = try JSONEncoder().encode(header)
        BinaryCoding.appendInt(&out, UInt32(json.count))
        out.append(json)
        BinaryCoding.appendArray(&out, m.rowPointers.map { Int64($0) })
        BinaryCoding.appendArray(&out, m.columnIndices)
        BinaryCoding.appendArray(&out, m.values)
        BinaryCoding.appendArray(&out, m.timestamps ?? [])
        BinaryCoding.appendStrings(&out, m.users.ids)
        BinaryCoding.appendStrings(&out, m.items.ids)
        let c = dataset.catalog.entries
        BinaryCoding.appendStrings(&out, c.map(\.title))
        BinaryCoding.appendStrings(&out, c.map(\.release))
        BinaryCoding.appendStrings(&out, c.map(\.artist))
        BinaryCoding.appendArray(&out, c.map { Int32(clamping: $0.year) })
        BinaryCoding.appendStrings(&out, c.map { $0.tags.joined(separator: "\u{1F}") })
        var sum = Checksum64()
        out.withUnsafeBytes { sum.add($0) }
        BinaryCoding.appendInt(&out, sum.value)
        try writeAtomically(out, to: path)
    }

    public static func read(path: String) throws -> Dataset {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError(file: path, problem: .missingFile) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw DataError(file: path, problem: .unreadable(error.localizedDescription))
        }
        func corrupt(_ why: String) -> Error {
            DataError(file: path, problem: .inconsistent("not a valid Encore snapshot: \(why); re-create it with `encore import`"))
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> Dataset in
            guard raw.count >= 24, Array(raw[0..<8]) == magic else { throw corrupt("wrong magic bytes") }
            let version = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
            guard version == formatVersion else {
                throw corrupt("format version \(version), this build reads version \(formatVersion)")
            }
            let stored = raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self)
            var sum = Checksum64()
            sum.add(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]))
            guard sum.value == stored else { throw corrupt("checksum mismatch (the file is truncated or damaged)") }
            var cursor = BinaryCursor(raw: UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]), offset: 12)
            let hl = Int(try cursor.read(UInt32.self, corrupt))
            let headerBytes = try cursor.bytes(hl, corrupt)
            let header: Header
            do { header = try JSONDecoder().decode(Header.self, from: Data(headerBytes)) } catch { throw corrupt("unreadable header") }
            let ptr = try cursor.array(Int64.self, corrupt).map { Int($0) }
            let cols = try cursor.array(Int32.self, corrupt)
            let vals = try cursor.array(Float.self, corrupt)
            let ts = try cursor.array(Int64.self, corrupt)
            let users = try cursor.strings(corrupt)
            let items = try cursor.strings(corrupt)
            let titles = try cursor.strings(corrupt)
            let releases = try cursor.strings(corrupt)
            let artists = try cursor.strings(corrupt)
            let years = try cursor.array(Int32.self, corrupt)
            let tags = try cursor.strings(corrupt)
            guard ptr.count == users.count + 1, users.count == header.users, items.count == header.items,
                  cols.count == vals.count, vals.count == header.interactions, ptr.last == vals.count,
                  ts.isEmpty || ts.count == vals.count,
                  [titles.count, releases.count, artists.count, years.count, tags.count].allSatisfy({ $0 == items.count })
            else { throw corrupt("section sizes disagree with the header") }
            for c in cols where c < 0 || Int(c) >= items.count { throw corrupt("item index out of range") }
            let matrix = InteractionMatrix(users: IDMap(users), items: IDMap(items), rowPointers: ptr, columnIndices: cols,
                                           values: vals, timestamps: header.hasTimestamps ? ts : nil)
            var entries: [CatalogEntry] = []
            entries.reserveCapacity(items.count)
            for i in 0..<items.count {
                entries.append(CatalogEntry(title: titles[i], release: releases[i], artist: artists[i], year: Int(years[i]),
                                            tags: tags[i].isEmpty ? [] : tags[i].split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)))
            }
            return Dataset(name: header.name, interactions: matrix, catalog: Catalog(entries: entries), report: header.report,
                           transform: ValueTransform(argument: header.transform) ?? .none)
        }
    }
}

