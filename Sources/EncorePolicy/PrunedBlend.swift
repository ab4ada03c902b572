// The blend of one dense factor model (ALS or BPR: `PrunedTopScoring`) with sparse sources
// (item-KNN, the popular and discovery pools), without scoring every song. Outside the sparse
// sources' songs a song's blend is the model's weighted z-score plus constants, which rises with
// the model's score, so the blend's best songs there are among the model's best songs that are
// neither blocked nor the sparse sources' own; those come from the norm-ordered panel, which
// stops once no song left can beat them (about 2% of the songs at the Million Song Dataset's
// size). The sparse sources' songs are scored exactly, one by one. The model's z-score takes the
// mean and variance of all its scores in closed form (the rows' sum and Gram matrix), and the
// blend is summed as everywhere else, so the list is that of the whole blend with those
// statistics; when the artist cap passes over every song found, the whole blend is computed.
// Ties at the rounding of a blend between a model-ranked song and one just below it go by the
// model's score. O(scanned · d + Σ sparse songs · (d + sources) + depth · log depth) per list.
import EncoreData
import EncoreMath
import EncoreModels

extension PolicyEngine {
    /// The part of a blend recipe that can go by norm bounds: the one part with a positive weight
    /// that scores every song, a `PrunedTopScoring` model, when every other part with a positive
    /// weight is sparse (a `SparseScoring` model, popular, discovery). Nil for any other recipe.
    func prunedPart(_ recipe: Recipe) -> Int? {
        guard recipe.mode == .blend else { return nil }
        var found: Int?
        for (n, part) in recipe.sources.enumerated() where (part.weight ?? 0) > 0 {
            switch part.source {
            case .popular, .discovery:
                continue
            case .model(let name):
                let model = models[name]?.model
                if model is any SparseScoring { continue }
                guard model is any PrunedTopScoring, found == nil else { return nil }
                found = n
            default:
                return nil
            }
        }
        return found
    }

    /// The list of a recipe whose part `p` goes by norm bounds (`prunedPart`), and how many songs
    /// the model scored (its best and the sparse sources' songs); nil when this
    /// listener cannot go that way (the model cannot score them, or a source is not sparse for
    /// them), and the caller composes from every song's scores.
    func composePruned(_ recipe: Recipe, part p: Int, for l: Listener, blocked: Set<Int>, k: Int) -> (items: [PolicyItem], scored: Int)? {
        guard case .model(let name) = recipe.sources[p].source, let fitted = models[name],
              let model = fitted.model as? any PrunedTopScoring else { return nil }
        let query: [Float]
        switch scoring(fitted, for: l) {
        case .user(let u): query = model.query(user: u)
        case .history(let h): query = model.query(history: h)
        case .none: return nil
        }
        let parts = recipe.sources
        let weights = parts.map { $0.weight ?? 0 }
        let n = train.itemCount
        // The other sources, each sparse where it counts.
        var sourced: [SourceScores] = []
        for (m, part) in parts.enumerated() {
            guard m != p else {
                sourced.append(SourceScores(scores: []) { _ in Explanation(kind: .model, sentence: "") })
                continue
            }
            let s = scores(of: part.source, for: l)
            if weights[m] > 0 && (s.support == nil || s.scores.count != n) { return nil }
            sourced.append(s)
        }
        let panel = model.normPanel
        let moments = panel.moments(query: query)
        let modelZ = Standardisation(sum: moments.sum, squares: moments.squares, rankable: n, lowest: Float(moments.lowestBound))
        let z = sourced.enumerated().map { m, s in m == p ? modelZ : s.standardisation }

        // Blocked songs, then the sparse sources' songs that are not blocked, each once.
        let (skip, sparseSongs) = BlendRanking.marks(blocked: blocked, count: n,
                                                     supports: sourced.indices.compactMap { $0 != p && weights[$0] > 0 ? sourced[$0].support : nil })
        let depth = k + 20
        var known: [Int: Float] = Dictionary(minimumCapacity: depth + sparseSongs.count)
        for (i, v) in zip(sparseSongs, panel.scores(of: sparseSongs, query: query)) { known[i] = v }

        // Each song's blend, summed over the sources in order as `Standardisation.blend` does.
        let terms = BlendTerm.terms(z: z, weights: weights.map { Float($0) }) { _ in true }
        var heap = BoundedHeap(capacity: depth)
        func blend(_ i: Int) {
            let total = BlendTerm.total(terms) { _, term in term.source == p ? known[i] ?? -.infinity : sourced[term.source].scores[i] }
            if let total { heap.insert((i, total)) }
        }
        // The sparse sources' songs first: when they fill the list, a song of the model alone must
        // beat the worst of them, so the model's scan can stop at the score that reaches it.
        for i in sparseSongs { blend(i) }
        var above = -Float.infinity
        if heap.isFull, let model = terms.first(where: { $0.source == p }), model.a > 0 {
            // Outside the sparse songs a blend is s · a + b plus the other sources' constants.
            var rest: Float = 0
            for term in terms where term.source != p { rest += term.contribution(sourced[term.source].rest) }
            let target = Double(heap.worst.total) - Double(rest) - Double(model.b)
            let s = target / Double(model.a)
            // Below by far more than the rounding of a blend: no song at or below it can reach the worst kept.
            let slack = 1e-4 * (abs(s) + (abs(Double(heap.worst.total)) + abs(Double(rest)) + abs(Double(model.b)) + 1) / Double(model.a))
            above = Float(s - slack).nextDown
        }
        let best = panel.top(query: query, skip: skip, above: above, depth: depth)
        for e in best.entries {
            known[e.index] = e.score
            blend(e.index)
        }
        sourced[p] = modelSource(name, fitted, for: l, known: known)
        let top = BlendRanking(order: heap.sorted(), complete: !heap.isFull)
        var everySong = false
        let items = pickBlend(recipe, sourced: sourced, z: z, blocked: blocked, k: k, top: top) {
            everySong = true
            var all = sourced
            all[p] = modelSource(name, fitted, for: l, scores: model.panel(query: query))
            return all
        }
        return (items, everySong ? n : best.scanned + sparseSongs.count)
    }

    /// The pruned model's source: its reasons, and its scores of the songs found (or of every song).
    func modelSource(_ name: String, _ fitted: FittedModel, for l: Listener, known: [Int: Float] = [:], scores: [Float] = []) -> SourceScores {
        var s = explainedModelScores(name, fitted, scores, for: l)
        s.known = known
        return s
    }
}

extension PrunedTopScoring {
    /// Every song's score for a query (the same bits as the pruned scores).
    func panel(query: [Float]) -> [Float] { scoreAll(queries: [query])[0] }
}
