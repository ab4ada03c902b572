// The inverse of a symmetric positive-definite matrix through LAPACK's Cholesky routines
// (potrf + potri, inside OpenBLAS). O(n³/3 + n³/3) flops; n² memory, in place.
import CBLAS

/// Inverts symmetric positive-definite matrices.
public enum SymmetricInverse {
    public struct NotPositiveDefinite: Error, CustomStringConvertible {
        public let order: Int
        public var description: String { "the matrix is not positive definite (leading minor \(order))" }
    }

    /// Replaces the n × n symmetric matrix `a` (row-major, both triangles) by its inverse.
    public static func invert(_ a: inout [Float], n: Int) throws {
        precondition(a.count == n * n)
        guard n > 0 else { return }
        var uplo = CChar(UInt8(ascii: "U"))
        var order = Int32(n), lda = Int32(n), info: Int32 = 0
        a.withUnsafeMutableBufferPointer { p in spotrf_(&uplo, &order, p.baseAddress, &lda, &info) }
        if info > 0 { throw NotPositiveDefinite(order: Int(info)) }
        precondition(info == 0, "spotrf argument error \(info)")
        a.withUnsafeMutableBufferPointer { p in spotri_(&uplo, &order, p.baseAddress, &lda, &info) }
        if info > 0 { throw NotPositiveDefinite(order: Int(info)) }
        // potri filled the upper triangle in column-major terms, i.e. the lower one row-major: mirror it.
        a.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { p[i * n + j] = p[j * n + i] } }
        }
    }
}
