// Similarities between all pairs of users (or items) that share at least one rated item (user),
// computed as Surprise defines them, over common entries only:
//   cosine            Σ r_x r_x' / √(Σ r_x² · Σ r_x'²)
//   msd               1 / (Σ (r_x − r_x')² / n + 1)
//   pearson           (n Σ r_x r_x' − Σ r_x Σ r_x') / √((n Σ r_x² − (Σ r_x)²)(n Σ r_x'² − (Σ r_x')²))
//   pearson_baseline  Σ d_x d_x' / √(Σ d_x² Σ d_x'²) · (n − 1) / (n − 1 + shrinkage),
//                     d = r − (μ + b_x + b_y), with baselines fitted by ALS
// with n the number of common entries; pairs with n < min_support get 0. Only positive
// similarities are stored (a KNN estimate uses neighbours with similarity > 0 only), in a sparse
// row-compressed matrix; past `denseLimit` rows each row keeps its `rowLimit` best entries, so
// memory never needs an n × n block. Time O(Σ_y |raters(y)|²), parallel over rows.
import EncoreData
import EncoreMath

/// The similarity measures of Surprise.
public enum SimilarityMeasure: String, Codable, Sendable, CaseIterable {
    case cosine, msd, pearson
    case pearsonBaseline = "pearson_baseline"
}

/// Sparse positive similarities, rows sorted by column.
public struct SimilarityMatrix: Sendable {
    public let rowPointers: [Int]
    public let columns: [Int32]
    public let values: [Float]

    public var count: Int { rowPointers.count - 1 }

    public init(rowPointers: [Int], columns: [Int32], values: [Float]) {
        self.rowPointers = rowPointers
        self.columns = columns
        self.values = values
    }

    /// Restores saved arrays after checking them: `rows + 1` monotonic pointers from 0 to the
    /// entry count, columns in `0..<columnCount`, finite values. `what` names the model in messages.
    public init(validating rowPointers: [Int64], columns: [Int32], values: [Float], rows: Int, columnCount: Int, what: String) throws {
        guard rowPointers.count == rows + 1, rowPointers.first == 0, rowPointers.last == Int64(columns.count), columns.count == values.count else {
            throw ModelError("\(what): the saved sparse arrays have inconsistent lengths")
        }
        for r in 0..<rows where rowPointers[r] > rowPointers[r + 1] { throw ModelError("\(what): saved row pointers are not monotonic at row \(r)") }
        guard columns.allSatisfy({ $0 >= 0 && Int($0) < columnCount }) else { throw ModelError("\(what): a saved column index is out of range") }
        guard values.allSatisfy({ $0.isFinite }) else { throw ModelError("\(what): a saved value is NaN or infinite") }
        self.init(rowPointers: rowPointers.map { Int($0) }, columns: columns, values: values)
    }

    /// sim(a, b), 0 when the pair has no positive similarity.
    public func similarity(_ a: Int, _ b: Int) -> Double {
        if a == b { return 1 }
        var lo = rowPointers[a], hi = rowPointers[a + 1]
        let t = Int32(b)
        while lo < hi {
            let mid = (lo + hi) >> 1
            if columns[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo < rowPointers[a + 1] && columns[lo] == t ? Double(values[lo]) : 0
    }

    /// The k most similar entries of row a, best first (ties: lower index first).
    public func top(_ a: Int, k: Int) -> [Neighbour] {
        let r = rowPointers[a]..<rowPointers[a + 1]
        var list = r.map { Neighbour(index: Int(columns[$0]), similarity: Double(values[$0])) }
        list.sort { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.index < $1.index }
        return Array(list.prefix(max(0, k)))
    }

    /// Computes similarities between the rows of `m` (users × items; pass a transposed matrix for items).
    /// `baselines` (rows' biases as userBias, columns' as itemBias) are needed for pearson_baseline.
    public static func compute(
        rows m: InteractionMatrix, measure: SimilarityMeasure, minSupport: Int = 1, shrinkage: Double = 100,
        baselines: Baselines? = nil, denseLimit: Int = 50_000, rowLimit: Int = 200
    ) throws -> SimilarityMatrix {
        if measure == .pearsonBaseline && baselines == nil { throw ModelError("pearson_baseline needs baselines") }
        guard minSupport >= 0, shrinkage >= 0 else { throw ModelError("min_support and shrinkage must be ≥ 0") }
        let n = m.userCount
        let cols = m.columns
        let mu = baselines?.globalMean ?? 0
        let bx = baselines?.userBias ?? []
        let by = baselines?.itemBias ?? []
        let limitRows = n > denseLimit
        let chunks = min(max(1, n), ParallelLoop.defaultWorkers * 8)
        let parts: [(counts: [Int], columns: [Int32], values: [Float])] = ParallelLoop.mapChunks(count: n, chunks: chunks) { range in
            var freq = [Int32](repeating: 0, count: n)
            var prods = [Double](repeating: 0, count: n)
            var sqi = [Double](repeating: 0, count: n)
            var sqj = [Double](repeating: 0, count: n)
            var si = [Double](repeating: 0, count: n)
            var sj = [Double](repeating: 0, count: n)
            var touched: [Int] = []
            var counts: [Int] = []
            var outCols: [Int32] = []
            var outVals: [Float] = []
            var row: [(Int32, Float)] = []
            for x in range {
                touched.removeAll(keepingCapacity: true)
                for k in m.rowRange(x) {
                    let y = Int(m.columnIndices[k])
                    var r1 = Double(m.values[k])
                    if measure == .pearsonBaseline { r1 -= mu + bx[x] + by[y] }
                    for q in cols.columnPointers[y]..<cols.columnPointers[y + 1] {
                        let x2 = Int(cols.rowIndices[q])
                        if x2 == x { continue }
                        var r2 = Double(cols.values[q])
                        if measure == .pearsonBaseline { r2 -= mu + bx[x2] + by[y] }
                        if freq[x2] == 0 { touched.append(x2) }
                        freq[x2] += 1
                        switch measure {
                        case .msd:
                            prods[x2] += (r1 - r2) * (r1 - r2)
                        case .cosine, .pearsonBaseline:
                            prods[x2] += r1 * r2
                            sqi[x2] += r1 * r1
                            sqj[x2] += r2 * r2
                        case .pearson:
                            prods[x2] += r1 * r2
                            sqi[x2] += r1 * r1
                            sqj[x2] += r2 * r2
                            si[x2] += r1
                            sj[x2] += r2
                        }
                    }
                }
                // Rows are stored in column order: sort the touched list, or scan every column
                // when that is cheaper (many neighbours among few rows).
                if touched.count * 8 > n {
                    touched.removeAll(keepingCapacity: true)
                    for x2 in 0..<n where freq[x2] > 0 { touched.append(x2) }
                } else {
                    touched.sort()
                }
                row.removeAll(keepingCapacity: true)
                for x2 in touched {
                    let f = Double(freq[x2])
                    var sim = 0.0
                    if Int(freq[x2]) >= minSupport {
                        switch measure {
                        case .msd:
                            sim = 1 / (prods[x2] / f + 1)
                        case .cosine:
                            let d = (sqi[x2] * sqj[x2]).squareRoot()
                            sim = d > 0 ? prods[x2] / d : 0
                        case .pearson:
                            let num = f * prods[x2] - si[x2] * sj[x2]
                            let den = ((f * sqi[x2] - si[x2] * si[x2]) * (f * sqj[x2] - sj[x2] * sj[x2])).squareRoot()
                            sim = den > 0 ? num / den : 0
                        case .pearsonBaseline:
                            let d = (sqi[x2] * sqj[x2]).squareRoot()
                            sim = d > 0 ? prods[x2] / d : 0
                            sim *= (f - 1) / (f - 1 + shrinkage)
                        }
                    }
                    if sim > 0 && sim.isFinite { row.append((Int32(x2), Float(sim))) }
                    freq[x2] = 0; prods[x2] = 0; sqi[x2] = 0; sqj[x2] = 0; si[x2] = 0; sj[x2] = 0
                }
                if limitRows && row.count > rowLimit {
                    row.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                    row.removeLast(row.count - rowLimit)
                    row.sort { $0.0 < $1.0 }
                }
                counts.append(row.count)
                for (c, v) in row { outCols.append(c); outVals.append(v) }
            }
            return (counts, outCols, outVals)
        }
        var ptr = [0]
        ptr.reserveCapacity(n + 1)
        var allCols: [Int32] = []
        var allVals: [Float] = []
        for p in parts {
            for c in p.counts { ptr.append(ptr[ptr.count - 1] + c) }
            allCols.append(contentsOf: p.columns)
            allVals.append(contentsOf: p.values)
        }
        if n == 0 { ptr = [0] }
        return SimilarityMatrix(rowPointers: ptr, columns: allCols, values: allVals)
    }
}

