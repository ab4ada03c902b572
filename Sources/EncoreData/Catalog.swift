// Per-song metadata indexed by the same item index as the InteractionMatrix.

/// Metadata of one song (or artist, or movie, when those play the song's role).
public struct CatalogEntry: Sendable, Equatable, Codable {
    public var title: String
    public var release: String
    public var artist: String
    /// Release year; 0 means unknown.
    public var year: Int
    /// Genre-like tags, most used first.
    public var tags: [String]

    public init(title: String = "", release: String = "", artist: String = "", year: Int = 0, tags: [String] = []) {
        self.title = title
        self.release = release
        self.artist = artist
        self.year = year
        self.tags = tags
    }

    /// Title, release, artist and tags joined, the text content models read.
    public var text: String {
        ([title, release, artist] + tags).filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// The catalogue: one entry per item index.
public struct Catalog: Sendable, Equatable {
    public var entries: [CatalogEntry]
    /// Entries of songs in the catalogue file that nobody played, by external id, when the load
    /// asked for them (`LoadOptions.keepUnplayedCatalog`); snapshots do not keep them.
    public var unplayed: [String: CatalogEntry] = [:]

    public init(entries: [CatalogEntry]) { self.entries = entries }

    /// An empty-metadata catalogue for `count` items.
    public static func empty(count: Int) -> Catalog {
        Catalog(entries: Array(repeating: CatalogEntry(), count: count))
    }

    public var count: Int { entries.count }
    public subscript(i: Int) -> CatalogEntry { entries[i] }

    /// A hash of every entry's title, release, artist, year and tags, in item order: equal for the
    /// same metadata of the same songs.
    public var fingerprint: String {
        var c = Checksum64()
        for e in entries {
            for field in [e.title, e.release, e.artist, String(e.year), e.tags.joined(separator: "|")] {
                c.add(Array(field.utf8) + [0])
            }
            c.add([1])
        }
        return String(c.value, radix: 16)
    }

    /// The entries of the given item indices, in that order.
    public func subset(_ indices: [Int]) -> Catalog { Catalog(entries: indices.map { entries[$0] }) }

    /// A short display name: "Title — Artist" when both exist.
    public func displayName(_ i: Int, fallback: String) -> String {
        let e = entries[i]
        switch (e.title.isEmpty, e.artist.isEmpty) {
        case (false, false) where e.title != e.artist: return "\(e.title) — \(e.artist)"
        case (false, _): return e.title
        case (true, false): return e.artist
        default: return fallback
        }
    }
}

extension Catalog {
    /// Aligns metadata keyed by external item id with the item index of a matrix. Items with no
    /// metadata get an empty entry; metadata for unplayed items is dropped. Both are counted.
    public static func aligned(items: IDMap, metadata: [String: CatalogEntry], report: inout LoadReport, keepUnplayed: Bool = false) -> Catalog {
        var entries: [CatalogEntry] = []
        entries.reserveCapacity(items.count)
        var missing = 0
        for id in items.ids {
            if let e = metadata[id] { entries.append(e) } else {
                entries.append(CatalogEntry())
                missing += 1
            }
        }
        report.itemsWithoutMetadata = missing
        report.catalogOnlyItems = max(0, metadata.count - (items.count - missing))
        var catalog = Catalog(entries: entries)
        if keepUnplayed { catalog.unplayed = metadata.filter { items.index(of: $0.key) == nil } }
        return catalog
    }
}
