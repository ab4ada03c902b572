// The comparison tables of `evaluate` as one self-contained HTML page.
import EncoreCharts
import EncoreEval

/// HTML for evaluation tables.
public enum EvaluationReport {
    public static func html(_ tables: [ComparisonTable], subtitle: String) -> String {
        HTMLReport(title: "Encore evaluation", subtitle: subtitle,
                   sections: tables.map { t in
                       ReportSection(title: t.title, blocks: [.table(header: t.table.header, rows: t.table.rows)])
                   }).html()
    }
}

extension ComparisonTable {
    /// The table with a metric column first, for text, markdown and HTML.
    public var table: TextTable { TextTable(header: ["metric"] + columns, rows: rows.map { [$0.metric] + $0.values }) }
}
