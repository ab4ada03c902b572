// The models known by name on the command line, each with its defaults, how to fit it with a
// JSON configuration override, and how to restore it from an artifact's state.
import EncoreData
import EncoreMath
import EncoreText

/// One named model: its description, default configuration and constructors.
public struct ModelEntry: Sendable {
    public let name: String
    public let summary: String
    /// The default configuration as JSON (sorted keys).
    public let defaults: String
    /// Every configuration field (camelCase), those without a default value (absent from
    /// `defaults`: chosen at fit time) included.
    public let fieldNames: [String]
    /// Whether the model predicts values (the seed protocol's models), rather than only ranking.
    public let predictsValues: Bool
    /// Whether the model scores a listening history that is not in its training data.
    public let scoresHistories: Bool
    let fitter: @Sendable (InteractionMatrix, String?, Catalog?) throws -> any Recommender
    let loader: @Sendable (InteractionMatrix, String, ModelState) throws -> any Recommender
    let resolver: @Sendable (String?) throws -> String

    /// Checks that `overrides` name real fields with valid values, without fitting anything.
    public func check(overrides: String?) throws { _ = try resolver(overrides) }

    /// The whole configuration (defaults merged with `overrides`) as JSON, without fitting anything.
    public func resolvedConfiguration(overrides: String?) throws -> String { try resolver(overrides) }

    /// Fits the model on `train` with `overrides` (JSON object text or a file path) over the defaults;
    /// `catalog` (same item index) serves models that read metadata.
    public func fit(_ train: InteractionMatrix, overrides: String? = nil, catalog: Catalog? = nil) throws -> any Recommender {
        guard train.nnz > 0 else { throw ModelError("\(name): the training data is empty") }
        return try fitter(train, overrides, catalog)
    }

    /// Restores a saved model from its configuration JSON and state.
    public func load(_ train: InteractionMatrix, configuration: String, state: ModelState) throws -> any Recommender {
        try loader(train, configuration, state)
    }
}

/// A model's configuration: Codable for the CLI and artifacts, and able to check its own values.
public protocol ModelConfiguration: Codable, Sendable {
    func validate() throws
    /// Bytes the fit allocates for a users × items matrix with `nnz` entries, beyond the data itself
    /// (0 when small next to it); checked against the machine before fitting.
    func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double
    /// What to change when fitting produced NaN or infinite values.
    var divergenceHint: String { get }
    /// What to do when the fit would not fit in memory.
    var memoryAdvice: String { get }
}

extension ModelConfiguration {
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double { 0 }
    public var memoryAdvice: String { "lower the size" }
    public var divergenceHint: String { "the values may be too large: try --value log1p, or a larger regularisation" }
}

/// Upper bounds on loop counts from configurations: a typo of a few zeros is refused, not run for days.
public enum ConfigurationLimits {
    public static let iterations = 100_000
    /// Latent factors: far above any useful rank, far below what overflows a product of sizes.
    public static let factors = 65_536

    /// Throws unless 1 ≤ value ≤ `factors`.
    public static func checkFactors(_ value: Int, _ field: String) throws {
        guard value >= 1, value <= factors else { throw ModelError("\(field) must be between 1 and \(factors), got \(value)") }
    }

    /// Throws unless 0 ≤ value ≤ `iterations`.
    public static func checkIterations(_ value: Int, _ field: String) throws {
        guard value >= 0, value <= iterations else { throw ModelError("\(field) must be between 0 and \(iterations), got \(value)") }
    }
}

/// The learning-rate advice of the SGD models.
let learningRateHint = "the learning rate is probably too high: lower it (and check the value scale: --value log1p)"

extension MostPopularConfiguration: ModelConfiguration {
    public func validate() throws {}
}
extension BaselineConfiguration: ModelConfiguration {}
extension KNNConfiguration: ModelConfiguration {}
extension SVDConfiguration: ModelConfiguration {}
extension PopularityRankerConfiguration: ModelConfiguration {}
extension ItemKNNConfiguration: ModelConfiguration {}
extension ALSConfiguration: ModelConfiguration {}
extension BPRConfiguration: ModelConfiguration {}
extension EASEConfiguration: ModelConfiguration {}
extension BlendConfiguration: ModelConfiguration {}
extension GCNConfiguration.Activation: Equatable {}

/// Every model Encore can train, by command-line name.
public enum ModelRegistry {
    static func entry<C: ModelConfiguration, M: Recommender>(
        _ name: String, _ summary: String, _ defaults: C, scoresHistories: Bool? = nil,
        fit: @escaping @Sendable (InteractionMatrix, C, Catalog?) throws -> M,
        load: @escaping @Sendable (InteractionMatrix, C, ModelState) throws -> M
    ) -> ModelEntry {
        ModelEntry(
            name: name, summary: summary, defaults: ConfigurationOverrides.json(defaults),
            fieldNames: ConfigurationOverrides.fieldNames(defaults),
            predictsValues: M.self is any RatingPredictor.Type,
            scoresHistories: scoresHistories ?? (M.self is any HistoryRecommender.Type),
            fitter: { train, overrides, catalog in
                let c = try ConfigurationOverrides.apply(overrides, to: defaults, model: name)
                try c.validate()
                let bytes = c.memoryEstimate(users: train.userCount, items: train.itemCount, nnz: train.nnz)
                try MemoryBudget.check(bytes, for: "\(name) with this configuration on \(train.userCount) users × \(train.itemCount) items", advice: c.memoryAdvice)
                let model = try fit(train, c, catalog)
                if let bad = model.state().firstNonFinite {
                    throw ModelError("\(name) diverged: its '\(bad)' holds NaN or infinite values after fitting; \(c.divergenceHint)")
                }
                return model
            },
            loader: { train, json, state in
                let c = try ConfigurationOverrides.apply(json, to: defaults, model: name)
                try c.validate()
                return try load(train, c, state)
            },
            resolver: { overrides in
                let c = try ConfigurationOverrides.apply(overrides, to: defaults, model: name)
                try c.validate()
                return ConfigurationOverrides.json(c)
            })
    }

    public static let all: [ModelEntry] = [
        entry("baseline", "BaselineOnly: μ + b_u + b_i fitted by ALS (or SGD), as Surprise", BaselineConfiguration(),
              fit: { m, c, _ in try BaselineOnly(train: m, configuration: c) }, load: { try BaselineOnly(train: $0, configuration: $1, state: $2) }),
        // User-based neighbourhoods cannot score a history (it would need its similarity to every user).
        entry("knn-user", "user-based KNN (KNNBasic, pearson_baseline, k 30, min_k 1: the report's default)", KNNConfiguration(userBased: true),
              scoresHistories: false,
              fit: { m, c, _ in try NeighbourhoodModel(train: m, configuration: userBased(c, true)) },
              load: { try NeighbourhoodModel(train: $0, configuration: userBased($1, true), state: $2) }),
        entry("knn-item", "item-based KNN (KNNBasic, pearson_baseline, k 30, min_k 1: the report's default)", KNNConfiguration(userBased: false),
              fit: { m, c, _ in try NeighbourhoodModel(train: m, configuration: userBased(c, false)) },
              load: { try NeighbourhoodModel(train: $0, configuration: userBased($1, false), state: $2) }),
        entry("svd", "biased matrix factorisation by SGD (Surprise's SVD)", SVDConfiguration(),
              fit: { m, c, _ in try SVD(train: m, configuration: c) }, load: { try SVD(train: $0, configuration: $1, state: $2) }),
        entry("svdpp", "SVD++: SVD with implicit feedback from the played songs (Surprise's SVDpp)", SVDppConfiguration(),
              fit: { m, c, _ in try SVDpp(train: m, configuration: c) }, load: { try SVDpp(train: $0, configuration: $1, state: $2) }),
        entry("most-popular", "songs with the most training listeners", MostPopularConfiguration(),
              fit: { m, c, _ in MostPopular(train: m, configuration: c) }, load: { try MostPopular(train: $0, configuration: $1, state: $2) }),
        entry("popularity", "the report's rule-based ranker: 10 of the 20 most popular + 20 discovery songs by percentile bucket", PopularityRankerConfiguration(),
              fit: { m, c, catalog in try PopularityRanker(train: m, configuration: c, catalog: catalog) },
              load: { try PopularityRanker(train: $0, configuration: $1, state: $2) }),
        entry("item-knn", "implicit item-item KNN: cosine, BM25 or TF-IDF weighting, K = 100", ItemKNNConfiguration(),
              fit: { m, c, _ in try ItemKNN(train: m, configuration: c) }, load: { try ItemKNN(train: $0, configuration: $1, state: $2) }),
        entry("als", "implicit ALS (Hu, Koren, Volinsky) with conjugate gradient, confidence 1 + α log1p(plays)", ALSConfiguration(),
              fit: { m, c, _ in try AlternatingLeastSquares(train: m, configuration: c) },
              load: { try AlternatingLeastSquares(train: $0, configuration: $1, state: $2) }),
        entry("bpr", "Bayesian Personalised Ranking by stratified SGD with item biases", BPRConfiguration(),
              fit: { m, c, _ in try BayesianPersonalizedRanking(train: m, configuration: c) },
              load: { try BayesianPersonalizedRanking(train: $0, configuration: $1, state: $2) }),
        entry("ease", "EASE (Steck 2019), closed form, primal or dual (Woodbury) chosen by size", EASEConfiguration(),
              fit: { m, c, _ in try EASE(train: m, configuration: c) }, load: { try EASE(train: $0, configuration: $1, state: $2) }),
        entry("clustering", "the report's hybrid: k-means user and song clusters, mean of the cluster's plays of the song and the user's plays of the song's cluster", ClusteringConfiguration(),
              fit: { m, c, _ in try ClusteringHybrid(train: m, configuration: c) }, load: { try ClusteringHybrid(train: $0, configuration: $1, state: $2) }),
        entry("tfidf", "content: TF-IDF of title, release, artist and tags; the user's play-weighted profile; cosine", TFIDFConfiguration(),
              fit: { m, c, catalog in try TFIDFRecommender(train: m, configuration: c, catalog: catalog) },
              load: { try TFIDFRecommender(train: $0, configuration: $1, state: $2) }),
        entry("transformer", "content: all-MiniLM-L6-v2 sentence embeddings computed in Swift; the user's play-weighted profile; cosine", TransformerConfiguration(),
              fit: { m, c, catalog in try TransformerRecommender(train: m, configuration: c, catalog: catalog) },
              load: { try TransformerRecommender(train: $0, configuration: $1, state: $2) }),
        entry("lightgcn", "LightGCN (He et al. 2020): 3 layers of normalised-graph propagation, BPR with uniform negatives, Adam", LightGCNConfiguration(),
              fit: { m, c, _ in try LightGCN(train: m, configuration: c) }, load: { try LightGCN(train: $0, configuration: $1, state: $2) }),
        entry("gcn", "the report's graph network done properly: 2 GCN layers over the play graph, song text embeddings + popularity score as inputs, biased dot decoder, MSE", GCNConfiguration(),
              fit: { m, c, catalog in try GraphConvolution(train: m, configuration: c, catalog: catalog) },
              load: { try GraphConvolution(train: $0, configuration: $1, state: $2) }),
        entry("gcn-report", "the report's GCN setting (ReLU, Adam 1e-4, 30 epochs, plain dot decoder), evaluated honestly", GCNConfiguration.report,
              fit: { m, c, catalog in try GraphConvolution(train: m, configuration: c, catalog: catalog, name: "gcn-report") },
              load: { try GraphConvolution(train: $0, configuration: $1, state: $2, name: "gcn-report") }),
        entry("blend", "weighted sum of per-user standardised scores of other ranking models (default: EASE + 0.5 ALS + 0.25 item-knn)", BlendConfiguration(),
              fit: { m, c, catalog in try ScoreBlend(train: m, configuration: c, catalog: catalog) },
              load: { try ScoreBlend(train: $0, configuration: $1, state: $2) }),
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
