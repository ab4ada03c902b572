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

    /// A top neighbour that another top neighbour also lists stays on the inner ring in its
    /// colour (not grey); only outer nodes with several parents are shared; no two labels overlap.
    @Test func networkKeepsTopNeighboursInnerAndLabelsApart() throws {
        func node(_ i: Int) -> NetworkNode { NetworkNode(id: "n\(i)", label: "A rather long artist name \(i)") }
        // Ten top neighbours; each lists the next top neighbour, a private child and one shared child.
        let graph = NetworkGraph(title: "t", focus: node(0), neighbours: (1...10).map { i in
            (node(i), 1 / Double(i), [(node(i % 10 + 1), 0.5), (node(100 + i), 0.4), (node(200), 0.3)])
        })
        #expect(graph.sharedIDs == ["n200"])
        let svg = graph.svg()
        for i in 1...10 {
            #expect(svg.contains("fill=\"\(SVG.palette[0])\" stroke=\"white\"><title>A rather long artist name \(i)</title>"), "top neighbour \(i) is blue")
        }
        #expect(svg.contains("fill=\"#9e9e9e\" stroke=\"white\"><title>A rather long artist name 200</title>"))
        // Label boxes, from each text's centre, size and length (the layout's own estimate).
        var boxes: [(x: Double, y: Double, w: Double, h: Double)] = []
        for part in svg.components(separatedBy: "<text x=\"").dropFirst() {
            let fields = part.components(separatedBy: "\"")
            guard fields.count > 6, let x = Double(fields[0]), let y = Double(fields[2]), let font = Double(fields[6]),
                  let body = part.components(separatedBy: ">").dropFirst().first?.components(separatedBy: "<").first,
                  part.contains("text-anchor=\"middle\"") else { continue }
            let w = Double(body.count) * font * 0.58
            boxes.append((x - w / 2, y - font * 0.96, w, font * 1.2))
        }
        #expect(boxes.count >= 15)
        for a in boxes.indices { for b in boxes.indices where a < b {
            let (p, q) = (boxes[a], boxes[b])
            #expect(!(p.x < q.x + q.w - 0.5 && q.x < p.x + p.w - 0.5 && p.y < q.y + q.h - 0.5 && q.y < p.y + p.h - 0.5), "labels \(a) and \(b) overlap")
        } }
    }
}
