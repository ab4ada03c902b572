// `encore audience`: for a song (in the catalogue, or only described by its text), the listeners
// whose taste is closest to it by sentence embeddings — who to promote a new song to.
import ArgumentParser
import EncoreData
import EncoreMath
import EncoreModels
import EncoreService
import EncoreText
import Foundation

extension Encore {
    struct Audience: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The listeners most likely to play a song: their play-weighted taste profile against the song's sentence embedding.",
            discussion: "A song in the catalogue (--song, played or not) or one described by its text (--text \"title / artist / tags\"); listeners who played it are left out. Each comes with the played song closest to it.")

        @Argument(help: "A dataset with a catalogue (snapshot, any path or a database).") var dataset: String
        @OptionGroup var input: InputFormatOption
        @Option(help: "External song id.") var song: String?
        @Option(help: "Or the new song's text: \"title / artist / tags\".") var text: String?
        @Option(name: .shortAndLong, parsing: .unconditional, help: "How many listeners.") var k: Int = 50
        @Option(name: .customLong("model-dir"), help: "Transformer weights folder.") var modelDir: String = ".models/all-MiniLM-L6-v2"
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

        struct Row: Encodable {
            var rank: Int
            var user: String
            var score: Double
            var songsPlayed: Int
            var closestPlayed: String?
            enum CodingKeys: String, CodingKey {
                case rank, user, score
                case songsPlayed = "songs_played"
                case closestPlayed = "closest_played"
            }
        }

        func run() throws {
            guard k > 0 else { throw UsageError("-k must be positive, got \(k)") }
            guard (song == nil) != (text == nil) else { throw UsageError("give --song (a catalogue song) or --text (a new song's text), one of them") }
            if let text { guard !text.trimmingCharacters(in: .whitespaces).isEmpty, text.utf8.count <= 2_000 else { throw UsageError("--text must be 1 to 2,000 bytes") } }
            let data = try loadDataset(dataset, format: input.inputFormat)
            guard data.catalog.entries.contains(where: { !$0.text.isEmpty }) else { throw UsageError("\(dataset) has no catalogue text to embed") }
            var c = TransformerConfiguration()
            c.modelDirectory = modelDir
            c.fallbackToTFIDF = false
            c.cache = embeddingCachePath(for: dataset)
            let model = try ElapsedTicker.run("embedding the catalogue") { try TransformerRecommender(train: data.interactions, configuration: c, catalog: data.catalog) }
            let m = data.interactions
            let vector: [Float]
            var excluded = Set<Int>()
            let title: String
            if let song {
                guard let i = m.items.index(of: song) else { throw UsageError("unknown song '\(song)'; a song not in the catalogue is given by its text (--text)") }
                vector = Array(model.embeddings[(i * model.dimension)..<((i + 1) * model.dimension)])
                for u in 0..<m.userCount where m.row(u).items.contains(Int32(i)) { excluded.insert(u) }
                title = data.catalog.displayName(i, fallback: song)
            } else {
                let encoder = try SentenceEncoder(directory: modelDir)
                guard let v = encoder.encode([text ?? ""]).first else { throw UsageError("the text could not be embedded") }
                vector = v
                title = "“\(text ?? "")”"
            }
            let rows = model.audience(for: vector, k: min(k, m.userCount), excluding: excluded).enumerated().map { n, a in
                Row(rank: n + 1, user: m.users[a.user], score: Double(a.score), songsPlayed: m.rowRange(a.user).count,
                    closestPlayed: a.closest.map { data.catalog.displayName($0, fallback: m.items[$0]) })
            }
            guard !rows.isEmpty else { throw UsageError("no listener is left to reach (everyone played it, or nobody has a history)") }
            if format == .json { print(try jsonString(rows)); return }
            print("listeners closest to \(title)" + (excluded.isEmpty ? ":" : " (\(excluded.count) who played it left out):"))
            print(TextTable(header: ["rank", "user", "score", "songs played", "closest played song"],
                            rows: rows.map { [String($0.rank), $0.user, String(format: "%.4f", $0.score), Format.grouped($0.songsPlayed), $0.closestPlayed ?? ""] }).render(format),
                  terminator: "")
        }
    }
}
