// The user–song graph of a play matrix, for the graph networks: users are nodes 0..<U, songs are
// nodes U..<U+I, plays are undirected edges (weight 1, or the play value), and the adjacency is
// normalised symmetrically, D^-1/2 (A [+ I]) D^-1/2 (Kipf & Welling 2017 with self-loops, He et
// al. 2020 without). A node without edges keeps an empty row (or only its self-loop). O(nnz).

import EncoreData
import EncoreMath
import Foundation

/// The user–song graph's normalised adjacency.
public enum BipartiteGraph {
    /// How a play becomes an edge weight: 1, or the matrix value (log1p(plays) on the rating
    /// models' default scale).
    public enum EdgeWeight: String, Codable, Sendable, CaseIterable {
        case binary
        case value
    }

    /// D^-1/2 (A + I?) D^-1/2 over U + I nodes, rows sorted, symmetric.
    public static func normalizedAdjacency(_ m: InteractionMatrix, weight: EdgeWeight = .binary, selfLoops: Bool) -> SparseMatrix {
        let users = m.userCount, nodes = m.userCount + m.itemCount
        let w: (Float) -> Float = weight == .binary ? { _ in 1 } : { max(0, $0) }
        var degree = [Double](repeating: selfLoops ? 1 : 0, count: nodes)
        for u in 0..<users {
            for k in m.rowRange(u) {
                let v = Double(w(m.values[k]))
                degree[u] += v
                degree[users + Int(m.columnIndices[k])] += v
            }
        }
        let scale = degree.map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
        // Song rows: the transpose's columns, gathered once.
        let columns = m.columns
        var pointers = [Int](repeating: 0, count: nodes + 1)
        var indices: [Int32] = [], values: [Float] = []
        indices.reserveCapacity(2 * m.nnz + (selfLoops ? nodes : 0))
        values.reserveCapacity(indices.capacity)
        for u in 0..<users {
            if selfLoops { indices.append(Int32(u)); values.append(Float(scale[u] * scale[u])) }
            for k in m.rowRange(u) {
                let node = users + Int(m.columnIndices[k])
                indices.append(Int32(node))
                values.append(Float(Double(w(m.values[k])) * scale[u] * scale[node]))
            }
            pointers[u + 1] = indices.count
        }
        for i in 0..<m.itemCount {
            let node = users + i
            for k in columns.columnPointers[i]..<columns.columnPointers[i + 1] {
                let u = Int(columns.rowIndices[k])
                indices.append(Int32(u))
                values.append(Float(Double(w(columns.values[k])) * scale[u] * scale[node]))
            }
            if selfLoops { indices.append(Int32(node)); values.append(Float(scale[node] * scale[node])) }
            pointers[node + 1] = indices.count
        }
        // Built sorted by construction: user rows list users' self-loop then songs (ascending);
        // song rows list users (ascending, from the column form) then the self-loop.
        guard let s = try? SparseMatrix(rows: nodes, columns: nodes, rowPointers: pointers, columnIndices: indices, values: values) else {
            preconditionFailure("the bipartite adjacency is built sorted")
        }
        return s
    }
}
