// BERT's uncased WordPiece tokeniser as the `tokenizers` library runs it for all-MiniLM-L6-v2:
// literal special tokens first; then BertNormalizer (drop NUL, U+FFFD and control/format/
// private/unassigned/surrogate characters without a space; white space to ' '; spaces around CJK
// ideographs; NFD and drop nonspacing marks; per-character lower case, so no final-sigma rule);
// BertPreTokenizer (split on white space, every punctuation character alone); greedy
// longest-match-first WordPiece with '##' continuations, a word of more than 100 characters or
// with no full cover becoming [UNK]; [CLS] … [SEP] around at most maxLength − 2 pieces.
// O(characters · longest word piece).
import EncoreMath
import Foundation

/// Errors of the text and transformer code.
public struct TextModelError: UserFacingError, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An uncased BERT WordPiece tokeniser.
public struct WordPieceTokenizer: Sendable {
    /// Token bytes → id. Keys are UTF-8 bytes, not Strings: Swift compares Strings by canonical
    /// equivalence (decomposed Hangul jamo would equal a precomposed syllable), the tokeniser by bytes.
    public let vocabulary: [[UInt8]: Int32]
    public let tokens: [String]
    public let maxLength: Int
    public let unknownID: Int32
    public let clsID: Int32
    public let sepID: Int32
    public let padID: Int32
    static let specials = ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"]

    public init(vocabulary tokens: [String], maxLength: Int = 256) throws {
        var v: [[UInt8]: Int32] = [:]
        for (i, t) in tokens.enumerated() where v[Array(t.utf8)] == nil { v[Array(t.utf8)] = Int32(i) }
        guard let unk = v[Array("[UNK]".utf8)], let cls = v[Array("[CLS]".utf8)], let sep = v[Array("[SEP]".utf8)] else {
            throw TextModelError("the vocabulary lacks [UNK], [CLS] or [SEP]")
        }
        guard maxLength >= 2 else { throw TextModelError("max length must be at least 2") }
        vocabulary = v
        self.tokens = tokens
        self.maxLength = maxLength
        unknownID = unk
        clsID = cls
        sepID = sep
        padID = v[Array("[PAD]".utf8)] ?? 0
    }

    /// Reads `vocab.txt` (one token per line).
    public init(vocabularyFile path: String, maxLength: Int = 256) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw TextModelError("cannot read the vocabulary \(path)") }
        var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        try self.init(vocabulary: lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }, maxLength: maxLength)
    }

    /// Token ids with [CLS] and [SEP], truncated to `maxLength`.
    public func encode(_ text: String) -> [Int32] {
        var pieces: [Int32] = []
        for segment in Self.splitSpecials(text) {
            switch segment {
            case .special(let s): pieces.append(vocabulary[Array(s.utf8)] ?? unknownID)
            case .text(let t):
                for word in Self.preTokenize(Self.normalize(t)) { pieces.append(contentsOf: wordPieces(word)) }
            }
        }
        if pieces.count > maxLength - 2 { pieces.removeLast(pieces.count - (maxLength - 2)) }
        return [clsID] + pieces + [sepID]
    }

    /// The tokens of an id list (for display).
    public func tokens(_ ids: [Int32]) -> [String] { ids.map { Int($0) < tokens.count ? tokens[Int($0)] : "[UNK]" } }

    enum Segment { case special(String), text(String) }

    /// Splits out literal special tokens (exact case), which are not normalised.
    static func splitSpecials(_ text: String) -> [Segment] {
        var out: [Segment] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            var earliest: (Range<Substring.Index>, String)? = nil
            for s in specials {
                if let r = rest.range(of: s), earliest == nil || r.lowerBound < earliest!.0.lowerBound { earliest = (r, s) }
            }
            guard let (r, s) = earliest else { out.append(.text(String(rest))); break }
            if r.lowerBound > rest.startIndex { out.append(.text(String(rest[rest.startIndex..<r.lowerBound]))) }
            out.append(.special(s))
            rest = rest[r.upperBound...]
        }
        return out
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .unassigned, .surrogate: return true
        default: return false
        }
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// BertNormalizer: clean text, CJK spacing, accent stripping (NFD, drop Mn), lower case per character.
    static func normalize(_ text: String) -> String {
        var cleaned = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.value == 0 || s.value == 0xFFFD || isControl(s) { continue }
            if isWhitespace(s) { cleaned.append(" "); continue }
            if isCJK(s) {
                cleaned.append(" ")
                cleaned.append(s)
                cleaned.append(" ")
                continue
            }
            cleaned.append(s)
        }
        let decomposed = String(cleaned).decomposedStringWithCanonicalMapping
        var out = String.UnicodeScalarView()
        for s in decomposed.unicodeScalars where s.properties.generalCategory != .nonspacingMark {
            // Per-character lower case (Unicode full mapping), without context rules.
            let mapping = s.properties.lowercaseMapping
            out.append(contentsOf: mapping.unicodeScalars)
        }
        return String(out)
    }

    /// BertPreTokenizer: white-space split; every punctuation character is its own word.
    static func preTokenize(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for s in text.unicodeScalars {
            if isWhitespace(s) {
                if !current.isEmpty { words.append(current); current = [] }
            } else if isPunctuation(s) {
                if !current.isEmpty { words.append(current); current = [] }
                words.append([s])
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Greedy longest-match-first WordPiece of one word.
    func wordPieces(_ word: [Unicode.Scalar]) -> [Int32] {
        if word.count > 100 { return [unknownID] }
        var out: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32? = nil
            while start < end {
                var piece: [UInt8] = start > 0 ? [35, 35] : []
                for s in word[start..<end] { piece.append(contentsOf: UTF8.encode(s)!) }
                if let id = vocabulary[piece] { found = id; break }
                end -= 1
            }
            guard let id = found else { return [unknownID] }
            out.append(id)
            start = end
        }
        return out
    }
}
