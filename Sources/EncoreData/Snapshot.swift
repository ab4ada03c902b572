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
        var h = Checksum()
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
        appendInt(&out, UInt32(formatVersion))
        let header = Header(name: dataset.name, users: m.userCount, items: m.itemCount, interactions: m.nnz,
                            hasTimestamps: m.timestamps != nil, transform: dataset.transform.description,
                            report: dataset.report, fingerprint: fingerprint(m))
        let json = try JSONEncoder().encode(header)
        appendInt(&out, UInt32(json.count))
        out.append(json)
        appendArray(&out, m.rowPointers.map { Int64($0) })
        appendArray(&out, m.columnIndices)
        appendArray(&out, m.values)
        appendArray(&out, m.timestamps ?? [])
        appendStrings(&out, m.users.ids)
        appendStrings(&out, m.items.ids)
        let c = dataset.catalog.entries
        appendStrings(&out, c.map(\.title))
        appendStrings(&out, c.map(\.release))
        appendStrings(&out, c.map(\.artist))
        appendArray(&out, c.map { Int32(clamping: $0.year) })
        appendStrings(&out, c.map { $0.tags.joined(separator: "\u{1F}") })
        var sum = Checksum()
        out.withUnsafeBytes { sum.add($0) }
        appendInt(&out, sum.value)
        // Write to a temporary file and rename, so a failed write never leaves a half snapshot.
        let tmp = path + ".tmp-\(getpid())"
        do {
            try out.write(to: URL(fileURLWithPath: tmp))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: tmp, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw DataError(file: path, problem: .unreadable("cannot write the snapshot: \(error.localizedDescription)"))
        }
    }

    public static func read(path: String) throws -> Dataset {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError(file: path, problem: .missingFile) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw DataError(file: path, problem: .unreadable(error.localizedDescription))
        }
        func corrupt(_ why: String) -> DataError {
            DataError(file: path, problem: .inconsistent("not a valid Encore snapshot: \(why); re-create it with `encore import`"))
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> Dataset in
            guard raw.count >= 24, Array(raw[0..<8]) == magic else { throw corrupt("wrong magic bytes") }
            let version = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
            guard version == formatVersion else {
                throw corrupt("format version \(version), this build reads version \(formatVersion)")
            }
            let stored = raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self)
            var sum = Checksum()
            sum.add(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]))
            guard sum.value == stored else { throw corrupt("checksum mismatch (the file is truncated or damaged)") }
            var cursor = SnapshotCursor(raw: UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]), offset: 12)
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

    static func appendInt<T: FixedWidthInteger>(_ out: inout Data, _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    static func appendArray<T>(_ out: inout Data, _ a: [T]) {
        a.withUnsafeBytes { b in
            appendInt(&out, UInt64(b.count))
            out.append(contentsOf: b)
        }
    }

    static func appendStrings(_ out: inout Data, _ strings: [String]) {
        var lengths: [UInt32] = []
        lengths.reserveCapacity(strings.count)
        var blob: [UInt8] = []
        for s in strings {
            let u = Array(s.utf8)
            lengths.append(UInt32(u.count))
            blob.append(contentsOf: u)
        }
        appendArray(&out, lengths)
        appendArray(&out, blob)
    }
}

/// Bounds-checked sequential reads over the snapshot bytes.
struct SnapshotCursor {
    let raw: UnsafeRawBufferPointer
    var offset: Int

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ corrupt: (String) -> DataError) throws -> T {
        guard offset + MemoryLayout<T>.size <= raw.count else { throw corrupt("unexpected end of file") }
        let v = raw.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func bytes(_ n: Int, _ corrupt: (String) -> DataError) throws -> [UInt8] {
        guard n >= 0, offset + n <= raw.count else { throw corrupt("unexpected end of file") }
        let b = Array(raw[offset..<(offset + n)])
        offset += n
        return b
    }

    mutating func array<T>(_: T.Type, _ corrupt: (String) -> DataError) throws -> [T] {
        let n = Int(try read(UInt64.self, corrupt))
        guard n % MemoryLayout<T>.stride == 0, offset + n <= raw.count else { throw corrupt("unexpected end of file") }
        let count = n / MemoryLayout<T>.stride
        let result = [T](unsafeUninitializedCapacity: count) { buf, initialized in
            if n > 0 { memcpy(buf.baseAddress!, raw.baseAddress! + offset, n) }
            initialized = count
        }
        offset += n
        return result
    }

    mutating func strings(_ corrupt: (String) -> DataError) throws -> [String] {
        let lengths = try array(UInt32.self, corrupt)
        let blob = try array(UInt8.self, corrupt)
        var result: [String] = []
        result.reserveCapacity(lengths.count)
        var p = 0
        for l in lengths {
            let n = Int(l)
            guard p + n <= blob.count else { throw corrupt("string table overruns its section") }
            result.append(String(decoding: blob[p..<(p + n)], as: UTF8.self))
            p += n
        }
        guard p == blob.count else { throw corrupt("string table has trailing bytes") }
        return result
    }
}

/// A fast 64-bit checksum over byte blocks (8 bytes a step, multiply-xorshift mixing).
struct Checksum {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    private var pending: [UInt8] = []

    mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        let n = bytes.count
        var h = value
        while i + 8 <= n {
            let w = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0x0000_0100_0000_01B3 &+ 0x9E37_79B9_7F4A_7C15
            h ^= h >> 31
            i += 8
        }
        while i < n {
            h = (h ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01B3
            i += 1
        }
        value = h
    }
}
