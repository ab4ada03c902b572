// A 2-D scatter plot as SVG, points coloured by group, with a legend that shows each group's
// label and size (the report's PCA and t-SNE cluster pictures).
import Foundation

/// Points coloured by group.
public struct ScatterPlot: Sendable {
    public var title: String
    public var x: [Double]
    public var y: [Double]
    public var groups: [Int]
    /// Legend text per group (e.g. "cluster 3 (412): metal, Metallica").
    public var legend: [String]
    public var size: Double = 520
    /// Axis titles and tick values at the ends (a projection's axes have no units: leave them empty).
    public var xLabel = ""
    public var yLabel = ""

    public init(title: String, x: [Double], y: [Double], groups: [Int], legend: [String]) {
        precondition(x.count == y.count && y.count == groups.count, "one group per point")
        self.title = title
        self.x = x
        self.y = y
        self.groups = groups
        self.legend = legend
    }

    public func svg() -> String {
        let legendWidth = 230.0
        let width = size + legendWidth, height = size
        let pad = 30.0
        let finite = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        let minX = finite.map(\.0).min() ?? 0, maxX = finite.map(\.0).max() ?? 1
        let minY = finite.map(\.1).min() ?? 0, maxY = finite.map(\.1).max() ?? 1
        let sx = (size - 2 * pad) / max(maxX - minX, 1e-12), sy = (size - 2 * pad) / max(maxY - minY, 1e-12)
        var s = SVG.header(width: width, height: height, title: title)
        s += "<rect x=\"\(SVG.f(pad - 5))\" y=\"\(SVG.f(pad - 5))\" width=\"\(SVG.f(size - 2 * pad + 10))\" height=\"\(SVG.f(size - 2 * pad + 10))\" fill=\"none\" stroke=\"#ccc\"/>\n"
        for i in 0..<x.count where x[i].isFinite && y[i].isFinite {
            let px = pad + (x[i] - minX) * sx, py = size - pad - (y[i] - minY) * sy
            s += "<circle cx=\"\(SVG.f(px))\" cy=\"\(SVG.f(py))\" r=\"2.2\" fill=\"\(SVG.palette[groups[i] % SVG.palette.count])\" fill-opacity=\"0.75\"/>"
            if i % 50 == 49 { s += "\n" }
        }
        s += "\n"
        if !xLabel.isEmpty {
            s += "<text x=\"\(SVG.f(size / 2))\" y=\"\(SVG.f(size - 4))\" text-anchor=\"middle\">\(SVG.escape(xLabel)) (\(SVG.label(minX))–\(SVG.label(maxX)))</text>\n"
        }
        if !yLabel.isEmpty {
            s += "<text x=\"12\" y=\"\(SVG.f(size / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(SVG.f(size / 2)))\">\(SVG.escape(yLabel)) (\(SVG.label(minY))–\(SVG.label(maxY)))</text>\n"
        }
        for (g, text) in legend.enumerated() {
            let ly = 40 + Double(g) * 18
            let label = text.count > 34 ? String(text.prefix(33)) + "…" : text
            s += "<circle cx=\"\(SVG.f(size + 10))\" cy=\"\(SVG.f(ly - 4))\" r=\"5\" fill=\"\(SVG.palette[g % SVG.palette.count])\"/>"
            s += "<text x=\"\(SVG.f(size + 20))\" y=\"\(SVG.f(ly))\">\(SVG.escape(label))<title>\(SVG.escape(text))</title></text>\n"
        }
        s += "</svg>\n"
        return s
    }
}

/// A line chart of one or more series over shared x values (the elbow and silhouette curves).
public struct LineChart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var x: [Double]
    public var series: [(name: String, values: [Double])]
    public var width: Double = 520
    public var height: Double = 300

    public init(title: String, xLabel: String, yLabel: String, x: [Double], series: [(name: String, values: [Double])]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.x = x
        self.series = series
    }

    public func svg() -> String {
        // Several series get a legend row between the title and the plot, clear of the lines; one
        // series is named by the y axis.
        let left = 64.0, right = 16.0, top = series.count > 1 ? 44.0 : 28.0, bottom = 44.0
        let pw = width - left - right, ph = height - top - bottom
        let all = series.flatMap(\.values).filter(\.isFinite)
        let lo = all.min() ?? 0, hi = all.max() ?? 1
        let span = max(hi - lo, 1e-12)
        let minX = x.min() ?? 0, maxX = x.max() ?? 1
        func px(_ v: Double) -> Double { left + pw * (v - minX) / max(maxX - minX, 1e-12) }
        func py(_ v: Double) -> Double { top + ph - ph * (v - lo) / span }
        var s = SVG.header(width: width, height: height, title: title)
        s += "<line x1=\"\(SVG.f(left))\" y1=\"\(SVG.f(top + ph))\" x2=\"\(SVG.f(left + pw))\" y2=\"\(SVG.f(top + ph))\" stroke=\"#333\"/>\n"
        for t in SVG.ticks(lo, hi, count: 4) {
            s += "<text x=\"\(SVG.f(left - 6))\" y=\"\(SVG.f(py(t) + 4))\" text-anchor=\"end\">\(SVG.label(t))</text>\n"
        }
        for v in x { s += "<text x=\"\(SVG.f(px(v)))\" y=\"\(SVG.f(top + ph + 16))\" text-anchor=\"middle\">\(SVG.label(v))</text>\n" }
        for (n, line) in series.enumerated() {
            let points = zip(x, line.values).filter { $0.1.isFinite }.map { "\(SVG.f(px($0.0))),\(SVG.f(py($0.1)))" }.joined(separator: " ")
            let color = SVG.palette[n % SVG.palette.count]
            s += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for (xv, yv) in zip(x, line.values) where yv.isFinite {
                s += "<circle cx=\"\(SVG.f(px(xv)))\" cy=\"\(SVG.f(py(yv)))\" r=\"3\" fill=\"\(color)\"><title>\(SVG.escape(line.name)) at \(SVG.label(xv)): \(String(format: "%.4f", yv))</title></circle>\n"
            }
            if series.count > 1 {
                s += "<text x=\"\(SVG.f(left + 8 + Double(n) * 140))\" y=\"\(SVG.f(top - 8))\" fill=\"\(color)\">\(SVG.escape(line.name))</text>\n"
            }
        }
        s += "<text x=\"\(SVG.f(left + pw / 2))\" y=\"\(SVG.f(height - 8))\" text-anchor=\"middle\">\(SVG.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(14 \(SVG.f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(SVG.escape(yLabel))</text>\n</svg>\n"
        return s
    }
}
