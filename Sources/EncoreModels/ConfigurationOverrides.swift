// Applying `--config '{"k": 10, "min_k": 3}'` (or a JSON file) to a model's defaults. Keys may be
// camelCase (`minK`) or Surprise's snake_case (`min_k`); an unknown key is an error that lists
// the valid ones, so a typo never silently trains the default model.
import Foundation

/// Merges JSON overrides into a Codable configuration.
public enum ConfigurationOverrides {
    public static func apply<C: Codable>(_ overrides: String?, to defaults: C, model: String) throws -> C {
        guard let overrides, !overrides.trimmingCharacters(in: .whitespaces).isEmpty else { return defaults }
        var text = overrides
        if !overrides.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
            guard let data = FileManager.default.contents(atPath: overrides) else {
                throw ModelError("--config for \(model): '\(overrides)' is neither a JSON object nor a readable file")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ModelError("--config for \(model) is not a JSON object: \(text)")
        }
        let base = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as? [String: Any] ?? [:]
        var merged = base
        for (key, value) in object {
            let camel = camelCase(key)
            guard base.keys.contains(camel) || isOptionalField(camel, of: defaults) else {
                throw ModelError("unknown configuration field '\(key)' for \(model); fields: \(fieldNames(defaults).joined(separator: ", "))")
            }
            merged[camel] = value
        }
        do {
            return try JSONDecoder().decode(C.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch {
            throw ModelError("--config for \(model): a value has the wrong type (\(describe(error)))")
        }
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
    public static func json<C: Encodable>(_ c: C) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return (try? String(decoding: e.encode(c), as: UTF8.self)) ?? "{}"
    }
}
