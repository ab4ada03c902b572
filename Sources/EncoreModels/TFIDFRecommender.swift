// Content-based recommendation from TF-IDF vectors of each song's text (title, release, artist,
// tags; see EncoreText.TFIDFIndex). A user's profile is the play-weighted sum of the vectors of
// the songs they played; songs rank by cosine to it. Similar songs come with their shared top
// terms. fit: O(tokens); recommend: O(Σ postings of the profile's terms).
import EncoreData
import EncoreText
import Foundation

extension TFIDFConfiguration: ModelConfiguration {
    public func validate() throws {
        guard ngrams == 1 || ngrams == 2 else { throw ModelError("ngrams must be 1 or 2, got \(ngrams)") }
        guard minDocumentFrequency >= 1 else { throw ModelError("min_document_frequency must be at least 1") }
    }
}

/// TF-IDF content model.
public struct TFIDFRecommender: HistoryRecommender, SimilarItemsModel {
    public let name = "tfidf"
    public let configuration: TFIDFConfiguration
    public let train: InteractionMatrix
    public let index: TFIDFIndex

    public var configurationJSON: String { ConfigurationOverrides.json(configuration) }

    public init(train: InteractionMatrix, configuration c: TFIDFConfiguration = TFIDFConfiguration(), catalog: Catalog?) throws {
        try c.validate()
        guard let catalog, catalog.count == train.itemCount else {
            throw ModelError("the tfidf model reads song text: give a dataset with a catalogue (--data)")
        }
        configuration = c
        self.train = train
        index = try TFIDFIndex(documents: catalog.entries.map(\.text), configuration: c)
    }

    public init(train: InteractionMatrix, configuration c: TFIDFConfiguration, state: ModelState) throws {
        configuration = c
        self.train = train
        let ptr64 = try state.int64s("row_pointers")
        let cols = try state.int32s("columns")
        let vals = try state.floats("values")
        let idf = try state.floats("idf")
        let bytes = try state.int32s("terms_utf8")
        var terms: [String] = []
        var current: [UInt8] = []
        for b in bytes {
            if b < 0 { terms.append(String(decoding: current, as: UTF8.self)); current = [] } else { current.append(UInt8(clamping: b)) }
        }
        try ModelState.require(idf.count, terms.count, "idf")
        let rows = try SimilarityMatrix(validating: ptr64, columns: cols, values: vals, rows: train.itemCount, columnCount: terms.count, what: "tfidf")
        index = TFIDFIndex(configuration: c, terms: terms, idf: idf, rowPointers: rows.rowPointers, columns: cols, values: vals)
    }

    public func state() -> ModelState {
        var bytes: [Int32] = []
        for t in index.terms { bytes.append(contentsOf: t.utf8.map { Int32($0) }); bytes.append(-1) }
        return ModelState(arrays: ["row_pointers": .int64(index.rowPointers.map { Int64($0) }), "columns": .int32(index.columns),
                                   "values": .float(index.values), "idf": .float(index.idf), "terms_utf8": .int32(bytes)])
    }

    /// The play-weighted profile of a history.
    func profile(_ history: [(item: Int, weight: Float)]) -> [(term: Int32, weight: Float)] {
        var p: [Int32: Float] = [:]
        for (i, w) in history where i >= 0 && i < index.documentCount { for (t, v) in index.row(i) { p[t, default: 0] += w * v } }
        return p.map { ($0.key, $0.value) }.sorted { $0.term < $1.term }
    }

    public func scoreAll(user: Int) -> [Float] {
        guard user >= 0, user < train.userCount else { return [Float](repeating: 0, count: train.itemCount) }
        return scoreAll(history: UserHistory(user: user, of: train))
    }

    /// Cosine of every song with the history's play-weighted TF-IDF profile.
    public func scoreAll(history: UserHistory) -> [Float] {
        index.scores(query: profile(zip(history.items, history.weights).map { (item: $0, weight: $1) }))
    }


    /// The songs closest to `item` by cosine, with their shared top terms as the reason.
    public func similarItems(to item: Int, k: Int) -> [ScoredItem] {
        guard item >= 0, item < index.documentCount, k > 0 else { return [] }
        var s = index.scores(query: index.row(item))
        s[item] = -.infinity
        for i in 0..<s.count where s[i] <= 0 { s[i] = -.infinity }
        return TopScores.select(s, k: k).map { ScoredItem(item: $0.index, score: Double($0.score), explanation: Explanation(kind: .similarContent, songs: [item], sentence: index.sharedTerms(item, $0.index).joined(separator: ", "))) }
    }
}
