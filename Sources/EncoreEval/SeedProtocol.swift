// The report's evaluation protocol for rating models: fit on train, predict every test pair,
// report MAE and RMSE over all pairs (impossible predictions use the model's fallback, Surprise's
// global mean) and over the predictable pairs only, the count of impossible predictions, the
// within-test precision/recall/F1 at k with a threshold, and fit and predict times.
import EncoreData
import EncoreMath
import EncoreModels

/// One model's row of the seed-protocol comparison (keys as DESIGN.md lists them).
public struct RatingEvaluation: Codable, Sendable {
    public var model: String
    public var label: String
    public var configuration: String
    public var rmse: Double
    public var mae: Double
    public var rmsePredictable: Double
    public var maePredictable: Double
    public var impossible: Int
    public var testPairs: Int
    public var withinTestPrecision: Double
    public var withinTestRecall: Double
    public var withinTestF1: Double
    public var k: Int
    public var threshold: Double
    public var usersEvaluated: Int
    public var fitSeconds: Double
    public var predictSeconds: Double

    enum CodingKeys: String, CodingKey {
        case model, label, configuration, rmse, mae
        case rmsePredictable = "rmse_predictable"
        case maePredictable = "mae_predictable"
        case impossible
        case testPairs = "test_pairs"
        case withinTestPrecision = "within_test_precision_at_k"
        case withinTestRecall = "within_test_recall_at_k"
        case withinTestF1 = "within_test_f1_at_k"
        case k, threshold
        case usersEvaluated = "users_evaluated"
        case fitSeconds = "fit_seconds"
        case predictSeconds = "predict_seconds"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(label, forKey: .label)
        try c.encode(JSONValue(parsing: configuration), forKey: .configuration)
        try c.encode(rmse, forKey: .rmse)
        try c.encode(mae, forKey: .mae)
        try c.encode(rmsePredictable, forKey: .rmsePredictable)
        try c.encode(maePredictable, forKey: .maePredictable)
        try c.encode(impossible, forKey: .impossible)
        try c.encode(testPairs, forKey: .testPairs)
        try c.encode(withinTestPrecision, forKey: .withinTestPrecision)
        try c.encode(withinTestRecall, forKey: .withinTestRecall)
        try c.encode(withinTestF1, forKey: .withinTestF1)
        try c.encode(k, forKey: .k)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(usersEvaluated, forKey: .usersEvaluated)
        try c.encode(fitSeconds, forKey: .fitSeconds)
        try c.encode(predictSeconds, forKey: .predictSeconds)
        // The DESIGN.md key with k spelled out, e.g. within_test_precision_at_30.
        var d = encoder.container(keyedBy: DynamicKey.self)
        try d.encode(withinTestPrecision, forKey: DynamicKey("within_test_precision_at_\(k)"))
        try d.encode(withinTestRecall, forKey: DynamicKey("within_test_recall_at_\(k)"))
        try d.encode(withinTestF1, forKey: DynamicKey("within_test_f1_at_\(k)"))
    }
}

struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Runs the seed protocol for one model.
public enum SeedProtocol {
    public static func evaluate(model entry: ModelEntry, overrides: String?, label: String? = nil,
                                train: InteractionMatrix, test: InteractionMatrix, catalog: Catalog? = nil,
                                k: Int = 30, threshold: Double = 1.5, showProgress: Bool = false) throws -> RatingEvaluation {
        guard k > 0 else { throw ModelError("k must be positive, got \(k)") }
        guard test.nnz > 0 else { throw ModelError("the test set is empty") }
        let start = MonotonicClock.now()
        let model = try ElapsedTicker.run("fitting \(label ?? entry.name)", enabled: showProgress && ProgressReporter.stderrIsTerminal) {
            try entry.fit(train, overrides: overrides, catalog: catalog)
        }
        let fitted = MonotonicClock.now()
        guard let predictor = model as? any RatingPredictor else {
            throw ModelError("\(entry.name) does not predict values; use --protocol ranking")
        }
        var pairs: [(user: Int, item: Int)] = []
        var truth: [Double] = []
        pairs.reserveCapacity(test.nnz)
        for u in 0..<test.userCount {
            for q in test.rowRange(u) {
                pairs.append((u, Int(test.columnIndices[q])))
                truth.append(Double(test.values[q]))
            }
        }
        let predictions = predictAll(predictor, pairs)
        let predicted = MonotonicClock.now()
        var se = 0.0, ae = 0.0, seP = 0.0, aeP = 0.0
        var impossible = 0
        var scored: [ScoredPair] = []
        scored.reserveCapacity(pairs.count)
        for (n, p) in predictions.enumerated() {
            let e = p.value - truth[n]
            se += e * e
            ae += abs(e)
            if p.impossible { impossible += 1 } else { seP += e * e; aeP += abs(e) }
            scored.append(ScoredPair(user: pairs[n].user, item: pairs[n].item, truth: truth[n], estimate: p.value))
        }
        let n = Double(pairs.count), np = Double(pairs.count - impossible)
        let within = WithinTestMetrics.compute(scored, k: k, threshold: threshold)
        return RatingEvaluation(
            model: entry.name, label: label ?? entry.name, configuration: model.configurationJSON,
            rmse: (se / n).squareRoot(), mae: ae / n,
            rmsePredictable: np > 0 ? (seP / np).squareRoot() : .nan, maePredictable: np > 0 ? aeP / np : .nan,
            impossible: impossible, testPairs: pairs.count,
            withinTestPrecision: within.precision, withinTestRecall: within.recall, withinTestF1: within.f1,
            k: k, threshold: threshold, usersEvaluated: within.usersEvaluated,
            fitSeconds: fitted - start, predictSeconds: predicted - fitted)
    }

    /// Batch prediction: KNN groups pairs by neighbourhood; other models predict one by one in parallel.
    public static func predictAll(_ model: any RatingPredictor, _ pairs: [(user: Int, item: Int)]) -> [Prediction] {
        if let knn = model as? NeighbourhoodModel { return knn.predictAll(pairs) }
        let parts = ParallelLoop.mapChunks(count: pairs.count) { range in range.map { model.predict(user: pairs[$0].user, item: pairs[$0].item) } }
        return parts.flatMap { $0 }
    }
}
