// Little-endian binary sections shared by the dataset snapshot and the model artifact: fixed
// width integers, length-prefixed arrays and string tables, bounds-checked reading, a fast 64-bit
// checksum, and the container (magic, version, header, checksum) both file kinds use. Every read
// is checked against the buffer, so damaged files fail cleanly.
import EncoreMath
import Foundation

/// Appending sections to a Data buffer.
public enum BinaryCoding {
    public static func appendInt<T: FixedWidthInteger>(_ out: inout Data, _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    /// An 8-byte byte length, then the array's bytes.
    public static func appendArray<T>(_ out: inout Data, _ a: [T]) {
        a.withUnsafeBytes { b in
            appendInt(&out, UInt64(b.count))
            out.append(contentsOf: b)
        }
    }

    /// A UInt32 length array, then the UTF-8 bytes of all strings.
    public static func appendStrings(_ out: inout Data, _ strings: [String]) {
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

/// Bounds-checked sequential reads; `corrupt` turns a reason into the caller's error. Lengths
/// come from the file, so each is compared with the bytes left before it is used.
public struct BinaryCursor {
    public let raw: UnsafeRawBufferPointer
    public var offset: Int

    public init(raw: UnsafeRawBufferPointer, offset: Int) {
        self.raw = raw
        self.offset = offset
    }

    public var remaining: Int { raw.count - offset }

    public mutating func read<T: FixedWidthInteger>(_: T.Type, _ corrupt: (String) -> Error) throws -> T {
        guard MemoryLayout<T>.size <= remaining else { throw corrupt("unexpected end of file") }
        let v = raw.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    public mutating func bytes(_ n: Int, _ corrupt: (String) -> Error) throws -> [UInt8] {
        guard n >= 0, n <= remaining else { throw corrupt("a section is longer than the file") }
        let b = Array(raw[offset..<(offset + n)])
        offset += n
        return b
    }

    public mutating func array<T>(_: T.Type, _ corrupt: (String) -> Error) throws -> [T] {
        let declared = try read(UInt64.self, corrupt)
        guard declared <= UInt64(remaining) else { throw corrupt("a section declares \(declared) bytes, more than the file holds") }
        let n = Int(declared)
        guard n % MemoryLayout<T>.stride == 0 else { throw corrupt("a section's length is not a whole number of elements") }
        let count = n / MemoryLayout<T>.stride
        let base = raw.baseAddress
        let start = offset
        let result = [T](unsafeUninitializedCapacity: count) { buf, initialized in
            if n > 0, let dst = buf.baseAddress, let src = base { memcpy(dst, src + start, n) }
            initialized = count
        }
        offset += n
        return result
    }

    public mutating func strings(_ corrupt: (String) -> Error) throws -> [String] {
        let lengths = try array(UInt32.self, corrupt)
        let blob = try array(UInt8.self, corrupt)
        var result: [String] = []
        result.reserveCapacity(lengths.count)
        var p = 0
        for l in lengths {
            let n = Int(l)
            guard n <= blob.count - p else { throw corrupt("string table overruns its section") }
            result.append(String(decoding: blob[p..<(p + n)], as: UTF8.self))
            p += n
        }
        guard p == blob.count else { throw corrupt("string table has trailing bytes") }
        return result
    }
}

/// A fast 64-bit checksum over byte blocks (8 bytes a step, multiply-xorshift mixing).
public struct Checksum64 {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
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

/// The one container of Encore's binary files (snapshots, model artifacts): magic (8 bytes),
/// format version (UInt32), JSON header length (UInt32), JSON header, sections, and a 64-bit
/// checksum of everything before it. Works on bytes, so a file and a database blob read alike;
/// a file that passes the checksum is still untrusted, and its reader validates every structure.
public struct BinaryContainer: Sendable {
    public let magic: [UInt8]
    public let version: UInt32
    /// What the file is, for messages: "snapshot", "model artifact".
    public let kind: String
    /// How to get a good file again, for messages.
    public let remedy: String

    public init(magic: [UInt8], version: UInt32, kind: String, remedy: String) {
        precondition(magic.count == 8, "the magic is 8 bytes")
        self.magic = magic
        self.version = version
        self.kind = kind
        self.remedy = remedy
    }

    /// Magic, version, header, the sections `body` appends, and the checksum.
    public func encode(header: Data, sections body: (inout Data) -> Void) -> Data {
        var out = Data()
        out.append(contentsOf: magic)
        BinaryCoding.appendInt(&out, version)
        BinaryCoding.appendInt(&out, UInt32(header.count))
        out.append(header)
        body(&out)
        var sum = Checksum64()
        out.withUnsafeBytes { sum.add($0) }
        BinaryCoding.appendInt(&out, sum.value)
        return out
    }

    /// The error for a damaged file from `source` (a path, or a description of the bytes).
    public func corrupt(_ source: String, _ why: String) -> DataError {
        DataError(file: source, problem: .inconsistent("not a valid Encore \(kind): \(why); \(remedy)"))
    }

    /// Whether `raw` starts with this container's magic.
    public func matches(_ raw: UnsafeRawBufferPointer) -> Bool {
        raw.count >= 8 && Array(raw[0..<8]) == magic
    }

    /// Checks magic, version and checksum, then hands the header bytes and a cursor over the
    /// sections (checksum excluded) to `body`.
    public func open<R>(_ raw: UnsafeRawBufferPointer, source: String,
                        _ body: (Data, inout BinaryCursor, (String) -> Error) throws -> R) throws -> R {
        let fail: (String) -> Error = { corrupt(source, $0) }
        guard matches(raw) else { throw fail("wrong magic bytes") }
        guard raw.count >= 24 else { throw fail("the file is truncated") }
        let found = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard found == version else { throw fail("format version \(found), this build reads version \(version)") }
        let body8 = UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)])
        var sum = Checksum64()
        sum.add(body8)
        guard sum.value == UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self)) else {
            throw fail("checksum mismatch (the file is truncated or damaged)")
        }
        var cursor = BinaryCursor(raw: body8, offset: 12)
        let headerLength = Int(try cursor.read(UInt32.self, fail))
        let header = Data(try cursor.bytes(headerLength, fail))
        let result = try body(header, &cursor, fail)
        guard cursor.remaining == 0 else { throw fail("\(cursor.remaining) trailing bytes after the last section") }
        return result
    }

    /// The bytes of a file, memory-mapped; a missing file, a directory or a symlink loop gets its own message.
    public static func contents(of path: String) throws -> Data {
        try InputFile.check(path, streams: false)
        do { return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw DataError(file: path, problem: .unreadable(error.localizedDescription))
        }
    }
}
