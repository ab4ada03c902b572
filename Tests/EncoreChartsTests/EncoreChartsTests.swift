import Testing
@testable import EncoreCharts

@Suite struct ChartTests {
    @Test func histogramCountsEveryValueOnce() {
        var h = Histogram(title: "t", xLabel: "x", values: [1, 2, 2, 3, 4, 5, 5, 5, 9, 10])
        h.bins = 3
        let (edges, counts) = h.binned()
        #expect(counts.reduce(0, +) == 10)
        #expect(edges.count == 4)
        #expect(edges.first == 1 && edges.last == 10)
        #expect(counts == [4, 4, 2])  // [1,4) [4,7) [7,10]
        #expect(!h.usesLogX)
    }

    @Test func skewedDataUsesALogAxis() {
        let values = (0..<1000).map { Double($0 % 10 + 1) } + [100_000]
        let h = Histogram(title: "skewed", xLabel: "plays", values: values)
        #expect(h.usesLogX)
        let svg = h.svg()
        #expect(svg.contains("(log scale)"))
        #expect(svg.hasPrefix("<svg"))
    }

    @Test func textIsEscaped() {
        #expect(SVG.escape("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;")
        let chart = BarChart(title: "AC/DC & <Friends>", bars: [("Guns N' Roses", 3)], valueLabel: "plays").svg()
        #expect(chart.contains("AC/DC &amp; &lt;Friends&gt;"))
        #expect(!chart.contains("<Friends>"))
    }

    @Test func reportIsSelfContained() {
        let r = HTMLReport(title: "R", sections: [ReportSection(title: "S", blocks: [.table(header: ["a"], rows: [["<x>"]]), .svg("<svg></svg>")])])
        let html = r.html()
        #expect(html.contains("<h2>S</h2>"))
        #expect(html.contains("&lt;x&gt;"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<link"))
    }

    @Test func ticksAreRoundAndCoverTheRange() {
        #expect(SVG.ticks(0, 100, count: 5) == [0, 20, 40, 60, 80, 100])
        #expect(SVG.label(12_345) == "12.3k")
        #expect(SVG.label(2_500_000) == "2.5M")
    }
}
