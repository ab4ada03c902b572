// The dense operations of the tape: matmul through BLAS sgemm, elementwise arithmetic and
// activations, dropout, row gathers, concatenation and reductions, each with its gradient.

import EncoreMath

extension Tape {
    /// The tensor the next `append` creates.
    func next(_ rows: Int, _ columns: Int) -> Tensor { Tensor(id: nodes.count, rows: rows, columns: columns) }

    /// a (m × k) · b (k × n), by sgemm over fixed blocks of 256 rows.
    public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.columns == b.rows, "matmul of \(a.rows) × \(a.columns) by \(b.rows) × \(b.columns)")
        let m = a.rows, k = a.columns, n = b.columns
        nonisolated(unsafe) let A = value(a), B = value(b)
        nonisolated(unsafe) let C = buffer(m * n, zeroed: true)
        if k > 0 {
            Blocks.forEach(m, size: 256) { r in
                BLAS.sgemm(m: r.count, n: n, k: k, a: A + r.lowerBound * k, lda: k, b: B, ldb: n, beta: 0, c: C + r.lowerBound * n, ldc: n)
            }
        }
        let out = next(m, n)
        return append(rows: m, columns: n, value: C, inputs: [a, b]) { t in
            nonisolated(unsafe) let dC = t.grad(out)
            guard k > 0, n > 0 else { return }
            if t.needsGrad(a) {
                // dA (m × k) += dC (m × n) · Bᵀ
                nonisolated(unsafe) let dA = t.grad(a)
                Blocks.forEach(m, size: 256) { r in
                    BLAS.sgemm(transB: true, m: r.count, n: k, k: n, a: dC + r.lowerBound * n, lda: n, b: B, ldb: n, beta: 1, c: dA + r.lowerBound * k, ldc: k)
                }
            }
            if t.needsGrad(b) {
                // dB (k × n) += Aᵀ (k × m) · dC (m × n), in blocks of B's rows.
                nonisolated(unsafe) let dB = t.grad(b)
                Blocks.forEach(k, size: 64) { r in
                    BLAS.sgemm(transA: true, m: r.count, n: n, k: m, a: A + r.lowerBound, lda: k, b: dC, ldb: n, beta: 1, c: dB + r.lowerBound * n, ldc: n)
                }
            }
        }
    }

    /// a + b, where b has a's shape or is one row added to every row (a bias).
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        let broadcast = b.rows == 1 && a.rows != 1
        precondition(b.columns == a.columns && (b.rows == a.rows || broadcast), "add of \(a.rows) × \(a.columns) and \(b.rows) × \(b.columns)")
        let n = a.count, w = a.columns
        nonisolated(unsafe) let A = value(a), B = value(b)
        nonisolated(unsafe) let C = buffer(n, zeroed: false)
        Blocks.elementwise(n) { r in for i in r { C[i] = A[i] + B[broadcast ? i % w : i] } }
        let out = next(a.rows, a.columns)
        return append(rows: a.rows, columns: a.columns, value: C, inputs: [a, b]) { t in
            nonisolated(unsafe) let dC = t.grad(out)
            if t.needsGrad(a) {
                nonisolated(unsafe) let dA = t.grad(a)
                Blocks.elementwise(n) { r in for i in r { dA[i] += dC[i] } }
            }
            if t.needsGrad(b) {
                let dB = t.grad(b)
                if broadcast {
                    for i in 0..<n { dB[i % w] += dC[i] }
                } else {
                    nonisolated(unsafe) let dB = dB
                    Blocks.elementwise(n) { r in for i in r { dB[i] += dC[i] } }
                }
            }
        }
    }

    /// a ⊙ b (same shape).
    public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rows == b.rows && a.columns == b.columns, "multiply of \(a.rows) × \(a.columns) and \(b.rows) × \(b.columns)")
        let n = a.count
        nonisolated(unsafe) let A = value(a), B = value(b)
        nonisolated(unsafe) let C = buffer(n, zeroed: false)
        Blocks.elementwise(n) { r in for i in r { C[i] = A[i] * B[i] } }
        let out = next(a.rows, a.columns)
        return append(rows: a.rows, columns: a.columns, value: C, inputs: [a, b]) { t in
            nonisolated(unsafe) let dC = t.grad(out)
            if t.needsGrad(a) {
                nonisolated(unsafe) let dA = t.grad(a)
                Blocks.elementwise(n) { r in for i in r { dA[i] += dC[i] * B[i] } }
            }
            if t.needsGrad(b) {
                nonisolated(unsafe) let dB = t.grad(b)
                Blocks.elementwise(n) { r in for i in r { dB[i] += dC[i] * A[i] } }
            }
        }
    }

    /// s · a.
    public func scale(_ a: Tensor, _ s: Float) -> Tensor {
        unary(a, { s * $0 }, { _, _ in s })
    }

    /// max(0, a).
    public func relu(_ a: Tensor) -> Tensor {
        unary(a, { max(0, $0) }, { x, _ in x > 0 ? 1 : 0 })
    }

    /// a where a > 0, slope · a elsewhere.
    public func leakyReLU(_ a: Tensor, slope: Float = 0.01) -> Tensor {
        unary(a, { $0 > 0 ? $0 : slope * $0 }, { x, _ in x > 0 ? 1 : slope })
    }

    /// An elementwise function f with derivative df(x, f(x)).
    func unary(_ a: Tensor, _ f: @escaping @Sendable (Float) -> Float, _ df: @escaping @Sendable (Float, Float) -> Float) -> Tensor {
        let n = a.count
        nonisolated(unsafe) let A = value(a)
        nonisolated(unsafe) let C = buffer(n, zeroed: false)
        Blocks.elementwise(n) { r in for i in r { C[i] = f(A[i]) } }
        let out = next(a.rows, a.columns)
        return append(rows: a.rows, columns: a.columns, value: C, inputs: [a]) { t in
            nonisolated(unsafe) let dC = t.grad(out), dA = t.grad(a)
            Blocks.elementwise(n) { r in for i in r { dA[i] += dC[i] * df(A[i], C[i]) } }
        }
    }

    /// Inverted dropout: while training, each entry is zeroed with probability p and the others
    /// scaled by 1 / (1 − p); the identity otherwise. The mask comes from `seed` alone.
    public func dropout(_ a: Tensor, p: Double, seed: UInt64) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1)")
        guard training, p > 0 else { return a }
        let n = a.count
        let keep = Float(1 / (1 - p))
        nonisolated(unsafe) let mask = buffer(n, zeroed: false)
        Blocks.elementwise(n) { r in
            var g = SeededGenerator(seed: seed, stream: UInt64(r.lowerBound))
            for i in r { mask[i] = g.nextDouble() < p ? 0 : keep }
        }
        nonisolated(unsafe) let A = value(a)
        nonisolated(unsafe) let C = buffer(n, zeroed: false)
        Blocks.elementwise(n) { r in for i in r { C[i] = A[i] * mask[i] } }
        let out = next(a.rows, a.columns)
        return append(rows: a.rows, columns: a.columns, value: C, inputs: [a]) { t in
            nonisolated(unsafe) let dC = t.grad(out), dA = t.grad(a)
            Blocks.elementwise(n) { r in for i in r { dA[i] += dC[i] * mask[i] } }
        }
    }

    /// The rows of a at `indices` (an embedding lookup); the gradient is scattered back, summed
    /// over repeated indices in order.
    public func gather(_ a: Tensor, rows indices: [Int32]) -> Tensor {
        let w = a.columns, n = indices.count
        precondition(indices.allSatisfy { $0 >= 0 && Int($0) < a.rows }, "gather index out of 0..<\(a.rows)")
        nonisolated(unsafe) let A = value(a)
        nonisolated(unsafe) let C = buffer(n * w, zeroed: false)
        indices.withUnsafeBufferPointer { idx in
            nonisolated(unsafe) let idx = idx
            Blocks.forEach(n, size: 1024) { r in
                for q in r { (C + q * w).update(from: A + Int(idx[q]) * w, count: w) }
            }
        }
        let out = next(n, w)
        return append(rows: n, columns: w, value: C, inputs: [a]) { t in
            let dC = t.grad(out), dA = t.grad(a)
            for q in 0..<n { VectorKernels.axpy(1, dC + q * w, dA + Int(indices[q]) * w, w) }
        }
    }

    /// [a b]: the columns of a then those of b, row by row.
    public func concatenateColumns(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rows == b.rows, "concatenation of \(a.rows) and \(b.rows) rows")
        let m = a.rows, wa = a.columns, wb = b.columns, w = wa + wb
        nonisolated(unsafe) let A = value(a), B = value(b)
        nonisolated(unsafe) let C = buffer(m * w, zeroed: false)
        Blocks.forEach(m, size: 1024) { r in
            for i in r {
                (C + i * w).update(from: A + i * wa, count: wa)
                (C + i * w + wa).update(from: B + i * wb, count: wb)
            }
        }
        let out = next(m, w)
        return append(rows: m, columns: w, value: C, inputs: [a, b]) { t in
            nonisolated(unsafe) let dC = t.grad(out)
            if t.needsGrad(a) {
                nonisolated(unsafe) let dA = t.grad(a)
                Blocks.forEach(m, size: 1024) { r in for i in r { VectorKernels.axpy(1, dC + i * w, dA + i * wa, wa) } }
            }
            if t.needsGrad(b) {
                nonisolated(unsafe) let dB = t.grad(b)
                Blocks.forEach(m, size: 1024) { r in for i in r { VectorKernels.axpy(1, dC + i * w + wa, dB + i * wb, wb) } }
            }
        }
    }

    /// [a; b]: the rows of a then those of b.
    public func concatenateRows(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.columns == b.columns, "row concatenation of \(a.columns) and \(b.columns) columns")
        let na = a.count, nb = b.count
        let C = buffer(na + nb, zeroed: false)
        C.update(from: value(a), count: na)
        (C + na).update(from: value(b), count: nb)
        let out = next(a.rows + b.rows, a.columns)
        return append(rows: a.rows + b.rows, columns: a.columns, value: C, inputs: [a, b]) { t in
            nonisolated(unsafe) let dC = t.grad(out)
            if t.needsGrad(a) {
                nonisolated(unsafe) let dA = t.grad(a)
                Blocks.elementwise(na) { r in VectorKernels.axpy(1, dC + r.lowerBound, dA + r.lowerBound, r.count) }
            }
            if t.needsGrad(b) {
                nonisolated(unsafe) let dB = t.grad(b)
                Blocks.elementwise(nb) { r in VectorKernels.axpy(1, dC + na + r.lowerBound, dB + r.lowerBound, r.count) }
            }
        }
    }

    /// The elementwise mean of tensors of one shape (LightGCN's mean over layers).
    public func average(_ list: [Tensor]) -> Tensor {
        guard let first = list.first else { preconditionFailure("average of no tensors") }
        precondition(list.allSatisfy { $0.rows == first.rows && $0.columns == first.columns }, "average of tensors of different shapes")
        let n = first.count, s = 1 / Float(list.count)
        let inputs = list.map { value($0) }
        nonisolated(unsafe) let sources = inputs
        nonisolated(unsafe) let C = buffer(n, zeroed: false)
        Blocks.elementwise(n) { r in
            let lo = r.lowerBound
            (C + lo).update(repeating: 0, count: r.count)
            for p in sources { VectorKernels.axpy(1, p + lo, C + lo, r.count) }
            for i in r { C[i] *= s }
        }
        let out = next(first.rows, first.columns)
        return append(rows: first.rows, columns: first.columns, value: C, inputs: list) { t in
            nonisolated(unsafe) let dC = t.grad(out)
            for x in list where t.needsGrad(x) {
                nonisolated(unsafe) let dX = t.grad(x)
                Blocks.elementwise(n) { r in VectorKernels.axpy(s, dC + r.lowerBound, dX + r.lowerBound, r.count) }
            }
        }
    }

    /// The sum of every entry (1 × 1), accumulated in Double in order.
    public func sum(_ a: Tensor) -> Tensor { total(a, scale: 1) }

    /// The mean of every entry (1 × 1).
    public func mean(_ a: Tensor) -> Tensor { total(a, scale: 1 / Double(max(1, a.count))) }

    func total(_ a: Tensor, scale s: Double) -> Tensor {
        let n = a.count
        let A = value(a)
        var acc = 0.0
        for i in 0..<n { acc += Double(A[i]) }
        let C = buffer(1, zeroed: false)
        C[0] = Float(acc * s)
        let out = next(1, 1)
        return append(rows: 1, columns: 1, value: C, inputs: [a]) { t in
            let g = t.grad(out)[0] * Float(s)
            nonisolated(unsafe) let dA = t.grad(a)
            Blocks.elementwise(n) { r in for i in r { dA[i] += g } }
        }
    }

    /// Each row's sum (rows × 1).
    public func rowSum(_ a: Tensor) -> Tensor {
        let m = a.rows, w = a.columns
        nonisolated(unsafe) let A = value(a)
        nonisolated(unsafe) let C = buffer(m, zeroed: false)
        Blocks.forEach(m, size: 4096) { r in
            for i in r {
                var v: Float = 0
                for j in 0..<w { v += A[i * w + j] }
                C[i] = v
            }
        }
        let out = next(m, 1)
        return append(rows: m, columns: 1, value: C, inputs: [a]) { t in
            nonisolated(unsafe) let dC = t.grad(out), dA = t.grad(a)
            Blocks.forEach(m, size: 4096) { r in for i in r { for j in 0..<w { dA[i * w + j] += dC[i] } } }
        }
    }

    /// Each row's dot product of a and b (rows × 1): a score per (user, song) pair.
    public func rowDot(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rows == b.rows && a.columns == b.columns, "rowDot of \(a.rows) × \(a.columns) and \(b.rows) × \(b.columns)")
        let m = a.rows, w = a.columns
        nonisolated(unsafe) let A = value(a), B = value(b)
        nonisolated(unsafe) let C = buffer(m, zeroed: false)
        Blocks.forEach(m, size: 4096) { r in for i in r { C[i] = VectorKernels.dot(A + i * w, B + i * w, w) } }
        let out = next(m, 1)
        return append(rows: m, columns: 1, value: C, inputs: [a, b]) { t in
            nonisolated(unsafe) let dC = t.grad(out)
            if t.needsGrad(a) {
                nonisolated(unsafe) let dA = t.grad(a)
                Blocks.forEach(m, size: 4096) { r in for i in r { VectorKernels.axpy(dC[i], B + i * w, dA + i * w, w) } }
            }
            if t.needsGrad(b) {
                nonisolated(unsafe) let dB = t.grad(b)
                Blocks.forEach(m, size: 4096) { r in for i in r { VectorKernels.axpy(dC[i], A + i * w, dB + i * w, w) } }
            }
        }
    }
}
