import ArgumentParser
import EncoreData
import EncoreModels
import Foundation
import EncoreService
import EncoreText

extension Encore {
    struct Similar: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A song's nearest neighbours by content: TF-IDF or transformer embeddings.")

        @Argument(help: "A dataset with a catalogue (snapshot, any path or a database).") var dataset: String?
        @Option(help: "Read the catalogue and plays stored in a database (SQLite file or postgres:// URL).") var database: String?
        @OptionGroup var input: InputFormatOption
        @Option(help: "External song id.") var song: String?
        @Option(help: "Or a song not in the catalogue, as its text (\"title / artist / tags\"), with --by content: embedded and matched against every song.") var text: String?
        @Option(help: "content (transformer embeddings) or tfidf.") var by: String = "tfidf"
        @Option(name: .shortAndLong, parsing: .unconditional, help: "How many neighbours.") var k: Int = 10
        @Option(name: .customLong("model-dir"), help: "Transformer weights folder.") var modelDir: String = ".models/all-MiniLM-L6-v2"
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

        struct Row: Encodable {
            var rank: Int
            var item: String
            var title: String
            var score: Double
            var reason: String?
        }

        func run() throws {
            guard k > 0 else { throw UsageError("-k must be positive") }
            guard by == "tfidf" || by == "content" else { throw UsageError("--by must be content or tfidf") }
            guard (self.dataset == nil) != (database == nil) else { throw UsageError("give a dataset path or --database (one of them)") }
            guard let path = self.dataset ?? database else { return }
            guard (song == nil) != (text == nil) else { throw UsageError("give --song (a catalogue song) or --text (a song not in it), one of them") }
            if let text {
                guard by == "content" else { throw UsageError("--text is matched by sentence embeddings: use --by content") }
                guard !text.trimmingCharacters(in: .whitespaces).isEmpty, text.utf8.count <= 2_000 else { throw UsageError("--text must be 1 to 2,000 bytes") }
            }
            // Songs of the catalogue that nobody played are kept: content places them by their text.
            var source = DatasetSource()
            source.keepUnplayedCatalog = true
            let dataset = try source.load(path, format: input.inputFormat)
            printWarnings(dataset.report.warnings)
            let k = min(self.k, dataset.interactions.itemCount)
            if let text { return try similarToText(text, dataset: dataset, path: path, k: k) }
            guard let song else { return }
            guard let i = dataset.interactions.items.index(of: song) else {
                guard let entry = dataset.catalog.unplayed[song] else { throw UsageError("unknown song '\(song)': it is neither played nor in the catalogue; a new song is matched by its text (--text … --by content)") }
                guard by == "content" else {
                    throw UsageError("'\(song)' is in the catalogue but nobody played it, so TF-IDF has no vector for it among the played songs; use --by content, which embeds its text")
                }
                guard !entry.text.isEmpty else { throw UsageError("'\(song)' has no title, artist or tags to embed") }
                return try similarToText(entry.text, dataset: dataset, path: path, k: k, heading: "\(entry.title.isEmpty ? song : entry.title) (in the catalogue, never played) — nearest by content:")
            }
            let list: [ScoredItem]
            if by == "tfidf" {
                list = try TFIDFRecommender(train: dataset.interactions, catalog: dataset.catalog).similarItems(to: i, k: k)
            } else {
                var c = TransformerConfiguration()
                c.modelDirectory = modelDir
                c.cache = embeddingCachePath(for: path)
                list = try TransformerRecommender(train: dataset.interactions, configuration: c, catalog: dataset.catalog).similarItems(to: i, k: k)
            }
            let ids = dataset.interactions.items
            let rows = list.enumerated().map { Row(rank: $0.offset + 1, item: ids[$0.element.item], title: dataset.catalog.displayName($0.element.item, fallback: ids[$0.element.item]),
                                                  score: $0.element.score, reason: $0.element.reason) }
            if format == .json { print(try jsonString(rows)); return }
            print("\(dataset.catalog.displayName(i, fallback: song)) — nearest by \(by):")
            print(TextTable(header: ["rank", "item", "title", "score", "shared terms"],
                            rows: rows.map { [String($0.rank), $0.item, $0.title, String(format: "%.4f", $0.score), $0.reason ?? ""] }).render(format), terminator: "")
        }
    
        /// A song not in the catalogue, by its text: its sentence embedding against every song's.
        func similarToText(_ text: String, dataset: Dataset, path: String, k: Int, heading: String? = nil) throws {
            var c = TransformerConfiguration()
            c.modelDirectory = modelDir
            c.fallbackToTFIDF = false
            c.cache = embeddingCachePath(for: path)
            let model = try TransformerRecommender(train: dataset.interactions, configuration: c, catalog: dataset.catalog)
            let encoder = try SentenceEncoder(directory: modelDir)
            guard let vector = encoder.encode([text]).first else { throw UsageError("the text could not be embedded") }
            let scores = model.cosines(profiles: [vector])[0]
            let ids = dataset.interactions.items
            let rows = TopScores.select(scores, k: k).enumerated().map {
                Row(rank: $0.offset + 1, item: ids[$0.element.index], title: dataset.catalog.displayName($0.element.index, fallback: ids[$0.element.index]),
                    score: Double($0.element.score), reason: "close in meaning to the text")
            }
            if format == .json { print(try jsonString(rows)); return }
            print(heading ?? "“\(text)” — nearest by content:")
            print(TextTable(header: ["rank", "item", "title", "score"],
                            rows: rows.map { [String($0.rank), $0.item, $0.title, String(format: "%.4f", $0.score)] }).render(format), terminator: "")
        }
    }
}
