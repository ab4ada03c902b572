// The segments as people read them: each segment's size and thresholds, and the distribution of
// the values that place users there; for `encore segments` and the EDA report.
import EncoreCharts
import EncoreData
import EncoreMath
import EncorePolicy

/// Tables and charts of a segmentation.
public enum SegmentReport {
    /// One row per segment: users, share, rule.
    public static func sizes(_ s: Segmenter) -> TextTable {
        let sizes = s.sizes
        let total = max(s.segments.count, 1)
        func n(_ x: Double) -> String { Format.number(x, digits: 1) }
        let rules: [Segment: String] = [
            .coldStart: "fewer than \(s.rules.coldMaxSongs) songs",
            .lowEngagement: "total plays below \(n(s.lowEngagementPlays))" + (s.rules.lowEngagementPlays == nil ? " (\(n(s.rules.lowEngagementPercentile))th percentile)" : ""),
            .lowDiscovery: "mean popularity percentile of their songs ≥ \(n(s.lowDiscoveryPopularity))" + (s.rules.lowDiscoveryPopularity == nil ? " (\(n(s.rules.lowDiscoveryPercentile))th percentile)" : ""),
            .regular: "everyone else",
        ]
        return TextTable(header: ["segment", "users", "share", "rule (checked in this order)"], rows: Segment.allCases.map {
            [$0.rawValue, Format.grouped(sizes[$0] ?? 0), Format.number(100 * Double(sizes[$0] ?? 0) / Double(total), digits: 1) + "%", rules[$0] ?? ""]
        })
    }

    /// Quartiles of each value per segment.
    public static func distributions(_ s: Segmenter) -> TextTable {
        var rows: [[String]] = []
        for seg in Segment.allCases {
            let members = s.segments.indices.filter { s.segments[$0] == seg }.map { s.userValues[$0] }
            guard !members.isEmpty else { continue }
            for (name, values, digits) in [("songs", members.map { Double($0.songs) }, 0), ("plays", members.map(\.plays), 0),
                                           ("popularity percentile", members.map(\.popularityPercentile), 1), ("top-10% share", members.map(\.topShare), 3)] {
                let v = values.sorted()
                rows.append([seg.rawValue, name] + [0, 0.25, 0.5, 0.75, 1].map { Format.number(DescriptiveStatistics.quantile(sorted: v, $0), digits: digits) })
            }
        }
        return TextTable(header: ["segment", "value", "min", "p25", "median", "p75", "max"], rows: rows)
    }

    /// Users per segment as a bar chart.
    public static func chart(_ s: Segmenter) -> String {
        let sizes = s.sizes
        return BarChart(title: "Users by segment", bars: Segment.allCases.map { ($0.label, Double(sizes[$0] ?? 0)) }, valueLabel: "users").svg()
    }

    /// Both tables as text (the segments command and the EDA report).
    public static func text(_ s: Segmenter, format: OutputFormat) -> String {
        var out = ""
        for (title, t) in [("Segments", sizes(s)), ("Values per segment (quartiles)", distributions(s))] {
            out += format == .markdown ? "\n### \(title)\n\n" : "\n\(title)\n"
            out += t.render(format)
        }
        return out
    }

    /// The EDA report's segments section.
    public static func section(_ s: Segmenter) -> ReportSection {
        ReportSection(title: "Segments", blocks: [
            .svg(chart(s)), .table(header: sizes(s).header, rows: sizes(s).rows), .table(header: distributions(s).header, rows: distributions(s).rows),
            .paragraph("A song's popularity percentile is the share of played songs with fewer listeners; low discovery means a history concentrated on popular songs."),
        ])
    }
}
