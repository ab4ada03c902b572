// A blend of ranking models: each component scores every item for the user, the scores are
// standardised per user (z-scores over the items it can rank), and the blend ranks by the
// weighted sum. A simple, strong way to combine a closed-form model (EASE) with neighbourhood
// or factor models. fit: the components' fits; recommend: the components' plus O(items).
import EncoreData
import Foundation

/// One blended model.
public struct BlendComponent: Codable, Sendable, Equatable {
    public var model: String
    public var weight: Double
    /// Configuration overrides of the component, as a JSON object text.
    public var configuration: String?

    public init(model: String, weight: Double, configuration: String? = nil) {
        self.model = model
        self.weight = weight
        self.configuration = configuration
    }
}

/// Configuration of the blend.
public struct BlendConfiguration: Codable, Sendable, Equatable {
    // Chosen by `encore tune` on a validation split of the lastfm-2k training data (never its test split).
    public var components: [BlendComponent] = [BlendComponent(model: "ease", weight: 1), BlendComponent(model: "als", weight: 0.5),
                                               BlendComponent(model: "item-knn", weight: 0.25)]
    public init() {}

    public func validate() throws {
        guard !components.isEmpty else { throw ModelError("a blend needs at least one component") }
        for c in components {
            guard c.model != "blend" else { throw ModelError("a blend cannot contain a blend") }
            guard c.weight.isFinite else { throw ModelError("blend weights must be numbers") }
            try ModelRegistry.entry(named: c.model).check(overrides: c.configuration)
        }
    }
}

/// Weighted sum of per-user standardised scores.
public struct ScoreBlend: HistoryRecommender {
    public let name = "blend"
    public let configuration: BlendConfiguration
    public let train: InteractionMatrix
    public let components: [any Recommender]

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration c: BlendConfiguration = BlendConfiguration(), catalog: Catalog? = nil) throws {
        try c.validate()
        configuration = c
        self.train = train
        components = try c.components.map { try ModelRegistry.entry(named: $0.model).fit(train, overrides: $0.configuration, catalog: catalog) }
    }

    public init(train: InteractionMatrix, configuration c: BlendConfiguration, state: ModelState) throws {
        try c.validate()
        configuration = c
        self.train = train
        components = try c.components.enumerated().map { n, component in
            let prefix = "c\(n)."
            var arrays: [String: StateArray] = [:]
            for (k, v) in state.arrays where k.hasPrefix(prefix) { arrays[String(k.dropFirst(prefix.count))] = v }
            let entry = try ModelRegistry.entry(named: component.model)
            return try entry.load(train, configuration: try entry.resolvedConfiguration(overrides: component.configuration), state: ModelState(arrays: arrays))
        }
    }

    public func state() -> ModelState {
        var arrays: [String: StateArray] = [:]
        for (n, m) in components.enumerated() { for (k, v) in m.state().arrays { arrays["c\(n).\(k)"] = v } }
        return ModelState(arrays: arrays)
    }

    public func scoreAll(user: Int) -> [Float] { combine { $0.scoreAll(user: user) } }

    /// The components' history scores, combined as for a training user; when a component cannot
    /// score a history, nothing can be ranked.
    public func scoreAll(history: UserHistory) -> [Float] {
        guard components.allSatisfy({ $0 is any HistoryRecommender }) else { return [Float](repeating: -.infinity, count: train.itemCount) }
        return combine { ($0 as? any HistoryRecommender)?.scoreAll(history: history) ?? [] }
    }

    /// Σ weight × (score − mean) / sd over the components, per item; -infinity where no component ranks.
    func combine(_ scores: (any Recommender) -> [Float]) -> [Float] {
        var total = [Float](repeating: 0, count: train.itemCount)
        var rankable = [Bool](repeating: false, count: train.itemCount)
        for (component, model) in zip(configuration.components, components) {
            let s = scores(model)
            var sum = 0.0, sq = 0.0, n = 0.0
            for v in s where v.isFinite { sum += Double(v); sq += Double(v) * Double(v); n += 1 }
            guard n > 1 else { continue }
            let mean = sum / n
            let sd = max((sq / n - mean * mean).squareRoot(), 1e-12)
            let w = component.weight
            for i in 0..<s.count where s[i].isFinite {
                total[i] += Float(w * (Double(s[i]) - mean) / sd)
                rankable[i] = true
            }
        }
        for i in 0..<total.count where !rankable[i] { total[i] = -.infinity }
        return total
    }

}
