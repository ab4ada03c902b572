// What `encore clusters` reports: k-means of users and songs on the hybrid model's features,
// their silhouette (sampled past 20,000 points) and Davies–Bouldin index, inertia and sizes; a
// sweep of k with the elbow and silhouette curves; 2-D PCA and t-SNE projections of seeded
// samples; and, with a catalogue, each song cluster's top artists and tags.
import EncoreData
import EncoreMath
import EncoreModels
import Foundation

/// Quality of one side's clustering (JSON keys as the command contract).
public struct ClusterSideReport: Encodable, Sendable {
    public var k: Int
    public var silhouette: Double
    public var daviesBouldin: Double
    public var inertia: Double
    public var sizes: [Int]
    public var sampleSize: Int?
    public var labels: [String]?

    enum CodingKeys: String, CodingKey {
        case k, silhouette
        case daviesBouldin = "davies_bouldin"
        case inertia, sizes
        case sampleSize = "sample_size"
        case labels
    }
}

/// One k of a sweep.
public struct SweepPoint: Encodable, Sendable {
    public var k: Int
    public var inertia: Double
    public var silhouette: Double
    public var daviesBouldin: Double
    enum CodingKeys: String, CodingKey {
        case k, inertia, silhouette
        case daviesBouldin = "davies_bouldin"
    }
}

/// 2-D coordinates of a sample of points with their clusters.
public struct Projection: Sendable {
    public var x: [Double]
    public var y: [Double]
    public var clusters: [Int]
}

/// The clustering analysis.
public enum ClusterAnalysis {
    /// Features of users (rows) and songs (columns) with plays, and which matrix indices they are.
    public static func features(_ train: InteractionMatrix, dimensions: Int, seed: UInt64) throws
        -> (users: DenseMatrix, userIndex: [Int], items: DenseMatrix, itemIndex: [Int]) {
        let users = (0..<train.userCount).filter { !train.rowRange($0).isEmpty }
        let degrees = train.itemDegrees()
        let items = (0..<train.itemCount).filter { degrees[$0] > 0 }
        guard users.count >= 2, items.count >= 2 else { throw ClusteringError("clustering needs at least 2 users and 2 songs with plays") }
        let u = try ClusterFeatures.rows(train, dimensions: dimensions, seed: seed).rows(users)
        let i = try ClusterFeatures.rows(train.transposed, dimensions: dimensions, seed: seed).rows(items)
        return (u, users, i, items)
    }

    public static func side(_ x: DenseMatrix, k: Int, nInit: Int, seed: UInt64) throws -> (KMeansResult, ClusterSideReport) {
        let r = try KMeans.fit(x, configuration: KMeansConfiguration(k: k, nInit: nInit, seed: seed))
        let s = k >= 2 ? try ClusterQuality.silhouette(x, labels: r.labels, seed: seed) : ClusterQuality.Silhouette(score: .nan, sampleSize: x.rows, sampled: false)
        let db = k >= 2 ? try ClusterQuality.daviesBouldin(x, labels: r.labels) : .nan
        return (r, ClusterSideReport(k: k, silhouette: s.score, daviesBouldin: db, inertia: r.inertia, sizes: r.sizes,
                                     sampleSize: s.sampled ? s.sampleSize : nil, labels: nil))
    }

    /// A warning when one cluster holds more than 90% of the points (the clusters hardly separate
    /// them: on Last.fm's artists, 17,327 of 17,632 at k 5); nil otherwise.
    public static func dominantClusterWarning(sizes: [Int], noun: String) -> String? {
        let total = sizes.reduce(0, +)
        guard let largest = sizes.max(), total > 0, Double(largest) > 0.9 * Double(total) else { return nil }
        return "one cluster holds \(largest) of the \(total) \(noun) (\(Int((100 * Double(largest) / Double(total)).rounded()))%): the clusters hardly separate them; try --dimensions or another k"
    }

    public static func sweep(_ x: DenseMatrix, range: ClosedRange<Int>, nInit: Int, seed: UInt64) throws -> [SweepPoint] {
        guard range.lowerBound >= 2 else { throw ClusteringError("a sweep starts at k = 2 or more") }
        guard range.upperBound < x.rows else { throw ClusteringError("the sweep's largest k (\(range.upperBound)) must be below the number of points (\(x.rows))") }
        return try range.map { k in
            let (_, r) = try side(x, k: k, nInit: nInit, seed: seed)
            return SweepPoint(k: k, inertia: r.inertia, silhouette: r.silhouette, daviesBouldin: r.daviesBouldin)
        }
    }

    /// PCA (and, when `tsne`, t-SNE) coordinates of a seeded sample of `fraction` of the points (at most `cap`).
    public static func project(_ x: DenseMatrix, labels: [Int32], fraction: Double, cap: Int, seed: UInt64, tsne: Bool) throws -> (pca: Projection, tsne: Projection?) {
        var rng = SeededGenerator(seed: seed)
        var order = Array(0..<x.rows)
        rng.shuffle(&order)
        let n = max(3, min(cap, Int((Double(x.rows) * fraction).rounded())))
        let sample = Array(order.prefix(min(n, x.rows))).sorted()
        let sx = x.rows(sample)
        let pca = try RandomizedPCA.fit(sx, components: min(2, sx.columns), seed: seed)
        let p = Projection(x: (0..<sample.count).map { Double(pca.projection[$0, 0]) },
                           y: (0..<sample.count).map { pca.projection.columns > 1 ? Double(pca.projection[$0, 1]) : 0 },
                           clusters: sample.map { Int(labels[$0]) })
        var t: Projection? = nil
        if tsne {
            var c = TSNEConfiguration()
            c.seed = seed
            let tsx = sample.count > 1_500 ? sx.rows(Array(0..<1_500)) : sx
            // A small sample takes a smaller perplexity (it must stay below the point count; a
            // third of it keeps each neighbourhood a minority of the points).
            c.perplexity = min(c.perplexity, max(1, Double(tsx.rows - 1) / 3))
            let e = try TSNE.embed(tsx, configuration: c)
            t = Projection(x: (0..<e.rows).map { Double(e[$0, 0]) }, y: (0..<e.rows).map { Double(e[$0, 1]) },
                           clusters: sample.prefix(e.rows).map { Int(labels[$0]) })
        }
        return (p, t)
    }

    /// "metal, rock · Metallica, Iron Maiden": each song cluster's top tags and artists by plays.
    public static func labels(itemLabels: [Int32], itemIndex: [Int], k: Int, train: InteractionMatrix, catalog: Catalog, top: Int = 3) -> [String] {
        let totals = train.itemTotals()
        var tagPlays = [[String: Double]](repeating: [:], count: k)
        var artistPlays = [[String: Double]](repeating: [:], count: k)
        for (n, i) in itemIndex.enumerated() {
            let c = Int(itemLabels[n])
            let e = catalog[i]
            if !e.artist.isEmpty { artistPlays[c][e.artist, default: 0] += totals[i] }
            for t in e.tags { tagPlays[c][t, default: 0] += totals[i] }
        }
        func best(_ d: [String: Double]) -> [String] { d.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(top).map(\.key) }
        return (0..<k).map { c in
            let tags = best(tagPlays[c]), artists = best(artistPlays[c])
            return [tags.joined(separator: ", "), artists.joined(separator: ", ")].filter { !$0.isEmpty }.joined(separator: " · ")
        }
    }
}
