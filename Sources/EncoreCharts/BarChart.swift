// A horizontal bar chart as SVG, for ranked categories (top artists, engagement levels) and
// ordered ones (release years).
import Foundation

/// An SVG bar chart of labelled values.
public struct BarChart: Sendable {
    public var title: String
    public var bars: [(label: String, value: Double)]
    public var valueLabel: String
    /// Horizontal bars with labels on the left (ranked data), or vertical columns (ordered data).
    public var horizontal: Bool = true
    public var width: Double = 560

    public init(title: String, bars: [(label: String, value: Double)], valueLabel: String, horizontal: Bool = true) {
        self.title = title
        self.bars = bars
        self.valueLabel = valueLabel
        self.horizontal = horizontal
    }

    public func svg() -> String {
        horizontal ? horizontalSVG() : verticalSVG()
    }

    func horizontalSVG() -> String {
        let rowHeight = 20.0
        let left = 170.0, right = 60.0, top = 28.0, bottom = 30.0
        let height = top + bottom + rowHeight * Double(max(bars.count, 1))
        let pw = width - left - right
        let maxValue = max(bars.map(\.value).max() ?? 1, 1e-12)
        var s = SVG.header(width: width, height: height, title: title)
        for (k, bar) in bars.enumerated() {
            let y = top + Double(k) * rowHeight
            let w = pw * max(bar.value, 0) / maxValue
            let label = bar.label.count > 26 ? String(bar.label.prefix(25)) + "…" : bar.label
            s += "<text x=\"\(SVG.f(left - 6))\" y=\"\(SVG.f(y + 14))\" text-anchor=\"end\">\(SVG.escape(label))</text>"
            s += "<rect x=\"\(SVG.f(left))\" y=\"\(SVG.f(y + 3))\" width=\"\(SVG.f(w))\" height=\"\(SVG.f(rowHeight - 6))\" fill=\"\(SVG.palette[k % SVG.palette.count])\"><title>\(SVG.escape(bar.label)): \(SVG.label(bar.value))</title></rect>"
            s += "<text x=\"\(SVG.f(left + w + 4))\" y=\"\(SVG.f(y + 14))\">\(SVG.label(bar.value))</text>\n"
        }
        s += "<text x=\"\(SVG.f(left + pw / 2))\" y=\"\(SVG.f(height - 8))\" text-anchor=\"middle\">\(SVG.escape(valueLabel))</text>\n</svg>\n"
        return s
    }

    func verticalSVG() -> String {
        let height = 300.0
        let left = 56.0, right = 16.0, top = 28.0, bottom = 48.0
        let pw = width - left - right, ph = height - top - bottom
        let maxValue = max(bars.map(\.value).max() ?? 1, 1e-12)
        var s = SVG.header(width: width, height: height, title: title)
        let bw = pw / Double(max(bars.count, 1))
        let labelEvery = max(1, bars.count / 10)
        for (k, bar) in bars.enumerated() {
            let h = ph * max(bar.value, 0) / maxValue
            let x = left + Double(k) * bw
            s += "<rect x=\"\(SVG.f(x))\" y=\"\(SVG.f(top + ph - h))\" width=\"\(SVG.f(max(bw - 1, 0.5)))\" height=\"\(SVG.f(h))\" fill=\"\(SVG.palette[0])\"><title>\(SVG.escape(bar.label)): \(SVG.label(bar.value))</title></rect>\n"
            if k % labelEvery == 0 {
                s += "<text x=\"\(SVG.f(x + bw / 2))\" y=\"\(SVG.f(top + ph + 14))\" text-anchor=\"middle\">\(SVG.escape(bar.label))</text>\n"
            }
        }
        s += "<line x1=\"\(SVG.f(left))\" y1=\"\(SVG.f(top + ph))\" x2=\"\(SVG.f(left + pw))\" y2=\"\(SVG.f(top + ph))\" stroke=\"#333\"/>\n"
        for t in SVG.ticks(0, maxValue, count: 4) {
            let yy = top + ph - ph * t / maxValue
            s += "<text x=\"\(SVG.f(left - 6))\" y=\"\(SVG.f(yy + 4))\" text-anchor=\"end\">\(SVG.label(t))</text>\n"
        }
        s += "<text transform=\"translate(14 \(SVG.f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(SVG.escape(valueLabel))</text>\n</svg>\n"
        return s
    }
}
