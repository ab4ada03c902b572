// The comparison tables of `evaluate` as one self-contained HTML page.
import EncoreCharts
import EncoreEval

/// HTML for evaluation tables.
public enum EvaluationReport {
    public static func html(_ tables: [ComparisonTable], subtitle: String) -> String {
        HTMLReport(title: "Encore evaluation", subtitle: subtitle,
                   sections: tables.map { t in
                       ReportSection(title: t.title, blocks: [.table(header: ["metric"] + t.columns, rows: t.rows.map { [$0.metric] + $0.values })])
                   }).html()
    }
}
