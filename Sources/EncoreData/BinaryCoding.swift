// Little-endian binary sections shared by the dataset snapshot and the model artifact: fixed
// width integers, length-prefixed arrays and string tables, bounds-checked reading, and a fast
// 64-bit checksum. Every read is checked against the buffer, so damaged files fail cleanly.
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

/// Bounds-checked sequential reads; `corrupt` turns a reason into the caller's error.
public struct BinaryCursor {
    public let raw: UnsafeRawBufferPointer
    public var offset: Int

    public init(raw: UnsafeRawBufferPointer, offset: Int) {
        self.raw = raw
        self.offset = offset
    }

    public mutating func read<T: FixedWidthInteger>(_: T.Type, _ corrupt: (String) -> Error) throws -> T {
        guard offset + MemoryLayout<T>.size <= raw.count else { throw corrupt("unexpected end of file") }
        let v = raw.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    public mutating func bytes(_ n: Int, _ corrupt: (String) -> Error) throws -> [UInt8] {
        guard n >= 0, offset + n <= raw.count else { throw corrupt("unexpected end of file") }
        let b = Array(raw[offset..<(offset + n)])
        offset += n
        return b
    }

    public mutating func array<T>(_: T.Type, _ corrupt: (String) -> Error) throws -> [T] {
        let n = Int(try read(UInt64.self, corrupt))
        guard n >= 0, n % MemoryLayout<T>.stride == 0, offset + n <= raw.count else { throw corrupt("unexpected end of file") }
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
            guard p + n <= blob.count else { throw corrupt("string table overruns its section") }
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

/// Writes bytes to `path` through a temporary file and a rename, so a failure never leaves half a file.
public func writeAtomically(_ data: Data, to path: String) throws {
    let tmp = path + ".tmp-\(getpid())"
    do {
        try data.write(to: URL(fileURLWithPath: tmp))
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: tmp, toPath: path)
    } catch {
        try? FileManager.default.removeItem(atPath: tmp)
        throw DataError(file: path, problem: .unreadable("cannot write: \(error.localizedDescription)"))
    }
}
