// The models known by name on the command line, each with its defaults, how to fit it with a
// JSON configuration override, and how to restore it from an artifact's state.
import EncoreData

/// One named model: its description, default configuration and constructors.
public struct ModelEntry: Sendable {
    public let name: String
    public let summary: String
    /// The default configuration as JSON (sorted keys).
    public let defaults: String
    let fitter: @Sendable (InteractionMatrix, String?) throws -> any Recommender
    let loader: @Sendable (InteractionMatrix, String, ModelState) throws -> any Recommender
    let checker: @Sendable (String?) throws -> Void

    /// Checks that `overrides` name real fields with the right types, without fitting anything.
    public func check(overrides: String?) throws { try checker(overrides) }

    /// Fits the model on `train` with `overrides` (JSON object text or a file path) over the defaults.
    public func fit(_ train: InteractionMatrix, overrides: String? = nil) throws -> any Recommender {
        guard train.nnz > 0 else { throw ModelError("\(name): the training data is empty") }
        return try fitter(train, overrides)
    }

    /// Restores a saved model from its configuration JSON and state.
    public func load(_ train: InteractionMatrix, configuration: String, state: ModelState) throws -> any Recommender {
        try loader(train, configuration, state)
    }
}

/// Every model Encore can train, by command-line name.
public enum ModelRegistry {
    static func entry<C: Codable & Sendable>(
        _ name: String, _ summary: String, _ defaults: C,
        fit: @escaping @Sendable (InteractionMatrix, C) throws -> any Recommender,
        load: @escaping @Sendable (InteractionMatrix, C, ModelState) throws -> any Recommender
    ) -> ModelEntry {
        ModelEntry(
            name: name, summary: summary, defaults: ConfigurationOverrides.json(defaults),
            fitter: { train, overrides in try fit(train, try ConfigurationOverrides.apply(overrides, to: defaults, model: name)) },
            loader: { train, json, state in try load(train, try ConfigurationOverrides.apply(json, to: defaults, model: name), state) },
            checker: { overrides in _ = try ConfigurationOverrides.apply(overrides, to: defaults, model: name) })
    }

    public static let all: [ModelEntry] = [
        entry("baseline", "BaselineOnly: μ + b_u + b_i fitted by ALS (or SGD), as Surprise", BaselineConfiguration(),
              fit: { try BaselineOnly(train: $0, configuration: $1) }, load: { try BaselineOnly(train: $0, configuration: $1, state: $2) }),
        entry("knn-user", "user-based KNN (KNNBasic, pearson_baseline, k 30, min_k 1: the report's default)", KNNConfiguration(userBased: true),
              fit: { try NeighbourhoodModel(train: $0, configuration: userBased($1, true)) },
              load: { try NeighbourhoodModel(train: $0, configuration: userBased($1, true), state: $2) }),
        entry("knn-item", "item-based KNN (KNNBasic, pearson_baseline, k 30, min_k 1: the report's default)", KNNConfiguration(userBased: false),
              fit: { try NeighbourhoodModel(train: $0, configuration: userBased($1, false)) },
              load: { try NeighbourhoodModel(train: $0, configuration: userBased($1, false), state: $2) }),
        entry("svd", "biased matrix factorisation by SGD (Surprise's SVD)", SVDConfiguration(),
              fit: { try SVD(train: $0, configuration: $1) }, load: { try SVD(train: $0, configuration: $1, state: $2) }),
    ]

    /// knn-user and knn-item fix the orientation whatever the configuration says.
    static func userBased(_ c: KNNConfiguration, _ value: Bool) -> KNNConfiguration {
        var c = c
        c.userBased = value
        return c
    }

    public static func entry(named name: String) throws -> ModelEntry {
        guard let e = all.first(where: { $0.name == name.lowercased() }) else {
            throw ModelError("unknown model '\(name)'; models: \(all.map(\.name).joined(separator: ", "))")
        }
        return e
    }
}
