import ArgumentParser
import EncoreCharts
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
import Foundation

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
        @Option(help: "Output: table or json.") var format: OutputFormat = .table

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
            let (ur, userReport) = try ClusterAnalysis.side(f.users, k: userClusters, nInit: nInit, seed: clusterSeed)
            let (ir, firstItemReport) = try ClusterAnalysis.side(f.items, k: itemClusters, nInit: nInit, seed: clusterSeed ^ 0x1715)
            var itemReport = firstItemReport
            if let catalog = raw.catalog {
                itemReport.labels = ClusterAnalysis.labels(itemLabels: ir.labels, itemIndex: f.itemIndex, k: itemClusters, train: raw.train, catalog: catalog)
            }
            var sweeps: [String: [SweepPoint]]? = nil
            if let range {
                let bar = ProgressReporter(label: "sweeping k", total: 2)
                let u = try ClusterAnalysis.sweep(f.users, range: range, nInit: nInit, seed: clusterSeed)
                bar.update(1)
                let i = try ClusterAnalysis.sweep(f.items, range: range, nInit: nInit, seed: clusterSeed)
                bar.finish()
                sweeps = ["users": u, "items": i]
            }
            if let report {
                try writeText(html(f: f, ur: ur, ir: ir, users: userReport, items: itemReport, sweeps: sweeps), to: report, inputs: options.inputPaths)
                note("wrote \(report)")
            }
            if format == .json { print(try jsonString(Output(users: userReport, items: itemReport, sweep: sweeps))); return }
            for (name, r) in [("users", userReport), ("songs", itemReport)] {
                print("\(name): k \(r.k), silhouette \(String(format: "%.4f", r.silhouette))\(r.sampleSize.map { " (sample of \($0))" } ?? ""), Davies–Bouldin \(String(format: "%.4f", r.daviesBouldin)), inertia \(Format.number(r.inertia))")
                print(TextTable(header: ["cluster", "size", "label"], rows: r.sizes.enumerated().map { [String($0.offset), Format.grouped($0.element), r.labels?[$0.offset] ?? ""] }).text())
            }
            if let sweeps {
                for (name, points) in sweeps.sorted(by: { $0.key > $1.key }) {
                    print("sweep (\(name))")
                    print(TextTable(header: ["k", "inertia", "silhouette", "Davies–Bouldin"],
                                    rows: points.map { [String($0.k), Format.number($0.inertia), String(format: "%.4f", $0.silhouette), String(format: "%.4f", $0.daviesBouldin)] }).text())
                }
            }
        }

        func html(f: (users: DenseMatrix, userIndex: [Int], items: DenseMatrix, itemIndex: [Int]), ur: KMeansResult, ir: KMeansResult,
                  users: ClusterSideReport, items: ClusterSideReport, sweeps: [String: [SweepPoint]]?) throws -> String {
            var sections: [ReportSection] = []
            for (name, x, r, rep) in [("Users", f.users, ur, users), ("Songs", f.items, ir, items)] {
                let legend = rep.sizes.enumerated().map { "cluster \($0.offset) (\($0.element))" + ((rep.labels?[$0.offset]).map { ": \($0)" } ?? "") }
                let proj = try ClusterAnalysis.project(x, labels: r.labels, fraction: 0.2, cap: 20_000, seed: clusterSeed, tsne: !noTSNE)
                var charts = [ScatterPlot(title: "\(name): PCA of a 20% sample", x: proj.pca.x, y: proj.pca.y, groups: proj.pca.clusters, legend: legend).svg()]
                if let t = proj.tsne { charts.append(ScatterPlot(title: "\(name): t-SNE of a sample", x: t.x, y: t.y, groups: t.clusters, legend: legend).svg()) }
                sections.append(ReportSection(title: "\(name): \(rep.k) clusters", blocks: [
                    .paragraph("Silhouette \(String(format: "%.4f", rep.silhouette))\(rep.sampleSize.map { " (on a seeded sample of \($0))" } ?? ""), Davies–Bouldin \(String(format: "%.4f", rep.daviesBouldin)), inertia \(Format.number(rep.inertia))."),
                    .table(header: ["cluster", "size", "label"], rows: rep.sizes.enumerated().map { [String($0.offset), Format.grouped($0.element), rep.labels?[$0.offset] ?? ""] }),
                    .gallery(charts),
                ]))
            }
            if let sweeps {
                var charts: [String] = []
                for (name, points) in sweeps.sorted(by: { $0.key > $1.key }) {
                    let ks = points.map { Double($0.k) }
                    charts.append(LineChart(title: "Elbow (\(name))", xLabel: "k", yLabel: "inertia", x: ks, series: [("inertia", points.map(\.inertia))]).svg())
                    charts.append(LineChart(title: "Silhouette and Davies–Bouldin (\(name))", xLabel: "k", yLabel: "score", x: ks,
                                            series: [("silhouette", points.map(\.silhouette)), ("Davies–Bouldin", points.map(\.daviesBouldin))]).svg())
                }
                sections.append(ReportSection(title: "Choosing k", blocks: [.gallery(charts)]))
            }
            return HTMLReport(title: "Encore clusters", subtitle: "\(f.users.rows) users and \(f.items.rows) songs; features: \(dimensions == 0 ? "raw log1p rows" : "\(dimensions)-dimensional truncated SVD of log1p plays")", sections: sections).html()
        }
    }
}
