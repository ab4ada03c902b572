import ArgumentParser
import EncoreData
import EncoreModels
import Foundation
import EncoreService

extension Encore {
    struct Similar: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A song's nearest neighbours by content: TF-IDF or transformer embeddings.")

        @Argument(help: "A dataset with a catalogue (snapshot, any path or a database).") var dataset: String?
        @Option(help: "Read the catalogue and plays stored in a database (SQLite file or postgres:// URL).") var database: String?
        @Option(help: "External song id.") var song: String
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
            let dataset = try loadDataset(path)
            guard let i = dataset.interactions.items.index(of: song) else { throw UsageError("unknown song '\(song)'") }
            let k = min(self.k, dataset.interactions.itemCount)
            let list: [ScoredItem]
            if by == "tfidf" {
                list = try TFIDFRecommender(train: dataset.interactions, catalog: dataset.catalog).similarItems(to: i, k: k)
            } else {
                var c = TransformerConfiguration()
                c.modelDirectory = modelDir
                c.cache = path.hasSuffix(".snapshot") ? path + ".embeddings" : ""
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
    }
}
