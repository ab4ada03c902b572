import ArgumentParser
import EncoreData
import EncoreMath
import EncoreText
import Foundation
import EncoreService

extension Encore {
    struct Embed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode texts (--texts FILE.json) or a catalogue with the transformer (all-MiniLM-L6-v2 by default), in Swift.")

        @Argument(help: "A dataset whose catalogue to encode, or a database (omit with --texts).") var dataset: String?
        @Option(help: "Encode the catalogue stored in a database (SQLite file or postgres:// URL).") var database: String?
        @OptionGroup var input: InputFormatOption
        var path: String? { dataset ?? database }
        @Option(help: "A JSON array of strings to encode.") var texts: String?
        @Option(name: .customLong("model-dir"), help: "Folder with config.json, vocab.txt and model.safetensors.") var modelDir: String = ".models/all-MiniLM-L6-v2"
        @Option(help: "Embedding cache file (catalogue mode).") var cache: String?
        @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Sentences per batch.") var batchSize: Int = 64
        @Option(help: "Output: table, markdown or json. JSON (the default with --texts) writes every text's tokens and embedding, or every song's id, text and embedding; a table (the default for a catalogue) summarises.") var format: OutputFormat?

        struct Row: Encodable {
            var text: String
            var tokenIDs: [Int32]
            var embedding: [Float]
            enum CodingKeys: String, CodingKey {
                case text
                case tokenIDs = "token_ids"
                case embedding
            }
        }

        func run() throws {
            guard batchSize > 0 else { throw UsageError("--batch-size must be positive") }
            guard dataset == nil || database == nil else { throw UsageError("give a dataset path or --database, not both") }
            guard (path == nil) != (texts == nil) else { throw UsageError("give a dataset or --texts FILE.json") }
            let encoder = try SentenceEncoder(directory: modelDir)
            if let texts {
                guard let data = FileManager.default.contents(atPath: texts) else { throw DataError(file: texts, problem: .missingFile) }
                guard let strings = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String] else {
                    throw UsageError("\(texts) must be a JSON array of strings")
                }
                let ids = strings.map { encoder.tokenizer.encode($0) }
                let vectors = encoder.encode(ids: ids, batchSize: batchSize, progress: ProgressReporter(label: "encoding", total: Double(strings.count))).map(\.embedding)
                let rows = zip(strings, zip(ids, vectors)).map { Row(text: $0, tokenIDs: $1.0, embedding: $1.1) }
                let format = format ?? .json
                if format == .json { print(try compactJSON(rows)); return }
                print(TextTable(header: ["text", "tokens", "norm", "first values"], rows: rows.map { r in
                    [r.text, String(r.tokenIDs.count), String(format: "%.4f", Double(r.embedding.reduce(0) { $0 + $1 * $1 }).squareRoot()),
                     r.embedding.prefix(4).map { String(format: "%.4f", $0) }.joined(separator: " ")]
                }).render(format), terminator: "")
                return
            }
            let dataset = try loadDataset(path!, format: input.inputFormat)
            let store = EmbeddingCache(path: cache ?? embeddingCachePath(for: path!), identity: encoder.identity)
            let start = MonotonicClock.now()
            let (vectors, hits) = try store.embed(dataset.catalog.entries.map(\.text), with: encoder, batchSize: batchSize, progress: true)
            let seconds = MonotonicClock.now() - start
            let format = format ?? .table
            if format == .json {
                struct Song: Encodable { var id: String; var text: String; var embedding: [Float] }
                let m = dataset.interactions
                print(try compactJSON(zip(m.items.ids, zip(dataset.catalog.entries, vectors)).map { Song(id: $0, text: $1.0.text, embedding: $1.1) }))
                return
            }
            print(TextTable(header: ["embed", "value"], rows: [
                ["songs", Format.grouped(vectors.count)], ["from cache", Format.grouped(hits)], ["encoded", Format.grouped(vectors.count - hits)],
                ["seconds", Format.number(seconds, digits: 2)], ["cache", store.path],
            ]).render(format), terminator: "")
        }
    }
}
