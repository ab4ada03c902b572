// A loaded dataset: the play matrix, its catalogue and the report of how it was loaded.

/// What a loader read, merged and skipped.
public struct LoadReport: Sendable, Codable, Equatable {
    public var format: String
    public var files: [String] = []
    public var rowsRead = 0
    public var rowsAccepted = 0
    public var duplicatesMerged = 0
    /// Lenient mode: skipped lines per reason key.
    public var skipped: [String: Int] = [:]
    public var catalogRows = 0
    public var catalogDuplicates = 0
    /// Interacted items without a catalogue entry.
    public var itemsWithoutMetadata = 0
    /// Catalogue entries for items nobody played (not kept).
    public var catalogOnlyItems = 0
    /// Input that was accepted but deserves a look (extra columns, a missing catalogue), one line each.
    public var warnings: [String] = []

    public init(format: String) { self.format = format }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        files = try c.decode([String].self, forKey: .files)
        rowsRead = try c.decode(Int.self, forKey: .rowsRead)
        rowsAccepted = try c.decode(Int.self, forKey: .rowsAccepted)
        duplicatesMerged = try c.decode(Int.self, forKey: .duplicatesMerged)
        skipped = try c.decode([String: Int].self, forKey: .skipped)
        catalogRows = try c.decode(Int.self, forKey: .catalogRows)
        catalogDuplicates = try c.decode(Int.self, forKey: .catalogDuplicates)
        itemsWithoutMetadata = try c.decode(Int.self, forKey: .itemsWithoutMetadata)
        catalogOnlyItems = try c.decode(Int.self, forKey: .catalogOnlyItems)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
    }

    /// Checks a companion (catalogue) file: true when it can be read; false, with a warning, when
    /// it is missing; a directory or a symlink loop is an error.
    mutating func companion(_ path: String, role: String) throws -> Bool {
        guard InputFile.exists(path) else {
            warnings.append("\(path) is missing: loading \(role) without a catalogue")
            return false
        }
        try InputFile.check(path)
        return true
    }

    /// Adds the "no rows" warning when a companion file held nothing usable.
    mutating func warnIfEmpty(_ path: String, rows: Int, role: String) {
        if rows == 0 { warnings.append("\(path) has no rows: loading \(role) without a catalogue") }
    }

    enum CodingKeys: String, CodingKey {
        case format, files
        case rowsRead = "rows_read"
        case rowsAccepted = "rows_accepted"
        case duplicatesMerged = "duplicates_merged"
        case skipped
        case catalogRows = "catalog_rows"
        case catalogDuplicates = "catalog_duplicates"
        case itemsWithoutMetadata = "items_without_metadata"
        case catalogOnlyItems = "catalog_only_items"
        case warnings
    }
}

/// Play matrix + catalogue + load report.
public struct Dataset: Sendable {
    public var name: String
    public var interactions: InteractionMatrix
    public var catalog: Catalog
    public var report: LoadReport
    /// How values were transformed from raw play counts (none unless a command asked).
    public var transform: ValueTransform

    public init(name: String, interactions: InteractionMatrix, catalog: Catalog, report: LoadReport, transform: ValueTransform = .none) {
        precondition(catalog.count == interactions.itemCount, "one catalogue entry per item")
        self.name = name
        self.interactions = interactions
        self.catalog = catalog
        self.report = report
        self.transform = transform
    }
}
