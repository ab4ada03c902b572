// A self-contained HTML document of sections holding paragraphs, tables and inline SVG: no
// scripts, fonts or links to fetch, so a report opens offline from a file.
import Foundation

/// One block of a report section.
public enum ReportBlock: Sendable {
    case paragraph(String)
    case table(header: [String], rows: [[String]])
    case svg(String)
    /// Several SVG charts side by side (wrapping).
    case gallery([String])
    /// A table whose marked cells (row, column) are highlighted as the best of their row.
    case marked(header: [String], rows: [[String]], best: Set<[Int]>)
}

/// A titled group of blocks.
public struct ReportSection: Sendable {
    public var title: String
    public var blocks: [ReportBlock]
    public init(title: String, blocks: [ReportBlock]) {
        self.title = title
        self.blocks = blocks
    }
}

/// A self-contained HTML report.
public struct HTMLReport: Sendable {
    public var title: String
    public var subtitle: String
    public var sections: [ReportSection]

    public init(title: String, subtitle: String = "", sections: [ReportSection] = []) {
        self.title = title
        self.subtitle = subtitle
        self.sections = sections
    }

    public func html() -> String {
        var s = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(SVG.escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
        h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}
        h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
        table{border-collapse:collapse;margin:1em 0;font-size:14px}
        th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}
        th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
        td.best{background:#e6f4ea;font-weight:600}
        .gallery{display:flex;flex-wrap:wrap;gap:12px}
        svg{max-width:100%;height:auto;border:1px solid #eee}
        </style></head><body>
        <h1>\(SVG.escape(title))</h1>
        <p class="sub">\(SVG.escape(subtitle))</p>

        """
        for section in sections {
            s += "<section><h2>\(SVG.escape(section.title))</h2>\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text):
                    s += "<p>\(SVG.escape(text))</p>\n"
                case .table(let header, let rows):
                    s += Self.table(header: header, rows: rows, best: [])
                case .marked(let header, let rows, let best):
                    s += Self.table(header: header, rows: rows, best: best)
                case .svg(let svg):
                    s += svg
                case .gallery(let svgs):
                    s += "<div class=\"gallery\">\n" + svgs.joined() + "</div>\n"
                }
            }
            s += "</section>\n"
        }
        s += "</body></html>\n"
        return s
    }

    /// A table with numeric columns right-aligned (class `num`) and the `best` cells marked.
    static func table(header: [String], rows: [[String]], best: Set<[Int]>) -> String {
        let numeric = NumericText.columns(header: header, rows: rows)
        func attributes(_ c: Int, best: Bool) -> String {
            let classes = (c < numeric.count && numeric[c] ? ["num"] : []) + (best ? ["best"] : [])
            return classes.isEmpty ? "" : " class=\"\(classes.joined(separator: " "))\""
        }
        var s = "<table><thead><tr>" + header.enumerated().map { "<th\(attributes($0.offset, best: false))>\(SVG.escape($0.element))</th>" }.joined()
            + "</tr></thead><tbody>\n"
        for (r, row) in rows.enumerated() {
            s += "<tr>" + row.enumerated().map { c, v in
                let isBest = best.contains([r, c])
                return "<td\(attributes(c, best: isBest))>\(SVG.escape(v))\(isBest ? "<span hidden> (best)</span>" : "")</td>"
            }.joined() + "</tr>\n"
        }
        return s + "</tbody></table>\n"
    }
}
