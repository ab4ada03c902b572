// Loader for the report's course files: `count_data.csv` (`,user_id,song_id,play_count`, with a
// leading unnamed index column) and `song_data.csv` (`song_id,title,release,artist_name,year`).
// Column positions are taken from the header, so files without the index column load too.

/// Reads `count_data.csv` and its `song_data.csv` catalogue.
public enum CourseFilesLoader {
    public static func load(counts: String, songs: String?, options: LoadOptions = LoadOptions()) throws -> Dataset {
        let layout = try countLayout(path: counts)
        var acc = PlayLogAccumulator(format: "course", options: options)
        try acc.read(path: counts, format: .comma, layout: layout.layout, options: options, isHeader: { _ in layout.hasHeader })
        let matrix = acc.finish()
        var report = acc.report
        var catalog = Catalog.empty(count: matrix.itemCount)
        if let songs {
            let metadata = try SongCatalogReader.read(path: songs, options: options, report: &report)
            catalog = Catalog.aligned(items: matrix.items, metadata: metadata, report: &report, keepUnplayed: options.keepUnplayedCatalog)
        }
        return Dataset(name: lastPathComponent(counts), interactions: matrix, catalog: catalog, report: report)
    }

    /// Finds user_id, song_id and play_count in the header; without a header assumes the
    /// course layout (index, user, song, count).
    static func countLayout(path: String) throws -> (layout: PlayLogLayout, hasHeader: Bool) {
        guard let header = try firstRecordFields(path: path, format: .comma) else {
            throw DataError(file: path, problem: .emptyFile)
        }
        let names = header.map { $0.trimmingSpaces.lowercased() }
        if let u = names.firstIndex(of: "user_id"), let s = names.firstIndex(of: "song_id") {
            guard let c = names.firstIndex(of: "play_count") else {
                throw DataError(file: path, line: 1, field: "play_count", problem: .missingColumn("play_count"))
            }
            var l = PlayLogLayout(user: u, item: s, value: c, exactFields: names.count)
            l.userName = "user_id"; l.itemName = "song_id"; l.valueName = "play_count"
            return (l, true)
        }
        let n = header.count
        guard n == 3 || n == 4 else {
            throw DataError(file: path, line: 1, problem: .wrongColumnCount(expected: 4, found: n))
        }
        let offset = n == 4 ? 1 : 0
        var l = PlayLogLayout(user: offset, item: offset + 1, value: offset + 2, exactFields: n)
        l.userName = "user_id"; l.itemName = "song_id"; l.valueName = "play_count"
        return (l, false)
    }
}

/// Reads `song_data.csv`-style catalogues: song_id, title, release, artist_name, year, and
/// optionally tags (`|`- or `;`-separated). A repeated song id keeps its first row.
public enum SongCatalogReader {
    public static func read(path: String, options: LoadOptions, report: inout LoadReport) throws -> [String: CatalogEntry] {
        guard let header = try firstRecordFields(path: path, format: .comma) else {
            throw DataError(file: path, problem: .emptyFile)
        }
        let names = header.map { $0.trimmingSpaces.lowercased() }
        func column(_ candidates: [String], required: Bool) throws -> Int? {
            for c in candidates { if let i = names.firstIndex(of: c) { return i } }
            if required { throw DataError(file: path, line: 1, field: candidates[0], problem: .missingColumn(candidates[0])) }
            return nil
        }
        let idCol = try column(["song_id", "item", "id"], required: true)!
        let titleCol = try column(["title"], required: false)
        let releaseCol = try column(["release", "album"], required: false)
        let artistCol = try column(["artist_name", "artist"], required: false)
        let yearCol = try column(["year"], required: false)
        let tagsCol = try column(["tags", "genre", "genres"], required: false)
        var problems = ProblemLog(lenient: options.lenient)
        var metadata: [String: CatalogEntry] = [:]
        let reader = try DelimitedReader(path: path, format: .comma, maxRecordBytes: options.maxLineBytes)
        report.files.append(path)
        var first = true
        try reader.forEachRecord(onBadRecord: { try problems.record($0) }) { rec in
            if first { first = false; return }
            report.catalogRows += 1
            guard rec.count == names.count else {
                try problems.record(DataError(file: path, line: rec.line, column: rec.column(min(rec.count, names.count)),
                                              problem: .wrongColumnCount(expected: names.count, found: rec.count)))
                return
            }
            let id = rec.trimmedString(idCol)
            guard !id.utf8.contains(0) else {
                try problems.record(DataError(file: path, line: rec.line, column: rec.column(idCol), field: names[idCol], problem: .nulInIdentifier))
                return
            }
            guard !id.isEmpty else {
                try problems.record(DataError(file: path, line: rec.line, column: rec.column(idCol), field: names[idCol], problem: .emptyIdentifier))
                return
            }
            var year = 0
            if let yc = yearCol {
                let raw = rec.rawBytes(yc)
                if !isBlank(raw) {
                    if let y = PlayCountParser.parseInteger(raw), y >= 0, y < 10_000 { year = Int(y) } else if let d = Double(rec.trimmedString(yc)), d >= 0, d < 10_000, d == d.rounded() {
                        year = Int(d)
                    } else {
                        try problems.record(DataError(file: path, line: rec.line, column: rec.column(yc), field: "year", problem: .invalidYear(rec.string(yc))))
                        return
                    }
                }
            }
            if metadata[id] != nil {
                report.catalogDuplicates += 1
                return
            }
            var tags: [String] = []
            if let tc = tagsCol {
                tags = rec.string(tc).split(whereSeparator: { $0 == "|" || $0 == ";" }).map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
            }
            metadata[id] = CatalogEntry(title: titleCol.map { rec.string($0) } ?? "",
                                        release: releaseCol.map { rec.string($0) } ?? "",
                                        artist: artistCol.map { rec.string($0) } ?? "",
                                        year: year, tags: tags)
        }
        for (k, v) in problems.skipped { report.skipped["catalog_" + k, default: 0] += v }
        return metadata
    }
}

/// The fields of a file's first record, or nil when it has none.
func firstRecordFields(path: String, format: DelimitedFormat) throws -> [String]? {
    let reader = try DelimitedReader(path: path, format: format, blockSize: 1 << 16)
    var fields: [String]?
    struct Stop: Error {}
    do {
        try reader.forEachRecord { rec in
            fields = (0..<rec.count).map { rec.string($0) }
            throw Stop()
        }
    } catch is Stop {}
    return fields
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
