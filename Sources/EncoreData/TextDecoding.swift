// Decoding of field bytes: UTF-8 when valid, otherwise Latin-1 (ISO-8859-1), which maps every
// byte to a code point and so never fails. HetRec's tags.dat and MovieLens' u.item are Latin-1.

/// UTF-8 decoding with a Latin-1 fallback.
public enum TextDecoding {
    public static func decode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var ascii = true
        for b in bytes where b >= 0x80 { ascii = false; break }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(Unicode.Scalar(b)) }
        return String(scalars)
    }

    /// Whether the bytes are valid UTF-8.
    public static func isValidUTF8<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        String(validating: bytes, as: UTF8.self) != nil
    }
}
