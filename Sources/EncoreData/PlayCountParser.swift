// Parsing of play counts (and ratings) straight from field bytes, without building a String.
// Integers take a fast path; decimals and exponents go through strtod. A value must be a finite
// number in (0, 2147483647] that stays positive in Float32; anything else is a typed problem the
// loader reports or counts.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Converts the bytes of a play-count field into a positive value.
public enum PlayCountParser {
    public static let maximum: Double = 2_147_483_647

    @inline(__always)
    public static func parse(_ raw: UnsafeBufferPointer<UInt8>) -> Result<Double, DataProblem> {
        var lo = 0
        var hi = raw.count
        while lo < hi && (raw[lo] == 0x20 || raw[lo] == 0x09) { lo += 1 }
        while hi > lo && (raw[hi - 1] == 0x20 || raw[hi - 1] == 0x09) { hi -= 1 }
        if lo == hi { return .failure(.emptyValue) }
        // Fast path: plain digits.
        var value: UInt64 = 0
        var i = lo
        var allDigits = true
        while i < hi {
            let d = raw[i] &- 48
            if d > 9 { allDigits = false; break }
            if i - lo >= 18 { break }
            value = value * 10 + UInt64(d)
            i += 1
        }
        if allDigits && i == hi {
            if value == 0 { return .failure(.zeroValue) }
            if Double(value) > maximum { return .failure(.overflow(text(raw, lo, hi))) }
            return .success(Double(value))
        }
        if allDigits && i - lo >= 18 {
            // Keep scanning: only digits means a huge integer.
            var j = i
            while j < hi, raw[j] &- 48 <= 9 { j += 1 }
            if j == hi { return .failure(.overflow(text(raw, lo, hi))) }
        }
        return slowPath(raw, lo, hi)
    }

    private static func text(_ raw: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int) -> String {
        let n = min(hi - lo, 40)
        return TextDecoding.decode(UnsafeBufferPointer(rebasing: raw[lo..<(lo + n)]))
    }

    private static func slowPath(_ raw: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int) -> Result<Double, DataProblem> {
        let s = text(raw, lo, hi)
        // Only plain decimal notation: sign, digits, optional fraction and exponent.
        var sawDigit = false
        var ok = true
        var k = lo
        if k < hi && (raw[k] == UInt8(ascii: "-") || raw[k] == UInt8(ascii: "+")) { k += 1 }
        while k < hi && raw[k] &- 48 <= 9 { k += 1; sawDigit = true }
        if k < hi && raw[k] == UInt8(ascii: ".") {
            k += 1
            while k < hi && raw[k] &- 48 <= 9 { k += 1; sawDigit = true }
        }
        if sawDigit && k < hi && (raw[k] == UInt8(ascii: "e") || raw[k] == UInt8(ascii: "E")) {
            k += 1
            if k < hi && (raw[k] == UInt8(ascii: "-") || raw[k] == UInt8(ascii: "+")) { k += 1 }
            var expDigit = false
            while k < hi && raw[k] &- 48 <= 9 { k += 1; expDigit = true }
            ok = expDigit
        }
        guard ok, sawDigit, k == hi else { return .failure(.notANumber(s)) }
        var buf = [CChar](repeating: 0, count: hi - lo + 1)
        for j in lo..<hi { buf[j - lo] = CChar(bitPattern: raw[j]) }
        let v = strtod(buf, nil)
        if !v.isFinite { return .failure(.overflow(s)) }
        if v < 0 { return .failure(.negativeValue(s)) }
        if v == 0 { return .failure(.zeroValue) }
        if v > maximum { return .failure(.overflow(s)) }
        // Values are stored as Float32: one that rounds to zero (or to a subnormal) would become a zero count.
        if Float(v) < Float.leastNormalMagnitude { return .failure(.valueTooSmall(s)) }
        return .success(v)
    }

    /// Parses an integer field (timestamps, years); nil when it is not an integer.
    public static func parseInteger(_ raw: UnsafeBufferPointer<UInt8>) -> Int64? {
        var lo = 0
        var hi = raw.count
        while lo < hi && raw[lo] == 0x20 { lo += 1 }
        while hi > lo && raw[hi - 1] == 0x20 { hi -= 1 }
        guard lo < hi else { return nil }
        var negative = false
        if raw[lo] == UInt8(ascii: "-") { negative = true; lo += 1 }
        guard lo < hi, hi - lo <= 18 else { return nil }
        var v: Int64 = 0
        for j in lo..<hi {
            let d = raw[j] &- 48
            guard d <= 9 else { return nil }
            v = v * 10 + Int64(d)
        }
        return negative ? -v : v
    }
}
