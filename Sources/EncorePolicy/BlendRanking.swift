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
        for j in blocked where j >= 0 && j < n { skip[j >> 6] |= 1 << UInt64(j & 63) }
        // The sparse sources' songs that are not blocked, each once.
        var sparseSongs: [Int] = []
        for support in supports {
            for j in support where j >= 0 && Int(j) < n {
                let i = Int(j), bit = UInt64(1) << UInt64(i & 63)
                guard skip[i >> 6] & bit == 0 else { continue }
                skip[i >> 6] |= bit
                sparseSongs.append(i)
            }
        }

        // One pass over every other song (CEncoreKernels): each term adds its contribution in the
        // order of the sources, a dense term from its scores, a sparse one its constant.
        let denseArrays = arrays.indices.filter { dense[$0] }.map { arrays[$0] }
        let kept = Self.withBaseAddresses(denseArrays) { bases -> [(index: Int, total: Float)] in
            var d = 0
            let terms = arrays.indices.map { m -> encore_blend_term in
                defer { if dense[m] { d += 1 } }
                return encore_blend_term(scores: dense[m] ? bases[d] : nil, a: a[m], b: b[m], f: f[m], c: constants[m])
            }
            var indices = [Int64](repeating: 0, count: depth)
            var totals = [Float](repeating: 0, count: depth)
            let count = terms.withUnsafeBufferPointer { t in
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
                var t: Float = 0
                var rank = false
                for m in scores.indices {
                    let v = scores[m][i]
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
