import Foundation
import Testing
@testable import EncoreText

enum Paths {
    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    static var model: String { root.appendingPathComponent(".models/all-MiniLM-L6-v2").path }
    static var vectors: String { root.deletingLastPathComponent().appendingPathComponent("shared/testvectors/minilm-l6-v2.json").path }
}

/// Writes a safetensors file from named Float32 tensors.
func writeSafetensors(_ tensors: [(String, [Int], [Float])], to path: String) throws {
    var header: [String: Any] = ["__metadata__": ["format": "pt"]]
    var blob = Data()
    for (name, shape, values) in tensors {
        header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [blob.count, blob.count + values.count * 4]]
        values.withUnsafeBytes { blob.append(contentsOf: $0) }
    }
    let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    var out = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(json)
    out.append(blob)
    try out.write(to: URL(fileURLWithPath: path))
}

func tempDir() -> String {
    let p = NSTemporaryDirectory() + "encore-text-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

@Suite struct TokenizerTests {
    let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", ",", "world", "!", "cafe", "sigur", "##ros", "€", "##100", "a", "σας", "σ", "##α", "##ς", "中", "国"]

    func t() throws -> WordPieceTokenizer { try WordPieceTokenizer(vocabulary: vocab, maxLength: 8) }
    func ids(_ words: [String]) -> [Int32] { words.map { Int32(vocab.firstIndex(of: $0)!) } }

    @Test func wordPiecesPunctuationAndCase() throws {
        // Nine positions cut to eight: [CLS] + six pieces + [SEP]; the "!" is dropped.
        #expect(try t().encode("Unaffable, HELLO world!") == ids(["[CLS]", "un", "##aff", "##able", ",", "hello", "world", "[SEP]"]))
        #expect(try t().encode("unaffable") == ids(["[CLS]", "un", "##aff", "##able", "[SEP]"]))
    }

    @Test func accentsInvisibleCharactersAndSymbols() throws {
        // é → e by NFD; a zero-width space disappears without a space; € is not punctuation.
        #expect(try t().encode("Café") == ids(["[CLS]", "cafe", "[SEP]"]))
        #expect(try t().encode("Sigur\u{200B}Rós") == ids(["[CLS]", "sigur", "##ros", "[SEP]"]))
        #expect(try t().encode("€100") == ids(["[CLS]", "€", "##100", "[SEP]"]))
        // Per-character lower case, no final-sigma rule: "σασ" (not the vocabulary's "σας") has no full cover.
        #expect(try t().encode("ΣΑΣ") == ids(["[CLS]", "[UNK]", "[SEP]"]))
    }

    @Test func cjkSplitUnknownsSpecialsAndTruncation() throws {
        #expect(try t().encode("中国") == ids(["[CLS]", "中", "国", "[SEP]"]))
        #expect(try t().encode("zzz") == ids(["[CLS]", "[UNK]", "[SEP]"]))
        // Typed [MASK] is the special token; lower-case [mask] is text: "[", "mask", "]", unknown here.
        #expect(try t().encode("a [MASK] a [mask]") == ids(["[CLS]", "a", "[MASK]", "a", "[UNK]", "[UNK]", "[UNK]", "[SEP]"]))
        // 8 positions: [CLS] + 6 pieces + [SEP].
        #expect(try t().encode("a a a a a a a a a a").count == 8)
        #expect(try t().encode(String(repeating: "a", count: 101)) == ids(["[CLS]", "[UNK]", "[SEP]"]))
        #expect(try t().encode("") == ids(["[CLS]", "[SEP]"]))
    }

    @Test func refusesAVocabularyWithoutSpecials() {
        #expect(throws: TextModelError.self) { try WordPieceTokenizer(vocabulary: ["a", "b"]) }
    }
}

@Suite struct SafetensorsTests {
    @Test func readsACraftedFile() throws {
        let dir = tempDir()
        let p = dir + "/t.safetensors"
        try writeSafetensors([("a", [2, 2], [1, 2, 3, 4]), ("b", [3], [0.5, -1, 8])], to: p)
        let f = try SafetensorsFile(path: p)
        #expect(try f.floats("a", shape: [2, 2]) == [1, 2, 3, 4])
        #expect(try f.floats("b") == [0.5, -1, 8])
        #expect(throws: TextModelError.self) { try f.floats("a", shape: [4]) }
        #expect(throws: TextModelError.self) { try f.floats("missing") }
    }

    @Test func refusesCorruptFiles() throws {
        let dir = tempDir()
        let p = dir + "/t.safetensors"
        try writeSafetensors([("a", [2, 2], [1, 2, 3, 4])], to: p)
        let good = try Data(contentsOf: URL(fileURLWithPath: p))
        func refused(_ bytes: Data, _ fragment: String) {
            let q = dir + "/bad.safetensors"
            _ = FileManager.default.createFile(atPath: q, contents: bytes)
            do {
                _ = try SafetensorsFile(path: q)
                Issue.record("accepted a corrupt file (\(fragment))")
            } catch {
                #expect("\(error)".contains(fragment), "\(error)")
            }
        }
        refused(good.prefix(good.count - 4), "lies outside the file")
        refused(Data([1, 2, 3]), "shorter than")
        var huge = good
        huge[7] = 0x7F
        refused(huge, "does not fit")
        var notJSON = good
        notJSON[8] = UInt8(ascii: "x")
        refused(notJSON, "not a JSON object")
        #expect(throws: TextModelError.self) { try SafetensorsFile(path: dir + "/none.safetensors") }
    }
}

@Suite struct DistilBERTLayoutTests {
    @Test func tinyRandomDistilBERTLoadsAndEncodes() throws {
        let dir = tempDir()
        let tensors = try writeTinyDistilBERT(in: dir, layers: 2, prefix: "distilbert.", seed: 1)
        let encoder = try SentenceEncoder(directory: dir)
        #expect(encoder.shape.hidden == 8 && encoder.shape.layers == 2 && !encoder.shape.hasTokenTypes)
        let v = encoder.encode(["hello world", "world"])
        #expect(v.count == 2 && v[0].count == 8)
        #expect(abs(v[0].reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        #expect(v[0] != v[1])
        #expect(encoder.encode(["hello world"])[0] == v[0])
        // A missing tensor is named in the error.
        try writeSafetensors(Array(tensors.dropLast()), to: dir + "/model.safetensors")
        do {
            _ = try SentenceEncoder(directory: dir)
            Issue.record("loaded a model with a missing tensor")
        } catch {
            #expect("\(error)".contains("output_layer_norm.bias"))
        }
        #expect(throws: TextModelError.self) { try SentenceEncoder(directory: dir + "/nowhere") }
    }
}

/// A tiny deterministic generator for the random test weights.
struct EncoreMathRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2000) / 4000
    }
}

@Suite struct ReferenceVectorTests {
    @Test func everyReferenceCaseMatches() throws {
        #expect(FileManager.default.fileExists(atPath: Paths.model + "/model.safetensors"), "run `make models` to fetch all-MiniLM-L6-v2")
        let encoder = try SentenceEncoder(directory: Paths.model)
        let data = try Data(contentsOf: URL(fileURLWithPath: Paths.vectors))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        #expect(cases.count >= 300)
        let texts = cases.map { $0["input"] as! String }
        let ids = texts.map { encoder.tokenizer.encode($0) }
        let out = encoder.encode(ids: ids)
        var worst = 1.0
        for (n, c) in cases.enumerated() {
            let expected = (c["token_ids"] as! [NSNumber]).map { $0.int32Value }
            #expect(ids[n] == expected, "\(c["label"]!): token ids differ")
            let reference = (c["embedding"] as! [NSNumber]).map { $0.doubleValue }
            let mine = out[n].embedding.map(Double.init)
            let dot = zip(reference, mine).reduce(0) { $0 + $1.0 * $1.1 }
            let cosine = dot / (reference.reduce(0) { $0 + $1 * $1 }.squareRoot() * mine.reduce(0) { $0 + $1 * $1 }.squareRoot())
            worst = min(worst, cosine)
            #expect(cosine >= 0.9999, "\(c["label"]!): cosine \(cosine)")
        }
        #expect(worst >= 0.9999)
    }
}

@Suite struct TFIDFTests {
    @Test func handComputedThreeDocumentCorpus() throws {
        var c = TFIDFConfiguration()
        c.ngrams = 1
        c.stopWords = false
        let index = try TFIDFIndex(documents: ["Rock metal", "rock, POP", "pop pop jazz"], configuration: c)
        #expect(index.terms == ["jazz", "metal", "pop", "rock"])
        let rare = log(4.0 / 2) + 1, common = log(4.0 / 3) + 1  // smooth idf, df 1 and df 2
        #expect(abs(Double(index.idf[0]) - rare) < 1e-6 && abs(Double(index.idf[2]) - common) < 1e-6)
        // Document 2: pop has tf 2 → (1 + ln 2) · idf; jazz tf 1 → idf; then L2 normalisation.
        let pop = (1 + log(2.0)) * common, jazz = rare, norm = (pop * pop + jazz * jazz).squareRoot()
        let row = Dictionary(uniqueKeysWithValues: index.row(2).map { (index.terms[Int($0.term)], Double($0.weight)) })
        #expect(abs(row["pop"]! - pop / norm) < 1e-6 && abs(row["jazz"]! - jazz / norm) < 1e-6)
        // Cosine of documents 0 and 1: only "rock" is shared.
        let s = index.scores(query: index.row(0))
        let r0 = common / (common * common + rare * rare).squareRoot(), r1 = common / (common * common + common * common).squareRoot()
        #expect(abs(Double(s[1]) - r0 * r1) < 1e-6)
        #expect(abs(Double(s[0]) - 1) < 1e-6)
        #expect(index.sharedTerms(0, 1) == ["rock"])
    }

    @Test func foldingStopWordsAndBigrams() {
        let t = TFIDFIndex.tokens("The Café—Tacvbo & Björk", configuration: TFIDFConfiguration())
        #expect(t == ["cafe", "tacvbo", "bjork", "cafe tacvbo", "tacvbo bjork"])
        var c = TFIDFConfiguration()
        c.ngrams = 3
        #expect(throws: TextModelError.self) { try TFIDFIndex(documents: ["a"], configuration: c) }
    }
}

@Suite struct EmbeddingCacheTests {
    @Test func hitOnARerunAndMissAfterATextChange() throws {
        let encoder = try tinyEncoder()
        let path = tempDir() + "/cache.emb"
        let cache = EmbeddingCache(path: path, identity: encoder.identity)
        let first = try cache.embed(["hello world", "world", "hello"], with: encoder)
        #expect(first.hits == 0)
        let second = try cache.embed(["hello world", "world", "hello"], with: encoder)
        #expect(second.hits == 3)
        #expect(second.vectors == first.vectors)
        let third = try cache.embed(["hello world", "world hello", "hello"], with: encoder)
        #expect(third.hits == 2)
        // Another encoder identity never reads these vectors.
        #expect(EmbeddingCache(path: path, identity: "other").load().vectors.isEmpty)
    }
}

/// Writes a tiny random DistilBERT (dim 8, 2 heads, hidden 16) into `dir`; `prefix` is the
/// tensor-name prefix ("distilbert." as exported by transformers, or none). Returns its tensors.
@discardableResult
func writeTinyDistilBERT(in dir: String, layers: Int, prefix: String, seed: UInt64) throws -> [(String, [Int], [Float])] {
    let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]
    try vocab.joined(separator: "\n").write(toFile: dir + "/vocab.txt", atomically: true, encoding: .utf8)
    let config: [String: Any] = ["model_type": "distilbert", "dim": 8, "n_layers": layers, "n_heads": 2, "hidden_dim": 16,
                                 "max_position_embeddings": 16, "vocab_size": vocab.count]
    try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
    var g = EncoreMathRandom(seed: seed)
    func r(_ n: Int) -> [Float] { (0..<n).map { _ in g.next() } }
    var tensors: [(String, [Int], [Float])] = [
        (prefix + "embeddings.word_embeddings.weight", [7, 8], r(56)), (prefix + "embeddings.position_embeddings.weight", [16, 8], r(128)),
        (prefix + "embeddings.LayerNorm.weight", [8], r(8)), (prefix + "embeddings.LayerNorm.bias", [8], r(8)),
    ]
    for n in 0..<layers {
        let p = prefix + "transformer.layer.\(n)."
        for l in ["q_lin", "k_lin", "v_lin", "out_lin"] { tensors += [(p + "attention.\(l).weight", [8, 8], r(64)), (p + "attention.\(l).bias", [8], r(8))] }
        tensors += [(p + "sa_layer_norm.weight", [8], r(8)), (p + "sa_layer_norm.bias", [8], r(8)),
                    (p + "ffn.lin1.weight", [16, 8], r(128)), (p + "ffn.lin1.bias", [16], r(16)),
                    (p + "ffn.lin2.weight", [8, 16], r(128)), (p + "ffn.lin2.bias", [8], r(8)),
                    (p + "output_layer_norm.weight", [8], r(8)), (p + "output_layer_norm.bias", [8], r(8))]
    }
    try writeSafetensors(tensors, to: dir + "/model.safetensors")
    return tensors
}

/// A tiny random DistilBERT, for tests that need an encoder quickly.
func tinyEncoder() throws -> SentenceEncoder {
    let dir = tempDir()
    try writeTinyDistilBERT(in: dir, layers: 1, prefix: "", seed: 2)
    return try SentenceEncoder(directory: dir)
}
