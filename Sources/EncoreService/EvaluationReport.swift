// The comparison tables of `evaluate` as one self-contained HTML page: each table with the best
// value of every metric row highlighted (lower is better for errors, seconds and counts of
// impossible predictions; rows of counts are not ranked), and a bar chart per headline metric.
import EncoreCharts
import EncoreEval
import Foundation

/// HTML for evaluation tables.
public enum EvaluationReport {
    /// The headline metrics charted, by row name.
    static let headline = ["RMSE (all test pairs)", "MAE (all test pairs)", "precision@10", "recall@10", "MAP@10", "NDCG@10", "novelty@10", "coverage@10"]

    public static func html(_ tables: [ComparisonTable], subtitle: String) -> String {
        HTMLReport(title: "Encore evaluation", subtitle: subtitle,
                   sections: tables.map { t in
                       let table = t.table
                       var blocks: [ReportBlock] = [.marked(header: table.header, rows: table.rows, best: best(t))]
                       let charts = t.rows.filter { headline.contains($0.metric) }.compactMap { row -> String? in
                           let values = row.values.map(number)
                           guard values.contains(where: { $0 != nil }) else { return nil }
                           return BarChart(title: row.metric + (lowerIsBetter(row.metric) ? " (lower is better)" : ""),
                                           bars: zip(t.columns, values).map { ($0, $1 ?? 0) }, valueLabel: row.metric).svg()
                       }
                       if !charts.isEmpty { blocks.append(.gallery(charts)) }
                       return ReportSection(title: t.title, blocks: blocks)
                   }).html()
    }

    /// A cell's number ("0.1234", "0.1234 (56)", "1,234"), nil for "–" or text.
    static func number(_ cell: String) -> Double? {
        let head = cell.split(separator: " ").first.map(String.init)?.replacingOccurrences(of: ",", with: "") ?? ""
        guard let v = Double(head), v.isFinite else { return nil }
        return v
    }

    static func lowerIsBetter(_ metric: String) -> Bool {
        let m = metric.lowercased()
        return m.contains("rmse") || m.contains("mae") || m.contains("seconds") || m.contains("impossible") || m.contains("fallback")
    }

    /// (row, column) of the table's cells holding their row's best value; the column index counts
    /// the metric name as column 0. Rows of users evaluated, and rows where every model ties, are not ranked.
    static func best(_ t: ComparisonTable) -> Set<[Int]> {
        var out = Set<[Int]>()
        for (r, row) in t.rows.enumerated() where !row.metric.lowercased().contains("users evaluated") {
            let values = row.values.map(number)
            let present = values.compactMap { $0 }
            guard present.count > 1, let target = lowerIsBetter(row.metric) ? present.min() : present.max(), present.contains(where: { $0 != target }) else { continue }
            for (c, v) in values.enumerated() where v == target { out.insert([r, c + 1]) }
        }
        return out
    }
}

extension ComparisonTable {
    /// The table with a metric column first, for text, markdown and HTML.
    public var table: TextTable { TextTable(header: ["metric"] + columns, rows: rows.map { [$0.metric] + $0.values }) }
}
