import ArgumentParser
import EncoreCharts
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
import Foundation
import EncoreService

extension Encore {
    struct Clusters: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "k-means of users and songs: silhouette, Davies–Bouldin, sizes, labels; --sweep for elbow curves; PCA and t-SNE pictures.")

        @Argument(help: "A snapshot or any dataset path (or use --train).") var path: String?
        @OptionGroup var data: TrainingDataOptions
        @Option(name: .customLong("user-clusters"), parsing: .unconditional, help: "User clusters (the report's optimised: 7).") var userClusters: Int = 7
        @Option(name: .customLong("item-clusters"), parsing: .unconditional, help: "Song clusters (the report's optimised: 5).") var itemClusters: Int = 5
        @Option(name: .customLong("n-init"), parsing: .unconditional, help: "k-means restarts.") var nInit: Int = 10
        @Option(parsing: .unconditional, help: "Truncated-SVD dimensions of the features (0: raw rows).") var dimensions: Int = 64
        @Option(name: .customLong("cluster-seed"), parsing: .unconditional, help: "Seed of k-means, samples and projections.") var clusterSeed: UInt64 = 42
        @Option(help: "Sweep k over a range, e.g. 2..15, for users and songs.") var sweep: String?
        @Option(help: "Write an HTML report with the curves and the PCA and t-SNE pictures.") var report: String?
        @Flag(name: .customLong("no-tsne"), help: "Skip the t-SNE pictures.") var noTSNE = false
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

        struct Output: Encodable {
            var users: ClusterSideReport
            var items: ClusterSideReport
            var sweep: [String: [SweepPoint]]?
        }

        func run() throws {
            guard userClusters > 0, itemClusters > 0 else { throw UsageError("cluster counts must be positive") }
            guard nInit > 0 else { throw UsageError("--n-init must be positive") }
            var range: ClosedRange<Int>? = nil
            if let sweep {
                let parts = sweep.components(separatedBy: "..")
                guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 2, a <= b else {
                    throw UsageError("--sweep takes a range like 2..15 (from at least 2)")
                }
                range = a...b
            }
            var options = data
            if let path {
                guard data.data == nil, data.train == nil else { throw UsageError("give the dataset once: a path, --data or --train") }
                options.data = path
            }
            if let report { try AtomicFile.checkOutput(report, inputs: options.inputPaths) }
            let raw = try options.loadRaw(requireTest: false)
            let train = raw.train.mapValues(.log1p)
            let f = try ClusterAnalysis.features(train, dimensions: dimensions, seed: clusterSeed)
            guard userClusters < f.users.rows else { throw UsageError("--user-clusters (\(userClusters)) must be below the number of users with plays (\(f.users.rows))") }
            guard itemClusters < f.items.rows else { throw UsageError("--item-clusters (\(itemClusters)) must be below the number of songs with plays (\(f.items.rows))") }
            // Songs are clustered with a seed of their own; their sweep uses the same one, so the
            // sweep and the headline agree at the same k.
            let itemSeed = clusterSeed ^ 0x1715
            let (ur, userReport) = try ElapsedTicker.run("k-means of \(f.users.rows) users (k \(userClusters), \(nInit) starts)") {
                try ClusterAnalysis.side(f.users, k: userClusters, nInit: nInit, seed: clusterSeed)
            }
            let (ir, firstItemReport) = try ElapsedTicker.run("k-means of \(f.items.rows) songs (k \(itemClusters), \(nInit) starts)") {
                try ClusterAnalysis.side(f.items, k: itemClusters, nInit: nInit, seed: itemSeed)
            }
            for (name, r) in [("users", userReport), ("songs", firstItemReport)] {
                if let w = ClusterAnalysis.dominantClusterWarning(sizes: r.sizes, noun: name) { note("warning: " + w) }
            }
            var itemReport = firstItemReport
            if let catalog = raw.catalog {
                itemReport.labels = ClusterAnalysis.labels(itemLabels: ir.labels, itemIndex: f.itemIndex, k: itemClusters, train: raw.train, catalog: catalog)
            }
            var sweeps: [String: [SweepPoint]]? = nil
            if let range {
                let u = try ElapsedTicker.run("sweeping k \(range.lowerBound)…\(range.upperBound) for users") {
                    try ClusterAnalysis.sweep(f.users, range: range, nInit: nInit, seed: clusterSeed)
                }
                let i = try ElapsedTicker.run("sweeping k \(range.lowerBound)…\(range.upperBound) for songs") {
                    try ClusterAnalysis.sweep(f.items, range: range, nInit: nInit, seed: itemSeed)
                }
                sweeps = ["users": u, "items": i]
            }
            if let report {
                let html = try ClusterReport.html(
                    sides: [ClusterReport.Side(name: "Users", features: f.users, result: ur, report: userReport),
                            ClusterReport.Side(name: "Songs", features: f.items, result: ir, report: itemReport)],
                    sweeps: sweeps, seed: clusterSeed, tsne: !noTSNE,
                    featuresDescription: dimensions == 0 ? "raw log1p rows" : "\(dimensions)-dimensional truncated SVD of log1p plays")
                try writeText(html, to: report, inputs: options.inputPaths)
                note("wrote \(report)")
            }
            if format == .json { print(try jsonString(Output(users: userReport, items: itemReport, sweep: sweeps))); return }
            for (name, r) in [("users", userReport), ("songs", itemReport)] {
                print("\(name): k \(r.k), silhouette \(String(format: "%.4f", r.silhouette))\(r.sampleSize.map { " (sample of \($0))" } ?? ""), Davies–Bouldin \(String(format: "%.4f", r.daviesBouldin)), inertia \(Format.number(r.inertia))")
                print(TextTable(header: ["cluster", "size", "label"], rows: r.sizes.enumerated().map { [String($0.offset), Format.grouped($0.element), r.labels?[$0.offset] ?? ""] }).render(format))
            }
            if let sweeps {
                for (name, points) in sweeps.sorted(by: { $0.key > $1.key }) {
                    print("sweep (\(name))")
                    print(TextTable(header: ["k", "inertia", "silhouette", "Davies–Bouldin"],
                                    rows: points.map { [String($0.k), Format.number($0.inertia), String(format: "%.4f", $0.silhouette), String(format: "%.4f", $0.daviesBouldin)] }).render(format))
                }
            }
        }
    }
}
