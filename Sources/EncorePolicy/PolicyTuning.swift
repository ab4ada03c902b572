// Learns a policy on a validation split of the training data (each user's held-out share of their
// training songs), never on a test split: the caller passes training plays only.
// 1. Each model source's decisive hyper-parameter (EASE's λ, ALS's factors and regularisation,
//    item-KNN's k) is chosen by NDCG@10 on the validation split, within a time budget, unless the
//    base policy fixes the model's configuration.
// 2. Every source is scored for every validation user once; the union of each source's top
//    `candidates` songs keeps its standardised scores (as the blend mode computes them).
// 3. Per segment, coordinate ascent over a grid of blend weights maximises NDCG@10 subject to the
//    segment's novelty@10 floor (absolute, or relative to the best single source's novelty):
//    an infeasible mix scores by how close it comes to the floor, so the search moves to the floor
//    first and then climbs accuracy. A segment with fewer than `minimumUsers` validation users
//    takes the all-user weights.
// The result is a blend-mode policy file. Cost: the fits, plus O(users · sources · items) scoring
// and O(passes · sources · grid · users · candidates) search.
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
import Foundation

/// A discovery floor: novelty@10 at least `value`, or at least (1 + `relative`) × the best single source's.
public struct NoveltyFloor: Sendable, Equatable, Codable {
    public var absolute: Double?
    public var relative: Double?

    /// Parses "5" (absolute) or "+25%" (relative to the most accurate single source).
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("+"), t.hasSuffix("%"), let v = Double(t.dropFirst().dropLast()), v.isFinite, v >= 0 {
            absolute = nil
            relative = v / 100
        } else if let v = Double(t), v.isFinite, v >= 0 {
            absolute = v
            relative = nil
        } else {
            throw PolicyError("a novelty floor is a number (5) or a rise over the best single source (+25%), got '\(text)'")
        }
    }

    public init(absolute: Double? = nil, relative: Double? = nil) {
        self.absolute = absolute
        self.relative = relative
    }
}

/// What `policy tune` searches.
public struct PolicyTuningOptions: Sendable {
    public var name = "tuned"
    public var validationFraction = 0.2
    public var seed: UInt64 = 42
    /// Seconds for the hyper-parameter search (the weight search is not limited).
    public var budgetSeconds = 300.0
    public var sources: [PolicySource] = [.model("ease"), .model("als"), .model("item-knn"), .popular, .discovery, .clusterMates, .content, .newSongs]
    public var floors: [Segment: NoveltyFloor] = [.lowDiscovery: NoveltyFloor(relative: 0.3)]
    public var weightGrid: [Double] = [0, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 4]
    public var candidates = 60
    public var minimumUsers = 30
    public var maxPerArtist: Int? = nil
    /// Candidate values of each model's decisive hyper-parameters (JSON override objects).
    public var grids: [String: [String]] = [
        "ease": [50, 100, 200, 400, 800, 1600].map { "{\"lambda\": \($0)}" },
        "als": [(64, 0.05), (64, 1), (128, 0.05), (128, 1), (32, 0.05)].map { "{\"factors\": \($0.0), \"regularization\": \($0.1)}" },
        "item-knn": [50, 100, 200, 400, 800].map { "{\"k\": \($0)}" },
    ]
    public init() {}
}

/// The tuned policy and what the search saw.
public struct PolicyTuningResult: Sendable {
    public var policy: Policy
    /// Model → the configurations tried with their validation NDCG@10, in order.
    public var trials: [String: [(configuration: String, ndcg: Double)]]
    /// Segment → label (the tuned mix, or a single source) → (NDCG@10, novelty@10) on validation.
    public var validation: [Segment: [(label: String, ndcg: Double, novelty: Double)]]
    public var validationUsers: [Segment: Int]
    public var notes: [String]
}

public enum PolicyTuning {
    /// Tunes on `train` (raw plays) alone. `base` gives the segment rules, fixed model configurations and new-song rules.
    public static func tune(train: InteractionMatrix, catalog: Catalog?, base: Policy = Policy.report, options o: PolicyTuningOptions = PolicyTuningOptions(),
                            progress: (String) -> Void = { _ in }) throws -> PolicyTuningResult {
        guard !o.sources.isEmpty, !o.weightGrid.isEmpty, o.candidates > 0 else { throw PolicyError("tuning needs sources, a weight grid and candidates") }
        guard o.validationFraction > 0, o.validationFraction < 1 else { throw PolicyError("the validation fraction must be between 0 and 1") }
        if catalog == nil, o.sources.contains(where: { $0 == .content || $0 == .newSongs }) {
            throw PolicyError("content and new-song sources need the catalogue: give the dataset's catalogue, or leave those sources out")
        }
        guard let split = try DatasetSplitter.split(train, method: .perUser(testFraction: o.validationFraction), seed: o.seed).first else {
            throw PolicyError("the validation split produced nothing")
        }
        let sub = split.train, validation = split.test
        var notes: [String] = []
        // 1. Hyper-parameters.
        var configs = base.models
        var trials: [String: [(configuration: String, ndcg: Double)]] = [:]
        let start = MonotonicClock.now()
        for case .model(let name) in o.sources where configs[name] == nil {
            guard let grid = o.grids[name], grid.count > 1 else { continue }
            let entry = try ModelRegistry.entry(named: name)
            let t: ValueTransform = entry.predictsValues ? .log1p : .none
            var best: (String, Double)? = nil
            for overrides in grid {
                if MonotonicClock.now() - start > o.budgetSeconds {
                    notes.append("\(name): the time budget ran out after \(trials[name]?.count ?? 0) of \(grid.count) configurations")
                    break
                }
                progress("tuning \(name) \(overrides)")
                let m = try entry.fit(sub.mapValues(t), overrides: overrides, catalog: catalog)
                let r = try RankingProtocol.evaluate(fitted: m, train: sub.mapValues(t), test: validation.mapValues(t))
                let ndcg = r.metrics["ndcg_at_10"] ?? 0
                trials[name, default: []].append((overrides, ndcg))
                if best == nil || ndcg > best!.1 { best = (overrides, ndcg) }
            }
            if let best { configs[name] = best.0 }
        }
        // 2. Sources scored once per validation user.
        var all = Policy(name: o.name, description: "", segments: base.segments, models: configs,
                         recipes: Dictionary(uniqueKeysWithValues: Segment.allCases.map { ($0, Recipe(mode: .blend, sources: o.sources.map { RecipePart($0, weight: 1) })) }),
                         newSongs: base.newSongs)
        progress("fitting the sources on the validation split")
        let engine = try PolicyEngine.fit(policy: all, train: sub, catalog: catalog, progress: progress)
        notes += engine.warnings
        let table = CandidateTable(engine: engine, validation: validation, sources: o.sources, depth: o.candidates, maxPerArtist: o.maxPerArtist)
        // 3. Weights per segment.
        var recipes: [Segment: Recipe] = [:]
        var report: [Segment: [(label: String, ndcg: Double, novelty: Double)]] = [:]
        var counts: [Segment: Int] = [:]
        let everyone = Array(table.rows.indices)
        let fallbackWeights = search(table: table, rows: everyone, floor: nil, grid: o.weightGrid).weights
        for segment in Segment.allCases {
            let rows = everyone.filter { table.rows[$0].segment == segment }
            counts[segment] = rows.count
            let singles = o.sources.indices.map { n -> (label: String, ndcg: Double, novelty: Double) in
                var w = [Double](repeating: 0, count: o.sources.count)
                w[n] = 1
                let e = table.evaluate(weights: w, rows: rows)
                return (o.sources[n].description, e.ndcg, e.novelty)
            }
            let floorValue: Double? = o.floors[segment].flatMap { f in
                if let a = f.absolute { return a }
                guard let r = f.relative, let best = singles.max(by: { $0.ndcg < $1.ndcg }) else { return nil }
                return best.novelty * (1 + r)
            }
            var weights: [Double]
            if rows.count < o.minimumUsers {
                weights = fallbackWeights
                notes.append("\(segment.rawValue): \(rows.count) validation users (fewer than \(o.minimumUsers)); it takes the all-user weights")
            } else {
                weights = search(table: table, rows: rows, floor: floorValue, grid: o.weightGrid).weights
            }
            let tuned = table.evaluate(weights: weights, rows: rows)
            if let floorValue, tuned.novelty < floorValue {
                notes.append("\(segment.rawValue): the novelty floor \(String(format: "%.2f", floorValue)) was not reached (best \(String(format: "%.2f", tuned.novelty)))")
            }
            report[segment] = [("tuned", tuned.ndcg, tuned.novelty)] + singles
            let parts = zip(o.sources, weights).filter { $0.1 > 0 }.map { RecipePart($0.0, weight: $0.1) }
            recipes[segment] = Recipe(mode: .blend, sources: parts.isEmpty ? [RecipePart(o.sources[0], weight: 1)] : parts, maxPerArtist: o.maxPerArtist)
        }
        let used = Set(recipes.values.flatMap { $0.sources.compactMap { if case .model(let m) = $0.source { m } else { nil } } })
        all.recipes = recipes
        all.models = configs.filter { used.contains($0.key) || $0.key == "clustering" || $0.key == "transformer" }
        all.description = "Tuned by `encore policy tune` on a \(Int(o.validationFraction * 100))% per-user validation split of the training data (seed \(o.seed)): blend weights per segment maximise NDCG@10"
            + (o.floors.isEmpty ? "" : " subject to novelty@10 floors (" + o.floors.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) " + ($0.value.absolute.map { "≥ \($0)" } ?? "+\(Int(($0.value.relative ?? 0) * 100))% over the best single source") }.joined(separator: ", ") + ")") + "."
        try all.validate()
        return PolicyTuningResult(policy: all, trials: trials, validation: report, validationUsers: counts, notes: notes)
    }

    /// Weights that maximise NDCG@10 with novelty@10 at or above the floor. Without a floor:
    /// coordinate ascent over the weight grid from the best single source. With one: the same
    /// ascent on NDCG + μ · novelty for a sweep of μ (a Lagrangian relaxation, so the search walks
    /// along the accuracy–novelty frontier instead of stalling at the first feasible mix), keeping
    /// the most accurate mix that meets the floor, or the most novel one when none does.
    static func search(table: CandidateTable, rows: [Int], floor: Double?, grid: [Double]) -> (weights: [Double], objective: Double) {
        let s = table.sources.count
        var cache: [[Double]: (ndcg: Double, novelty: Double)] = [:]
        func measure(_ w: [Double]) -> (ndcg: Double, novelty: Double) {
            if let m = cache[w] { return m }
            let m = table.evaluate(weights: w, rows: rows)
            cache[w] = m
            return m
        }
        func ascend(_ objective: ([Double]) -> Double) -> [Double] {
            var best = [Double](repeating: 0, count: s)
            var bestValue = -Double.infinity
            for n in 0..<s {
                var w = [Double](repeating: 0, count: s)
                w[n] = 1
                let v = objective(w)
                if v > bestValue { bestValue = v; best = w }
            }
            for _ in 0..<6 {
                var improved = false
                for n in 0..<s {
                    for g in grid where g != best[n] {
                        var w = best
                        w[n] = g
                        guard w.contains(where: { $0 > 0 }) else { continue }
                        let v = objective(w)
                        if v > bestValue + 1e-9 { bestValue = v; best = w; improved = true }
                    }
                }
                if !improved { break }
            }
            return best
        }
        guard let floor else {
            let w = ascend { measure($0).ndcg }
            return (w, measure(w).ndcg)
        }
        var feasible: ([Double], Double)? = nil
        var mostNovel: ([Double], Double)? = nil
        for mu in [0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32] {
            let w = ascend { let m = measure($0); return m.ndcg + mu * m.novelty }
            let m = measure(w)
            if m.novelty >= floor, feasible == nil || m.ndcg > feasible!.1 { feasible = (w, m.ndcg) }
            if mostNovel == nil || m.novelty > mostNovel!.1 { mostNovel = (w, m.novelty) }
        }
        if let feasible { return feasible }
        return (mostNovel?.0 ?? [Double](repeating: 1, count: s), -1)
    }
}

/// Each validation user's candidate songs with every source's standardised score.
struct CandidateTable: Sendable {
    struct Row: Sendable {
        var segment: Segment
        var items: [Int]
        /// items.count × sources, row-major.
        var z: [Float]
        var relevant: Set<Int>
        var artists: [Int32]
    }

    let sources: [PolicySource]
    let rows: [Row]
    let popularity: [Int]
    let trainUsers: Int
    let maxPerArtist: Int?

    init(engine: PolicyEngine, validation: InteractionMatrix, sources: [PolicySource], depth: Int, maxPerArtist: Int?) {
        self.sources = sources
        self.maxPerArtist = maxPerArtist
        let train = engine.train
        let degrees = train.itemDegrees()
        let users = (0..<train.userCount).filter { !validation.rowRange($0).isEmpty && !train.rowRange($0).isEmpty }
        popularity = degrees
        trainUsers = (0..<train.userCount).filter { !train.rowRange($0).isEmpty }.count
        var artistIDs: [String: Int32] = [:]
        let artistOf: [Int32] = (0..<train.itemCount).map { i in
            guard let c = engine.catalog, i < c.count, !c[i].artist.isEmpty else { return -1 }
            let key = c[i].artist.lowercased()
            if let id = artistIDs[key] { return id }
            let id = Int32(artistIDs.count)
            artistIDs[key] = id
            return id
        }
        rows = ParallelLoop.mapChunks(count: users.count, chunks: ParallelLoop.defaultWorkers * 4) { range in
            range.map { n -> Row in
                let u = users[n]
                let l = engine.listener(user: u)
                let blocked = l.blocked
                let z = sources.map { PolicyEngine.standardise(engine.scores(of: $0, for: l).scores) }
                var set = Set<Int>()
                for zs in z {
                    var s = zs.values
                    for (i, ok) in zs.rankable.enumerated() where !ok { s[i] = -.infinity }
                    for b in blocked where b < s.count { s[b] = -.infinity }
                    for e in TopScores.select(s, k: depth) { set.insert(e.index) }
                }
                let items = set.sorted()
                var flat = [Float](repeating: 0, count: items.count * sources.count)
                for (r, i) in items.enumerated() { for (c, zs) in z.enumerated() { flat[r * sources.count + c] = zs.values[i] } }
                return Row(segment: u < engine.segmenter.segments.count ? engine.segmenter.segments[u] : .coldStart, items: items, z: flat,
                           relevant: Set(validation.row(u).items.map { Int($0) }), artists: items.map { artistOf[$0] })
            }
        }.flatMap { $0 }
    }

    /// Mean NDCG@10 and novelty@10 of the blend with these weights over the given rows.
    func evaluate(weights: [Double], rows selected: [Int]) -> (ndcg: Double, novelty: Double) {
        guard !selected.isEmpty else { return (0, 0) }
        let s = sources.count
        let w = weights.map { Float($0) }
        var ndcg = 0.0, nov = 0.0
        var combined: [(Float, Int)] = []
        for r in selected {
            let row = rows[r]
            combined.removeAll(keepingCapacity: true)
            for n in 0..<row.items.count {
                var v: Float = 0
                for c in 0..<s where w[c] != 0 { v += w[c] * row.z[n * s + c] }
                combined.append((v, n))
            }
            combined.sort { $0.0 != $1.0 ? $0.0 > $1.0 : row.items[$0.1] < row.items[$1.1] }
            var top: [Int] = []
            var perArtist: [Int32: Int] = [:]
            for (_, n) in combined where top.count < 10 {
                if let cap = maxPerArtist, row.artists[n] >= 0 {
                    if perArtist[row.artists[n], default: 0] >= cap { continue }
                    perArtist[row.artists[n], default: 0] += 1
                }
                top.append(row.items[n])
            }
            let m = RankingMetrics.score(list: top, relevant: row.relevant, k: 10, popularity: popularity, users: trainUsers)
            ndcg += m.ndcg
            nov += m.novelty
        }
        return (ndcg / Double(selected.count), nov / Double(selected.count))
    }
}
