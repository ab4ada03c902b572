// One listener's aggregated plays as the store keeps them: a single `user_plays` row per user
// whose `songs` value packs (song row id, plays) pairs, 8 bytes each in little-endian order
// (UInt32 id, Float32 plays: the precision the training matrix keeps). One row per user instead of one per pair: a bulk import writes
// 76,000 rows instead of 2,000,000 index entries (PostgreSQL spent 4.6 s of a 2M-pair import
// maintaining the pair table's primary key), the training read decodes one row per user, and a
// listener's history is one key lookup.
//
// An import writes each row canonical: sorted by song id, one pair per song. An append only
// concatenates its pairs (in PostgreSQL one atomic `songs || new` per user, so replicas never
// overwrite each other and nothing is read first); readers sum repeats and sort. A row is
// compacted back to canonical when its pair count crosses a power of two (from 16 pairs up), so
// appends stay amortised O(1) per play and a row never holds more than twice its songs' pairs
// plus 16.
import Foundation

enum PackedPlays {
    static let pairBytes = 8

    /// Packs pairs as given (canonical when they are sorted by song id without repeats).
    static func encode(_ songs: [Int64], _ plays: [Double]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: songs.count * pairBytes)
        try out.withUnsafeMutableBytes { raw in
            for n in songs.indices {
                guard let id = UInt32(exactly: songs[n]) else { throw StoreError.conflict("song row id \(songs[n]) does not fit the packed plays") }
                raw.storeBytes(of: id.littleEndian, toByteOffset: n * pairBytes, as: UInt32.self)
                raw.storeBytes(of: Float(plays[n]).bitPattern.littleEndian, toByteOffset: n * pairBytes + 4, as: UInt32.self)
            }
        }
        return out
    }

    /// Packs (song, plays) pairs as given.
    static func encode(_ pairs: [(song: Int64, plays: Double)]) throws -> [UInt8] {
        try encode(pairs.map(\.song), pairs.map(\.plays))
    }

    /// The pairs in canonical form: sorted by song id, repeats summed.
    static func pairs(_ bytes: UnsafeRawBufferPointer) throws -> (songs: [Int64], plays: [Double]) {
        guard bytes.count % pairBytes == 0 else { throw StoreError.conflict("a user's packed plays are \(bytes.count) bytes, not a multiple of \(pairBytes)") }
        let count = bytes.count / pairBytes
        var songs = [Int64](repeating: 0, count: count), plays = [Double](repeating: 0, count: count)
        var canonical = true
        for n in 0..<count {
            songs[n] = Int64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: n * pairBytes, as: UInt32.self)))
            plays[n] = Double(Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: n * pairBytes + 4, as: UInt32.self))))
            if n > 0, songs[n] <= songs[n - 1] { canonical = false }
        }
        guard !canonical else { return (songs, plays) }
        // Appended pairs: a stable sort keeps each song's plays in order of arrival before summing.
        let order = songs.indices.sorted { songs[$0] != songs[$1] ? songs[$0] < songs[$1] : $0 < $1 }
        var outSongs: [Int64] = [], outPlays: [Double] = []
        for i in order {
            if outSongs.last == songs[i] { outPlays[outPlays.count - 1] += plays[i] } else { outSongs.append(songs[i]); outPlays.append(plays[i]) }
        }
        return (outSongs, outPlays)
    }

    static func pairs(_ bytes: [UInt8]) throws -> (songs: [Int64], plays: [Double]) {
        try bytes.withUnsafeBytes { try pairs($0) }
    }

    /// The row rewritten in canonical form.
    static func compacted(_ bytes: [UInt8]) throws -> [UInt8] {
        let (songs, plays) = try pairs(bytes)
        return try encode(songs, plays)
    }

    /// Whether a row that grew from `before` to `after` bytes is due for compaction: its pair
    /// count crossed a power of two, 16 or more.
    static func crossesCompaction(before: Int, after: Int) -> Bool {
        let (a, b) = (before / pairBytes, after / pairBytes)
        return b >= 16 && (Int.bitWidth - b.leadingZeroBitCount) > (Int.bitWidth - a.leadingZeroBitCount)
    }
}

/// Row ids (given in increasing order) to their positions: an array while the ids are dense (the
/// store numbers them one after another), a dictionary otherwise. The training read looks up
/// every one of its plays' songs here (48M lookups at the MSD's size).
struct RowIndex {
    private var dense: [Int32] = []
    private var sparse: [Int64: Int32]?
    private(set) var count = 0

    mutating func append(_ id: Int64) {
        defer { count += 1 }
        if sparse == nil, id >= 0, id < Int64(4 * count + 1_024) {
            if Int(id) >= dense.count { dense.append(contentsOf: repeatElement(-1, count: Int(id) + 1 - dense.count)) }
            dense[Int(id)] = Int32(count)
            return
        }
        if sparse == nil {
            var d: [Int64: Int32] = [:]
            for (id, position) in dense.enumerated() where position >= 0 { d[Int64(id)] = position }
            sparse = d
            dense = []
        }
        sparse?[id] = Int32(count)
    }

    subscript(id: Int64) -> Int32? {
        if let sparse { return sparse[id] }
        guard id >= 0, Int(id) < dense.count else { return nil }
        let position = dense[Int(id)]
        return position >= 0 ? position : nil
    }
}
