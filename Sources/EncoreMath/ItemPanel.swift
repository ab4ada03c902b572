// A song matrix laid out for scoring: tiles of 16 songs, each tile stored dimension-major, so one
// vector register holds 16 songs' values of a dimension and a score is a chain of fused
// multiply-adds with the query's value broadcast (CEncoreKernels, AVX-512 or AVX2 chosen at run
// time, portable C otherwise). Scoring b queries reads the panel once: blocks that fit the L2
// cache are scored against eight queries at a time. Every path sums in the order of the
// dimensions with one fused multiply-add per term, so a song's score has the same bits alone or
// in a batch, on any path. Packing: O(n · d) once; scoring: O(b · n · d).
import CEncoreKernels

/// A row-major songs × dims matrix in panel order.
public struct ItemPanel: Sendable {
    public let items: Int
    public let dims: Int
    let panel: [Float]

    /// Packs `rows` (items × dims, row-major).
    public init(rows: [Float], items: Int, dims: Int) {
        precondition(items >= 0 && dims >= 0 && rows.count >= items * dims, "a panel needs items × dims values")
        self.items = items
        self.dims = dims
        let length = encore_panel_length(items, dims)
        panel = [Float](unsafeUninitializedCapacity: length) { buffer, count in
            rows.withUnsafeBufferPointer { r in
                if let base = buffer.baseAddress, let source = r.baseAddress { encore_panel_pack(source, items, dims, base) }
            }
            count = length
        }
    }

    /// Every song's score for each query (its dot product with the song's row); a query of the
    /// wrong length scores every song 0. `threads` > 1 splits the songs between threads when the
    /// batch is large enough to repay it (a service scoring a batch of lists at once).
    public func scores(queries: [[Float]], threads: Int = 1) -> [[Float]] {
        scores(queries: queries, path: nil, threads: threads) ?? []
    }

    /// Every song's score for one query.
    public func scores(query: [Float]) -> [Float] { scores(queries: [query])[0] }

    /// The scores on a given kernel path (0 portable, 1 AVX2, 2 AVX-512; nil: the widest), nil when
    /// this machine cannot run it. For tests that compare the paths.
    public func scores(queries: [[Float]], path: Int?, threads: Int = 1) -> [[Float]]? {
        if let path, path < 0 || path > Int(encore_kernels_best()) { return nil }
        let valid = queries.indices.filter { queries[$0].count == dims }
        guard items > 0, dims > 0, !valid.isEmpty else { return queries.map { _ in [Float](repeating: 0, count: items) } }
        let flat = valid.flatMap { queries[$0] }
        let tiles = (items + Int(ENCORE_PANEL_TILE) - 1) / Int(ENCORE_PANEL_TILE)
        // A thread's share should be worth more than starting it: about a million multiply-adds.
        let chunks = max(1, min(threads, items * dims * valid.count / 1_000_000, tiles))
        // The kernel writes straight into the arrays returned: one uninitialised array per valid query.
        let scored = Self.withOutputs(count: valid.count, length: items) { outs in
            panel.withUnsafeBufferPointer { P in
                flat.withUnsafeBufferPointer { Q in
                    outs.withUnsafeBufferPointer { O in
                        // Each chunk writes its own songs of every output.
                        nonisolated(unsafe) let (p, q, o) = (P.baseAddress, Q.baseAddress, O.baseAddress)
                        let (items, dims, n, kernel) = (items, dims, valid.count, Int32(path ?? -1))
                        ParallelLoop.forEachChunk(count: tiles, chunks: chunks) { _, range in
                            _ = encore_panel_scores_tiles(kernel, p, items, dims, range.lowerBound, range.upperBound, q, n, o)
                        }
                    }
                }
            }
        }
        var outs = queries.map { $0.count == dims ? [] : [Float](repeating: 0, count: items) }
        for (n, q) in valid.enumerated() { outs[q] = scored[n] }
        return outs
    }

    /// `count` arrays of `length` floats, each filled by `fill` through its pointer (all of them at once).
    static func withOutputs(count: Int, length: Int, _ fill: ([UnsafeMutablePointer<Float>?]) -> Void) -> [[Float]] {
        var pointers: [UnsafeMutablePointer<Float>?] = []
        var built: [[Float]] = []
        nest(count: count, length: length, pointers: &pointers, built: &built, fill)
        return built.reversed()
    }

    /// Opens one uninitialised array per level, then fills them all at the deepest.
    private static func nest(count: Int, length: Int, pointers: inout [UnsafeMutablePointer<Float>?], built: inout [[Float]],
                             _ fill: ([UnsafeMutablePointer<Float>?]) -> Void) {
        guard pointers.count < count else {
            fill(pointers)
            return
        }
        let array = [Float](unsafeUninitializedCapacity: length) { buffer, initialised in
            pointers.append(buffer.baseAddress)
            nest(count: count, length: length, pointers: &pointers, built: &built, fill)
            initialised = length
        }
        built.append(array)
    }
}
