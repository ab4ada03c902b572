// How a command or a service reads a dataset: the format, the catalogue, strictness, the line
// limit and the generic delimited settings, turned into a Dataset by the loaders.
import EncoreData
import EncoreMath

/// Where a dataset comes from and how to read it.
public struct DatasetSource: Sendable {
    /// A song_data.csv catalogue for triplets or count_data.csv input.
    public var songs: String?
    public var lenient = false
    /// Delimited input: a character, or tab, comma, semicolon, pipe.
    public var delimiter = "comma"
    /// Delimited input: 0-based indices, or header names with `header`.
    public var userColumn = "0"
    public var itemColumn = "1"
    /// The play-count column, or "none" when every row is one play.
    public var valueColumn = "2"
    public var timestampColumn: String?
    public var header = false
    public var maxLineBytes = DelimitedReader.defaultMaxRecordBytes
    /// Keep catalogue entries of songs nobody played (`Catalog.unplayed`).
    public var keepUnplayedCatalog = false
    /// Receives the accepted rows while a play log is read (`LoadOptions.rowSink`).
    public var rowSink: (@Sendable (AcceptedRows) throws -> Void)?

    public init() {}

    /// Loads `path` in the named format (auto, triplets, course, lastfm, movielens, delimited, snapshot).
    public func load(_ path: String, format name: String = "auto") throws -> Dataset {
        guard let format = ImportFormat(rawValue: name.lowercased()) else {
            throw ParameterError("unknown format '\(name)'; use one of \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let delimited = DelimitedFormat.named(delimiter) else {
            throw ParameterError("unknown delimiter '\(delimiter)'; use a single character, or tab, comma, semicolon, pipe")
        }
        guard maxLineBytes > 0 else { throw ParameterError("--max-line-bytes must be positive, got \(maxLineBytes)") }
        if format == .auto, DatabaseSource.isDatabase(path) { return try DatabaseSource.load(path) }
        let settings = DelimitedLoadOptions(
            format: delimited, hasHeader: header,
            user: ColumnReference(userColumn), item: ColumnReference(itemColumn),
            value: valueColumn.lowercased() == "none" ? nil : ColumnReference(valueColumn),
            timestamp: timestampColumn.map(ColumnReference.init))
        if let songs { try InputFile.check(songs) }
        return try DatasetImporter.load(path: path, format: format, songs: songs, delimited: settings,
                                        options: { var o = LoadOptions(lenient: lenient, maxLineBytes: maxLineBytes); o.keepUnplayedCatalog = keepUnplayedCatalog; o.rowSink = rowSink; return o }())
    }

    /// Every file a load of `path` read (the path itself, the files of a directory, the catalogue),
    /// each once, in order: an output must never replace one, and an import's content hash covers
    /// them (the loader lists the path it was given too; hashing it twice cost a second pass).
    public func inputFiles(_ path: String, dataset: Dataset) -> [String] {
        var seen = Set<String>()
        return ([path] + dataset.report.files + (songs.map { [$0] } ?? [])).filter { seen.insert($0).inserted }
    }
}
