// Sparse × dense products on the tape: a graph convolution's aggregation over the normalised
// adjacency. The forward pass runs over the matrix's rows in parallel (each output row written by
// one thread, in a fixed order); the backward pass is the same kernel over the transpose, which
// is built once per operator (or is the matrix itself when it is symmetric). O(nnz · d) each way.

import EncoreMath

/// A fixed sparse matrix used as a linear operator, with its transpose for the backward pass.
public struct SparseOperator: Sendable {
    public let matrix: SparseMatrix
    public let transpose: SparseMatrix
    /// Row blocks of about equal entry counts (fixed by the matrix, never by the thread count).
    let blocks: [Range<Int>]
    let transposeBlocks: [Range<Int>]

    /// `symmetric` skips building the transpose (D^-1/2 A D^-1/2 of an undirected graph).
    public init(_ matrix: SparseMatrix, symmetric: Bool = false) {
        self.matrix = matrix
        transpose = symmetric ? matrix : matrix.transposed()
        blocks = Self.balancedBlocks(matrix)
        transposeBlocks = symmetric ? blocks : Self.balancedBlocks(transpose)
    }

    /// Contiguous row ranges holding about 8,192 entries plus rows each.
    static func balancedBlocks(_ s: SparseMatrix) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0, work = 0
        for r in 0..<s.rows {
            work += s.rowPointers[r + 1] - s.rowPointers[r] + 1
            if work >= 8192 {
                out.append(start..<(r + 1))
                start = r + 1
                work = 0
            }
        }
        if start < s.rows { out.append(start..<s.rows) }
        return out
    }

    /// y (rows × d) = S x, or y += S x, for row-major x (columns × d).
    public func multiply(_ x: UnsafePointer<Float>, d: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool, transposed: Bool = false) {
        run(transposed, x, d: d, into: y, initial: accumulate ? UnsafePointer(y) : nil, addTo: nil, scale: 1)
    }

    /// y = initial + S x (initial of y's shape, or zero), and sum += scale · y when given.
    func run(_ transposed: Bool, _ x: UnsafePointer<Float>, d: Int, into y: UnsafeMutablePointer<Float>, initial: UnsafePointer<Float>?,
             addTo sum: UnsafeMutablePointer<Float>?, scale: Float) {
        let s = transposed ? transpose : matrix, blocks = transposed ? transposeBlocks : blocks
        nonisolated(unsafe) let x = x, y = y, initial = initial, sum = sum
        s.rowPointers.withUnsafeBufferPointer { rp in
            s.columnIndices.withUnsafeBufferPointer { ci in
                s.values.withUnsafeBufferPointer { vs in
                    nonisolated(unsafe) let rp = rp, ci = ci, vs = vs
                    // Several blocks per worker, so the pool balances uneven rows.
                    ParallelLoop.forEachChunk(count: blocks.count, chunks: ParallelLoop.defaultWorkers * 8) { _, chunk in
                        for b in chunk {
                            for row in blocks[b] {
                                SparseKernel.row(rp[row]..<rp[row + 1], ci.baseAddress!, vs.baseAddress!, x, d: d, into: y + row * d,
                                                 initial: initial.map { $0 + row * d }, addTo: sum.map { $0 + row * d }, scale: scale)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One output row of a sparse × dense product, accumulated in registers 32 columns at a time:
/// target = initial + Σ_k v_k x[c_k] (initial is the target itself, or zero, or another row), and
/// optionally sum += scale · target.
enum SparseKernel {
    @inline(__always)
    static func row(_ entries: Range<Int>, _ ci: UnsafePointer<Int32>, _ vs: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                    d: Int, into target: UnsafeMutablePointer<Float>, initial: UnsafePointer<Float>?,
                    addTo sum: UnsafeMutablePointer<Float>? = nil, scale: Float = 1) {
        let rx = UnsafeRawPointer(x), rt = UnsafeMutableRawPointer(target)
        let ri = initial.map { UnsafeRawPointer($0) }
        var c = 0
        while c + 32 <= d {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            if let ri {
                a0 = ri.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                a1 = ri.loadUnaligned(fromByteOffset: c * 4 + 32, as: SIMD8<Float>.self)
                a2 = ri.loadUnaligned(fromByteOffset: c * 4 + 64, as: SIMD8<Float>.self)
                a3 = ri.loadUnaligned(fromByteOffset: c * 4 + 96, as: SIMD8<Float>.self)
            }
            for k in entries {
                let v = SIMD8<Float>(repeating: vs[k])
                let o = (Int(ci[k]) * d + c) * 4
                a0 += v * rx.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                a1 += v * rx.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self)
                a2 += v * rx.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self)
                a3 += v * rx.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self)
            }
            rt.storeBytes(of: a0, toByteOffset: c * 4, as: SIMD8<Float>.self)
            rt.storeBytes(of: a1, toByteOffset: c * 4 + 32, as: SIMD8<Float>.self)
            rt.storeBytes(of: a2, toByteOffset: c * 4 + 64, as: SIMD8<Float>.self)
            rt.storeBytes(of: a3, toByteOffset: c * 4 + 96, as: SIMD8<Float>.self)
            if let sum {
                let rs = UnsafeMutableRawPointer(sum), sv = SIMD8<Float>(repeating: scale), o = c * 4
                rs.storeBytes(of: rs.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self) + sv * a0, toByteOffset: o, as: SIMD8<Float>.self)
                rs.storeBytes(of: rs.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self) + sv * a1, toByteOffset: o + 32, as: SIMD8<Float>.self)
                rs.storeBytes(of: rs.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self) + sv * a2, toByteOffset: o + 64, as: SIMD8<Float>.self)
                rs.storeBytes(of: rs.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self) + sv * a3, toByteOffset: o + 96, as: SIMD8<Float>.self)
            }
            c += 32
        }
        if c < d {
            let rest = d - c
            if let initial {
                if initial != UnsafePointer(target) { (target + c).update(from: initial + c, count: rest) }
            } else {
                (target + c).update(repeating: 0, count: rest)
            }
            for k in entries { VectorKernels.axpy(vs[k], x + Int(ci[k]) * d + c, target + c, rest) }
            if let sum { VectorKernels.axpy(scale, target + c, sum + c, rest) }
        }
    }
}

extension Tape {
    /// S · x for a sparse operator S (rows × n) and x (n × d).
    public func sparseMultiply(_ s: SparseOperator, _ x: Tensor) -> Tensor {
        precondition(s.matrix.columns == x.rows, "sparse product of \(s.matrix.rows) × \(s.matrix.columns) by \(x.rows) × \(x.columns)")
        let d = x.columns, m = s.matrix.rows
        let C = buffer(m * d, zeroed: false)
        s.multiply(value(x), d: d, into: C, accumulate: false)
        let out = next(m, d)
        return append(rows: m, columns: d, value: C, inputs: [x]) { t in
            s.multiply(t.grad(out), d: d, into: t.grad(x), accumulate: true, transposed: true)
        }
    }
}

extension Tape {
    /// mean over l = 0…L of Sˡ x for a square operator S (LightGCN's layer mean, He et al. 2020),
    /// fused: each layer is added into the mean as it is computed, and only two layer buffers live.
    /// The backward pass is Horner's rule over the transpose, t ← g + Sᵀ t, L products in all.
    public func propagationMean(_ s: SparseOperator, _ x: Tensor, layers: Int) -> Tensor {
        precondition(s.matrix.rows == s.matrix.columns && s.matrix.columns == x.rows, "propagation needs a square operator of x's rows")
        precondition(layers >= 0)
        let n = x.count, d = x.columns
        let scale = 1 / Float(layers + 1)
        nonisolated(unsafe) let X = value(x)
        nonisolated(unsafe) let F = buffer(n, zeroed: false)
        Blocks.elementwise(n) { r in for i in r { F[i] = scale * X[i] } }
        if layers > 0 {
            var previous = UnsafePointer(X)
            var ping = buffer(n, zeroed: false), pong = buffer(n, zeroed: false)
            for _ in 0..<layers {
                s.run(false, previous, d: d, into: ping, initial: nil, addTo: F, scale: scale)
                previous = UnsafePointer(ping)
                swap(&ping, &pong)
            }
        }
        let out = next(x.rows, d)
        return append(rows: x.rows, columns: d, value: F, inputs: [x]) { t in
            nonisolated(unsafe) let g = t.grad(out), dX = t.grad(x)
            guard layers > 0 else {
                Blocks.elementwise(n) { r in VectorKernels.axpy(scale, g + r.lowerBound, dX + r.lowerBound, r.count) }
                return
            }
            // t_0 = g; t_k = g + Sᵀ t_{k−1}; dX += scale · t_L (the last step adds into dX directly).
            var current = UnsafePointer(g)
            var ping = t.buffer(n, zeroed: false), pong = t.buffer(n, zeroed: false)
            for k in 0..<layers {
                if k == layers - 1 {
                    s.run(true, current, d: d, into: ping, initial: UnsafePointer(g), addTo: dX, scale: scale)
                } else {
                    s.run(true, current, d: d, into: ping, initial: UnsafePointer(g), addTo: nil, scale: 1)
                }
                current = UnsafePointer(ping)
                swap(&ping, &pong)
            }
        }
    }
}
