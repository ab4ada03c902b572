import ArgumentParser
import EncoreCharts
import EncoreData
import EncoreMath
import EncoreEval
import EncoreModels
import EncorePolicy
import Foundation
import EncoreService

extension Encore {
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit models and compare them in one table: --protocol seed (the report's MAE/RMSE and within-test precision/recall), ranking (full catalogue), or both.")

        @Option(help: "seed, ranking or both.") var `protocol`: String = "ranking"
        @Option(help: "Models, comma separated; a JSON object after a name overrides its configuration: svd{\"n_epochs\":30}. With --policy: the single models to compare (default most-popular,popularity,item-knn,als,ease,blend,clustering).") var model: String?
        @Option(help: "Policies to evaluate per segment, comma separated (report, default, or policy files), on the ranking protocol.") var policy: String?
        @Option(help: "Configuration overrides (JSON object or file) for models given without their own.") var config: String?
        @OptionGroup var data: TrainingDataOptions
        @Option(parsing: .unconditional, help: "k of the within-test precision and recall.") var k: Int = 30
        @Option(parsing: .unconditional, help: "Relevance threshold on the value scale.") var threshold: Double = 1.5
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
        @Option(help: "Also write the table as an HTML report here.") var report: String?

        func run() throws {
            if let policy { return try evaluatePolicies(policy) }
            guard let model else { throw UsageError("give --model (or --policy)") }
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
                                                                 train: train, test: test, catalog: raw.catalog, k: k, threshold: threshold, showProgress: true))
                }
                if `protocol` != "seed" {
                    rankingResults.append(try RankingProtocol.evaluate(model: entry, overrides: spec.overrides, label: spec.label,
                                                                       train: train, test: test, catalog: raw.catalog, segmentsFrom: raw.train, showProgress: true))
                }
            }
            for w in Set(rankingResults.flatMap(\.warnings)).sorted() { note("warning: " + w) }
            // Which data and which value scale: a split chosen by the protocol is easy to miss.
            let source: String
            if let path = options.data {
                source = "a \(options.split ?? "ratio") split of \(path) (test fraction \(options.testFraction ?? 0.2), seed \(options.seed))"
            } else {
                source = "--train \(options.train ?? "") and --test \(options.test ?? "")"
            }
            let scale = data.value.map { "\($0) for every model" } ?? "log1p(plays) for rating models (seed protocol), raw plays for ranking models"
            let context = "data: \(source); \(Format.grouped(raw.train.nnz)) training and \(Format.grouped(rawTest.nnz)) test pairs; values: \(scale)"
            if format == .json { note(context) } else { print(context + "\n") }
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
                try writeText(EvaluationReport.html(tables, subtitle: context), to: report, inputs: data.inputPaths)
                note("wrote \(report)")
            }
        }

        /// Policies and single models per segment, on one split, every model fitted once.
        func evaluatePolicies(_ list: String) throws {
            guard `protocol` == "ranking" else { throw UsageError("policies are evaluated on the ranking protocol") }
            if let report { try AtomicFile.checkOutput(report, inputs: data.inputPaths) }
            let policies = try list.split(separator: ",").map { try Policy.named(String($0).trimmingCharacters(in: .whitespaces)) }
            let specs = try ModelSpec.parse(model ?? "most-popular,popularity,item-knn,als,ease,blend,clustering", sharedConfig: config)
            for spec in specs { try ModelRegistry.entry(named: spec.name).check(overrides: spec.overrides) }
            var options = data
            if options.split == nil { options.split = "per-user" }
            let raw = try options.loadRaw(requireTest: true)
            guard let test = raw.test else { throw UsageError("no test data") }
            let value = try data.value.map { v -> ValueTransform in
                guard let t = ValueTransform(argument: v) else { throw UsageError("unknown --value '\(v)'; use log1p, none or cap:N") }
                return t
            }
            let quiet = format == .json
            var pool = ModelPool(train: raw.train, catalog: raw.catalog, value: value) { if !quiet { note($0) } }
            let segmenter = try Segmenter(raw.train, rules: policies.first?.segments ?? SegmentRules())
            let evaluator = try PolicyEvaluator(train: raw.train, test: test, catalog: raw.catalog, segmenter: segmenter)
            var results: [PolicyEvaluationResult] = []
            for p in policies {
                let engine = try pool.engine(p)
                for w in Set(engine.warnings).sorted() { note("warning: " + w) }
                if !quiet { note("serving \(p.name) to \(evaluator.users.count) users …") }
                results.append(evaluator.evaluate(engine: engine, label: "policy \(p.name)"))
            }
            let fallback = try PopularityRanker(train: raw.train, configuration: .report)
            for spec in specs {
                let m = try pool.model(spec.name, overrides: spec.overrides)
                results.append(evaluator.evaluate(model: m.model, fallback: fallback, label: spec.label))
            }
            let table = ComparisonTable.policies(results)
            switch format {
            case .json: print(try jsonString(results))
            case .markdown: print("### \(table.title)\n\n" + table.table.markdown())
            case .table: print(table.title + "\n" + table.table.text())
            }
            if let report {
                try writeText(EvaluationReport.html([table], subtitle: "\(raw.train.nnz) training and \(test.nnz) test pairs; segments by \(policies.first?.name ?? "default") rules"),
                              to: report, inputs: data.inputPaths)
                note("wrote \(report)")
            }
        }
    }
}
