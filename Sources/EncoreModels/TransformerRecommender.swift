// Content-based recommendation from transformer sentence embeddings (all-MiniLM-L6-v2 by default,
// computed in Swift by EncoreText.SentenceEncoder) of each song's text. A user's profile is the
// play-weighted mean of the embeddings of the songs they played; songs rank by cosine, one
// sgemv over the normalised embedding matrix (brute force is fine up to ~1M songs). Without the
// model's weights it falls back to TF-IDF with a warning, never a crash. fit: encoding the
// catalogue (cached); recommend: O(items · dim).
import EncoreData
import EncoreMath
import EncoreText
import Foundation

/// Configuration of the transformer content model.
public struct TransformerConfiguration: Codable, Sendable, Equatable, ModelConfiguration {
    public var modelDirectory: String = ".models/all-MiniLM-L6-v2"
    public var batchSize: Int = 64
    /// Embedding cache file (empty: no cache).
    public var cache: String = ""
    public var fallbackToTFIDF: Bool = true
    public init() {}

    public func validate() throws {
        guard batchSize > 0 else { throw ModelError("batch_size must be positive") }
    }
}

/// Sentence-embedding content model.
public struct TransformerRecommender: HistoryRecommender, SimilarItemsModel {
    public let name = "transformer"
    public let configuration: TransformerConfiguration
    public let train: InteractionMatrix
    /// items × dim, L2-normalised rows (empty when running as the TF-IDF fallback).
    public let embeddings: [Float]
    private let panelCache = LazyBox<ItemPanel>()

    /// The song embeddings in panel order, for scoring (built on first use).
    var panel: ItemPanel { panelCache.get { ItemPanel(rows: embeddings, items: train.itemCount, dims: dimension) } }
    public let dimension: Int
    /// Set when the weights were missing and TF-IDF stands in.
    public let fallback: TFIDFRecommender?

    public var warnings: [String] {
        fallback == nil ? [] : ["the transformer's weights are missing from \(configuration.modelDirectory) (run `make models`, or give the folder with --config '{\"model_directory\": \"DIR\"}'): it ranks with TF-IDF instead, and its column says so"]
    }

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public var standIn: String? { fallback == nil ? nil : "TF-IDF" }

    public init(train: InteractionMatrix, configuration c: TransformerConfiguration = TransformerConfiguration(), catalog: Catalog?) throws {
        try c.validate()
        guard let catalog, catalog.count == train.itemCount else {
            throw ModelError("the transformer model reads song text: give a dataset with a catalogue (--data)")
        }
        configuration = c
        self.train = train
        let encoder: SentenceEncoder
        do { encoder = try SentenceEncoder(directory: c.modelDirectory) } catch {
            guard c.fallbackToTFIDF else { throw ModelError("\(error)") }
            fallback = try TFIDFRecommender(train: train, catalog: catalog)
            embeddings = []
            dimension = 0
            return
        }
        (embeddings, dimension) = try Self.songEmbeddings(catalog, encoder: encoder, cache: c.cache, batchSize: c.batchSize)
        fallback = nil
    }

    /// Every catalogue song's sentence embedding (items × dimension, row-major), through the
    /// embedding cache file when one is given.
    static func songEmbeddings(_ catalog: Catalog, encoder: SentenceEncoder, cache: String, batchSize: Int) throws -> (vectors: [Float], dimension: Int) {
        let texts = catalog.entries.map(\.text)
        let vectors: [[Float]]
        if cache.isEmpty {
            vectors = encoder.encode(texts, batchSize: batchSize, progress: ProgressReporter(label: "encoding songs", total: Double(texts.count)))
        } else {
            vectors = try EmbeddingCache(path: cache, identity: encoder.identity).embed(texts, with: encoder, batchSize: batchSize, progress: true).vectors
        }
        return (vectors.flatMap { $0 }, encoder.shape.hidden)
    }

    public init(train: InteractionMatrix, configuration c: TransformerConfiguration, state: ModelState) throws {
        configuration = c
        self.train = train
        // A model fitted without the weights saved its TF-IDF stand-in under "tfidf.".
        let fallbackArrays = state.arrays.filter { $0.key.hasPrefix("tfidf.") }
        if !fallbackArrays.isEmpty {
            var arrays: [String: StateArray] = [:]
            for (k, v) in fallbackArrays { arrays[String(k.dropFirst("tfidf.".count))] = v }
            fallback = try TFIDFRecommender(train: train, configuration: TFIDFConfiguration(), state: ModelState(arrays: arrays))
            embeddings = []
            dimension = 0
            return
        }
        embeddings = try state.floats("embeddings")
        guard train.itemCount > 0, embeddings.count % train.itemCount == 0 else { throw ModelError("the embedding matrix does not match the items") }
        dimension = embeddings.count / train.itemCount
        fallback = nil
    }

    public func state() -> ModelState {
        guard let fallback else { return ModelState(arrays: ["embeddings": .float(embeddings)]) }
        var arrays: [String: StateArray] = [:]
        for (k, v) in fallback.state().arrays { arrays["tfidf." + k] = v }
        return ModelState(arrays: arrays)
    }

    /// Cosine of every song with a unit vector.
    func cosines(_ v: [Float]) -> [Float] {
        guard dimension > 0 else { return [Float](repeating: 0, count: train.itemCount) }
        return panel.scores(query: v)
    }

    /// Every song's cosine with each of several unit vectors, in one pass: the embedding matrix is
    /// read once for all of them, where one `scoreAll` each reads it once per vector (a service
    /// batches the lists it is asked for at the same time). Row r of the result is vector r's.
    public func cosines(profiles: [[Float]]) -> [[Float]] {
        guard dimension > 0 else { return profiles.map { _ in [Float](repeating: 0, count: train.itemCount) } }
        return panel.scores(queries: profiles, threads: ParallelLoop.defaultWorkers)
    }

    /// Whether the model scores by embeddings (not the TF-IDF stand-in): `cosines(profiles:)` applies.
    public var embedsSongs: Bool { fallback == nil && dimension > 0 }

    public func scoreAll(user: Int) -> [Float] {
        guard user >= 0, user < train.userCount else { return [Float](repeating: 0, count: train.itemCount) }
        return scoreAll(history: UserHistory(user: user, of: train))
    }

    /// Cosine of every song with the history's play-weighted, normalised mean embedding.
    public func scoreAll(history: UserHistory) -> [Float] {
        if let fallback { return fallback.scoreAll(history: history) }
        return cosines(profile(history))
    }

    /// The history's play-weighted, normalised mean embedding.
    public func profile(_ history: UserHistory) -> [Float] {
        var p = [Float](repeating: 0, count: dimension)
        for (i, w) in zip(history.items, history.weights) where i < train.itemCount {
            for q in 0..<dimension { p[q] += w * embeddings[i * dimension + q] }
        }
        let norm = p.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { p = p.map { $0 / norm } }
        return p
    }

    /// scoreAll's cosines for the given songs only (NaN for an index out of range): a service that
    /// scores a few hundred new songs need not read every embedding.
    public func scores(history: UserHistory, items: [Int]) -> [Float] {
        if let fallback { return fallback.score(history: history, items: items).map { Float($0) } }
        let p = profile(history)
        return embeddings.withUnsafeBufferPointer { e in
            items.map { i -> Float in
                guard i >= 0, i < train.itemCount else { return .nan }
                var dot: Float = 0
                for q in 0..<dimension { dot += e[i * dimension + q] * p[q] }
                return dot
            }
        }
    }


    /// The `k` users whose play-weighted profile is closest (cosine) to a unit song embedding,
    /// best first, each with the played song closest to it: who is most likely to play a new song
    /// (promotion). Users in `excluding` (those who played it) are left out. O(nnz · d + users log k).
    public func audience(for vector: [Float], k: Int, excluding: Set<Int> = []) -> [(user: Int, score: Float, closest: Int?)] {
        guard dimension > 0, vector.count == dimension, k > 0 else { return [] }
        var scores = [Float](repeating: -.infinity, count: train.userCount)
        embeddings.withUnsafeBufferPointer { e in
            vector.withUnsafeBufferPointer { v in
                for u in 0..<train.userCount where !excluding.contains(u) && !train.rowRange(u).isEmpty {
                    // cos(profile, v) = (Σ w_i e_i · v) / |Σ w_i e_i|: one dot per played song and the profile's norm.
                    let p = profile(UserHistory(user: u, of: train))
                    scores[u] = VectorKernels.dot(p, v.baseAddress!, dimension)
                }
            }
        }
        func songCosine(_ i: Int) -> Float {
            embeddings.withUnsafeBufferPointer { e in VectorKernels.dot(e.baseAddress! + i * dimension, vector, dimension) }
        }
        return TopScores.select(scores, k: k).filter { $0.score.isFinite }.map { top in
            let played = train.row(top.index).items.map(Int.init).filter { $0 < train.itemCount }
            return (top.index, top.score, played.max { songCosine($0) < songCosine($1) })
        }
    }

    public func similarItems(to item: Int, k: Int) -> [ScoredItem] {
        if let fallback { return fallback.similarItems(to: item, k: k) }
        guard item >= 0, item < train.itemCount, k > 0 else { return [] }
        var s = cosines(Array(embeddings[(item * dimension)..<((item + 1) * dimension)]))
        s[item] = -.infinity
        return TopScores.select(s, k: k).map {
            ScoredItem(item: $0.index, score: Double($0.score), explanation: Explanation(kind: .similarContent, songs: [item], sentence: "close in meaning"))
        }
    }
}

extension TransformerConfiguration {
    /// One 384-float embedding per song.
    public func memoryEstimate(users: Int, items: Int, nnz: Int) -> Double { Double(items) * 384 * 4 }
}
