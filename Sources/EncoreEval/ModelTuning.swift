// Model selection: a grid search or a seeded random search over any configuration fields, each
// candidate scored by k-fold cross-validation or by a validation split carved from the training
// data (never the test split), with a metric to optimise and a time budget after which no new
// candidate starts. O(candidates · folds · fit).
import EncoreData
import EncoreMath
import EncoreModels
import Foundation

/// One value range of a random search: numbers between min and max (log-uniform when `log`).
public struct SearchRange: Sendable {
    public var min: Double
    public var max: Double
    public var log: Bool
    public var integer: Bool
}

/// A candidate's result.
public struct TuningTrial: Encodable, Sendable {
    public var configuration: String
    public var metric: Double
    public var foldValues: [Double]
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case configuration, metric
        case foldValues = "fold_values"
        case seconds
    }
}

/// The outcome of a search.
public struct TuningResult: Encodable, Sendable {
    public var model: String
    public var metric: String
    public var protocolName: String
    public var trials: [TuningTrial]
    public var best: TuningTrial?
    /// The whole best configuration (defaults merged with the winning overrides).
    public var bestConfiguration: String?
    public var stoppedByBudget: Bool
    public var candidates: Int

    enum CodingKeys: String, CodingKey {
        case model, metric
        case protocolName = "protocol"
        case trials, best
        case bestConfiguration = "best_configuration"
        case stoppedByBudget = "stopped_by_budget"
        case candidates
    }
}

/// Grid and random search.
public enum ModelTuning {
    /// Whether a smaller value of `metric` is better.
    public static func lowerIsBetter(_ metric: String) -> Bool { ["rmse", "mae", "rmse_predictable", "mae_predictable", "impossible"].contains(metric) }

    /// Every combination of a grid `{"field": [v1, v2], …}`, as override JSON objects.
    public static func grid(_ json: String) throws -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], !object.isEmpty else {
            throw ModelError("--grid must be a JSON object of lists, e.g. {\"k\": [10, 30], \"min_k\": [1, 3]}")
        }
        var combos: [[String: Any]] = [[:]]
        for key in object.keys.sorted() {
            guard let values = object[key] as? [Any], !values.isEmpty else { throw ModelError("--grid field '\(key)' must be a non-empty list") }
            combos = combos.flatMap { c in values.map { v in var d = c; d[key] = v; return d } }
        }
        return try combos.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
    }

    /// `n` seeded draws from a space `{"field": [choices] | {"min": a, "max": b, "log": true, "integer": true}}`.
    public static func random(_ json: String, count n: Int, seed: UInt64) throws -> [String] {
        guard n > 0 else { throw ModelError("--random needs a positive number of candidates") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], !object.isEmpty else {
            throw ModelError("--space must be a JSON object, e.g. {\"factors\": [32, 64], \"regularization\": {\"min\": 0.01, \"max\": 1, \"log\": true}}")
        }
        var rng = SeededGenerator(seed: seed)
        var out: [String] = []
        for _ in 0..<n {
            var d: [String: Any] = [:]
            for key in object.keys.sorted() {
                if let choices = object[key] as? [Any], !choices.isEmpty {
                    d[key] = choices[rng.nextInt(below: choices.count)]
                } else if let r = object[key] as? [String: Any], let lo = (r["min"] as? NSNumber)?.doubleValue, let hi = (r["max"] as? NSNumber)?.doubleValue, lo <= hi {
                    let log = (r["log"] as? Bool) ?? false
                    guard !log || lo > 0 else { throw ModelError("--space field '\(key)': a log range needs min > 0") }
                    let u = rng.nextDouble()
                    var v = log ? Foundation.exp(Foundation.log(lo) + u * (Foundation.log(hi) - Foundation.log(lo))) : lo + u * (hi - lo)
                    if (r["integer"] as? Bool) ?? false { v = v.rounded() ; d[key] = Int(v) } else { d[key] = v }
                } else {
                    throw ModelError("--space field '\(key)' must be a list of choices or {\"min\": …, \"max\": …}")
                }
            }
            out.append(String(decoding: try JSONSerialization.data(withJSONObject: d, options: [.sortedKeys]), as: UTF8.self))
        }
        return out
    }

    /// Train/validation pairs carved from the training data only.
    public static func folds(_ train: InteractionMatrix, folds: Int?, validationFraction: Double, seed: UInt64) throws -> [TrainTestSplit] {
        if let folds { return try DatasetSplitter.split(train, method: .kFold(folds: folds), seed: seed) }
        return try DatasetSplitter.split(train, method: .perUser(testFraction: validationFraction), seed: seed)
    }

    /// Scores every candidate on every fold with the chosen protocol and keeps the best.
    public static func search(model entry: ModelEntry, candidates: [String], splits: [TrainTestSplit], protocolName: String,
                              metric: String, budgetSeconds: Double?, catalog: Catalog? = nil, progress: ProgressReporter? = nil) throws -> TuningResult {
        guard protocolName == "seed" || protocolName == "ranking" else { throw ModelError("tune --protocol must be seed or ranking") }
        if protocolName == "seed" && !entry.predictsValues { throw ModelError("\(entry.name) does not predict values; tune it with --protocol ranking") }
        for c in candidates { try entry.check(overrides: c) }
        let start = MonotonicClock.now()
        var trials: [TuningTrial] = []
        var stopped = false
        for (n, candidate) in candidates.enumerated() {
            if let budgetSeconds, MonotonicClock.now() - start > budgetSeconds, !trials.isEmpty {
                stopped = true
                break
            }
            let t0 = MonotonicClock.now()
            var values: [Double] = []
            for split in splits {
                if protocolName == "seed" {
                    let r = try SeedProtocol.evaluate(model: entry, overrides: candidate, train: split.train, test: split.test, catalog: catalog)
                    let all: [String: Double] = ["rmse": r.rmse, "mae": r.mae, "rmse_predictable": r.rmsePredictable, "mae_predictable": r.maePredictable,
                                                 "impossible": Double(r.impossible), "within_test_precision_at_\(r.k)": r.withinTestPrecision,
                                                 "within_test_recall_at_\(r.k)": r.withinTestRecall, "within_test_f1_at_\(r.k)": r.withinTestF1]
                    guard let v = all[metric] else { throw ModelError("unknown seed metric '\(metric)'; use one of \(all.keys.sorted().joined(separator: ", "))") }
                    values.append(v)
                } else {
                    let r = try RankingProtocol.evaluate(model: entry, overrides: candidate, train: split.train, test: split.test, catalog: catalog)
                    guard let v = r.metrics[metric] else { throw ModelError("unknown ranking metric '\(metric)'; use one of \(r.metrics.keys.sorted().joined(separator: ", "))") }
                    values.append(v)
                }
            }
            trials.append(TuningTrial(configuration: candidate, metric: values.reduce(0, +) / Double(values.count), foldValues: values,
                                      seconds: MonotonicClock.now() - t0))
            progress?.update(Double(n + 1))
        }
        progress?.finish()
        let lower = lowerIsBetter(metric)
        let best = trials.min { lower ? $0.metric < $1.metric : $0.metric > $1.metric }
        let full = try best.map { try entry.resolvedConfiguration(overrides: $0.configuration) }
        return TuningResult(model: entry.name, metric: metric, protocolName: protocolName, trials: trials, best: best,
                            bestConfiguration: full, stoppedByBudget: stopped, candidates: candidates.count)
    }
}
