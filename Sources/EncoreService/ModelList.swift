// The `--model` list language: `svd`, `svd{"n_epochs": 30}` or `svd={"n_epochs": 30}`, comma
// separated, commas inside braces kept. The same text can arrive from a form or an API.
import EncoreMath

/// One model of a list, with its configuration overrides and the label tables show.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var overrides: String?
    public var label: String

    public init(name: String, overrides: String?, label: String) {
        self.name = name
        self.overrides = overrides
        self.label = label
    }

    /// Parses a list; `sharedConfig` configures the models that have no JSON of their own.
    public static func parse(_ text: String, sharedConfig: String?) throws -> [ModelSpec] {
        var specs: [String] = []
        var depth = 0
        var current = ""
        for ch in text {
            if ch == "{" { depth += 1 }
            if ch == "}" { depth -= 1 }
            if ch == "," && depth == 0 { specs.append(current); current = "" } else { current.append(ch) }
        }
        specs.append(current)
        guard depth == 0 else { throw ParameterError("unbalanced braces in --model '\(text)'") }
        return try specs.map { raw in
            let s = raw.trimmingCharacters(in: .whitespaces)
            guard !s.isEmpty else { throw ParameterError("empty model name in --model '\(text)'") }
            if let brace = s.firstIndex(of: "{") {
                var name = String(s[..<brace]).trimmingCharacters(in: .whitespaces)
                while name.hasSuffix("=") || name.hasSuffix(":") { name.removeLast() }
                let json = String(s[brace...])
                return ModelSpec(name: name, overrides: json, label: "\(name) \(json)")
            }
            return ModelSpec(name: s, overrides: sharedConfig, label: sharedConfig.map { "\(s) \($0)" } ?? s)
        }
    }
}

import Foundation
