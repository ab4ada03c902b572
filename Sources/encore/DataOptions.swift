// Option groups shared by the commands that load data: the input format and loader settings,
// and the report's filters.
import ArgumentParser
import EncoreData
import EncoreService
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

    /// The library's description of this source.
    var source: DatasetSource {
        var d = DatasetSource()
        d.songs = songs
        d.lenient = lenient
        d.delimiter = delimiter
        d.userColumn = userColumn
        d.itemColumn = itemColumn
        d.valueColumn = valueColumn
        d.timestampColumn = timestampColumn
        d.header = header
        d.maxLineBytes = maxLineBytes
        return d
    }

    /// Every file a load of `path` read, which an output must never replace.
    func inputFiles(_ path: String, dataset: Dataset) -> [String] { source.inputFiles(path, dataset: dataset) }

    /// Loads `path` in the named input format, printing the load's warnings.
    func load(_ path: String, format inputFormat: String) throws -> Dataset {
        let dataset = try source.load(path, format: inputFormat)
        printWarnings(dataset.report.warnings)
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
