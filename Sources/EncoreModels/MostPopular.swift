// MostPopular: every user gets the songs with the most training listeners, the plain baseline
// of any ranking comparison. fit: O(nnz); recommend: O(items).
import EncoreData

/// Configuration of MostPopular (it has nothing to tune; kept for a uniform interface).
public struct MostPopularConfiguration: Codable, Sendable, Equatable {
    /// Rank by listeners (true) or by total plays (false).
    public var byListeners: Bool = true
    public init() {}
}

/// Songs ranked by training listeners.
public struct MostPopular: HistoryRecommender {
    public let name = "most-popular"
    public let configuration: MostPopularConfiguration
    public let train: InteractionMatrix
    public let popularity: [Float]

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration: MostPopularConfiguration = MostPopularConfiguration()) {
        self.configuration = configuration
        self.train = train
        popularity = configuration.byListeners ? train.itemDegrees().map(Float.init) : train.itemTotals().map(Float.init)
    }

    public init(train: InteractionMatrix, configuration: MostPopularConfiguration, state: ModelState) throws {
        self.configuration = configuration
        self.train = train
        popularity = try state.floats("popularity")
        try ModelState.require(popularity.count, train.itemCount, "popularity")
    }

    public func scoreAll(user: Int) -> [Float] { popularity }
    /// The same ranking for every history.
    public func scoreAll(history: UserHistory) -> [Float] { popularity }
    public func state() -> ModelState { ModelState(arrays: ["popularity": .float(popularity)]) }
}
