// A radial neighbour-network figure as SVG (the report's KNN figure): the focus node in the
// centre, its neighbours on a ring, and their neighbours on an outer ring near their parent.
// Outer nodes reached from more than one top neighbour are drawn grey, as the report marks shared
// neighbours; a top neighbour stays on the inner ring even when another lists it. Labels are
// placed greedily where they overlap no node and no other label.
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
    public var size: Double = 760

    public init(title: String, focus: NetworkNode, neighbours: [(node: NetworkNode, similarity: Double, children: [(node: NetworkNode, similarity: Double)])]) {
        self.title = title
        self.focus = focus
        self.neighbours = neighbours
    }

    /// Outer-ring ids reached from more than one top neighbour (shared neighbours). A top
    /// neighbour that is also another's neighbour stays a top neighbour.
    public var sharedIDs: Set<String> {
        let top = Set(neighbours.map(\.node.id)).union([focus.id])
        var parents: [String: Int] = [:]
        for n in neighbours { for c in n.children where !top.contains(c.node.id) { parents[c.node.id, default: 0] += 1 } }
        return Set(parents.filter { $0.value > 1 }.keys)
    }

    /// A label's box (x, y: its top-left corner).
    struct Box {
        var x, y, width, height: Double
        func overlaps(_ o: Box) -> Bool { x < o.x + o.width && o.x < x + width && y < o.y + o.height && o.y < y + height }
    }

    public func svg() -> String {
        let cx = size / 2, cy = size / 2 + 10
        let r1 = size * 0.19, r2 = size * 0.33
        // Top neighbours take the inner ring first; their neighbours then fill the outer ring
        // near their parent, skipping nodes already placed.
        var positions: [String: (x: Double, y: Double, angle: Double)] = [focus.id: (cx, cy, -Double.pi / 2)]
        var ring: [String: Int] = [focus.id: 0]
        var labels: [String: String] = [focus.id: focus.label]
        let n = max(neighbours.count, 1)
        for (a, nb) in neighbours.enumerated() where positions[nb.node.id] == nil {
            let angle = 2 * Double.pi * Double(a) / Double(n) - Double.pi / 2
            positions[nb.node.id] = (cx + r1 * cos(angle), cy + r1 * sin(angle), angle)
            ring[nb.node.id] = 1
            labels[nb.node.id] = nb.node.label
        }
        var edges: [(String, String, Double)] = []
        for (a, nb) in neighbours.enumerated() {
            edges.append((focus.id, nb.node.id, nb.similarity))
            let angle = 2 * Double.pi * Double(a) / Double(n) - Double.pi / 2
            let m = max(nb.children.count, 1)
            let spread = 2 * Double.pi / Double(n) * 0.8
            for (b, child) in nb.children.enumerated() {
                if positions[child.node.id] == nil {
                    let ca = angle - spread / 2 + spread * (Double(b) + 0.5) / Double(m)
                    positions[child.node.id] = (cx + r2 * cos(ca), cy + r2 * sin(ca), ca)
                    ring[child.node.id] = 2
                    labels[child.node.id] = child.node.label
                }
                edges.append((nb.node.id, child.node.id, child.similarity))
            }
        }
        let shared = sharedIDs
        let maxSim = max(edges.map(\.2).max() ?? 1, 1e-9)
        var s = SVG.header(width: size, height: size + 20, title: title)
        for (a, b, w) in edges {
            guard let p = positions[a], let q = positions[b] else { continue }
            s += "<line x1=\"\(SVG.f(p.x))\" y1=\"\(SVG.f(p.y))\" x2=\"\(SVG.f(q.x))\" y2=\"\(SVG.f(q.y))\" stroke=\"#999\" stroke-opacity=\"0.7\" stroke-width=\"\(SVG.f(0.5 + 2.5 * w / maxSim))\"><title>\(SVG.escape(labels[a] ?? a)) – \(SVG.escape(labels[b] ?? b)): \(String(format: "%.3f", w))</title></line>\n"
        }
        // Nodes, then their labels placed greedily: each takes the first spot (outward from the
        // centre first, then above, below and to either side, further out each round) that
        // overlaps no node and no label already placed.
        let order = positions.keys.sorted { (ring[$0] ?? 2, $0) < (ring[$1] ?? 2, $1) }
        func radius(_ level: Int) -> Double { level == 0 ? 14 : (level == 1 ? 10 : 6) }
        var taken: [Box] = order.compactMap { id in
            guard let p = positions[id] else { return nil }
            let r = radius(ring[id] ?? 2)
            return Box(x: p.x - r, y: p.y - r, width: 2 * r, height: 2 * r)
        }
        var text = ""
        for id in order {
            guard let p = positions[id] else { continue }
            let level = ring[id] ?? 2
            let color = level == 0 ? SVG.palette[2] : (level == 1 ? SVG.palette[0] : (shared.contains(id) ? "#9e9e9e" : SVG.palette[3]))
            let r = radius(level)
            let label = labels[id] ?? id
            s += "<circle cx=\"\(SVG.f(p.x))\" cy=\"\(SVG.f(p.y))\" r=\"\(SVG.f(r))\" fill=\"\(color)\" stroke=\"white\"><title>\(SVG.escape(label))</title></circle>\n"
            let font = level == 2 ? 9.0 : 11.0
            let short = label.count > 24 ? String(label.prefix(23)) + "…" : label
            let width = Double(short.count) * font * 0.58, height = font * 1.2
            let ux = cos(p.angle), uy = sin(p.angle)
            var placed: Box? = nil
            search: for step in 0..<6 {
                let d = r + 3 + Double(step) * height
                // Candidate centres: outward, above, below, right, left.
                let candidates: [(Double, Double)] = (level == 0 ? [] : [(p.x + ux * (d + width / 2), p.y + uy * (d + height / 2))])
                    + [(p.x, p.y - d - height / 2), (p.x, p.y + d + height / 2), (p.x + d + width / 2, p.y), (p.x - d - width / 2, p.y)]
                for (x, y) in candidates {
                    let box = Box(x: x - width / 2, y: y - height / 2, width: width, height: height)
                    guard box.x >= 0, box.y >= 24, box.x + box.width <= size, box.y + box.height <= size - 14 else { continue }
                    if !taken.contains(where: { $0.overlaps(box) }) { placed = box; break search }
                }
            }
            // No free spot (a crowded figure): the label is left to the node's tooltip.
            guard let box = placed else { continue }
            taken.append(box)
            text += "<text x=\"\(SVG.f(box.x + box.width / 2))\" y=\"\(SVG.f(box.y + height * 0.8))\" text-anchor=\"middle\" font-size=\"\(SVG.f(font))\">\(SVG.escape(short))</text>\n"
        }
        s += text
        s += "<text x=\"10\" y=\"\(SVG.f(size - 2))\" font-size=\"10\">centre (red): focus · inner ring (blue): top neighbours · outer ring (teal): their neighbours</text>\n"
        s += "<text x=\"10\" y=\"\(SVG.f(size + 12))\" font-size=\"10\">grey: an outer neighbour shared by several top neighbours · edge width: similarity</text>\n"
        s += "</svg>\n"
        return s
    }
}
