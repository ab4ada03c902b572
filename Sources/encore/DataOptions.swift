// Option groups shared by the commands that load data: the input format and loader settings,
// and the report's filters.
import ArgumentParser
import EncoreData
import Foundation

/// How to read the input: format, catalogue, strictness and the generic delimited settings.
struct LoaderOptions: ParsableArguments {
    @Option(help: "A song_data.csv catalogue for triplets or count_data.csv input.")
    var songs: String?

    @Flag(help: "Skip bad lines and count them per reason, instead of stopping at the first.")
    var lenient = false

    @Option(help: "Delimited input: the delimiter (a character, or tab, comma, semicolon, pipe).")
    var delimiter: String = "comma"

    @Option(name: .customLong("user-col"), help: "Delimited input: user column (0-based index, or a header name with --header).")
    var userColumn: String = "0"

    @Option(name: .customLong("item-col"), help: "Delimited input: item column.")
    var itemColumn: String = "1"

    @Option(name: .customLong("value-col"), help: "Delimited input: play-count column, or 'none' when every row is one play.")
    var valueColumn: String = "2"

    @Option(name: .customLong("timestamp-col"), help: "Delimited input: optional Unix timestamp column.")
    var timestampColumn: String?

    @Flag(help: "Delimited input: the first line is a header.")
    var header = false

    @Option(name: .customLong("max-line-bytes"), parsing: .unconditional, help: "The longest line accepted, in bytes; longer lines are errors (skipped with --lenient).")
    var maxLineBytes: Int = DelimitedReader.defaultMaxRecordBytes

    /// Every file a load of `path` read (the path itself, the files of a directory, the catalogue),
    /// which an output must never replace.
    func inputFiles(_ path: String, dataset: Dataset) -> [String] {
        [path] + dataset.report.files + (songs.map { [$0] } ?? [])
    }

    /// Loads `path` in the named input format (auto, triplets, course, lastfm, movielens, delimited, snapshot).
    func load(_ path: String, format inputFormat: String) throws -> Dataset {
        guard let format = ImportFormat(rawValue: inputFormat.lowercased()) else {
            throw UsageError("unknown format '\(inputFormat)'; use one of \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let delimited = DelimitedFormat.named(delimiter) else {
            throw UsageError("unknown delimiter '\(delimiter)'; use a single character, or tab, comma, semicolon, pipe")
        }
        let settings = DelimitedLoadOptions(
            format: delimited, hasHeader: header,
            user: ColumnReference(userColumn), item: ColumnReference(itemColumn),
            value: valueColumn.lowercased() == "none" ? nil : ColumnReference(valueColumn),
            timestamp: timestampColumn.map(ColumnReference.init))
        if let songs { try InputFile.check(songs) }
        guard maxLineBytes > 0 else { throw UsageError("--max-line-bytes must be positive, got \(maxLineBytes)") }
        let dataset = try DatasetImporter.load(path: path, format: format, songs: songs, delimited: settings,
                                               options: LoadOptions(lenient: lenient, maxLineBytes: maxLineBytes))
        printWarnings(dataset.report)
        return dataset
    }
}

/// The report's population filters.
struct FilterOptions: ParsableArguments {
    @Flag(name: .customLong("report-filters"), help: "Apply the report's filters: ≥ 80 plays and ≥ 3 songs per user, > 2 average plays per song.")
    var reportFilters = false

    @Option(name: .customLong("min-user-plays"), parsing: .unconditional, help: "Keep users with at least this many total plays.")
    var minUserPlays: Double?

    @Option(name: .customLong("min-user-songs"), parsing: .unconditional, help: "Keep users with at least this many unique songs.")
    var minUserSongs: Int?

    @Option(name: .customLong("min-song-average"), parsing: .unconditional, help: "Keep songs with strictly more than this many plays per listener.")
    var minSongAverage: Double?

    @Option(name: .customLong("min-song-listeners"), parsing: .unconditional, help: "Keep songs with at least this many listeners.")
    var minSongListeners: Int?

    @Option(name: .customLong("top-songs"), parsing: .unconditional, help: "Keep only the N most played songs.")
    var topSongs: Int?

    var configuration: FilterConfiguration {
        var c = reportFilters ? FilterConfiguration.report : FilterConfiguration()
        if let minUserPlays { c.minUserPlays = minUserPlays }
        if let minUserSongs { c.minUserSongs = minUserSongs }
        if let minSongAverage { c.minSongAveragePlays = minSongAverage }
        if let minSongListeners { c.minSongListeners = minSongListeners }
        if let topSongs { c.topSongs = topSongs }
        return c
    }

    /// Applies the filters, printing each step to stderr.
    func apply(to dataset: Dataset, quiet: Bool = false) throws -> (Dataset, [FilterStep]) {
        let c = configuration
        guard !c.isEmpty else { return (dataset, []) }
        let (filtered, steps) = try DatasetFilter.apply(c, to: dataset)
        if !quiet {
            let table = TextTable(header: ["filter step", "removed rows", "removed users", "removed songs", "rows", "users", "songs"],
                                  rows: steps.map { [$0.name, Format.grouped($0.removedRows), Format.grouped($0.removedUsers), Format.grouped($0.removedSongs),
                                                     Format.grouped($0.rows), Format.grouped($0.users), Format.grouped($0.songs)] })
            note(table.text())
        }
        return (filtered, steps)
    }
}
