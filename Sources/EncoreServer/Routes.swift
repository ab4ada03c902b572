// The routes of the JSON API. Bodies are size-limited and decoded strictly (unknown fields are
// refused, types checked); ids, k and batch sizes are bounded; nothing a client sends is read as a
// path, and configuration overrides are not accepted.
import EncoreData
import EncoreModels
import EncorePolicy
import EncoreService
import EncoreStore
import Foundation
import Hummingbird

struct Routes: Sendable {
    let service: RecommendationService
    let configuration: ServerConfiguration
    let metrics: ServiceMetrics

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in try json(["status": "ok"]) }
        router.get("/readyz") { _, _ in try await ready() }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render(service: service))))
        }
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        router.get("/v1/users/:id/recommendations") { request, context in try await recommendations(request, context) }
        router.post("/v1/onboarding") { request, context in try await onboarding(request, context) }
        router.get("/v1/songs/:id/similar") { request, context in try similar(request, context) }
        router.get("/v1/playlists/new-songs") { request, _ in try newSongs(request) }
        router.post("/v1/events") { request, context in try await events(request, context) }
        router.put("/v1/songs/:id") { request, context in try await putSong(request, context) }
        router.put("/v1/users/:id") { request, context in try await putUser(request, context) }
        router.get("/v1/models") { _, _ in try await models() }
        router.post("/v1/models/:id/activate") { _, context in try await activate(context) }
    }

    // MARK: Helpers

    func json(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func bad(_ message: String) -> APIError { APIError(status: .badRequest, code: "bad_request", message: message) }

    func parameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        guard let v = context.parameters.get(name) else { throw Self.bad("missing \(name)") }
        return v
    }

    func k(_ request: Request, default d: Int) throws -> Int {
        guard let text = request.uri.queryParameters.get("k") else { return d }
        guard let k = Int(text) else { throw Self.bad("k must be an integer, got '\(text.prefix(40))'") }
        guard k >= 1, k <= service.options.maxK else { throw Self.bad("k must be between 1 and \(service.options.maxK)") }
        return k
    }

    /// The body as a JSON object whose keys are all in `allowed`. Decoded with JSONDecoder into
    /// typed values, so a number is never read as a boolean (or the reverse).
    func object(_ request: Request, _ context: BasicRequestContext, allowed: Set<String>) async throws -> [String: JSONValue] {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: configuration.maxBodyBytes) } catch {
            throw APIError(status: .contentTooLarge, code: "too_large", message: "the body is larger than \(configuration.maxBodyBytes) bytes")
        }
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView)) else {
            throw Self.bad("the body must be a JSON object")
        }
        try Self.onlyKnown(object, allowed)
        return object
    }

    static func onlyKnown(_ object: [String: JSONValue], _ allowed: Set<String>, at path: String = "") throws {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw bad("unknown field '\(path)\(unknown)'; the fields are \(allowed.sorted().joined(separator: ", "))")
        }
    }

    static func strings(_ object: [String: JSONValue], _ key: String) throws -> [String] {
        guard let v = object[key] else { return [] }
        guard case .array(let a) = v, a.count <= 100 else { throw bad("\(key) must be an array of at most 100 strings") }
        return try a.map {
            guard case .string(let s) = $0, !s.isEmpty, s.utf8.count <= 256 else { throw bad("\(key) holds strings of 1 to 256 bytes") }
            return s
        }
    }

    static func string(_ object: [String: JSONValue], _ key: String, limit: Int = 1_000) throws -> String {
        guard let v = object[key] else { return "" }
        guard case .string(let s) = v, s.utf8.count <= limit else { throw bad("\(key) must be a string of at most \(limit) bytes") }
        return s
    }

    static func integer(_ v: JSONValue) -> Int? {
        switch v {
        case .integer(let i): return i
        case .number(let d) where d == d.rounded() && abs(d) < 9e15: return Int(d)
        default: return nil
        }
    }

    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }

    struct ReasonBody: Encodable { var kind: String; var sentence: String; var songs: [String] }
    struct ItemBody: Encodable { var song: String; var title: String; var artist: String; var score: Double; var source: String; var reason: ReasonBody }
    struct ValuesBody: Encodable {
        var songs: Int; var plays: Double; var popularity_percentile: Double; var top_share: Double
    }
    struct SegmentBody: Encodable { var name: String; var reason: String; var values: ValuesBody }
    struct RecommendationsBody: Encodable {
        var request_id: String; var user: String; var known_user: Bool; var segment: SegmentBody; var policy: String; var arm: String
        var folded_in_songs: Int; var items: [ItemBody]
    }
    struct OnboardingBody: Encodable { var segment: SegmentBody; var policy: String; var unmatched: [String]; var items: [ItemBody] }
    struct SimilarBody: Encodable { var song: String; var by: String; var items: [ItemBody] }
    struct PlaylistBody: Encodable { var user: String; var items: [ItemBody] }

    func encoded<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    func item(_ i: Int, _ score: Double, source: String, explanation: Explanation?, in s: ServingSnapshot) -> ItemBody {
        let e = i < s.catalog.count ? s.catalog[i] : CatalogEntry()
        return ItemBody(song: s.train.items[i], title: e.title, artist: e.artist, score: score.isFinite ? score : 0, source: source,
                        reason: ReasonBody(kind: explanation?.kind.rawValue ?? "model", sentence: explanation?.sentence ?? "",
                                           songs: (explanation?.songs ?? []).compactMap { $0 < s.train.itemCount ? s.train.items[$0] : nil }))
    }

    func segment(_ r: PolicyRecommendation) -> SegmentBody {
        SegmentBody(name: r.segment.rawValue, reason: r.segmentReason,
                    values: ValuesBody(songs: r.values.songs, plays: r.values.plays, popularity_percentile: r.values.popularityPercentile, top_share: r.values.topShare))
    }

    // MARK: Handlers

    /// Runs `work`, giving up (throwing) after `seconds` without waiting for it to end.
    static func within(seconds: Double, _ work: @escaping @Sendable () async throws -> Void) async throws {
        let settled = OnceFlag()
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            Task {
                do {
                    try await work()
                    if settled.set() { c.resume() }
                } catch {
                    if settled.set() { c.resume(throwing: error) }
                }
            }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                if settled.set() { c.resume(throwing: CancellationError()) }
            }
        }
    }

    func ready() async throws -> Response {
        do {
            // One round trip, given 2 seconds: a database that is gone or hung makes this replica unready.
            let store = service.store
            try await Self.within(seconds: 2) { try await store.ping() }
            let s = service.snapshot
            return try json(["status": "ready", "snapshot_version": s.version, "policies": service.policyNames, "users": s.train.userCount, "songs": s.train.itemCount])
        } catch {
            throw APIError(status: .serviceUnavailable, code: "unavailable", message: "the database is not reachable")
        }
    }

    func recommendations(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let user = try parameter(context, "id")
        let k = try k(request, default: 30)
        let policy = request.uri.queryParameters.get("policy")
        if let policy, policy.utf8.count > 100 { throw Self.bad("policy names are at most 100 bytes") }
        let r = try await service.recommend(user: user, k: k, policy: policy)
        let s = r.snapshot
        return bytes(RecommendationsBody(
            request_id: r.requestID, user: r.user, known_user: r.known, segment: segment(r.recommendation), policy: r.arm, arm: r.arm,
            folded_in_songs: r.foldedIn, items: r.items.map { item($0.item.item, $0.item.score, source: $0.item.source, explanation: $0.item.explanation, in: s) }).json())
    }

    func bytes(_ b: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: b)))
    }

    func onboarding(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let o = try await object(request, context, allowed: ["artists", "tags", "songs", "k"])
        let p = Preferences(artists: try Self.strings(o, "artists"), tags: try Self.strings(o, "tags"), songs: try Self.strings(o, "songs"))
        var k = 30
        if let v = o["k"] {
            guard let n = Self.integer(v) else { throw Self.bad("k must be an integer") }
            k = n
        }
        let (r, s) = try service.onboarding(p, k: k)
        return try encoded(OnboardingBody(segment: segment(r), policy: r.policy, unmatched: r.unmatched,
                                          items: r.items.map { item($0.item, $0.score, source: $0.source, explanation: $0.explanation, in: s) }))
    }

    func similar(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let song = try parameter(context, "id")
        let by = request.uri.queryParameters.get("by") ?? "cf"
        let (list, s) = try service.similar(song: song, by: by, k: try k(request, default: 10))
        return try encoded(SimilarBody(song: song, by: by, items: list.map { item($0.item, $0.score, source: by, explanation: $0.explanation, in: s) }))
    }

    func newSongs(_ request: Request) throws -> Response {
        guard let user = request.uri.queryParameters.get("user") else { throw Self.bad("give user=ID") }
        let (list, s) = try service.newSongs(user: String(user), k: try k(request, default: 20))
        return try encoded(PlaylistBody(user: String(user), items: list.map { song in
            ItemBody(song: song.song, title: song.title, artist: song.artist, score: song.score.isFinite ? song.score : 0, source: "new-songs",
                     reason: ReasonBody(kind: song.explanation?.kind.rawValue ?? "new_song", sentence: song.explanation?.sentence ?? "",
                                        songs: (song.explanation?.songs ?? []).compactMap { $0 < s.train.itemCount ? s.train.items[$0] : nil }))
        }))
    }

    func events(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let o = try await object(request, context, allowed: ["events"])
        guard case .array(let list)? = o["events"] else { throw Self.bad("events must be an array") }
        guard !list.isEmpty, list.count <= configuration.maxBatch else { throw Self.bad("a batch holds 1 to \(configuration.maxBatch) events, got \(list.count)") }
        var events: [Event] = []
        var problems: [(index: Int, message: String)] = []
        let allowed: Set<String> = ["user", "song", "kind", "plays", "timestamp", "request_id"]
        for (n, any) in list.enumerated() {
            do {
                guard case .object(let e) = any else { throw Self.bad("an event is a JSON object") }
                try Self.onlyKnown(e, allowed)
                guard case .string(let user)? = e["user"], case .string(let song)? = e["song"] else { throw Self.bad("user and song are strings") }
                var kindText = "play"
                if let k = e["kind"] {
                    guard case .string(let t) = k else { throw Self.bad("kind must be a string") }
                    kindText = t
                }
                guard let kind = EventKind(rawValue: kindText), kind != .impression else { throw Self.bad("kind must be play, skip, like or dislike") }
                var plays: Double = kind == .play ? 1 : 0
                if let p = e["plays"] {
                    guard let v = Self.number(p) else { throw Self.bad("plays must be a number") }
                    plays = v
                }
                var timestamp = Event.now()
                if let t = e["timestamp"] {
                    guard let v = Self.integer(t), v > 0, v < 32_503_680_000_000 else { throw Self.bad("timestamp is milliseconds since 1970") }
                    timestamp = Int64(v)
                }
                var requestID: String? = nil
                if let r = e["request_id"] {
                    guard case .string(let v) = r else { throw Self.bad("request_id must be a string") }
                    requestID = v
                }
                events.append(Event(user: user, song: song, kind: kind, plays: plays, timestamp: timestamp, requestID: requestID))
            } catch let e as APIError {
                problems.append((n, e.message))
            }
        }
        guard problems.isEmpty else {
            throw APIError(status: .badRequest, code: "bad_request", message: "\(problems.count) of \(list.count) events are invalid; nothing was stored", details: problems)
        }
        let accepted = try await service.ingest(events, limit: configuration.maxBatch)
        return try json(["accepted": accepted], status: .accepted)
    }

    func putSong(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try parameter(context, "id")
        let o = try await object(request, context, allowed: ["title", "release", "artist", "year", "tags"])
        var year = 0
        if let y = o["year"] {
            guard let v = Self.integer(y) else { throw Self.bad("year must be an integer") }
            year = v
        }
        let entry = CatalogEntry(title: try Self.string(o, "title"), release: try Self.string(o, "release"), artist: try Self.string(o, "artist"),
                                 year: year, tags: try Self.strings(o, "tags"))
        try await service.upsertSong(id: id, entry: entry)
        return try json(["song": id, "stored": true, "served_after": "the next reload (model activation or restart)"])
    }

    func putUser(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try parameter(context, "id")
        let o = try await object(request, context, allowed: ["artists", "tags", "songs"])
        let answers = Onboarding(artists: try Self.strings(o, "artists"), tags: try Self.strings(o, "tags"), songs: try Self.strings(o, "songs"))
        try await service.upsertUser(id: id, onboarding: answers)
        return try json(["user": id, "stored": true])
    }

    func record(_ m: ModelRecord) -> [String: Any] {
        var r: [String: Any] = ["id": m.id, "kind": m.kind, "version": m.version, "status": m.status.rawValue, "trained_at": m.trainedAt,
                                "configuration": (try? JSONSerialization.jsonObject(with: Data(m.configuration.utf8))) ?? [:],
                                "metrics": (try? JSONSerialization.jsonObject(with: Data(m.metrics.utf8))) ?? [:]]
        if let a = m.activatedAt { r["activated_at"] = a }
        if let s = m.segment { r["segment"] = s }
        return r
    }

    func models() async throws -> Response {
        let s = service.snapshot
        return try json(["models": try await service.store.models().map(record), "snapshot_version": s.version,
                         "serving": s.loaded.mapValues { $0.id }])
    }

    func activate(_ context: BasicRequestContext) async throws -> Response {
        let text = try parameter(context, "id")
        guard let id = Int64(text), id > 0 else { throw Self.bad("a model id is a positive integer") }
        let m = try await service.activate(id: id)
        return try json(["model": record(m), "snapshot_version": service.snapshot.version])
    }
}
