import ArgumentParser
import EncoreData
import EncoreService

extension Encore {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic, MSD-like dataset (course CSV pair and Taste Profile triplets).")

        @Option(parsing: .unconditional, help: "Number of users.") var users: Int = 2_000
        @Option(parsing: .unconditional, help: "Number of songs.") var songs: Int = 1_000
        @Option(parsing: .unconditional, help: "Number of (user, song) rows.") var plays: Int = 100_000
        @Option(parsing: .unconditional, help: "Random seed; the same seed writes the same files.") var seed: UInt64 = 42
        @Option(help: "Output directory.") var output: String
        @Option(help: "Which files: all, course (count_data.csv + song_data.csv), triplets.") var files: String = "all"
        @Option(help: "Summary: table, markdown or json.") var format: OutputFormat = .table

        func run() throws {
            var c = GeneratorConfiguration(users: users, songs: songs, plays: plays, seed: seed)
            switch files.lowercased() {
            case "all": break
            case "course": c.writeTriplets = false
            case "triplets": c.writeCourseFiles = false
            default: throw UsageError("unknown --files '\(files)'; use all, course or triplets")
            }
            let summary = try SyntheticGenerator.generate(c, to: output)
            if format == .json {
                print(try jsonString(summary))
                return
            }
            print(TextTable(header: ["generated", "value"], rows: [
                ["users", Format.grouped(summary.users)], ["songs", Format.grouped(summary.songs)],
                ["artists", Format.grouped(summary.artists)], ["rows", Format.grouped(summary.rows)],
                ["total plays", Format.grouped(summary.totalPlays)], ["seconds", Format.number(summary.seconds)],
            ]).render(format), terminator: "")
            for f in summary.files { print("wrote \(f)") }
        }
    }
}
