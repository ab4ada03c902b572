import ArgumentParser
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
import Foundation
import EncoreService

extension Encore {
    struct Tune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grid or random search over a model's configuration, on folds or a validation split of the training data only.")

        @Option(help: "Model name.") var model: String
        @OptionGroup var data: TrainingDataOptions
        @Option(help: "Grid: a JSON object of lists, e.g. '{\"k\": [10, 30], \"min_k\": [1, 3]}'.") var grid: String?
        @Option(parsing: .unconditional, help: "Random search: how many candidates to draw from --space.") var random: Int?
        @Option(help: "Random search space: '{\"factors\": [32, 64], \"regularization\": {\"min\": 0.01, \"max\": 1, \"log\": true}}'.") var space: String?
        @Option(help: "seed (rating metrics) or ranking (full-catalogue metrics); by default the metric's protocol (rmse and mae: seed).") var `protocol`: String?
        @Option(help: "Metric to optimise, e.g. ndcg_at_10, recall_at_30, rmse, mae.") var metric: String = "ndcg_at_10"
        @Option(parsing: .unconditional, help: "k-fold cross-validation with this many folds (default: one per-user validation split).") var folds: Int?
        @Option(name: .customLong("validation-fraction"), parsing: .unconditional, help: "Share of each user's training songs held out for validation.") var validationFraction: Double = 0.2
        @Option(parsing: .unconditional, help: "Stop starting new candidates after this many seconds.") var budget: Double?
        @Option(name: .customLong("search-seed"), parsing: .unconditional, help: "Seed of the folds and of the random search.") var searchSeed: UInt64 = 42
        @Option(help: "Write the best configuration (JSON) here.") var output: String?
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

        func run() throws {
            guard data.test == nil else { throw UsageError("tune never looks at the test split: give --train (or --data) only") }
            guard (grid == nil) != (random == nil) else { throw UsageError("give exactly one of --grid and --random (with --space)") }
            if let folds, folds < 2 { throw UsageError("--folds must be at least 2") }
            if let output { try AtomicFile.checkOutput(output, inputs: data.inputPaths) }
            if let budget, budget <= 0 { throw UsageError("--budget must be positive") }
            let entry = try ModelRegistry.entry(named: model)
            let ratingMetric = ["rmse", "mae"].contains(metric.lowercased())
            let protocolName = `protocol` ?? (ratingMetric ? "seed" : "ranking")
            if ratingMetric && protocolName != "seed" { throw UsageError("\(metric) is measured by the seed protocol: use --protocol seed (or leave --protocol out)") }
            if ratingMetric && !entry.predictsValues { throw UsageError("\(entry.name) ranks songs and predicts no play counts, so it has no \(metric): tune a ranking metric such as ndcg_at_10") }
            let candidates: [String]
            if let grid { candidates = try ModelTuning.grid(grid) } else {
                guard let space else { throw UsageError("--random needs --space") }
                candidates = try ModelTuning.random(space, count: random ?? 0, seed: searchSeed)
            }
            let raw = try data.loadRaw(requireTest: false)
            let full = raw.train.mapValues(try data.transform(forRatingModel: entry.predictsValues))
            let splits = try ModelTuning.folds(full, folds: folds, validationFraction: validationFraction, seed: searchSeed)
            let bar = ProgressReporter(label: "tuning \(entry.name)", total: Double(candidates.count))
            let result = try ModelTuning.search(model: entry, candidates: candidates, splits: splits, protocolName: protocolName,
                                                metric: metric, budgetSeconds: budget, catalog: raw.catalog, progress: bar)
            if let output, let best = result.bestConfiguration { try writeText(best + "\n", to: output, inputs: data.inputPaths) }
            if format == .json { print(try jsonString(result)); return }
            let lower = ModelTuning.lowerIsBetter(metric)
            let sorted = result.trials.sorted { lower ? $0.metric < $1.metric : $0.metric > $1.metric }
            print(TextTable(header: ["configuration", metric, "folds", "seconds"],
                            rows: sorted.map { [$0.configuration, String(format: "%.4f", $0.metric), $0.foldValues.map { String(format: "%.4f", $0) }.joined(separator: " "), String(format: "%.2f", $0.seconds)] }).render(format), terminator: "")
            if result.stoppedByBudget { print("time budget reached: \(result.trials.count) of \(result.candidates) candidates evaluated") }
            if let best = result.best { print("best: \(best.configuration) (\(metric) \(String(format: "%.4f", best.metric)))") }
            if let output { print("wrote \(output)") }
        }
    }
}
