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

    public init(format: String) { self.format = format }

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
