// Loader for the Million Song Dataset Taste Profile triplets (`train_triplets.txt`):
// `user<TAB>song<TAB>count`, no header, 48,373,586 lines in the full file. Streams in O(bytes).

/// Reads MSD Taste Profile triplet files.
public enum TasteProfileLoader {
    public static let layout: PlayLogLayout = {
        var l = PlayLogLayout(user: 0, item: 1, value: 2, exactFields: 3)
        l.userName = "user"
        l.itemName = "song"
        l.valueName = "count"
        return l
    }()

    /// Loads triplets; `songs` optionally names a `song_data.csv` catalogue.
    public static func load(path: String, songs: String? = nil, options: LoadOptions = LoadOptions()) throws -> Dataset {
        var acc = PlayLogAccumulator(format: "triplets", options: options)
        try acc.read(path: path, format: DelimitedFormat(delimiter: UInt8(ascii: "\t"), quoting: false), layout: layout, options: options,
                     isHeader: { rec in rec.count == 3 && PlayCountParser.parseInteger(rec.rawBytes(2)) == nil && rec.string(2).lowercased().contains("count") })
        let matrix = acc.finish()
        var report = acc.report
        var catalog = Catalog.empty(count: matrix.itemCount)
        if let songs {
            let metadata = try SongCatalogReader.read(path: songs, options: options, report: &report)
            catalog = Catalog.aligned(items: matrix.items, metadata: metadata, report: &report, keepUnplayed: options.keepUnplayedCatalog)
        }
        return Dataset(name: lastPathComponent(path), interactions: matrix, catalog: catalog, report: report)
    }
}
