// Aligned terminal tables and markdown tables for command output.

/// A header and rows of cells, rendered as aligned text or markdown.
struct TextTable {
    var header: [String]
    var rows: [[String]]

    func render(_ format: OutputFormat) -> String {
        format == .markdown ? markdown() : text()
    }

    func text() -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: max(0, widths[c] - cell.count))
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        var out = line(header) + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for r in rows { out += line(r) + "\n" }
        return out
    }

    func markdown() -> String {
        var out = "| " + header.joined(separator: " | ") + " |\n"
        out += "|" + header.indices.map { $0 == 0 ? "---" : "---:" }.joined(separator: "|") + "|\n"
        for r in rows { out += "| " + r.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n" }
        return out
    }
}

/// Number formatting for tables.
enum Format {
    static func number(_ v: Double, digits: Int = 2) -> String {
        guard v.isFinite else { return "–" }
        if v == v.rounded() && abs(v) < 1e15 { return grouped(Int(v)) }
        return String(format: "%.\(digits)f", v)
    }

    static func grouped(_ n: Int) -> String {
        let s = String(abs(n))
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    static func percent(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }
}
