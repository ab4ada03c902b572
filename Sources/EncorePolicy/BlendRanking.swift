// The blend's best songs without writing the blend of every song. A sparse source (item-KNN, the
// popular and discovery pools) scores one constant outside a few songs, so outside the union of
// the sparse sources' songs a song's blend is its dense sources' contributions plus constants.
// One pass over the dense sources, eight songs at a time, keeps a bounded heap of the best songs
// outside that union and the blocked songs; the union's songs are then blended one by one. Every
// song's blend is the same Float expression, summed in the same order of sources, as
// `Standardisation.blend`, and ties break towards the lower index, so the order is that of the
// whole blend with the blocked songs left out. O(dense sources · songs + Σ sparse songs · sources
// + depth · log depth) time, O(songs / 64 + depth) memory besides the scores.

/// The best songs of a blend, found without materialising it.
struct BlendRanking {
    /// Songs best first (blend descending, index ascending), at most `depth`, none blocked.
    var order: [(index: Int, total: Float)]
    /// Whether `order` holds every rankable song that is not blocked.
    var complete: Bool

    /// The best `depth` songs of Σ weight · z over the sources with a positive weight (those whose
    /// scores are not `count` long take no part, as in `Standardisation.blend`), `blocked` left out.
    init(sources: [(scores: [Float], support: [Int32]?, rest: Float)], z: [Standardisation], weights: [Float],
         blocked: Set<Int>, count n: Int, depth: Int) {
        // The terms in the order of the sources, as the blend sums them.
        var dense: [Bool] = []
        var arrays: [[Float]] = []
        var a: [Float] = [], b: [Float] = [], f: [Float] = []
        var constants: [Float] = []
        var constantRanked = false
        var supports: [[Int32]] = []
        for (m, source) in sources.enumerated() where weights[m] > 0 && source.scores.count == n {
            let w = weights[m]
            let (sa, sb, sf) = (w * z[m].scale, w * z[m].offset, w * z[m].floor)
            arrays.append(source.scores)
            a.append(sa); b.append(sb); f.append(sf)
            if let support = source.support {
                dense.append(false)
                supports.append(support)
                let rest = source.rest
                constants.append(rest.isFinite ? rest * sa + sb : sf)
                if rest.isFinite { constantRanked = true }
            } else {
                dense.append(true)
                constants.append(0)
            }
        }
        var heap = BoundedHeap(capacity: max(depth, 0))
        guard !arrays.isEmpty, depth > 0, n > 0 else {
            order = []
            complete = arrays.isEmpty
            return
        }
        // Songs read one by one afterwards (the sparse sources' songs) or never (blocked).
        var skip = [UInt64](repeating: 0, count: (n + 63) / 64)
        for support in supports { for j in support where j >= 0 && Int(j) < n { skip[Int(j) >> 6] |= 1 << UInt64(Int(j) & 63) } }
        for j in blocked where j >= 0 && j < n { skip[j >> 6] |= 1 << UInt64(j & 63) }

        // One pass over every other song, eight at a time: each term adds its contribution in the
        // order of the sources (a dense term from its scores, a sparse one its constant).
        let terms = arrays.indices.map { m in
            Term(dense: dense[m], a: SIMD8(repeating: a[m]), b: SIMD8(repeating: b[m]), f: SIMD8(repeating: f[m]), c: SIMD8(repeating: constants[m]))
        }
        let denseArrays = arrays.indices.filter { dense[$0] }.map { arrays[$0] }
        Self.withBaseAddresses(denseArrays) { bases in
            terms.withUnsafeBufferPointer { terms in
                var worst = -Float.infinity
                // Songs in index order, so a song no better than the worst kept is out: a tie goes to the lower index, kept first.
                @inline(__always) func consider(_ i: Int, _ value: Float) {
                    guard value > worst, skip[i >> 6] & (1 << UInt64(i & 63)) == 0 else { return }
                    heap.insert((i, value))
                    if heap.isFull { worst = heap.worst.total }
                }
                let none = SIMD8<Float>(repeating: -.infinity)
                var i = 0
                while i + 8 <= n {
                    var t = SIMD8<Float>(repeating: 0)
                    var ranked = SIMDMask<SIMD8<Int32>>(repeating: constantRanked)
                    var d = 0
                    for term in terms {
                        if term.dense {
                            let v = UnsafeRawPointer(bases[d] + i).loadUnaligned(as: SIMD8<Float>.self)
                            d += 1
                            let finite = (v .> -Float.infinity) .& (v .< Float.infinity)
                            t = t + term.f.replacing(with: v * term.a + term.b, where: finite)
                            ranked = ranked .| finite
                        } else {
                            t = t + term.c
                        }
                    }
                    t = none.replacing(with: t, where: ranked)
                    if any(t .> SIMD8<Float>(repeating: worst)) { for l in 0..<8 { consider(i + l, t[l]) } }
                    i += 8
                }
                while i < n {
                    var t: Float = 0
                    var ranked = constantRanked
                    var d = 0
                    for term in terms {
                        if term.dense {
                            let v = bases[d][i]
                            d += 1
                            if v.isFinite { t += v * term.a[0] + term.b[0]; ranked = true } else { t += term.f[0] }
                        } else {
                            t += term.c[0]
                        }
                    }
                    if ranked { consider(i, t) }
                    i += 1
                }
            }
        }
        // The sparse sources' songs, each blended from every term's score.
        var seen = Set<Int>()
        for support in supports {
            for j in support where j >= 0 && Int(j) < n && !blocked.contains(Int(j)) && seen.insert(Int(j)).inserted {
                let i = Int(j)
                var t: Float = 0
                var rank = false
                for m in arrays.indices {
                    let v = arrays[m][i]
                    if v.isFinite { t += v * a[m] + b[m]; rank = true } else { t += f[m] }
                }
                if rank && !t.isNaN && t > -.infinity { heap.insert((i, t)) }
            }
        }
        complete = !heap.isFull
        order = heap.sorted()
    }
}

extension BlendRanking {
    /// One source of the blend: a dense one adds `v · a + b` for a finite score v and `f` otherwise
    /// (weight times the z-score); a sparse one adds `c` outside its songs.
    struct Term {
        let dense: Bool
        let a: SIMD8<Float>, b: SIMD8<Float>, f: SIMD8<Float>, c: SIMD8<Float>
    }

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
