// Loader for MovieLens: the 100K layout (`u.data`: user, item, rating, timestamp, tab separated;
// `u.item`: pipe separated, Latin-1, with 19 genre flags) and the modern layout (`ratings.csv`:
// userId,movieId,rating,timestamp; `movies.csv`: movieId,title,genres). Movies play the song's
// role; genres become tags; the year comes from the release date or the "(1995)" in the title.
// The 100K files are never quoted (a `"` is part of the field); the CSV layout follows RFC 4180.
// A missing or empty u.item or movies.csv loads the ratings without a catalogue, with a warning;
// a directory holding both layouts uses u.data and says so.

/// Reads MovieLens directories or rating files.
public enum MovieLensLoader {
    static let genres100K = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                             "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
                             "Thriller", "War", "Western"]

    /// `path` is a directory holding u.data or ratings.csv, or one of those files.
    public static func load(path: String, options: LoadOptions = LoadOptions()) throws -> Dataset {
        let dir: String
        let file: String
        var bothLayouts = false
        if directoryExists(path) {
            dir = path
            let has100K = InputFile.exists(joinPath(path, "u.data")), hasLatest = InputFile.exists(joinPath(path, "ratings.csv"))
            bothLayouts = has100K && hasLatest
            if has100K { file = "u.data" } else if hasLatest { file = "ratings.csv" } else {
                throw DataError(file: path, problem: .unknownFormat("a MovieLens directory holds u.data or ratings.csv"))
            }
        } else {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            file = String(parts.last ?? "")
            dir = parts.count > 1 ? parts.dropLast().joined(separator: "/") : "."
        }
        let ratingsPath = directoryExists(path) ? joinPath(dir, file) : path
        var dataset = file.hasSuffix(".csv") ? try loadLatest(ratings: ratingsPath, movies: joinPath(dir, "movies.csv"), options: options)
            : try load100K(ratings: ratingsPath, items: joinPath(dir, "u.item"), options: options)
        if bothLayouts {
            dataset.report.warnings.insert("\(path) holds both MovieLens layouts (u.data and ratings.csv); using u.data (100K)", at: 0)
        }
        return dataset
    }

    static func load100K(ratings: String, items: String, options: LoadOptions) throws -> Dataset {
        var layout = PlayLogLayout(user: 0, item: 1, value: 2, timestamp: 3, exactFields: 4)
        layout.userName = "user id"; layout.itemName = "item id"; layout.valueName = "rating"
        var acc = PlayLogAccumulator(format: "movielens", options: options, hasTimestamps: true)
        try acc.read(path: ratings, format: DelimitedFormat(delimiter: 9, quoting: false), layout: layout, options: options)
        let matrix = acc.finish()
        var report = acc.report
        var metadata: [String: CatalogEntry] = [:]
        if try report.companion(items, role: "the MovieLens ratings") {
            report.files.append(items)
            var problems = ProblemLog(lenient: options.lenient)
            try DelimitedReader(path: items, format: DelimitedFormat(delimiter: UInt8(ascii: "|"), quoting: false),
                                maxRecordBytes: options.maxLineBytes).forEachRecord(onBadRecord: { try problems.record($0) }) { rec in
                report.catalogRows += 1
                guard rec.count >= 3 else {
                    try problems.record(DataError(file: items, line: rec.line, column: rec.column(rec.count), problem: .wrongColumnCount(expected: 24, found: rec.count)))
                    return
                }
                let id = rec.trimmedString(0)
                if metadata[id] != nil { report.catalogDuplicates += 1; return }
                let title = rec.string(1)
                let date = rec.string(2)
                let year = Int(date.split(separator: "-").last ?? "") ?? yearInTitle(title)
                var tags: [String] = []
                if rec.count >= 5 + genres100K.count {
                    for (g, name) in genres100K.enumerated() where rec.string(5 + g) == "1" { tags.append(name) }
                }
                metadata[id] = CatalogEntry(title: title, release: date, artist: "", year: year, tags: tags)
            }
            for (k, v) in problems.skipped { report.skipped["catalog_" + k, default: 0] += v }
            report.warnIfEmpty(items, rows: metadata.count, role: "the MovieLens ratings")
        }
        let catalog = Catalog.aligned(items: matrix.items, metadata: metadata, report: &report, keepUnplayed: options.keepUnplayedCatalog)
        return Dataset(name: "movielens", interactions: matrix, catalog: catalog, report: report)
    }

    static func loadLatest(ratings: String, movies: String, options: LoadOptions) throws -> Dataset {
        guard let header = try firstRecordFields(path: ratings, format: .comma) else {
            throw DataError(file: ratings, problem: .emptyFile)
        }
        let names = header.map { $0.trimmingSpaces.lowercased() }
        func col(_ n: String) throws -> Int {
            guard let i = names.firstIndex(of: n) else { throw DataError(file: ratings, line: 1, field: n, problem: .missingColumn(n)) }
            return i
        }
        var layout = PlayLogLayout(user: try col("userid"), item: try col("movieid"), value: try col("rating"),
                                   timestamp: names.firstIndex(of: "timestamp"), exactFields: names.count)
        layout.userName = "userId"; layout.itemName = "movieId"; layout.valueName = "rating"
        var acc = PlayLogAccumulator(format: "movielens", options: options, hasTimestamps: layout.timestamp != nil)
        try acc.read(path: ratings, format: .comma, layout: layout, options: options, isHeader: { _ in true })
        let matrix = acc.finish()
        var report = acc.report
        var metadata: [String: CatalogEntry] = [:]
        if try report.companion(movies, role: "the MovieLens ratings") {
            report.files.append(movies)
            var problems = ProblemLog(lenient: options.lenient)
            var first = true
            try DelimitedReader(path: movies, format: .comma, maxRecordBytes: options.maxLineBytes).forEachRecord(onBadRecord: { try problems.record($0) }) { rec in
                if first {
                    // movies.csv always starts with its header; anything else would be read as a movie.
                    first = false
                    let names = (0..<rec.count).map { rec.trimmedString($0).lowercased() }
                    guard names.count >= 3, names[0] == "movieid", names[1] == "title", names[2] == "genres" else {
                        throw DataError(file: movies, line: rec.line, column: 1, problem: .headerNotRecognised(
                            found: (0..<rec.count).map { rec.string($0) }.joined(separator: ","), expected: "movieId,title,genres"))
                    }
                    return
                }
                report.catalogRows += 1
                guard rec.count >= 3 else {
                    try problems.record(DataError(file: movies, line: rec.line, column: rec.column(rec.count), problem: .wrongColumnCount(expected: 3, found: rec.count)))
                    return
                }
                let id = rec.trimmedString(0)
                if metadata[id] != nil { report.catalogDuplicates += 1; return }
                let title = rec.string(1)
                let genres = rec.string(2).split(separator: "|").map(String.init).filter { $0 != "(no genres listed)" }
                metadata[id] = CatalogEntry(title: title, release: "", artist: "", year: yearInTitle(title), tags: genres)
            }
            for (k, v) in problems.skipped { report.skipped["catalog_" + k, default: 0] += v }
            report.warnIfEmpty(movies, rows: metadata.count, role: "the MovieLens ratings")
        }
        let catalog = Catalog.aligned(items: matrix.items, metadata: metadata, report: &report, keepUnplayed: options.keepUnplayedCatalog)
        return Dataset(name: "movielens", interactions: matrix, catalog: catalog, report: report)
    }

    /// The year in a trailing "(1995)" of a title, or 0.
    static func yearInTitle(_ title: String) -> Int {
        let t = title.trimmingSpaces
        guard t.hasSuffix(")"), let open = t.lastIndex(of: "(") else { return 0 }
        let inner = t[t.index(after: open)..<t.index(before: t.endIndex)]
        guard inner.count == 4, let y = Int(inner) else { return 0 }
        return y
    }
}
