// How `encore models` shows a configuration: snake_case field names (as the README and --config
// write them), every field listed (one chosen at fit time reads "auto"), wrapped to a width.
import EncoreModels

enum ConfigurationDisplay {
    /// The defaults as a JSON value with snake_case keys at every level; `fields` (camelCase) that
    /// the defaults leave out are added as "auto".
    static func snakeCased(_ json: String, fields: [String] = []) throws -> JSONValue {
        func convert(_ v: JSONValue) -> JSONValue {
            switch v {
            case .object(let o): .object(Dictionary(uniqueKeysWithValues: o.map { (ConfigurationOverrides.snakeCase($0.key), convert($0.value)) }))
            case .array(let a): .array(a.map(convert))
            default: v
            }
        }
        guard case .object(var o) = JSONValue(parsing: json) else { throw UsageError("a model's defaults are not a JSON object: \(json)") }
        for f in fields where o[f] == nil { o[f] = .string("auto") }
        return convert(.object(o))
    }

    /// "name value" per field, sorted by name; nested values as compact JSON.
    static func fields(_ v: JSONValue) -> [String] {
        guard case .object(let o) = v else { return [] }
        return o.keys.sorted().map { key in "\(key) \(render(o[key] ?? .null))" }
    }

    static func render(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .integer(let i): String(i)
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .string(let s): s.isEmpty ? "\"\"" : s
        case .array(let a): "[" + a.map(render).joined(separator: ", ") + "]"
        case .object(let o): "{" + o.keys.sorted().map { "\($0): \(render(o[$0] ?? .null))" }.joined(separator: ", ") + "}"
        }
    }

    /// Words joined by spaces into lines of at most `width` columns (a longer word takes a line
    /// of its own); the first line starts with `first`, the rest with `indent`.
    static func wrap(_ words: [String], width: Int, indent: String, first: String = "") -> String {
        var lines: [String] = []
        var line = first
        for w in words {
            let start = lines.isEmpty ? first : indent
            if line.count > start.count, line.count + 1 + w.count > width {
                lines.append(line)
                line = indent + w
            } else {
                line += (line.count > start.count ? " " : "") + w
            }
        }
        if line.count > (lines.isEmpty ? first : indent).count { lines.append(line) }
        return lines.joined(separator: "\n")
    }
}
