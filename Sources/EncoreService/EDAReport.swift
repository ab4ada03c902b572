// The EDA as terminal text, markdown or one self-contained HTML page with SVG charts.
import EncoreCharts
import EncoreData
import EncorePolicy
import Foundation

/// Renders an ExploratoryAnalysis as terminal text, markdown or HTML.
public enum EDAReport {
    static func overview(_ e: ExploratoryAnalysis) -> [[String]] {
        var rows: [[String]] = [
            ["users", Format.grouped(e.users)], ["songs", Format.grouped(e.items)], ["interactions", Format.grouped(e.interactions)],
            ["total plays", Format.amount(e.totalPlays)], ["sparsity", String(format: "%.5f", e.sparsity)],
            ["Gini of song plays", String(format: "%.3f", e.giniSongPlays)],
            ["plays of the top 1% songs", Format.percent(e.top1PercentShare)], ["plays of the top 10% songs", Format.percent(e.top10PercentShare)],
        ]
        let b = e.engagement
        for level in EngagementLevel.allCases { rows.append(["users: \(levelName(level, b))", Format.grouped(b.counts[level.rawValue] ?? 0)]) }
        return rows
    }

    static func levelName(_ level: EngagementLevel, _ b: EngagementBreakdown) -> String {
        switch level {
        case .coldStart: "cold start (< \(b.coldStartMaxSongs) songs)"
        case .low: "low engagement (< \(Format.amount(b.lowBelowPlays)) plays)"
        case .medium: "medium engagement"
        case .high: "high engagement (≥ \(Format.amount(b.highFromPlays)) plays)"
        }
    }

    static func statisticsTable(_ e: ExploratoryAnalysis) -> TextTable {
        TextTable(header: ["analysis", "count", "mean", "std", "min", "25%", "50%", "75%", "90%", "99%", "max"],
                  rows: e.distributions.map { d in
                      let s = d.statistics
                      return [d.title, Format.grouped(s.count)] + [s.mean, s.std, s.min, s.p25, s.median, s.p75, s.p90, s.p99, s.max].map { Format.number($0) }
                  })
    }

    static func topSongsTable(_ e: ExploratoryAnalysis) -> TextTable {
        TextTable(header: ["song", "artist", "plays", "listeners", "popularity score"],
                  rows: e.topSongs.map { [$0.title.isEmpty ? $0.id : $0.title, $0.artist, Format.amount($0.plays), Format.grouped($0.listeners), String(format: "%.3f", $0.popularityScore)] })
    }

    static func groupTable(_ name: String, _ groups: [RankedGroup]) -> TextTable {
        TextTable(header: [name, "plays", "songs", "listeners"],
                  rows: groups.map { [$0.name, Format.amount($0.plays), Format.grouped($0.songs), Format.grouped($0.listeners)] })
    }

    /// The EDA's tables (overview, the six analyses, top songs, artists and tags), for pages that lay them out themselves.
    public static func tables(_ e: ExploratoryAnalysis) -> [(id: String, title: String, table: TextTable)] {
        var out: [(id: String, title: String, table: TextTable)] = [
            ("overview", "Overview", TextTable(header: ["measure", "value"], rows: overview(e))),
            ("analyses", "The report's six analyses", statisticsTable(e)),
            ("top-songs", "Top songs by total plays", topSongsTable(e)),
        ]
        if !e.topArtists.isEmpty { out.append(("top-artists", "Top artists", groupTable("artist", e.topArtists))) }
        if !e.topTags.isEmpty { out.append(("top-tags", "Top tags", groupTable("tag", e.topTags))) }
        return out
    }

    public static func text(_ e: ExploratoryAnalysis, format: OutputFormat, segments: Segmenter? = nil) -> String {
        var out = ""
        func section(_ title: String, _ t: TextTable) {
            out += format == .markdown ? "\n### \(title)\n\n" : "\n\(title)\n"
            out += t.render(format)
        }
        section("Overview: \(e.name)", TextTable(header: ["measure", "value"], rows: overview(e)))
        section("The report's six analyses", statisticsTable(e))
        section("Top songs by total plays", topSongsTable(e))
        if !e.topArtists.isEmpty { section("Top artists", groupTable("artist", e.topArtists)) }
        if !e.topTags.isEmpty { section("Top tags", groupTable("tag", e.topTags)) }
        if !e.releaseYears.isEmpty {
            let years = e.releaseYears.compactMap { k, v in Int(k).map { ($0, v) } }.sorted { $0.0 < $1.0 }
            var decades: [Int: Int] = [:]
            for (y, n) in years { decades[y / 10 * 10, default: 0] += n }
            section("Release years (songs)", TextTable(header: ["decade", "songs"],
                                                       rows: decades.sorted { $0.key < $1.key }.map { ["\($0.key)s", Format.grouped($0.value)] } + [["unknown", Format.grouped(e.unknownYears)]]))
        }
        if let segments { out += SegmentReport.text(segments, format: format) }
        return out
    }

    public static func html(_ e: ExploratoryAnalysis, dataset: Dataset, segments: Segmenter? = nil) -> String {
        let xLabels = ["user_total_plays": "total plays", "user_unique_songs": "unique songs",
                       "user_average_plays_per_song": "plays per unique song", "song_average_plays_per_listener": "plays per listener",
                       "song_listeners": "listeners", "song_total_plays": "total plays"]
        let charts = e.distributions.map { d -> String in
            var h = Histogram(title: d.title, xLabel: xLabels[d.key] ?? d.key, values: d.values)
            h.logY = true
            return h.svg()
        }
        func table(_ t: TextTable) -> ReportBlock { .table(header: t.header, rows: t.rows) }
        var sections = [
            ReportSection(title: "Overview", blocks: [table(TextTable(header: ["measure", "value"], rows: overview(e)))]),
            ReportSection(title: "The report's six analyses", blocks: [table(statisticsTable(e)), .gallery(charts),
                .paragraph("Skewed distributions are binned on a log axis; counts use a log axis so the long tail stays visible.")]),
            ReportSection(title: "Engagement levels", blocks: [.svg(BarChart(
                title: "Users by engagement level",
                bars: EngagementLevel.allCases.map { (levelName($0, e.engagement), Double(e.engagement.counts[$0.rawValue] ?? 0)) },
                valueLabel: "users").svg())]),
            ReportSection(title: "Top songs", blocks: [table(topSongsTable(e))]),
        ]
        if !e.topArtists.isEmpty {
            sections.append(ReportSection(title: "Top artists", blocks: [
                .svg(BarChart(title: "Top artists by plays", bars: e.topArtists.map { ($0.name, $0.plays) }, valueLabel: "plays").svg()),
                table(groupTable("artist", e.topArtists))]))
        }
        if !e.topTags.isEmpty {
            sections.append(ReportSection(title: "Top tags", blocks: [table(groupTable("tag", e.topTags))]))
        }
        if !e.releaseYears.isEmpty {
            let years = e.releaseYears.compactMap { k, v in Int(k).map { ($0, Double(v)) } }.sorted { $0.0 < $1.0 }
            sections.append(ReportSection(title: "Release years", blocks: [
                .svg(BarChart(title: "Songs per release year", bars: years.map { (String($0.0), $0.1) }, valueLabel: "songs", horizontal: false).svg()),
                .paragraph("\(Format.grouped(e.unknownYears)) songs have an unknown year (0)."),
            ]))
        }
        if let segments { sections.append(SegmentReport.section(segments)) }
        return HTMLReport(title: "Encore EDA: \(e.name)",
                          subtitle: "\(Format.grouped(e.users)) users, \(Format.grouped(e.items)) songs, \(Format.grouped(e.interactions)) interactions",
                          sections: sections).html()
    }
}
