// A policy: for each user segment, a recipe that says which sources fill a list and how. A recipe
// either gives each source a number of the k slots (interleaved round-robin or in order), or
// gives each source a weight in a blend of per-source standardised scores. Rules apply to every
// list: no played song, each song once, at most `max_per_artist` songs of one artist. Policies are
// JSON files (schema in the README); `report` and `default` are built in.
import EncoreData
import EncoreModels
import Foundation

/// Where the songs of a list come from.
public enum PolicySource: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A model of the registry (`ease`, `clustering`, `transformer`, …), scored for the listener.
    case model(String)
    /// The popularity ranker's pool: songs by Song Popularity Score.
    case popular
    /// The popularity ranker's discovery pool: the most played per listener in each popularity bucket.
    case discovery
    /// Songs the listener's cluster mates play most (onboarding: songs of the preferred songs' clusters).
    case clusterMates
    /// Content neighbours of the history (transformer embeddings; TF-IDF without the weights).
    case content
    /// The new-song playlist.
    case newSongs

    public static let pools: [(String, PolicySource)] = [("popular", .popular), ("discovery", .discovery), ("cluster-mates", .clusterMates),
                                                          ("content", .content), ("new-songs", .newSongs)]

    public init(name: String) throws {
        if let p = Self.pools.first(where: { $0.0 == name }) { self = p.1; return }
        guard (try? ModelRegistry.entry(named: name)) != nil else {
            throw PolicyError("unknown source '\(name)'; use a model (\(ModelRegistry.all.map(\.name).joined(separator: ", "))) or a pool (\(Self.pools.map(\.0).joined(separator: ", ")))")
        }
        self = .model(name)
    }

    public var description: String {
        if case .model(let m) = self { return m }
        return Self.pools.first { $0.1 == self }?.0 ?? "?"
    }

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(name: name) } catch let e as PolicyError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: e.message))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// One source of a recipe with its share: slots (slot mode) or weight (blend mode).
public struct RecipePart: Codable, Sendable, Equatable {
    public var source: PolicySource
    public var slots: Int?
    public var weight: Double?

    public init(_ source: PolicySource, slots: Int? = nil, weight: Double? = nil) {
        self.source = source
        self.slots = slots
        self.weight = weight
    }
}

/// How one segment's list is made.
public struct Recipe: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable { case slots, blend }
    public enum Interleave: String, Codable, Sendable {
        /// Sources take turns in proportion to their slots (a smooth weighted round robin).
        case roundRobin = "round-robin"
        /// Each source's slots in the order of `sources`.
        case sequential
    }

    public var mode: Mode
    public var sources: [RecipePart]
    public var maxPerArtist: Int?
    public var interleave: Interleave

    public init(mode: Mode, sources: [RecipePart], maxPerArtist: Int? = nil, interleave: Interleave = .roundRobin) {
        self.mode = mode
        self.sources = sources
        self.maxPerArtist = maxPerArtist
        self.interleave = interleave
    }

    enum CodingKeys: String, CodingKey { case mode, sources, maxPerArtist = "max_per_artist", interleave }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? .slots
        sources = try c.decode([RecipePart].self, forKey: .sources)
        maxPerArtist = try c.decodeIfPresent(Int.self, forKey: .maxPerArtist)
        interleave = try c.decodeIfPresent(Interleave.self, forKey: .interleave) ?? .roundRobin
    }

    public func validate(_ segment: Segment) throws {
        let where_ = "policy: the \(segment.rawValue) recipe"
        guard !sources.isEmpty else { throw PolicyError("\(where_) has no sources") }
        guard Set(sources.map(\.source)).count == sources.count else { throw PolicyError("\(where_) names a source twice") }
        if let m = maxPerArtist, m < 1 { throw PolicyError("\(where_): max_per_artist must be ≥ 1") }
        for p in sources {
            switch mode {
            case .slots:
                guard let s = p.slots, s >= 0 else { throw PolicyError("\(where_) is in slot mode: give \(p.source) \"slots\" ≥ 0") }
                guard p.weight == nil else { throw PolicyError("\(where_) is in slot mode: \(p.source) has a weight; use \"mode\": \"blend\"") }
            case .blend:
                guard let w = p.weight, w.isFinite, w >= 0 else { throw PolicyError("\(where_) is a blend: give \(p.source) a \"weight\" ≥ 0") }
                guard p.slots == nil else { throw PolicyError("\(where_) is a blend: \(p.source) has slots; use \"mode\": \"slots\"") }
            }
        }
        let total = mode == .slots ? Double(sources.reduce(0) { $0 + ($1.slots ?? 0) }) : sources.reduce(0) { $0 + ($1.weight ?? 0) }
        guard total > 0 else { throw PolicyError("\(where_): the slots or weights add up to 0") }
    }
}

/// A named set of recipes, one per segment, with the segment rules and model configurations.
public struct Policy: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    public var segments: SegmentRules
    /// Configuration overrides (JSON object text) of the models the recipes use, by model name.
    public var models: [String: String]
    public var recipes: [Segment: Recipe]
    public var newSongs: NewSongRules

    public init(name: String, description: String, segments: SegmentRules = SegmentRules(), models: [String: String] = [:],
                recipes: [Segment: Recipe], newSongs: NewSongRules = NewSongRules()) {
        self.name = name
        self.description = description
        self.segments = segments
        self.models = models.mapValues { ConfigurationOverrides.json(JSONValue(parsing: $0)) }
        self.recipes = recipes
        self.newSongs = newSongs
    }

    enum CodingKeys: String, CodingKey { case name, description, segments, models, recipes, newSongs = "new_songs" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        segments = try c.decodeIfPresent(SegmentRules.self, forKey: .segments) ?? SegmentRules()
        let m = try c.decodeIfPresent([String: JSONValue].self, forKey: .models) ?? [:]
        models = m.mapValues { ConfigurationOverrides.json($0) }
        let r = try c.decode([String: Recipe].self, forKey: .recipes)
        var recipes: [Segment: Recipe] = [:]
        for (k, v) in r {
            guard let s = Segment(rawValue: k) else {
                throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [CodingKeys.recipes],
                                                        debugDescription: "unknown segment '\(k)'; use \(Segment.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            recipes[s] = v
        }
        self.recipes = recipes
        newSongs = try c.decodeIfPresent(NewSongRules.self, forKey: .newSongs) ?? NewSongRules()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(description, forKey: .description)
        try c.encode(segments, forKey: .segments)
        try c.encode(models.mapValues { JSONValue(parsing: $0) }, forKey: .models)
        try c.encode(Dictionary(uniqueKeysWithValues: recipes.map { ($0.key.rawValue, $0.value) }), forKey: .recipes)
        try c.encode(newSongs, forKey: .newSongs)
    }

    /// Every segment has a valid recipe; model configurations parse.
    public func validate() throws {
        try segments.validate()
        try newSongs.validate()
        for s in Segment.allCases {
            guard let r = recipes[s] else { throw PolicyError("policy '\(name)' has no recipe for \(s.rawValue)") }
            try r.validate(s)
        }
        for (model, overrides) in models {
            do { try ModelRegistry.entry(named: model).check(overrides: overrides) } catch { throw PolicyError("policy '\(name)', models.\(model): \(error)") }
        }
    }

    /// Every model the recipes name.
    public var modelNames: [String] {
        Set(recipes.values.flatMap { $0.sources.compactMap { if case .model(let m) = $0.source { m } else { nil } } }).sorted()
    }

    /// Every source the recipes name.
    public var sources: Set<PolicySource> { Set(recipes.values.flatMap { $0.sources.map(\.source) }) }

    /// The policy as pretty JSON.
    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    /// Reads a policy file, or a built-in by name.
    public static func named(_ nameOrPath: String) throws -> Policy {
        if let p = builtIn.first(where: { $0.name == nameOrPath }) { return p }
        guard FileManager.default.fileExists(atPath: nameOrPath) else {
            throw PolicyError("no policy '\(nameOrPath)': give a built-in (\(builtIn.map(\.name).joined(separator: ", "))) or a policy file")
        }
        guard let data = FileManager.default.contents(atPath: nameOrPath) else { throw PolicyError("\(nameOrPath): cannot read the file") }
        return try parse(data, source: nameOrPath)
    }

    /// Parses and validates policy JSON; `source` names it in messages.
    public static func parse(_ data: Data, source: String) throws -> Policy {
        let p: Policy
        do { p = try JSONDecoder().decode(Policy.self, from: data) } catch let e as DecodingError {
            throw PolicyError("\(source): not a valid policy: \(Self.describe(e))")
        }
        do { try p.validate() } catch let e as PolicyError { throw PolicyError("\(source): \(e.message)") }
        return p
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : p + ": "
        }
        switch e {
        case .dataCorrupted(let c): return path(c) + (c.underlyingError.map { "\($0.localizedDescription)" } ?? c.debugDescription)
        case .keyNotFound(let k, let c): return path(c) + "missing \"\(k.stringValue)\""
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return path(c) + c.debugDescription
        @unknown default: return "\(e)"
        }
    }
}

extension Policy {
    /// The built-in policies: the report's recipes, and Encore's tuned default.
    public static let builtIn: [Policy] = [report, tuned]

    /// The report's "Conclusion and Recommendations", slot for slot (k = 30). Cold start: the
    /// rule-based ranker's popular and discovery songs within the listener's preferences, plus songs
    /// of the preferred songs' clusters. Low engagement: the clustering hybrid, DistilBERT-style
    /// content similarity and a few highly popular songs. Low discovery: clustering and content.
    /// Regular users are not named by the report; they get its tuned SVD.
    public static let report = Policy(
        name: "report",
        description: "The report's recipes: rule-based popular+discovery and cluster mates for cold start; clustering + content + a few popular songs for low engagement; clustering + content for low discovery; SVD for the rest.",
        recipes: [
            .coldStart: Recipe(mode: .slots, sources: [RecipePart(.popular, slots: 10), RecipePart(.discovery, slots: 10), RecipePart(.clusterMates, slots: 10)]),
            .lowEngagement: Recipe(mode: .slots, sources: [RecipePart(.model("clustering"), slots: 12), RecipePart(.content, slots: 12), RecipePart(.popular, slots: 6)]),
            .lowDiscovery: Recipe(mode: .slots, sources: [RecipePart(.model("clustering"), slots: 15), RecipePart(.content, slots: 15)]),
            .regular: Recipe(mode: .slots, sources: [RecipePart(.model("svd"), slots: 30)]),
        ])
}
