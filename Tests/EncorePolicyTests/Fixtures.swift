import Foundation
@testable import EncoreData

/// A matrix from (user, item, value) triples; ids are "u0", "i0", … in index order.
func matrix(_ rows: [(Int, Int, Float)], users: Int? = nil, items: Int? = nil) -> InteractionMatrix {
    let nu = users ?? ((rows.map(\.0).max() ?? -1) + 1)
    let ni = items ?? ((rows.map(\.1).max() ?? -1) + 1)
    var b = InteractionBuilder()
    for (u, i, v) in rows { b.append(user: Int32(u), item: Int32(i), plays: Double(v)) }
    return b.build(users: IDMap((0..<nu).map { "u\($0)" }), items: IDMap((0..<ni).map { "i\($0)" })).matrix
}

/// The shared Last.fm split and its catalogue; tests fail loudly when ../shared is missing.
enum SharedLastFM {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/lastfm-2k").path
    }

    static func load() throws -> (train: InteractionMatrix, test: InteractionMatrix, catalog: Catalog) {
        let f = try SplitFiles.load(train: root + "/splits/train.tsv", test: root + "/splits/test.tsv", options: LoadOptions(lenient: false, progress: false))
        let d = try DatasetImporter.load(path: root, options: LoadOptions(lenient: false, progress: false))
        var metadata: [String: CatalogEntry] = [:]
        for (j, id) in d.interactions.items.ids.enumerated() { metadata[id] = d.catalog[j] }
        var report = LoadReport(format: "catalogue")
        return (f.train, f.test, Catalog.aligned(items: f.train.items, metadata: metadata, report: &report))
    }
}
