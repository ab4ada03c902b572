// Small SIMD kernels for the inner loops of the factor models (dot products and y += αx over a
// factor row). They are @inlinable so each caller gets them specialised and inlined.

/// Dot products and scaled additions over Float32 rows.
public enum VectorKernels {
    /// aᵀb with two 8-wide accumulators, a 4-wide step and a scalar tail.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var x = SIMD8<Float>(), y = SIMD8<Float>()
        var j = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while j + 16 <= n {
            x += ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            y += ra.loadUnaligned(fromByteOffset: j * 4 + 32, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: j * 4 + 32, as: SIMD8<Float>.self)
            j += 16
        }
        if j + 8 <= n {
            x += ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            j += 8
        }
        var s = (x + y).sum()
        if j + 4 <= n {
            s += (ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self) * rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self)).sum()
            j += 4
        }
        while j < n { s += a[j] * b[j]; j += 1 }
        return s
    }

    /// y += alpha · x with 8-wide lanes.
    @inlinable @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var k = 0
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        while k + 8 <= n {
            let v = ry.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self) + alpha * rx.loadUnaligned(fromByteOffset: k * 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: v, toByteOffset: k * 4, as: SIMD8<Float>.self)
            k += 8
        }
        while k < n { y[k] += alpha * x[k]; k += 1 }
    }

    /// A · x for a row-major rows × columns matrix and a vector starting at `x[offset]` (one sgemv).
    public static func matrixVector(_ a: [Float], rows: Int, columns: Int, x: [Float], offset: Int = 0) -> [Float] {
        var out = [Float](repeating: 0, count: rows)
        guard rows > 0, columns > 0 else { return out }
        a.withUnsafeBufferPointer { A in
            x.withUnsafeBufferPointer { X in
                out.withUnsafeMutableBufferPointer { O in
                    BLAS.sgemv(m: rows, n: columns, a: A.baseAddress!, lda: columns, x: X.baseAddress! + offset, y: O.baseAddress!)
                }
            }
        }
        return out
    }
}
