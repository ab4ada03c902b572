// Loader for HetRec 2011 Last.fm 2K: user_artists.dat (userID, artistID, weight = plays),
// artists.dat (id, name, url, pictureURL), tags.dat (tagID, tagValue; Latin-1) and
// user_taggedartists.dat (userID, artistID, tagID, day, month, year). An artist plays the song's
// role; its most used tags become its genre text. The files are tab separated and never quoted:
// a `"` is part of the field (artist names such as `"Weird Al" Yankovic` keep their quotes).
// artists.dat missing or empty loads the plays without a catalogue, with a warning.

/// Reads a HetRec 2011 Last.fm directory.
public enum HetRecLastFMLoader {
    /// How many of an artist's most used tags become its genre text.
    public static let tagsPerArtist = 5

    public static func load(directory: String, options: LoadOptions = LoadOptions()) throws -> Dataset {
        let tsv = DelimitedFormat(delimiter: UInt8(ascii: "\t"), quoting: false)
        var layout = PlayLogLayout(user: 0, item: 1, value: 2, exactFields: 3)
        layout.userName = "userID"; layout.itemName = "artistID"; layout.valueName = "weight"
        var acc = PlayLogAccumulator(format: "lastfm", options: options)
        let playsPath = joinPath(directory, "user_artists.dat")
        try acc.read(path: playsPath, format: tsv, layout: layout, options: options,
                     isHeader: { $0.count >= 1 && $0.string(0) == "userID" })
        let matrix = acc.finish()
        var report = acc.report
        var problems = ProblemLog(lenient: options.lenient)

        // artists.dat: id → name.
        var names: [String: String] = [:]
        let artistsPath = joinPath(directory, "artists.dat")
        let hasArtists = try report.companion(artistsPath, role: "the Last.fm plays")
        if hasArtists { report.files.append(artistsPath) }
        if hasArtists { try DelimitedReader(path: artistsPath, format: tsv, maxRecordBytes: options.maxLineBytes).forEachRecord(onBadRecord: { try problems.record($0) }) { rec in
            let id = rec.trimmedString(0)
            if rec.line == 1 && id == "id" { return }
            report.catalogRows += 1
            guard rec.count >= 2 else {
                try problems.record(DataError(file: artistsPath, line: rec.line, column: rec.column(rec.count), problem: .wrongColumnCount(expected: 4, found: rec.count)))
                return
            }
            guard !id.isEmpty else {
                try problems.record(DataError(file: artistsPath, line: rec.line, column: 1, field: "id", problem: .emptyIdentifier))
                return
            }
            if names[id] != nil { report.catalogDuplicates += 1; return }
            names[id] = rec.string(1)
        }
            report.warnIfEmpty(artistsPath, rows: names.count, role: "the Last.fm plays")
        }

        // tags.dat (Latin-1) and user_taggedartists.dat are optional: without them artists have no tags.
        var tagNames: [String: String] = [:]
        let tagsPath = joinPath(directory, "tags.dat")
        let assignmentsPath = joinPath(directory, "user_taggedartists.dat")
        var tagCounts: [String: [String: Int]] = [:]
        if hasArtists && InputFile.exists(tagsPath) && InputFile.exists(assignmentsPath) {
            try InputFile.check(tagsPath)
            try InputFile.check(assignmentsPath)
            report.files.append(tagsPath)
            try DelimitedReader(path: tagsPath, format: tsv, maxRecordBytes: options.maxLineBytes).forEachRecord(onBadRecord: { try problems.record($0) }) { rec in
                let id = rec.trimmedString(0)
                if rec.line == 1 && id == "tagID" { return }
                guard rec.count >= 2 else {
                    try problems.record(DataError(file: tagsPath, line: rec.line, column: rec.column(rec.count), problem: .wrongColumnCount(expected: 2, found: rec.count)))
                    return
                }
                tagNames[id] = rec.string(1)
            }
            report.files.append(assignmentsPath)
            try DelimitedReader(path: assignmentsPath, format: tsv, maxRecordBytes: options.maxLineBytes).forEachRecord(onBadRecord: { try problems.record($0) }) { rec in
                if rec.line == 1 && rec.string(0) == "userID" { return }
                guard rec.count >= 3 else {
                    try problems.record(DataError(file: assignmentsPath, line: rec.line, column: rec.column(rec.count), problem: .wrongColumnCount(expected: 6, found: rec.count)))
                    return
                }
                tagCounts[rec.trimmedString(1), default: [:]][rec.trimmedString(2), default: 0] += 1
            }
        }
        for (k, v) in problems.skipped { report.skipped["catalog_" + k, default: 0] += v }

        var metadata: [String: CatalogEntry] = [:]
        metadata.reserveCapacity(names.count)
        for (id, name) in names {
            var tags: [String] = []
            if let counts = tagCounts[id] {
                let ranked = counts.sorted { a, b in a.value != b.value ? a.value > b.value : (Int(a.key) ?? 0) < (Int(b.key) ?? 0) }
                tags = ranked.prefix(tagsPerArtist).compactMap { tagNames[$0.key] }
            }
            metadata[id] = CatalogEntry(title: name, release: "", artist: name, year: 0, tags: tags)
        }
        let catalog = Catalog.aligned(items: matrix.items, metadata: metadata, report: &report, keepUnplayed: options.keepUnplayedCatalog)
        return Dataset(name: "lastfm-2k", interactions: matrix, catalog: catalog, report: report)
    }

    /// Number of distinct tags in tags.dat (for checks and EDA).
    public static func tagCount(directory: String) throws -> Int {
        var n = 0
        try DelimitedReader(path: joinPath(directory, "tags.dat"), format: DelimitedFormat(delimiter: 9, quoting: false)).forEachRecord { rec in
            if rec.line == 1 && rec.string(0) == "tagID" { return }
            n += 1
        }
        return n
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
}

func directoryExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}
