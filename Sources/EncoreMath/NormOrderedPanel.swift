// A song matrix for exact top-k by dot product without scoring every song: the rows in panel order
// (see ItemPanel), sorted by norm, largest first, with a bound on the norms from each tile on.
// `top` scores tiles until the query's norm times the bound is below the k-th best score so far
// (Cauchy–Schwarz: no song left can beat it; CEncoreKernels). For the z-scores of a blend it also
// gives the mean and mean square of all songs' scores in closed form, q·Σv and qᵀ(Σvvᵀ)q, from
// the rows' sum and Gram matrix kept in Doubles, and any songs' scores with the same bits as the
// panel's. Building: O(n · d² + n log n); `top`: O(scanned · d); moments: O(d²).
import CBLAS
import CEncoreKernels
import Foundation

/// A row-major songs × dims matrix ordered by row norm for pruned top-k scoring.
public struct NormOrderedPanel: Sendable {
    public let items: Int
    public let dims: Int
    /// The rows as given (row-major), for scoring chosen songs.
    let rows: [Float]
    let panel: [Float]
    /// Panel row → song.
    let order: [Int32]
    /// A bound on the norm of every song from tile t on (rounded up).
    let tileBound: [Float]
    /// Σ rows and Σ row·rowᵀ (dims × dims), in Doubles.
    let sum: [Double]
    let gram: [Double]
    /// The largest row norm.
    let largestNorm: Double

    public init(rows: [Float], items: Int, dims: Int) {
        precondition(items >= 0 && dims >= 0 && rows.count >= items * dims, "a panel needs items × dims values")
        self.items = items
        self.dims = dims
        self.rows = rows
        var norms = [Double](repeating: 0, count: items)
        var sum = [Double](repeating: 0, count: dims)
        for i in 0..<items {
            var s = 0.0
            for d in 0..<dims {
                let x = Double(rows[i * dims + d])
                s += x * x
                sum[d] += x
            }
            norms[i] = s.squareRoot()
        }
        self.sum = sum
        let order = (0..<items).sorted { norms[$0] != norms[$1] ? norms[$0] > norms[$1] : $0 < $1 }
        self.order = order.map { Int32($0) }
        largestNorm = order.first.map { norms[$0] } ?? 0
        let tile = Int(ENCORE_PANEL_TILE)
        tileBound = stride(from: 0, to: items, by: tile).map { Float(norms[order[$0]] * (1 + 1e-5)).nextUp }
        var sorted = [Float](repeating: 0, count: items * dims)
        for (p, i) in order.enumerated() { for d in 0..<dims { sorted[p * dims + d] = rows[i * dims + d] } }
        panel = ItemPanel(rows: sorted, items: items, dims: dims).panel
        // Σ vvᵀ in Doubles, a block of rows at a time.
        var gram = [Double](repeating: 0, count: dims * dims)
        let block = 4_096
        var start = 0
        while start < items && dims > 0 {
            let n = min(block, items - start)
            let chunk = (start * dims..<(start + n) * dims).map { Double(rows[$0]) }
            chunk.withUnsafeBufferPointer { c in
                gram.withUnsafeMutableBufferPointer { g in
                    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(dims), Int32(dims), Int32(n), 1, c.baseAddress, Int32(dims),
                                c.baseAddress, Int32(dims), 1, g.baseAddress, Int32(dims))
                }
            }
            start += n
        }
        self.gram = gram
    }

    /// The best `depth` songs scoring above `above` (descending, ties to the lower song) that
    /// `skip` does not mark (bit i of word i/64), best first, and how many songs were scored to
    /// find them.
    public func top(query: [Float], skip: [UInt64], above: Float = -.infinity, depth: Int) -> (entries: [(index: Int, score: Float)], scanned: Int) {
        guard query.count == dims, items > 0, depth > 0 else { return ([], 0) }
        var q2 = 0.0
        for x in query { q2 += Double(x) * Double(x) }
        let bound = Float(q2.squareRoot() * (1 + 1e-5)).nextUp
        var indices = [Int64](repeating: 0, count: depth)
        var scores = [Float](repeating: 0, count: depth)
        var scanned = 0
        let marks = skip.count >= (items + 63) / 64 ? skip : nil
        let count = run(query: query, bound: bound, skip: marks, above: above, depth: depth, indices: &indices, scores: &scores, scanned: &scanned)
        var entries: [(index: Int, score: Float)] = []
        entries.reserveCapacity(count)
        for e in 0..<count { entries.append((index: Int(indices[e]), score: scores[e])) }
        entries.sort { (x: (index: Int, score: Float), y: (index: Int, score: Float)) -> Bool in
            x.score != y.score ? x.score > y.score : x.index < y.index
        }
        return (entries, scanned)
    }

    private func run(query: [Float], bound: Float, skip: [UInt64]?, above: Float, depth: Int, indices: inout [Int64], scores: inout [Float], scanned: inout Int) -> Int {
        let p = panel, o = order, t = tileBound
        let (items, dims) = (self.items, self.dims)
        return p.withUnsafeBufferPointer { (pb: UnsafeBufferPointer<Float>) -> Int in
            o.withUnsafeBufferPointer { (ob: UnsafeBufferPointer<Int32>) -> Int in
                t.withUnsafeBufferPointer { (tb: UnsafeBufferPointer<Float>) -> Int in
                    query.withUnsafeBufferPointer { (qb: UnsafeBufferPointer<Float>) -> Int in
                        withSkip(skip) { (sb: UnsafePointer<UInt64>?) -> Int in
                            encore_panel_top(pb.baseAddress, ob.baseAddress, tb.baseAddress, items, dims, qb.baseAddress, bound, sb, above, depth,
                                             &indices, &scores, &scanned)
                        }
                    }
                }
            }
        }
    }

    private func withSkip(_ skip: [UInt64]?, _ body: (UnsafePointer<UInt64>?) -> Int) -> Int {
        guard let skip else { return body(nil) }
        return skip.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// The scores of chosen songs (the same bits as every song's scoring in panel order).
    public func scores(of songs: [Int], query: [Float]) -> [Float] {
        guard query.count == dims, !songs.isEmpty else { return songs.map { _ in 0 } }
        let valid = songs.map { Int64($0 >= 0 && $0 < items ? $0 : 0) }
        var out = [Float](repeating: 0, count: songs.count)
        rows.withUnsafeBufferPointer { r in
            query.withUnsafeBufferPointer { q in
                encore_rows_dot(r.baseAddress, dims, valid, valid.count, q.baseAddress, &out)
            }
        }
        for (k, i) in songs.enumerated() where i < 0 || i >= items { out[k] = 0 }
        return out
    }

    /// Σ over every song of its score and of its score squared, in closed form, and a lower bound
    /// on the lowest score (−‖q‖ · the largest norm).
    public func moments(query: [Float]) -> (sum: Double, squares: Double, lowestBound: Double) {
        guard query.count == dims else { return (0, 0, 0) }
        let q = query.map(Double.init)
        var s = 0.0, s2 = 0.0, q2 = 0.0
        for a in 0..<dims {
            s += q[a] * sum[a]
            q2 += q[a] * q[a]
            var row = 0.0
            for b in 0..<dims { row += gram[a * dims + b] * q[b] }
            s2 += q[a] * row
        }
        return (s, max(s2, 0), -(q2.squareRoot() * largestNorm))
    }
}
