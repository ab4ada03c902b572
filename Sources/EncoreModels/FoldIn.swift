// Fold-in for the models trained by stochastic gradient descent (SVD, SVD++, BPR): a listener who
// is not in the training matrix gets user parameters from the model's own SGD steps, run on the
// user's side alone (the item side fixed at its trained values), for the configured epochs, from
// the initial mean (SVD, SVD++) or zero (BPR), with the history's songs in order (SVD, SVD++) or
// sampled with a fixed seed (BPR). It is deterministic. The trained user vectors kept part of their
// random start and moved while the items moved, so for a training user the fold-in agrees with
// the trained scores (a test bounds the correlation) without being bit-equal.
// SVD: O(epochs · n · f); SVD++ the same plus O(n · f) for the implicit sum; BPR: O(epochs · n · f).
import EncoreData
import EncoreMath
import Foundation

enum FoldIn {
    /// Squared-error SGD on a user's bias and factors (Surprise's update order and step sizes):
    /// for each epoch, for each (item, value) in order, e = r − (base + b + qᵢᵀp), then
    /// b += lr_b (e − reg_b b) and p += lr_p (e qᵢ − reg_p p). `base(i)` is everything that does not
    /// depend on the user's parameters (μ, b_i, and SVD++'s implicit term).
    static func squaredErrorUser(items: [Int], values: [Float], factors q: [Float], width f: Int, start: Float, bias: Bool,
                                 epochs: Int, lrBias: Float, regBias: Float, lrFactors: Float, regFactors: Float,
                                 base: (Int) -> Float) -> (factors: [Float], bias: Float) {
        var p = [Float](repeating: start, count: f)
        var b: Float = 0
        let bases = items.map(base)
        for _ in 0..<epochs {
            for (n, i) in items.enumerated() {
                var dot: Float = 0
                for j in 0..<f { dot += q[i * f + j] * p[j] }
                let e = values[n] - (bases[n] + b + dot)
                if bias { b += lrBias * (e - regBias * b) }
                for j in 0..<f { p[j] += lrFactors * (e * q[i * f + j] - regFactors * p[j]) }
            }
        }
        return (p, b)
    }

    /// BPR's SGD on one user vector (width f + 1, the last entry fixed at 1) against fixed item
    /// vectors: `epochs` passes of as many (played, random) pairs as the history has songs.
    static func bprUser(history: UserHistory, items: [Float], train: InteractionMatrix, configuration c: BPRConfiguration) -> [Float] {
        let f = c.factors, width = f + 1
        var x = [Float](repeating: 0, count: width)
        x[f] = 1
        guard !history.isEmpty else { return x }
        let played = Set(history.items)
        guard played.count < train.itemCount else { return x }
        var g = SeededGenerator(seed: c.seed, stream: UInt64(history.count))
        let lr = Float(c.learningRate), reg = Float(c.regularization)
        let popularity = c.negativeSampling == .popularity && train.nnz > 0
        for _ in 0..<c.epochs {
            for _ in 0..<history.count {
                let i = history.items[g.nextInt(below: history.count)]
                let j = popularity ? Int(train.columnIndices[g.nextInt(below: train.nnz)]) : g.nextInt(below: train.itemCount)
                if played.contains(j) { continue }
                var score: Float = 0
                for q in 0..<width { score += x[q] * (items[i * width + q] - items[j * width + q]) }
                let z = 1 / (1 + Float(Foundation.exp(Double(score))))
                for q in 0..<f { x[q] += lr * (z * (items[i * width + q] - items[j * width + q]) - reg * x[q]) }
            }
        }
        return x
    }
}
