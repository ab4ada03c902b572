// Interning of identifier bytes into dense Int32 indices with an open-addressing hash table over
// a byte arena. Loading 48M rows means ~100M id look-ups, so this avoids building a Swift String
// per field: strings are made once per distinct id at the end. Insert/look-up O(length) expected.

/// Maps byte strings to dense indices in first-seen order.
public struct ByteInterner {
    private var arena: [UInt8] = []
    private var offsets: [Int] = [0]
    private var hashes: [UInt64] = []
    private var table: [Int32]
    private var mask: Int

    public init(expected: Int = 1024) {
        var cap = 16
        while cap < expected * 2 { cap <<= 1 }
        table = [Int32](repeating: -1, count: cap)
        mask = cap - 1
    }

    public var count: Int { hashes.count }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 32
        return h
    }

    /// The index of these bytes, adding them when new.
    @inline(__always)
    public mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        let h = Self.hash(bytes)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = table[slot]
            if id < 0 { break }
            if hashes[Int(id)] == h && equal(Int(id), bytes) { return id }
            slot = (slot + 1) & mask
        }
        let id = Int32(hashes.count)
        table[slot] = id
        hashes.append(h)
        arena.append(contentsOf: bytes)
        offsets.append(arena.count)
        if hashes.count * 2 > table.count { grow() }
        return id
    }

    /// The index of these bytes, or nil when they were never interned.
    public func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = Self.hash(bytes)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = table[slot]
            if id < 0 { return nil }
            if hashes[Int(id)] == h && equal(Int(id), bytes) { return id }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private func equal(_ id: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let lo = offsets[id], hi = offsets[id + 1]
        guard hi - lo == bytes.count else { return false }
        return arena.withUnsafeBufferPointer { a in
            guard let ab = a.baseAddress, let bb = bytes.baseAddress else { return bytes.isEmpty }
            return memcmp(ab + lo, bb, bytes.count) == 0
        }
    }

    private mutating func grow() {
        let cap = table.count * 2
        table = [Int32](repeating: -1, count: cap)
        mask = cap - 1
        for (id, h) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: h) & mask
            while table[slot] >= 0 { slot = (slot + 1) & mask }
            table[slot] = Int32(id)
        }
    }

    /// Every interned id as a String, in index order (UTF-8, Latin-1 fallback).
    public func strings() -> [String] { strings(from: 0) }

    /// The ids from index `first` on, as Strings, in index order.
    public func strings(from first: Int) -> [String] {
        arena.withUnsafeBufferPointer { a in
            (first..<count).map { TextDecoding.decode(UnsafeBufferPointer(rebasing: a[offsets[$0]..<offsets[$0 + 1]])) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
