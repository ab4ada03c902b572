// TF-IDF over song text (title, release, artist, tags): Unicode case and diacritic folding,
// splitting at anything that is not a letter or digit, optional English stop words, unigrams
// and bigrams; smooth IDF ln((1 + n) / (1 + df)) + 1 and sublinear TF 1 + ln(tf) (both
// configurable, scikit-learn's definitions); rows L2-normalised and kept sparse, with an
// inverted index for cosine top-k. fit: O(tokens); similar: O(Σ postings of the query's terms).
import Foundation

/// TF-IDF settings.
public struct TFIDFConfiguration: Codable, Sendable, Equatable {
    /// 1: unigrams; 2: unigrams and bigrams.
    public var ngrams: Int = 2
    public var stopWords: Bool = true
    public var sublinearTF: Bool = true
    public var smoothIDF: Bool = true
    /// Terms in fewer documents are dropped.
    public var minDocumentFrequency: Int = 1
    public init() {}
}

/// A fitted TF-IDF index over documents.
public struct TFIDFIndex: Sendable {
    public let configuration: TFIDFConfiguration
    public let terms: [String]
    public let idf: [Float]
    /// Documents × terms, L2-normalised rows (CSR).
    public let rowPointers: [Int]
    public let columns: [Int32]
    public let values: [Float]
    let termIndex: [String: Int32]
    /// Term → (document, weight) postings.
    let postingPointers: [Int]
    let postingDocuments: [Int32]
    let postingValues: [Float]

    public static let englishStopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "by", "de", "for", "from", "in", "is", "it", "la", "le", "of", "on", "or",
        "the", "to", "with", "feat", "ft", "vs", "me", "my", "you", "your", "i", "we", "our", "this", "that", "el", "los", "das", "der", "die", "und",
    ]

    /// Folded word tokens, then bigrams of neighbours when asked.
    public static func tokens(_ text: String, configuration c: TFIDFConfiguration) -> [String] {
        let folded = text.decomposedStringWithCanonicalMapping.unicodeScalars
            .filter { $0.properties.generalCategory != .nonspacingMark }
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for s in folded {
            if s.properties.isAlphabetic || s.properties.numericType != nil {
                current.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            } else if !current.isEmpty {
                words.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        if c.stopWords { words = words.filter { !englishStopWords.contains($0) } }
        var out = words
        if c.ngrams >= 2 && words.count > 1 { for i in 0..<(words.count - 1) { out.append(words[i] + " " + words[i + 1]) } }
        return out
    }

    public init(documents: [String], configuration c: TFIDFConfiguration = TFIDFConfiguration()) throws {
        guard c.ngrams == 1 || c.ngrams == 2 else { throw TextModelError("ngrams must be 1 or 2, got \(c.ngrams)") }
        guard c.minDocumentFrequency >= 1 else { throw TextModelError("min_document_frequency must be at least 1") }
        let tokenized = documents.map { Self.tokens($0, configuration: c) }
        var df: [String: Int] = [:]
        for doc in tokenized { for t in Set(doc) { df[t, default: 0] += 1 } }
        let kept = df.filter { $0.value >= c.minDocumentFrequency }.keys.sorted()
        var index: [String: Int32] = [:]
        for (i, t) in kept.enumerated() { index[t] = Int32(i) }
        let n = Double(documents.count)
        let idf = kept.map { t -> Float in
            let d = Double(df[t]!)
            return Float(c.smoothIDF ? log((1 + n) / (1 + d)) + 1 : log(n / d) + 1)
        }
        var ptr = [0], cols: [Int32] = [], vals: [Float] = []
        for doc in tokenized {
            var counts: [Int32: Int] = [:]
            for t in doc { if let j = index[t] { counts[j, default: 0] += 1 } }
            var row = counts.map { j, tf -> (Int32, Float) in
                let w = c.sublinearTF ? 1 + log(Float(tf)) : Float(tf)
                return (j, w * idf[Int(j)])
            }.sorted { $0.0 < $1.0 }
            let norm = row.reduce(Float(0)) { $0 + $1.1 * $1.1 }.squareRoot()
            if norm > 0 { row = row.map { ($0.0, $0.1 / norm) } }
            for (j, w) in row { cols.append(j); vals.append(w) }
            ptr.append(cols.count)
        }
        self.init(configuration: c, terms: kept, idf: idf, rowPointers: ptr, columns: cols, values: vals)
    }

    /// Rebuilds from stored arrays.
    public init(configuration: TFIDFConfiguration, terms: [String], idf: [Float], rowPointers: [Int], columns: [Int32], values: [Float]) {
        self.configuration = configuration
        self.terms = terms
        self.idf = idf
        self.rowPointers = rowPointers
        self.columns = columns
        self.values = values
        var index: [String: Int32] = [:]
        for (i, t) in terms.enumerated() { index[t] = Int32(i) }
        termIndex = index
        var counts = [Int](repeating: 0, count: terms.count + 1)
        for c in columns { counts[Int(c) + 1] += 1 }
        for i in 0..<terms.count { counts[i + 1] += counts[i] }
        var next = counts
        var docs = [Int32](repeating: 0, count: columns.count), weights = [Float](repeating: 0, count: columns.count)
        for d in 0..<(rowPointers.count - 1) {
            for k in rowPointers[d]..<rowPointers[d + 1] {
                let t = Int(columns[k])
                docs[next[t]] = Int32(d)
                weights[next[t]] = values[k]
                next[t] += 1
            }
        }
        postingPointers = counts
        postingDocuments = docs
        postingValues = weights
    }

    public var documentCount: Int { rowPointers.count - 1 }

    /// Cosine of a sparse query (term → weight) with every document.
    public func scores(query: [(term: Int32, weight: Float)]) -> [Float] {
        var s = [Float](repeating: 0, count: documentCount)
        for (t, w) in query {
            for k in postingPointers[Int(t)]..<postingPointers[Int(t) + 1] { s[Int(postingDocuments[k])] += w * postingValues[k] }
        }
        return s
    }

    /// The document's row as (term, weight) pairs.
    public func row(_ d: Int) -> [(term: Int32, weight: Float)] {
        (rowPointers[d]..<rowPointers[d + 1]).map { (columns[$0], values[$0]) }
    }

    /// The terms two documents share, by the product of their weights, best first.
    public func sharedTerms(_ a: Int, _ b: Int, top: Int = 3) -> [String] {
        var wa: [Int32: Float] = [:]
        for (t, w) in row(a) { wa[t] = w }
        return row(b).compactMap { t, w in wa[t].map { (t, $0 * w) } }.sorted { $0.1 > $1.1 }.prefix(top).map { terms[Int($0.0)] }
    }
}
