// The blend's best songs without writing the blend of every song. A sparse source (item-KNN, the
// popular and discovery pools) scores one constant outside a few songs, so outside the union of
// the sparse sources' songs a song's blend is its dense sources' contributions plus constants.
// One pass over the dense sources (a C kernel, AVX-512 where the machine has it) keeps a bounded
// heap of the best songs outside that union and the blocked songs; the union's songs are then
// blended one by one. Every song's blend is the same Float expression, summed in the same order of sources, as
// `Standardisation.blend`, and ties break towards the lower index, so the order is that of the
// whole blend with the blocked songs left out. O(dense sources · songs + Σ sparse songs · sources
// + depth · log depth) time, O(songs / 64 + depth) memory besides the scores.
import CEncoreKernels

/// The best songs of a blend, found without materialising it.
struct BlendRanking {
    /// Songs best first (blend descending, index ascending), at most `depth`, none blocked.
    var order: [(index: Int, total: Float)]
    /// Whether `order` holds every rankable song that is not blocked.
    var complete: Bool

    init(order: [(index: Int, total: Float)], complete: Bool) {
        self.order = order
        self.complete = complete
    }

    /// The best `depth` songs of Σ weight · z over the sources with a positive weight (those whose
    /// scores are not `count` long take no part, as in `Standardisation.blend`), `blocked` left out.
    init(sources: [(scores: [Float], support: [Int32]?, rest: Float)], z: [Standardisation], weights: [Float],
         blocked: Set<Int>, count n: Int, depth: Int) {
        // The terms in the order of the sources, as the blend sums them.
        let terms = BlendTerm.terms(z: z, weights: weights) { sources[$0].scores.count == n }
        let arrays = terms.map { sources[$0.source].scores }
        let sparse = terms.map { sources[$0.source].support != nil }
        // What a sparse term adds outside its songs.
        let constants = terms.indices.map { sparse[$0] ? terms[$0].contribution(sources[terms[$0].source].rest) : 0 }
        let constantRanked = terms.indices.contains { sparse[$0] && sources[terms[$0].source].rest.isFinite }
        var heap = BoundedHeap(capacity: max(depth, 0))
        guard !terms.isEmpty, depth > 0, n > 0 else {
            order = []
            complete = terms.isEmpty
            return
        }
        // Songs read one by one afterwards (the sparse sources' songs) or never (blocked).
        let (skip, sparseSongs) = Self.marks(blocked: blocked, count: n, supports: terms.compactMap { sources[$0.source].support })

        // One pass over every other song (CEncoreKernels): each term adds its contribution in the
        // order of the sources, a dense term from its scores, a sparse one its constant.
        let denseArrays = arrays.indices.filter { !sparse[$0] }.map { arrays[$0] }
        let kept = Self.withBaseAddresses(denseArrays) { bases -> [(index: Int, total: Float)] in
            var d = 0
            let kernelTerms = terms.indices.map { k -> encore_blend_term in
                defer { if !sparse[k] { d += 1 } }
                let t = terms[k]
                return encore_blend_term(scores: sparse[k] ? nil : bases[d], a: t.a, b: t.b, f: t.f, c: constants[k])
            }
            var indices = [Int64](repeating: 0, count: depth)
            var totals = [Float](repeating: 0, count: depth)
            let count = kernelTerms.withUnsafeBufferPointer { t in
                skip.withUnsafeBufferPointer { s in
                    encore_blend_top(n, t.baseAddress, t.count, constantRanked ? 1 : 0, s.baseAddress, depth, &indices, &totals)
                }
            }
            return (0..<count).map { (Int(indices[$0]), totals[$0]) }
        }
        for e in kept { heap.insert(e) }
        // The sparse sources' songs, each blended from every term's score.
        Self.withBaseAddresses(arrays) { scores in
            for i in sparseSongs {
                if let t = BlendTerm.total(terms, { k, _ in scores[k][i] }) { heap.insert((i, t)) }
            }
        }
        complete = !heap.isFull
        order = heap.sorted()
    }

    /// A bitmap of the songs a pass over every song leaves out (bit i of word i/64): the blocked
    /// songs and the sparse sources' songs; and the sparse sources' songs that are not blocked, each
    /// once, to be blended one by one.
    static func marks(blocked: Set<Int>, count n: Int, supports: [[Int32]]) -> (skip: [UInt64], sparseSongs: [Int]) {
        var skip = [UInt64](repeating: 0, count: (n + 63) / 64)
        for j in blocked where j >= 0 && j < n { skip[j >> 6] |= 1 << UInt64(j & 63) }
        var sparseSongs: [Int] = []
        for support in supports {
            for j in support where j >= 0 && Int(j) < n {
                let i = Int(j), bit = UInt64(1) << UInt64(i & 63)
                guard skip[i >> 6] & bit == 0 else { continue }
                skip[i >> 6] |= bit
                sparseSongs.append(i)
            }
        }
        return (skip, sparseSongs)
    }
}

/// One source's part of a blend: a song's score v adds v · a + b when it is finite, f when not
/// (the source's weight times its z-score).
struct BlendTerm {
    /// The source's position in the recipe.
    let source: Int
    let a: Float, b: Float, f: Float

    /// The terms of the sources with a positive weight that `takesPart`, in order.
    static func terms(z: [Standardisation], weights: [Float], where takesPart: (Int) -> Bool) -> [BlendTerm] {
        weights.indices.filter { weights[$0] > 0 && takesPart($0) }.map { m in
            BlendTerm(source: m, a: weights[m] * z[m].scale, b: weights[m] * z[m].offset, f: weights[m] * z[m].floor)
        }
    }

    /// What a score adds.
    @inline(__always) func contribution(_ v: Float) -> Float { v.isFinite ? v * a + b : f }

    /// A song's blend from each term's score (`score(position, term)`), summed in the terms' order
    /// as `Standardisation.blend` does; nil when no term's score is finite or the blend is NaN or −∞.
    @inline(__always) static func total(_ terms: [BlendTerm], _ score: (Int, BlendTerm) -> Float) -> Float? {
        var t: Float = 0
        var ranked = false
        for (k, term) in terms.enumerated() {
            let v = score(k, term)
            if v.isFinite { ranked = true }
            t += term.contribution(v)
        }
        return ranked && !t.isNaN && t > -.infinity ? t : nil
    }
}

extension BlendRanking {
    /// Calls `body` with the base address of every array (none empty).
    static func withBaseAddresses<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) -> R) -> R {
        var bases: [UnsafePointer<Float>] = []
        bases.reserveCapacity(arrays.count)
        return nest(arrays, &bases, body)
    }

    private static func nest<R>(_ arrays: [[Float]], _ bases: inout [UnsafePointer<Float>], _ body: ([UnsafePointer<Float>]) -> R) -> R {
        guard bases.count < arrays.count else { return body(bases) }
        return arrays[bases.count].withUnsafeBufferPointer { p in
            bases.append(p.baseAddress!)
            return nest(arrays, &bases, body)
        }
    }
}

/// The best entries seen so far (blend descending, index ascending), at most `capacity`.
struct BoundedHeap {
    typealias Entry = (index: Int, total: Float)
    let capacity: Int
    /// A min-heap: the root is the worst entry kept.
    var entries: [Entry] = []

    init(capacity: Int) {
        self.capacity = capacity
        entries.reserveCapacity(capacity)
    }

    var isFull: Bool { entries.count >= capacity }
    var worst: Entry { entries[0] }

    @inline(__always) static func better(_ x: Entry, _ y: Entry) -> Bool { x.total != y.total ? x.total > y.total : x.index < y.index }

    mutating func insert(_ e: Entry) {
        guard capacity > 0 else { return }
        if entries.count < capacity {
            entries.append(e)
            var c = entries.count - 1
            while c > 0 {
                let p = (c - 1) / 2
                guard Self.better(entries[p], entries[c]) else { break }
                entries.swapAt(c, p)
                c = p
            }
            return
        }
        guard Self.better(e, entries[0]) else { return }
        entries[0] = e
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < entries.count && Self.better(entries[m], entries[l]) { m = l }
            if r < entries.count && Self.better(entries[m], entries[r]) { m = r }
            if m == i { return }
            entries.swapAt(i, m)
            i = m
        }
    }

    func sorted() -> [Entry] { entries.sorted(by: Self.better) }
}
