// The comparison table laid out like the report's appendix: one column per model
// configuration, one row per metric; rendered as text, markdown, JSON or HTML rows.
import Foundation

/// A metrics × models table.
public struct ComparisonTable: Sendable {
    public var title: String
    public var columns: [String]
    public var rows: [(metric: String, values: [String])]

    public init(title: String, columns: [String], rows: [(metric: String, values: [String])]) {
        self.title = title
        self.columns = columns
        self.rows = rows
    }

    /// The seed-protocol table for rating models.
    public static func seed(_ results: [RatingEvaluation]) -> ComparisonTable {
        func f(_ v: Double, _ d: Int = 4) -> String { v.isFinite ? String(format: "%.\(d)f", v) : "–" }
        let k = results.first?.k ?? 30
        return ComparisonTable(title: "Seed protocol (the report's): MAE/RMSE on the model's scale; within-test precision/recall at \(k)",
                               columns: results.map(\.label), rows: [
            ("RMSE (all test pairs)", results.map { f($0.rmse) }),
            ("MAE (all test pairs)", results.map { f($0.mae) }),
            ("RMSE (predictable pairs)", results.map { f($0.rmsePredictable) }),
            ("MAE (predictable pairs)", results.map { f($0.maePredictable) }),
            ("impossible predictions", results.map { String($0.impossible) }),
            ("within-test precision@\(k)", results.map { f($0.withinTestPrecision) }),
            ("within-test recall@\(k)", results.map { f($0.withinTestRecall) }),
            ("within-test F1@\(k)", results.map { f($0.withinTestF1) }),
            ("users evaluated", results.map { String($0.usersEvaluated) }),
            ("fit seconds", results.map { f($0.fitSeconds) }),
            ("predict seconds", results.map { f($0.predictSeconds) }),
        ])
    }
}
