// The clusters page: per side the quality figures, sizes and labels, PCA and t-SNE pictures of
// samples coloured by cluster, and the elbow and silhouette curves of a sweep.
import EncoreCharts
import EncoreEval
import EncoreMath
import Foundation

/// HTML for a cluster analysis.
public enum ClusterReport {
    /// The features of both sides with their k-means results and reports.
    public struct Side {
        public var name: String
        public var features: DenseMatrix
        public var result: KMeansResult
        public var report: ClusterSideReport

        public init(name: String, features: DenseMatrix, result: KMeansResult, report: ClusterSideReport) {
            self.name = name
            self.features = features
            self.result = result
            self.report = report
        }
    }

    public static func html(sides: [Side], sweeps: [String: [SweepPoint]]?, seed: UInt64, tsne: Bool, featuresDescription: String) throws -> String {
        var sections: [ReportSection] = []
        for side in sides {
            let rep = side.report
            let legend = rep.sizes.enumerated().map { "cluster \($0.offset) (\($0.element))" + ((rep.labels?[$0.offset]).map { ": \($0)" } ?? "") }
            let proj = try ClusterAnalysis.project(side.features, labels: side.result.labels, fraction: 0.2, cap: 20_000, seed: seed, tsne: tsne)
            var charts = [ScatterPlot(title: "\(side.name): PCA of a 20% sample", x: proj.pca.x, y: proj.pca.y, groups: proj.pca.clusters, legend: legend).svg()]
            if let t = proj.tsne { charts.append(ScatterPlot(title: "\(side.name): t-SNE of a sample", x: t.x, y: t.y, groups: t.clusters, legend: legend).svg()) }
            let warning = ClusterAnalysis.dominantClusterWarning(sizes: rep.sizes, noun: side.name.lowercased()).map { [ReportBlock.paragraph("Warning: " + $0 + ".")] } ?? []
            sections.append(ReportSection(title: "\(side.name): \(rep.k) clusters", blocks: warning + [
                .paragraph("Silhouette \(String(format: "%.4f", rep.silhouette))\(rep.sampleSize.map { " (on a seeded sample of \($0))" } ?? ""), Davies–Bouldin \(String(format: "%.4f", rep.daviesBouldin)), inertia \(Format.number(rep.inertia))."),
                .table(header: ["cluster", "size", "label"], rows: rep.sizes.enumerated().map { [String($0.offset), Format.grouped($0.element), rep.labels?[$0.offset] ?? ""] }),
                .gallery(charts),
            ]))
        }
        if let sweeps {
            var charts: [String] = []
            for (key, points) in sweeps.sorted(by: { $0.key > $1.key }) {
                let name = key == "items" ? "songs" : key
                let ks = points.map { Double($0.k) }
                charts.append(LineChart(title: "Elbow (\(name))", xLabel: "k", yLabel: "inertia", x: ks, series: [("inertia", points.map(\.inertia))]).svg())
                // One panel each: silhouette (−1…1, higher is better) and Davies–Bouldin (≥ 0, lower
                // is better) live on different scales.
                charts.append(LineChart(title: "Silhouette (\(name); higher is better)", xLabel: "k", yLabel: "silhouette", x: ks,
                                        series: [("silhouette", points.map(\.silhouette))]).svg())
                charts.append(LineChart(title: "Davies–Bouldin (\(name); lower is better)", xLabel: "k", yLabel: "Davies–Bouldin", x: ks,
                                        series: [("Davies–Bouldin", points.map(\.daviesBouldin))]).svg())
            }
            sections.append(ReportSection(title: "Choosing k", blocks: [.gallery(charts)]))
        }
        let users = sides.first?.features.rows ?? 0, songs = sides.count > 1 ? sides[1].features.rows : 0
        return HTMLReport(title: "Encore clusters", subtitle: "\(users) users and \(songs) songs; features: \(featuresDescription)", sections: sections).html()
    }
}
