// Thin bridge to OpenBLAS (CBLAS system library). Encore runs its own parallel loops and calls
// BLAS from inside them, so a process sets BLAS to one thread once, at start (`BLAS.setThreads(1)`
// in the CLI's main, OPENBLAS_NUM_THREADS=1 for the tests); library code never changes it.
import CBLAS

/// Entry points into OpenBLAS used by Encore's numeric code.
public enum BLAS {
    /// Sets the number of threads OpenBLAS may use for one call.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// C = alpha * op(A) * op(B) + beta * C for row-major Float32 matrices.
    /// A is m×k (or k×m when transA), B is k×n (or n×k when transB), C is m×n.
    public static func sgemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor,
            transA ? CblasTrans : CblasNoTrans,
            transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y = alpha · A x + beta · y for a row-major m × n matrix A.
    public static func sgemv(m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// Dot product of two Float32 vectors of length n.
    public static func sdot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }
}
