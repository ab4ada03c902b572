// Aligned terminal tables and markdown tables for command output and reports.
import EncoreCharts
import Foundation

/// How results are printed: an aligned table, markdown, or JSON.
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, markdown, json
}

/// A header and rows of cells, rendered as aligned text or markdown.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    public func render(_ format: OutputFormat) -> String {
        format == .markdown ? markdown() : text()
    }

    /// Columns whose every cell is a number (or missing), right-aligned; text stays left-aligned.
    public var numericColumns: [Bool] { NumericText.columns(header: header, rows: rows) }

    public func text() -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        let numeric = numericColumns
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: max(0, (c < widths.count ? widths[c] : 0) - cell.count))
                return c < numeric.count && numeric[c] ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = line(header) + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for r in rows { out += line(r) + "\n" }
        return out
    }

    public func markdown() -> String {
        var out = "| " + header.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        let numeric = numericColumns
        out += "|" + header.indices.map { numeric[$0] ? "---:" : "---" }.joined(separator: "|") + "|\n"
        for r in rows { out += "| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
        return out
    }
}

/// Number formatting for tables.
public enum Format {
    /// Fixed decimals and thousands separators ("636,330.12", "3.00"), so a column of them reads
    /// alike whether or not a value happens to be whole; counts use `grouped`.
    public static func number(_ v: Double, digits: Int = 2) -> String {
        guard v.isFinite else { return "–" }
        let fixed = String(format: "%.\(max(0, digits))f", abs(v))
        let parts = fixed.split(separator: ".", maxSplits: 1).map(String.init)
        guard let whole = Int(parts[0]) else { return String(format: "%.\(digits)f", v) }
        let negative = v < 0 && fixed.contains(where: { $0 != "0" && $0 != "." })
        return (negative ? "-" : "") + grouped(whole) + (parts.count > 1 ? "." + parts[1] : "")
    }

    /// A quantity that is usually a whole count (plays): grouped when whole, else `number`.
    public static func amount(_ v: Double) -> String {
        v.isFinite && v == v.rounded() && abs(v) < 1e15 ? grouped(Int(v)) : number(v)
    }

    public static func grouped(_ n: Int) -> String {
        let s = String(abs(n))
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    public static func percent(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }
}
