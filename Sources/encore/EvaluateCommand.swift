import ArgumentParser
import EncoreCharts
import EncoreData
import EncoreEval
import EncoreModels
import Foundation

extension Encore {
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit models and compare them in one table (--protocol seed: the report's MAE/RMSE and within-test precision/recall).")

        @Option(help: "seed (the report's rating protocol).") var `protocol`: String = "seed"
        @Option(help: "Models, comma separated; a JSON object after a name overrides its configuration: svd{\"n_epochs\":30}.") var model: String
        @Option(help: "Configuration overrides (JSON object or file) for models given without their own.") var config: String?
        @OptionGroup var data: TrainingDataOptions
        @Option(help: "k of the within-test precision and recall.") var k: Int = 30
        @Option(help: "Relevance threshold on the value scale.") var threshold: Double = 1.5
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
        @Option(help: "Also write the table as an HTML report here.") var report: String?

        func run() throws {
            guard `protocol` == "seed" else {
                throw UsageError("unknown --protocol '\(`protocol`)'; this build has: seed")
            }
            guard k > 0 else { throw UsageError("-k must be positive") }
            let specs = try ModelSpec.parse(model, sharedConfig: config)
            let entries = try specs.map { try ModelRegistry.entry(named: $0.name) }
            for (spec, entry) in zip(specs, entries) { try entry.check(overrides: spec.overrides) }
            let (train, test, transform) = try data.load(requireTest: true)
            guard let test else { throw UsageError("no test data") }
            var results: [RatingEvaluation] = []
            for (spec, entry) in zip(specs, entries) {
                if format != .json { note("fitting \(spec.label) …") }
                results.append(try SeedProtocol.evaluate(model: entry, overrides: spec.overrides, label: spec.label,
                                                         train: train, test: test, k: k, threshold: threshold))
            }
            let table = ComparisonTable.seed(results)
            switch format {
            case .json: print(try jsonString(results))
            case .markdown: print(table.markdown(), terminator: "")
            case .table: print(table.text(), terminator: "")
            }
            if let report {
                let html = HTMLReport(title: "Encore evaluation", subtitle: "\(train.nnz) training and \(test.nnz) test pairs; value scale \(transform)",
                                      sections: [ReportSection(title: table.title, blocks: [.table(header: ["metric"] + table.columns, rows: table.rows.map { [$0.metric] + $0.values })])]).html()
                try writeText(html, to: report)
                note("wrote \(report)")
            }
        }
    }
}
