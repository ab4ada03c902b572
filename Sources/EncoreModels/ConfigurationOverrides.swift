// Applying `--config '{"k": 10, "min_k": 3}'` (or `@FILE.json`) to a model's defaults. Keys may be
// camelCase (`minK`) or Surprise's snake_case (`min_k`); an unknown key is an error that lists
// the valid ones, so a typo never silently trains the default model.
import Foundation

/// Merges JSON overrides into a Codable configuration.
public enum ConfigurationOverrides {
    public static func apply<C: Codable>(_ overrides: String?, to defaults: C, model: String) throws -> C {
        guard let overrides else { return defaults }
        let trimmed = overrides.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ModelError("--config for \(model) is empty; give a JSON object such as {\"seed\": 7}") }
        // A file is read only when asked for with "@": the same parser takes HTTP input, where
        // nothing a client sends may be read as a path.
        var text = overrides
        if trimmed.hasPrefix("@") {
            let path = String(trimmed.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ModelError("--config for \(model): cannot read the file '\(path)'")
            }
            text = String(decoding: data, as: UTF8.self)
        } else if !trimmed.hasPrefix("{") {
            throw ModelError("--config for \(model) is not a JSON object: \(trimmed.prefix(200)) (to read a file, write --config @FILE.json)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ModelError("--config for \(model) is not a JSON object: \(text.prefix(200))")
        }
        if let key = duplicateKey(in: text) { throw ModelError("--config for \(model) names the field '\(key)' twice") }
        let base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as? [String: Any] ?? [:]
        var merged = base
        var given: [String: String] = [:]
        let fields = Set(base.keys).union(fieldNames(defaults))
        for key in object.keys.sorted() {
            let camel = field(named: key, in: fields)
            guard base.keys.contains(camel) || isOptionalField(camel, of: defaults) else {
                throw ModelError("unknown configuration field '\(key)' for \(model); fields: \(fieldNames(defaults).joined(separator: ", "))")
            }
            if let other = given[camel] { throw ModelError("--config for \(model) names the field '\(camel)' twice ('\(other)' and '\(key)')") }
            given[camel] = key
            merged[camel] = object[key]
        }
        do {
            return try JSONDecoder().decode(C.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch {
            // Find the field at fault by applying the overrides one at a time.
            for (camel, key) in given.sorted(by: { $0.key < $1.key }) {
                var single = base
                single[camel] = object[key]
                guard let data = try? JSONSerialization.data(withJSONObject: single), (try? JSONDecoder().decode(C.self, from: data)) == nil else { continue }
                throw ModelError("--config for \(model): field '\(key)' must be \(expectedType(camel, of: defaults)), got \(render(object[key]))")
            }
            throw ModelError("--config for \(model): a value has the wrong type (\(describe(error)))")
        }
    }

    /// The first key that repeats inside one JSON object of `text`, or nil. JSONSerialization
    /// keeps the last silently, which would hide a typo.
    static func duplicateKey(in text: String) -> String? {
        var stack: [Set<String>?] = []
        var expectKey = false
        let chars = Array(text.unicodeScalars)
        var i = 0
        while i < chars.count {
            switch chars[i] {
            case "{": stack.append([]); expectKey = true
            case "[": stack.append(nil); expectKey = false
            case "}", "]": _ = stack.popLast(); expectKey = false
            case ",": expectKey = stack.last.map { $0 != nil } ?? false
            case ":": expectKey = false
            case "\"":
                var value = String.UnicodeScalarView()
                i += 1
                while i < chars.count, chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count { value.append(chars[i]); i += 1 }
                    value.append(chars[i])
                    i += 1
                }
                let key = String(value)
                if expectKey, let last = stack.last, var keys = last {
                    if keys.contains(key) { return key }
                    keys.insert(key)
                    stack[stack.count - 1] = keys
                }
                expectKey = false
            default: break
            }
            i += 1
        }
        return nil
    }

    /// What a field of the defaults holds, in words.
    static func expectedType<C>(_ field: String, of value: C) -> String {
        guard let child = Mirror(reflecting: value).children.first(where: { $0.label == field }) else { return "of another type" }
        let type = String(describing: Swift.type(of: child.value))
        switch type {
        case "Int", "Optional<Int>": return "an integer (at most \(Int.max))"
        case "UInt64", "Optional<UInt64>": return "a non-negative integer"
        case "Double", "Optional<Double>", "Float": return "a number"
        case "Bool", "Optional<Bool>": return "true or false"
        case "String", "Optional<String>": return "a string"
        default:
            if let e = child.value as? any CaseIterable & RawRepresentable {
                return "one of " + Swift.type(of: e).allCasesDescription
            }
            return "a value of type \(type)"
        }
    }

    static func render(_ value: Any?) -> String {
        guard let value else { return "null" }
        if let s = value as? String { return "\"\(s)\"" }
        if let data = try? JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed]),
           let text = String(data: data, encoding: .utf8) {
            return String(text.dropFirst().dropLast())
        }
        return "\(value)"
    }

    /// The field a key names: camelCase as it is, or snake_case of any field (`min_k`, and
    /// `fallback_to_tfidf` for `fallbackToTFIDF`), matched without case or underscores.
    static func field(named key: String, in fields: Set<String>) -> String {
        if fields.contains(key) { return key }
        let wanted = key.replacingOccurrences(of: "_", with: "").lowercased()
        return fields.first { $0.lowercased() == wanted } ?? camelCase(key)
    }

    /// `min_k` → `minK`; camelCase stays as it is.
    static func camelCase(_ key: String) -> String {
        let parts = key.split(separator: "_")
        guard parts.count > 1 else { return key }
        return String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func fieldNames<C: Encodable>(_ value: C) -> [String] {
        Mirror(reflecting: value).children.compactMap(\.label).sorted()
    }

    static func isOptionalField<C>(_ name: String, of value: C) -> Bool {
        Mirror(reflecting: value).children.contains { $0.label == name }
    }

    static func describe(_ error: Error) -> String {
        if case DecodingError.typeMismatch(_, let ctx) = error { return ctx.codingPath.map(\.stringValue).joined(separator: ".") + ": " + ctx.debugDescription }
        if case DecodingError.dataCorrupted(let ctx) = error { return ctx.debugDescription }
        return "\(error)"
    }

    /// A configuration as sorted, compact JSON.
    /// `fallbackToTFIDF` → `fallback_to_tfidf`, `bm25K1` → `bm25_k1`, `minK` → `min_k`: the
    /// names the README and `encore models` show.
    public static func snakeCase(_ key: String) -> String {
        let chars = Array(key)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase, i > 0 {
                let previous = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) { out.append("_") }
            }
            out.append(contentsOf: c.lowercased())
        }
        return out
    }

    public static func json<C: Encodable>(_ c: C) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return (try? String(decoding: e.encode(c), as: UTF8.self)) ?? "{}"
    }
}

extension CaseIterable where Self: RawRepresentable {
    static var allCasesDescription: String { allCases.map { "\($0.rawValue)" }.joined(separator: ", ") }
}

/// Any JSON value, so a configuration stored as JSON text is written as an object inside JSON output.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text; text that is not JSON stays a string.
    public init(parsing text: String) {
        self = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .bool(b) } else if let i = try? c.decode(Int.self) {
            self = .integer(i)
        } else if let d = try? c.decode(Double.self) { self = .number(d) } else if let s = try? c.decode(String.self) { self = .string(s) } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .integer(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
