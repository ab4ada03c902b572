import ArgumentParser
import EncoreCharts
import EncoreData
import EncoreMath
import EncoreEval
import EncoreModels
import Foundation
import EncoreService

extension Encore {
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit models and compare them in one table: --protocol seed (the report's MAE/RMSE and within-test precision/recall), ranking (full catalogue), or both.")

        @Option(help: "seed, ranking or both.") var `protocol`: String = "ranking"
        @Option(help: "Models, comma separated; a JSON object after a name overrides its configuration: svd{\"n_epochs\":30}.") var model: String
        @Option(help: "Configuration overrides (JSON object or file) for models given without their own.") var config: String?
        @OptionGroup var data: TrainingDataOptions
        @Option(parsing: .unconditional, help: "k of the within-test precision and recall.") var k: Int = 30
        @Option(parsing: .unconditional, help: "Relevance threshold on the value scale.") var threshold: Double = 1.5
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
        @Option(help: "Also write the table as an HTML report here.") var report: String?

        func run() throws {
            guard ["seed", "ranking", "both"].contains(`protocol`) else {
                throw UsageError("unknown --protocol '\(`protocol`)'; use seed, ranking or both")
            }
            if let report { try AtomicFile.checkOutput(report, inputs: data.inputPaths) }
            guard k > 0 else { throw UsageError("-k must be positive") }
            let specs = try ModelSpec.parse(model, sharedConfig: config)
            let entries = try specs.map { try ModelRegistry.entry(named: $0.name) }
            for (spec, entry) in zip(specs, entries) { try entry.check(overrides: spec.overrides) }
            if `protocol` == "seed", let bad = entries.first(where: { !$0.predictsValues }) {
                throw UsageError("\(bad.name) ranks songs but does not predict play counts; use --protocol ranking or both")
            }
            // A dataset is held out per user for ranking (every user keeps a history), at random for the seed protocol.
            var options = data
            if options.split == nil { options.split = `protocol` == "seed" ? "ratio" : "per-user" }
            let raw = try options.loadRaw(requireTest: true)
            guard let rawTest = raw.test else { throw UsageError("no test data") }
            var seedResults: [RatingEvaluation] = []
            var rankingResults: [RankingEvaluation] = []
            for (spec, entry) in zip(specs, entries) {
                let t = try data.transform(forRatingModel: entry.predictsValues)
                let train = raw.train.mapValues(t), test = rawTest.mapValues(t)
                if format != .json { note("fitting \(spec.label) …") }
                if `protocol` != "ranking" && entry.predictsValues {
                    seedResults.append(try SeedProtocol.evaluate(model: entry, overrides: spec.overrides, label: spec.label,
                                                                 train: train, test: test, k: k, threshold: threshold))
                }
                if `protocol` != "seed" {
                    rankingResults.append(try RankingProtocol.evaluate(model: entry, overrides: spec.overrides, label: spec.label,
                                                                       train: train, test: test, catalog: raw.catalog, segmentsFrom: raw.train))
                }
            }
            for w in Set(rankingResults.flatMap(\.warnings)).sorted() { note("warning: " + w) }
            var tables: [ComparisonTable] = []
            if !seedResults.isEmpty { tables.append(ComparisonTable.seed(seedResults)) }
            if !rankingResults.isEmpty { tables.append(ComparisonTable.ranking(rankingResults)) }
            switch format {
            case .json:
                struct Both: Encodable {
                    var seed: [RatingEvaluation]?
                    var ranking: [RankingEvaluation]?
                }
                if `protocol` == "seed" { print(try jsonString(seedResults)) } else if `protocol` == "ranking" { print(try jsonString(rankingResults)) } else {
                    print(try jsonString(Both(seed: seedResults, ranking: rankingResults)))
                }
            case .markdown:
                for t in tables { print("### \(t.title)\n\n" + t.table.markdown()) }
            case .table:
                for t in tables { print(t.title + "\n" + t.table.text()) }
            }
            if let report {
                try writeText(EvaluationReport.html(tables, subtitle: "\(raw.train.nnz) training and \(rawTest.nnz) test pairs"), to: report, inputs: data.inputPaths)
                note("wrote \(report)")
            }
        }
    }
}
