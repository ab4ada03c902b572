// A histogram as SVG. Skewed data (long right tail) is binned on a log10 axis so the body and
// the tail are both visible; counts can use a log axis too. O(n) binning.
import Foundation

/// An SVG histogram of a sample.
public struct Histogram: Sendable {
    public var title: String
    public var xLabel: String
    public var values: [Double]
    public var bins: Int = 40
    /// nil: decide from the data (log when positive and max/median > 50).
    public var logX: Bool? = nil
    public var logY: Bool = false
    public var width: Double = 560
    public var height: Double = 300

    public init(title: String, xLabel: String, values: [Double]) {
        self.title = title
        self.xLabel = xLabel
        self.values = values
    }

    /// Whether the x axis will be logarithmic.
    public var usesLogX: Bool {
        if let logX { return logX && (values.min() ?? 0) > 0 }
        let finite = values.filter { $0.isFinite }
        guard let mn = finite.min(), mn > 0, let mx = finite.max() else { return false }
        let sorted = finite.sorted()
        let median = sorted[sorted.count / 2]
        return median > 0 && mx / median > 50
    }

    /// Bin counts and edges (in data units).
    public func binned() -> (edges: [Double], counts: [Int]) {
        let finite = values.filter { $0.isFinite }
        guard let mn = finite.min(), let mx = finite.max() else { return ([0, 1], [0]) }
        let log = usesLogX
        let lo = log ? log10(mn) : mn
        var hi = log ? log10(mx) : mx
        if hi <= lo { hi = lo + 1 }
        let n = max(1, bins)
        var counts = [Int](repeating: 0, count: n)
        for v in finite {
            let t = ((log ? log10(v) : v) - lo) / (hi - lo)
            counts[min(n - 1, max(0, Int(t * Double(n))))] += 1
        }
        let edges = (0...n).map { k -> Double in
            let e = lo + (hi - lo) * Double(k) / Double(n)
            return log ? pow(10, e) : e
        }
        return (edges, counts)
    }

    public func svg() -> String {
        let (edges, counts) = binned()
        let log = usesLogX
        let left = 56.0, right = 16.0, top = 28.0, bottom = 44.0
        let pw = width - left - right, ph = height - top - bottom
        let maxCount = Double(counts.max() ?? 1)
        func y(_ c: Double) -> Double {
            if logY { return c <= 0 ? 0 : ph * log10(1 + c) / log10(1 + max(maxCount, 1)) }
            return maxCount > 0 ? ph * c / maxCount : 0
        }
        var s = SVG.header(width: width, height: height, title: title)
        let bw = pw / Double(counts.count)
        for (k, c) in counts.enumerated() where c > 0 {
            let h = y(Double(c))
            s += "<rect x=\"\(SVG.f(left + Double(k) * bw))\" y=\"\(SVG.f(top + ph - h))\" width=\"\(SVG.f(max(bw - 1, 0.5)))\" height=\"\(SVG.f(h))\" fill=\"\(SVG.palette[0])\"><title>\(SVG.label(edges[k]))–\(SVG.label(edges[k + 1])): \(c)</title></rect>\n"
        }
        // Axes.
        s += "<line x1=\"\(SVG.f(left))\" y1=\"\(SVG.f(top + ph))\" x2=\"\(SVG.f(left + pw))\" y2=\"\(SVG.f(top + ph))\" stroke=\"#333\"/>\n"
        s += "<line x1=\"\(SVG.f(left))\" y1=\"\(SVG.f(top))\" x2=\"\(SVG.f(left))\" y2=\"\(SVG.f(top + ph))\" stroke=\"#333\"/>\n"
        let lo = edges.first ?? 0, hi = edges.last ?? 1
        let xTicks: [Double]
        if log {
            let a = Int(floor(log10(lo))), b = Int(ceil(log10(hi)))
            xTicks = (a...max(a, b)).map { pow(10, Double($0)) }.filter { $0 >= lo * 0.999 && $0 <= hi * 1.001 }
        } else {
            xTicks = SVG.ticks(lo, hi)
        }
        for t in xTicks {
            let frac = log ? (log10(t) - log10(lo)) / max(log10(hi) - log10(lo), 1e-12) : (t - lo) / max(hi - lo, 1e-12)
            let x = left + pw * frac
            s += "<line x1=\"\(SVG.f(x))\" y1=\"\(SVG.f(top + ph))\" x2=\"\(SVG.f(x))\" y2=\"\(SVG.f(top + ph + 4))\" stroke=\"#333\"/>"
            s += "<text x=\"\(SVG.f(x))\" y=\"\(SVG.f(top + ph + 16))\" text-anchor=\"middle\">\(SVG.label(t))</text>\n"
        }
        let yTicks = logY ? [1.0, 10, 100, 1000, 10000, 100000, 1e6].filter { $0 <= maxCount } : SVG.ticks(0, maxCount, count: 4)
        for t in yTicks {
            let yy = top + ph - y(t)
            s += "<text x=\"\(SVG.f(left - 6))\" y=\"\(SVG.f(yy + 4))\" text-anchor=\"end\">\(SVG.label(t))</text>"
            s += "<line x1=\"\(SVG.f(left - 3))\" y1=\"\(SVG.f(yy))\" x2=\"\(SVG.f(left))\" y2=\"\(SVG.f(yy))\" stroke=\"#333\"/>\n"
        }
        s += "<text x=\"\(SVG.f(left + pw / 2))\" y=\"\(SVG.f(height - 8))\" text-anchor=\"middle\">\(SVG.escape(xLabel))\(log ? " (log scale)" : "")</text>\n"
        s += "<text transform=\"translate(14 \(SVG.f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">count\(logY ? " (log)" : "")</text>\n"
        s += "</svg>\n"
        return s
    }
}
