// Models fitted once and shared: a policy evaluation compares several policies and single models
// that use the same models (EASE in the default policy and in its own column), and each is fitted
// once per configuration. Rating models train on log1p plays (the report's scale), ranking models
// on raw plays, unless the caller gives a scale.
import EncoreData
import EncoreModels
import EncorePolicy

/// Fitted models by name and configuration, over one raw training matrix.
public struct ModelPool {
    public let train: InteractionMatrix
    public let catalog: Catalog?
    public var ratingScale: ValueTransform = .log1p
    public var rankingScale: ValueTransform = .none
    public var progress: (String) -> Void
    var fitted: [String: FittedModel] = [:]

    public init(train: InteractionMatrix, catalog: Catalog?, value: ValueTransform? = nil, progress: @escaping (String) -> Void = { _ in }) {
        self.train = train
        self.catalog = catalog
        if let value { ratingScale = value; rankingScale = value }
        self.progress = progress
    }

    /// The model fitted with these overrides (fitted now, or the one fitted before).
    public mutating func model(_ name: String, overrides: String? = nil) throws -> FittedModel {
        let entry = try ModelRegistry.entry(named: name)
        let key = try Self.key(name, overrides: overrides)
        if let m = fitted[key] { return m }
        let t = entry.predictsValues ? ratingScale : rankingScale
        progress("fitting \(name) …")
        let m = FittedModel(model: try entry.fit(train.mapValues(t), overrides: overrides, catalog: catalog), transform: t)
        fitted[key] = m
        return m
    }

    /// A model's identity: its name and resolved configuration.
    public static func key(_ name: String, overrides: String?) throws -> String {
        name + "|" + (try ModelRegistry.entry(named: name).resolvedConfiguration(overrides: overrides))
    }

    /// The policy's engine, its models taken from the pool.
    public mutating func engine(_ policy: Policy, addedDays: [Double?]? = nil) throws -> PolicyEngine {
        try policy.validate()
        var models: [String: FittedModel] = [:]
        for name in PolicyEngine.requiredModels(policy) { models[name] = try model(name, overrides: policy.models[name]) }
        return try PolicyEngine(policy: policy, train: train, catalog: catalog, models: models, addedDays: addedDays)
    }
}
