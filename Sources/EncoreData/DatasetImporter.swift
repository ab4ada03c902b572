// One entry point for every input format, with detection from file names and content.

/// The input formats Encore reads.
public enum ImportFormat: String, Sendable, CaseIterable {
    case auto, triplets, course, lastfm, movielens, delimited, snapshot
    /// What `encore split` writes and the shared splits use: tab-separated `user item plays` with
    /// that header.
    case split
}

/// Loads any supported dataset, detecting the format when asked to.
public enum DatasetImporter {
    /// Decides the format of `path` from names and the first line.
    public static func detect(path: String) throws -> ImportFormat {
        if directoryExists(path) {
            if fileExists(joinPath(path, "user_artists.dat")) { return .lastfm }
            if fileExists(joinPath(path, "u.data")) || fileExists(joinPath(path, "ratings.csv")) { return .movielens }
            if fileExists(joinPath(path, "count_data.csv")) { return .course }
            if fileExists(joinPath(path, "train_triplets.txt")) { return .triplets }
            throw DataError(file: path, problem: .unknownFormat(
                "the directory holds none of user_artists.dat (lastfm), u.data or ratings.csv (movielens), count_data.csv (course), train_triplets.txt (triplets)"))
        }
        try InputFile.check(path)
        if Snapshot.isSnapshot(path: path) { return .snapshot }
        let name = lastPathComponent(path).lowercased()
        if name == "user_artists.dat" { return .lastfm }
        if name == "u.data" || name == "ratings.csv" { return .movielens }
        if name.hasPrefix("count_data") { return .course }
        if name.contains("triplets") { return .triplets }
        // Sniff the first line.
        guard let tabFields = try firstRecordFields(path: path, format: DelimitedFormat(delimiter: 9, quoting: false)) else {
            throw DataError(file: path, problem: .emptyFile)
        }
        if tabFields.count == 3, Double(tabFields[2].trimmingSpaces) != nil { return .triplets }
        if tabFields.map({ $0.trimmingSpaces.lowercased() }) == ["user", "item", "plays"] { return .split }
        if let commaFields = try firstRecordFields(path: path, format: .comma) {
            let lower = commaFields.map { $0.trimmingSpaces.lowercased() }
            if lower.contains("user_id") && lower.contains("song_id") { return .course }
            if lower.contains("userid") && lower.contains("movieid") { return .movielens }
        }
        throw DataError(file: path, line: 1, problem: .unknownFormat(
            "cannot tell the format from the name or the first line; pass --input-format triplets|course|lastfm|movielens|split|delimited"))
    }

    /// Loads `path` in `format` (detected when `.auto`). `songs` names a song_data.csv catalogue.
    public static func load(path: String, format: ImportFormat = .auto, songs: String? = nil,
                            delimited: DelimitedLoadOptions = DelimitedLoadOptions(),
                            options: LoadOptions = LoadOptions()) throws -> Dataset {
        let resolved = format == .auto ? try detect(path: path) : format
        switch resolved {
        case .auto:
            preconditionFailure("detect never returns auto")
        case .snapshot:
            return try Snapshot.read(path: path)
        case .triplets:
            let file = directoryExists(path) ? joinPath(path, "train_triplets.txt") : path
            return try TasteProfileLoader.load(path: file, songs: songs ?? siblingSongData(of: file), options: options)
        case .course:
            let file = directoryExists(path) ? joinPath(path, "count_data.csv") : path
            return try CourseFilesLoader.load(counts: file, songs: songs ?? siblingSongData(of: file), options: options)
        case .lastfm:
            let dir = directoryExists(path) ? path : parentDirectory(path)
            guard fileExists(joinPath(dir, "user_artists.dat")) else {
                throw DataError(file: joinPath(dir, "user_artists.dat"), problem: .missingFile)
            }
            return try HetRecLastFMLoader.load(directory: dir, options: options)
        case .movielens:
            return try MovieLensLoader.load(path: path, options: options)
        case .split:
            guard !directoryExists(path) else {
                throw DataError(file: path, problem: .unreadable("it is a directory; the split format reads one file"))
            }
            var dataset = try DelimitedPlayLogLoader.load(path: path, settings: SplitFiles.tsvWithHeader, options: options)
            dataset.report.format = "split"
            return dataset
        case .delimited:
            guard !directoryExists(path) else {
                throw DataError(file: path, problem: .unreadable("it is a directory; the delimited format reads one file"))
            }
            return try DelimitedPlayLogLoader.load(path: path, settings: delimited, options: options)
        }
    }

    static func siblingSongData(of file: String) -> String? {
        let candidate = joinPath(parentDirectory(file), "song_data.csv")
        return fileExists(candidate) ? candidate : nil
    }
}

func parentDirectory(_ path: String) -> String {
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count > 1 else { return "." }
    let joined = parts.dropLast().joined(separator: "/")
    return joined.isEmpty ? "/" : joined
}
