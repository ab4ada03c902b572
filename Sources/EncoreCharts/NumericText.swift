// Which table cells are numbers: they are right-aligned in terminal, markdown and HTML tables,
// and text stays left-aligned.
import Foundation

public enum NumericText {
    /// A cell that reads as a number: digits with an optional sign, thousands separators, decimal
    /// point, exponent, and a unit suffix (%, x, ×, s, ms); a count or note in parentheses after it
    /// ("0.1250 (8)") still reads as the number.
    public static func isNumeric(_ cell: String) -> Bool {
        var t = cell.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix(")"), let open = t.range(of: " (", options: .backwards) { t = String(t[..<open.lowerBound]) }
        for suffix in ["%", "×", "x", "ms", "s"] where t.hasSuffix(suffix) && t.count > suffix.count { t.removeLast(suffix.count); break }
        t = t.replacingOccurrences(of: ",", with: "")
        if t.hasPrefix("+") || t.hasPrefix("−") { t.removeFirst() }
        return Double(t) != nil && t.first.map { $0.isNumber || $0 == "-" || $0 == "." } == true
    }

    /// For each column: every present cell is a number ("" and "–" stand for missing values).
    public static func columns(header: [String], rows: [[String]]) -> [Bool] {
        header.indices.map { c in
            let cells = rows.compactMap { c < $0.count ? $0[c] : nil }.filter { !$0.isEmpty && $0 != "–" }
            return !cells.isEmpty && cells.allSatisfy(isNumeric)
        }
    }
}
