import Foundation
@testable import EncoreData

/// A matrix from (user, item, value) triples; ids are "u0", "i0", … in first-seen order.
func matrix(_ rows: [(Int, Int, Float)], users: Int? = nil, items: Int? = nil) -> InteractionMatrix {
    let nu = users ?? ((rows.map(\.0).max() ?? -1) + 1)
    let ni = items ?? ((rows.map(\.1).max() ?? -1) + 1)
    var b = InteractionBuilder()
    for (u, i, v) in rows { b.append(user: Int32(u), item: Int32(i), plays: Double(v)) }
    return b.build(users: IDMap((0..<nu).map { "u\($0)" }), items: IDMap((0..<ni).map { "i\($0)" })).matrix
}

/// The hand-computed 4 × 5 example of the similarity tests:
///        i0 i1 i2 i3 i4
///   u0:   1  2  ·  4  ·
///   u1:   2  ·  3  5  1
///   u2:   ·  4  1  ·  2
///   u3:   3  1  ·  ·  5
let handMatrix = matrix([(0, 0, 1), (0, 1, 2), (0, 3, 4),
                         (1, 0, 2), (1, 2, 3), (1, 3, 5), (1, 4, 1),
                         (2, 1, 4), (2, 2, 1), (2, 4, 2),
                         (3, 0, 3), (3, 1, 1), (3, 4, 5)])

enum SharedSplit {
    static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/lastfm-2k/splits").path
    }

    /// The shared lastfm split, on the log1p scale unless told otherwise.
    static func load(transform: ValueTransform = .log1p) throws -> (train: InteractionMatrix, test: InteractionMatrix) {
        let f = try SplitFiles.load(train: directory + "/train.tsv", test: directory + "/test.tsv", options: LoadOptions(lenient: false, progress: false))
        return (f.train.mapValues(transform), f.test.mapValues(transform))
    }
}
