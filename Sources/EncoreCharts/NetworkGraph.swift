// A radial neighbour-network figure as SVG (the report's KNN figure): the focus node in the
// centre, its neighbours on a ring, and their neighbours on an outer ring near their parent.
// Nodes reached from more than one parent are drawn grey, as the report marks shared neighbours.
import Foundation

/// A node of a neighbour network.
public struct NetworkNode: Sendable {
    public var id: String
    public var label: String
    public init(id: String, label: String) {
        self.id = id
        self.label = label
    }
}

/// The focus, its first-ring neighbours and, for each, its own neighbours (with similarities).
public struct NetworkGraph: Sendable {
    public var title: String
    public var focus: NetworkNode
    public var neighbours: [(node: NetworkNode, similarity: Double, children: [(node: NetworkNode, similarity: Double)])]
    public var size: Double = 720

    public init(title: String, focus: NetworkNode, neighbours: [(node: NetworkNode, similarity: Double, children: [(node: NetworkNode, similarity: Double)])]) {
        self.title = title
        self.focus = focus
        self.neighbours = neighbours
    }

    /// Ids that appear more than once among the rings (shared neighbours).
    public var sharedIDs: Set<String> {
        var seen: [String: Int] = [focus.id: 1]
        for n in neighbours {
            seen[n.node.id, default: 0] += 1
            for c in n.children { seen[c.node.id, default: 0] += 1 }
        }
        return Set(seen.filter { $0.value > 1 }.keys)
    }

    public func svg() -> String {
        let cx = size / 2, cy = size / 2 + 10
        let r1 = size * 0.22, r2 = size * 0.40
        var positions: [String: (Double, Double)] = [focus.id: (cx, cy)]
        var edges: [(String, String, Double)] = []
        let n = max(neighbours.count, 1)
        for (a, nb) in neighbours.enumerated() {
            let angle = 2 * Double.pi * Double(a) / Double(n) - Double.pi / 2
            if positions[nb.node.id] == nil { positions[nb.node.id] = (cx + r1 * cos(angle), cy + r1 * sin(angle)) }
            edges.append((focus.id, nb.node.id, nb.similarity))
            let m = max(nb.children.count, 1)
            let spread = 2 * Double.pi / Double(n) * 0.8
            for (b, child) in nb.children.enumerated() {
                let ca = angle - spread / 2 + spread * (Double(b) + 0.5) / Double(m)
                if positions[child.node.id] == nil { positions[child.node.id] = (cx + r2 * cos(ca), cy + r2 * sin(ca)) }
                edges.append((nb.node.id, child.node.id, child.similarity))
            }
        }
        let shared = sharedIDs
        var labels: [String: String] = [focus.id: focus.label]
        var ring: [String: Int] = [focus.id: 0]
        for nb in neighbours {
            labels[nb.node.id] = nb.node.label
            if ring[nb.node.id] == nil { ring[nb.node.id] = 1 }
            for c in nb.children {
                labels[c.node.id] = c.node.label
                if ring[c.node.id] == nil { ring[c.node.id] = 2 }
            }
        }
        let maxSim = max(edges.map(\.2).max() ?? 1, 1e-9)
        var s = SVG.header(width: size, height: size + 20, title: title)
        for (a, b, w) in edges {
            guard let p = positions[a], let q = positions[b] else { continue }
            s += "<line x1=\"\(SVG.f(p.0))\" y1=\"\(SVG.f(p.1))\" x2=\"\(SVG.f(q.0))\" y2=\"\(SVG.f(q.1))\" stroke=\"#999\" stroke-opacity=\"0.7\" stroke-width=\"\(SVG.f(0.5 + 2.5 * w / maxSim))\"><title>\(SVG.escape(labels[a] ?? a)) – \(SVG.escape(labels[b] ?? b)): \(String(format: "%.3f", w))</title></line>\n"
        }
        for (id, p) in positions.sorted(by: { (ring[$0.key] ?? 2) > (ring[$1.key] ?? 2) }) {
            let level = ring[id] ?? 2
            let color = level == 0 ? SVG.palette[2] : (shared.contains(id) ? "#9e9e9e" : (level == 1 ? SVG.palette[0] : SVG.palette[3]))
            let radius = level == 0 ? 14.0 : (level == 1 ? 10.0 : 6.0)
            let label = labels[id] ?? id
            let short = label.count > 22 ? String(label.prefix(21)) + "…" : label
            s += "<circle cx=\"\(SVG.f(p.0))\" cy=\"\(SVG.f(p.1))\" r=\"\(SVG.f(radius))\" fill=\"\(color)\" stroke=\"white\"><title>\(SVG.escape(label))</title></circle>"
            s += "<text x=\"\(SVG.f(p.0))\" y=\"\(SVG.f(p.1 - radius - 3))\" text-anchor=\"middle\" font-size=\"\(level == 2 ? 9 : 11)\">\(SVG.escape(short))</text>\n"
        }
        s += "<text x=\"10\" y=\"\(SVG.f(size + 12))\" font-size=\"10\">centre: focus · inner ring: top neighbours · outer ring: their neighbours · grey: shared neighbour · edge width: similarity</text>\n"
        s += "</svg>\n"
        return s
    }
}
