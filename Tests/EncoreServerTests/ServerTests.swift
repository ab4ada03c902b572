import EncoreData
import EncoreModels
@testable import EncoreServer
import EncoreService
import EncoreStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A SQLite store holding a small generated dataset, the service over it, and keys of every role.
final class Fixture: Sendable {
    let directory: String
    let store: any Store
    let service: RecommendationService
    let keys: [APIRole: String]

    static func make(policies: [String] = ["default", "report"]) async throws -> Fixture {
        let dir = NSTemporaryDirectory() + "encore-server-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try SyntheticGenerator.generate(GeneratorConfiguration(users: 200, songs: 150, plays: 6_000, seed: 11), to: dir + "/raw", progress: false)
        let dataset = try DatasetImporter.load(path: dir + "/raw", options: LoadOptions(lenient: false, progress: false))
        let store = try await Stores.open(dir + "/encore.db")
        _ = try await StoreWorkflows.importDataset(dataset, files: [dir + "/raw/count_data.csv"], into: store, mode: .replace)
        var keys: [APIRole: String] = [:]
        for role in APIRole.allCases { keys[role] = try await store.createAPIKey(role: role).secret }
        var options = ServingOptions()
        options.policies = policies
        let service = try await RecommendationService.start(store: store, options: options)
        return Fixture(directory: dir, store: store, service: service, keys: keys)
    }

    init(directory: String, store: any Store, service: RecommendationService, keys: [APIRole: String]) {
        self.directory = directory
        self.store = store
        self.service = service
        self.keys = keys
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func app(requireKeys: Bool = true) -> some ApplicationProtocol {
        var c = ServerConfiguration()
        c.requireKeys = requireKeys
        c.port = 0
        return Application(router: try! EncoreServer.makeRouter(service: service, configuration: c))
    }

    func headers(_ role: APIRole?) -> HTTPFields {
        var h: HTTPFields = [.contentType: "application/json"]
        if let role, let key = keys[role] { h[.authorization] = "Bearer \(key)" }
        return h
    }

    var firstUser: String { service.snapshot.train.users[0] }
}

func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// The body as a JSON object ([:] when it is not one: the assertions that read it then fail).
func object(_ r: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(r.body.readableBytesView))) as? [String: Any] ?? [:]
}

func errorCode(_ r: TestResponse) -> String? {
    (object(r)["error"] as? [String: Any])?["code"] as? String
}

@Suite(.serialized) struct ServerTests {
    @Test func operationsAnswerWithoutKeysAndTheContractDescribesEveryRoute() async throws {
        let f = try await Fixture.make(policies: ["default"])
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { r in
                #expect(r.status == .ok)
                #expect(object(r)["snapshot_version"] as? Int == 1)
            }
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("encore_model_snapshot_version"))
            }
            try await client.execute(uri: "/openapi.json", method: .get) { r in
                let doc = object(r)
                #expect(doc["openapi"] as? String == "3.1.0")
                let paths = try #require(doc["paths"] as? [String: [String: Any]])
                var documented = Set<String>()
                for (path, ops) in paths { for m in ops.keys { documented.insert(m.uppercased() + " " + path) } }
                let listed = Set(OpenAPIDocument.operations.map { $0.method + " " + $0.path })
                #expect(documented == listed)
            }
        }
        // The router's routes are exactly the documented ones.
        let router = try EncoreServer.makeRouter(service: f.service, configuration: ServerConfiguration())
        // The dashboard's pages (HTML, Dashboard.swift) are not part of the JSON contract.
        let operations = ["/healthz", "/readyz", "/metrics", "/openapi.json"]
        let served = Set(router.routes.filter { r in r.path.description.hasPrefix("/v1/") || operations.contains(r.path.description) }.map { r -> String in
            let parts = r.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(r.method.rawValue) /" + parts.joined(separator: "/")
        })
        #expect(served == Set(OpenAPIDocument.operations.map { $0.method + " " + $0.path }), "\(served)")
    }

    @Test func everyRoleAgainstEveryRoute() async throws {
        let f = try await Fixture.make(policies: ["default"])
        let user = f.firstUser
        let song = f.service.snapshot.train.items[0]
        let routes: [(HTTPRequest.Method, String, String?, APIRole)] = [
            (.get, "/v1/users/\(user)/recommendations?k=5", nil, .read),
            (.post, "/v1/onboarding", #"{"tags": ["rock"]}"#, .read),
            (.get, "/v1/songs/\(song)/similar?k=3", nil, .read),
            (.get, "/v1/playlists/new-songs?user=\(user)", nil, .read),
            (.get, "/v1/models", nil, .read),
            (.post, "/v1/events", #"{"events": [{"user": "\#(user)", "song": "\#(song)"}]}"#, .write),
            (.put, "/v1/songs/new-song-1", #"{"title": "New", "artist": "Someone"}"#, .write),
            (.put, "/v1/users/new-user-1", #"{"artists": ["Someone"]}"#, .write),
            (.post, "/v1/models/999/activate", nil, .admin),
        ]
        try await f.app().test(.router) { client in
            for (method, uri, text, needed) in routes {
                try await client.execute(uri: uri, method: method, headers: f.headers(nil), body: text.map(body)) { r in
                    #expect(r.status == .unauthorized, "\(uri) without a key")
                    #expect(errorCode(r) == "unauthorized")
                }
                var badKey = f.headers(nil)
                badKey[.authorization] = "Bearer enc_nope_123"
                try await client.execute(uri: uri, method: method, headers: badKey, body: text.map(body)) { #expect($0.status == .unauthorized) }
                for role in APIRole.allCases {
                    let allowed = AuthMiddleware.allows(role, needed)
                    try await client.execute(uri: uri, method: method, headers: f.headers(role), body: text.map(body)) { r in
                        if allowed {
                            #expect(r.status != .unauthorized && r.status != .forbidden, "\(role) on \(uri): \(r.status)")
                            #expect(r.status.code < 500, "\(uri): \(String(buffer: r.body))")
                        } else {
                            #expect(r.status == .forbidden, "\(role) on \(uri)")
                            #expect(errorCode(r) == "forbidden")
                        }
                    }
                }
            }
        }
    }

    @Test func listsCarrySegmentsSourcesAndReasons() async throws {
        let f = try await Fixture.make(policies: ["default"])
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/users/\(f.firstUser)/recommendations?k=10", method: .get, headers: f.headers(.read)) { r in
                #expect(r.status == .ok)
                let o = object(r)
                #expect(o["known_user"] as? Bool == true)
                let items = try #require(o["items"] as? [[String: Any]])
                #expect(items.count == 10)
                #expect(items.allSatisfy { ($0["source"] as? String)?.isEmpty == false && (($0["reason"] as? [String: Any])?["sentence"] as? String)?.isEmpty == false })
                #expect((o["segment"] as? [String: Any])?["name"] as? String != nil)
            }
            try await client.execute(uri: "/v1/users/nobody-knows-me/recommendations", method: .get, headers: f.headers(.read)) { r in
                #expect(r.status == .ok)
                let o = object(r)
                #expect(o["known_user"] as? Bool == false)
                #expect((o["segment"] as? [String: Any])?["name"] as? String == "cold_start")
                #expect(((o["segment"] as? [String: Any])?["reason"] as? String)?.contains("unknown user") == true)
            }
        }
        await f.service.flushServedLists()
        let served = try await f.store.servedLists(user: f.firstUser, limit: 10)
        #expect(served.count == 1 && served[0].items.count == 10)
    }

    @Test func badInputGetsAJSONErrorAndChangesNothing() async throws {
        let f = try await Fixture.make(policies: ["default"])
        let user = f.firstUser, song = f.service.snapshot.train.items[0]
        let before = try await f.store.status().events
        try await f.app().test(.router) { client in
            let h = f.headers(.admin)
            let cases: [(HTTPRequest.Method, String, String?, HTTPResponse.Status)] = [
                (.get, "/v1/users/\(user)/recommendations?k=0", nil, .badRequest),
                (.get, "/v1/users/\(user)/recommendations?k=100000", nil, .badRequest),
                (.get, "/v1/users/\(user)/recommendations?k=ten", nil, .badRequest),
                (.get, "/v1/users/\(user)/recommendations?policy=/etc/passwd", nil, .badRequest),
                (.get, "/v1/songs/\(song)/similar?by=telepathy", nil, .badRequest),
                (.get, "/v1/songs/no-such-song/similar", nil, .notFound),
                (.get, "/v1/playlists/new-songs", nil, .badRequest),
                (.post, "/v1/onboarding", #"{"artists": ["x"], "config": {"lambda": 1}}"#, .badRequest),
                (.post, "/v1/onboarding", #"{}"#, .badRequest),
                (.post, "/v1/onboarding", "not json", .badRequest),
                (.post, "/v1/onboarding", #"{"artists": "x"}"#, .badRequest),
                (.post, "/v1/events", #"{"events": []}"#, .badRequest),
                (.post, "/v1/events", #"{"events": [{"user": "\#(user)", "song": "\#(song)"}, {"user": "", "song": "\#(song)"}]}"#, .badRequest),
                (.post, "/v1/events", #"{"events": [{"user": "\#(user)", "song": "\#(song)", "plays": -3}]}"#, .badRequest),
                (.post, "/v1/events", #"{"events": [{"user": "\#(user)", "song": "\#(song)", "kind": "skip", "plays": 4}]}"#, .badRequest),
                (.post, "/v1/events", #"{"events": [{"user": "\#(user)", "song": "\#(song)", "mood": "happy"}]}"#, .badRequest),
                (.post, "/v1/events", #"{"events": [{"user": "\#(user)", "song": "\#(song)", "plays": true}]}"#, .badRequest),
                (.post, "/v1/events", #"{"events": [{"user": "\#(user)", "song": "\#(song)", "kind": 1}]}"#, .badRequest),
                (.post, "/v1/onboarding", #"{"tags": ["rock"], "k": true}"#, .badRequest),
                (.put, "/v1/songs/s1", #"{"title": "x", "year": "soon"}"#, .badRequest),
                (.put, "/v1/users/u1", #"{"artists": [1, 2]}"#, .badRequest),
                (.post, "/v1/models/abc/activate", nil, .badRequest),
                (.post, "/v1/models/424242/activate", nil, .notFound),
                (.get, "/v1/nothing-here", nil, .notFound),
            ]
            for (method, uri, text, status) in cases {
                try await client.execute(uri: uri, method: method, headers: h, body: text.map(body)) { r in
                    #expect(r.status == status, "\(method) \(uri) \(text ?? ""): \(r.status) \(String(buffer: r.body))")
                    #expect(errorCode(r) != nil, "\(uri): not a JSON error: \(String(buffer: r.body))")
                }
            }
            // One bad event refuses the whole batch, with the index of the bad one.
            try await client.execute(uri: "/v1/events", method: .post, headers: h,
                                     body: body(#"{"events": [{"user": "\#(user)", "song": "\#(song)"}, {"user": "\#(user)", "song": "\#(song)", "kind": "shout"}]}"#)) { r in
                let details = try #require((object(r)["error"] as? [String: Any])?["details"] as? [[String: Any]])
                #expect(details.count == 1 && details[0]["index"] as? Int == 1)
            }
            let big = "{\"events\": [" + Array(repeating: #"{"user": "u", "song": "s"}"#, count: 200_000).joined(separator: ",") + "]}"
            try await client.execute(uri: "/v1/events", method: .post, headers: h, body: body(big)) { r in
                #expect(r.status.code == 413 || r.status == .badRequest)
                #expect(errorCode(r) != nil)
            }
        }
        #expect(try await f.store.status().events == before)
    }

    /// A policy that blends ALS with item-KNN and the popular pool goes by norm bounds in the
    /// service: ALS's batcher scores nothing, `/metrics` counts the lists and the songs ALS scored,
    /// and a play still leaves the next list.
    @Test func blendsOfALSWithSparseSourcesGoByNormBounds() async throws {
        let file = NSTemporaryDirectory() + "encore-pruned-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let recipe = #"{"mode": "blend", "sources": [{"source": "als", "weight": 2}, {"source": "item-knn", "weight": 2}, {"source": "popular", "weight": 0.05}]}"#
        let policy = #"{"name": "pruned", "description": "ALS, item-KNN and popular", "models": {"als": {"factors": 8, "iterations": 3}},"#
            + #" "recipes": {"cold_start": \#(recipe), "low_engagement": \#(recipe), "low_discovery": \#(recipe), "regular": \#(recipe)},"#
            + #" "segments": {"cold_max_songs": 5, "low_discovery_percentile": 75, "low_engagement_percentile": 25}}"#
        try policy.write(toFile: file, atomically: true, encoding: .utf8)
        let f = try await Fixture.make(policies: [file])
        let user = f.firstUser
        try await f.app().test(.router) { client in
            let first = try await client.execute(uri: "/v1/users/\(user)/recommendations?k=5", method: .get, headers: f.headers(.read)) { object($0) }
            let items = try #require(first["items"] as? [[String: Any]])
            #expect(items.count == 5)
            let top = try #require(items.first?["song"] as? String)
            try await client.execute(uri: "/v1/events", method: .post, headers: f.headers(.write),
                                     body: body(#"{"events": [{"user": "\#(user)", "song": "\#(top)", "plays": 3}]}"#)) { #expect($0.status == .accepted) }
            let second = try await client.execute(uri: "/v1/users/\(user)/recommendations?k=5", method: .get, headers: f.headers(.read)) { object($0) }
            #expect(try #require(second["items"] as? [[String: Any]]).compactMap { $0["song"] as? String }.contains(top) == false)
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                #expect(text.contains("encore_pruned_lists 2"), "\(text)")
            }
        }
        let c = f.service.counterValues
        #expect(c.prunedLists == 2 && c.prunedSongsScored > 0)
        #expect(f.service.snapshot.batchers["pruned"]?[.model("als")]?.counts.inputs ?? 0 == 0)
    }

    @Test func aPlayShowsInTheNextListAtOnce() async throws {
        let f = try await Fixture.make(policies: ["default"])
        let user = f.firstUser
        try await f.app().test(.router) { client in
            let first = try await client.execute(uri: "/v1/users/\(user)/recommendations?k=5", method: .get, headers: f.headers(.read)) { object($0) }
            let items = try #require(first["items"] as? [[String: Any]])
            let top = try #require(items.first?["song"] as? String)
            let request = try #require(first["request_id"] as? String)
            // The same listener again, nothing played since: the cached list, under a request id of its own.
            let again = try await client.execute(uri: "/v1/users/\(user)/recommendations?k=5", method: .get, headers: f.headers(.read)) { object($0) }
            #expect((again["items"] as? [[String: Any]])?.compactMap { $0["song"] as? String } == items.compactMap { $0["song"] as? String })
            #expect(again["request_id"] as? String != request)
            #expect(f.service.snapshot.lists.counts.hits == 1)
            try await client.execute(uri: "/v1/events", method: .post, headers: f.headers(.write),
                                     body: body(#"{"events": [{"user": "\#(user)", "song": "\#(top)", "plays": 3, "request_id": "\#(request)"}]}"#)) { r in
                #expect(r.status == .accepted)
                #expect(object(r)["accepted"] as? Int == 1)
            }
            let second = try await client.execute(uri: "/v1/users/\(user)/recommendations?k=5", method: .get, headers: f.headers(.read)) { object($0) }
            let after = try #require(second["items"] as? [[String: Any]]).compactMap { $0["song"] as? String }
            #expect(!after.contains(top))
            #expect(second["folded_in_songs"] as? Int == 1)
        }
        let c = f.service.counterValues
        #expect(c.eventsIngested == 1 && c.foldIns == 1)
        // The two lists composed (not the cached one) scored the content source and ALS through their
        // batchers; the list after the play was composed afresh and not cached.
        #expect(f.service.snapshot.batchers["default"]?[.content]?.counts.inputs == 2)
        #expect(f.service.snapshot.batchers["default"]?[.model("als")]?.counts.inputs == 2)
        #expect(f.service.snapshot.lists.counts.lists == 1 && f.service.snapshot.lists.counts.hits == 1)
        #expect((c.rewards["default"] ?? 0) == 1)
        #expect(f.service.banditState.posterior(segment: .regular, arm: "default").impressions
                + f.service.banditState.posterior(segment: .lowEngagement, arm: "default").impressions
                + f.service.banditState.posterior(segment: .lowDiscovery, arm: "default").impressions
                + f.service.banditState.posterior(segment: .coldStart, arm: "default").impressions == 1)
    }

    /// The bandit's posteriors survive a restart, and so do the reward windows still open: a play
    /// after the restart rewards a list served before it, and a list rewarded before is not reopened.
    @Test func theBanditSurvivesARestart() async throws {
        let f = try await Fixture.make(policies: ["default", "report"])
        let users = (0..<3).map { f.service.snapshot.train.users[$0] }
        let served = try await f.app().test(.router) { client in
            var served: [(user: String, request: String, arm: String, song: String)] = []
            for user in users {
                let r = try await client.execute(uri: "/v1/users/\(user)/recommendations?k=5", method: .get, headers: f.headers(.read)) { object($0) }
                let song = try #require((r["items"] as? [[String: Any]])?.first?["song"] as? String)
                served.append((user, try #require(r["request_id"] as? String), try #require(r["arm"] as? String), song))
            }
            let first = served[0]
            try await client.execute(uri: "/v1/events", method: .post, headers: f.headers(.write),
                                     body: body(#"{"events": [{"user": "\#(first.user)", "song": "\#(first.song)", "plays": 1, "request_id": "\#(first.request)"}]}"#)) {
                #expect($0.status == .accepted)
            }
            return served
        }
        #expect(f.service.openImpressionCount == 2)
        await f.service.flush()
        let before = f.service.banditState.posteriors
        #expect(before.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.impressions } } == 1)

        var options = ServingOptions()
        options.policies = ["default", "report"]
        let restarted = try await RecommendationService.start(store: f.store, options: options)
        #expect(restarted.banditState.posteriors == before)
        #expect(restarted.openImpressionCount == 2, "the rewarded list stays closed; the two others reopen")
        let second = served[1]
        _ = try await restarted.ingest([Event(user: second.user, song: second.song, plays: 1, requestID: second.request)])
        await restarted.flush()
        let rewards = restarted.banditState.posteriors.values.compactMap { $0[second.arm] }.reduce(0.0) { $0 + $1.rewards }
        let rewardsBefore = before.values.compactMap { $0[second.arm] }.reduce(0.0) { $0 + $1.rewards }
        #expect(rewards == rewardsBefore + 1)
        #expect(restarted.openImpressionCount == 1)

        // A service that serves other policies keeps only the arms it serves.
        let other = try await RecommendationService.start(store: f.store)
        #expect(other.banditState.posteriors.values.allSatisfy { $0.keys.allSatisfy { $0 == "default" } })
    }

    /// A song stored through the API joins the new-song playlist at once, embedded on arrival; a
    /// song the snapshot already holds is not listed twice.
    @Test func aNewSongJoinsTheNewSongPlaylistAtOnce() async throws {
        let f = try await Fixture.make(policies: ["default"])
        let user = f.firstUser
        let known = f.service.snapshot.train.items[0]
        try await f.app().test(.router) { client in
            for (id, title) in [("brand-new-1", "Midnight Metal"), (known, "Renamed")] {
                try await client.execute(uri: "/v1/songs/\(id)", method: .put, headers: f.headers(.write),
                                         body: body(#"{"title": "\#(title)", "artist": "New Band", "tags": ["metal", "rock"]}"#)) { r in
                    #expect(r.status.code < 300, "\(r.status)")
                }
            }
            let list = try await client.execute(uri: "/v1/playlists/new-songs?user=\(user)&k=500", method: .get, headers: f.headers(.read)) { object($0) }
            let items = try #require(list["items"] as? [[String: Any]])
            let songs = items.compactMap { $0["song"] as? String }
            #expect(Set(songs).count == songs.count, "a song is listed twice")
            let arrival = try #require(items.first { $0["song"] as? String == "brand-new-1" }, "\(songs)")
            #expect(arrival["title"] as? String == "Midnight Metal" && arrival["source"] as? String == "new-songs")
            #expect((arrival["reason"] as? [String: Any])?["kind"] as? String == "new_song")
            if FileManager.default.fileExists(atPath: ".models/all-MiniLM-L6-v2/model.safetensors") {
                #expect((arrival["score"] as? Double ?? 0) != 0, "the arrival was not embedded")
            }
        }
    }

    @Test func anActivationSwapsModelsWhileRequestsRun() async throws {
        let f = try await Fixture.make(policies: ["default"])
        let candidate = try await StoreWorkflows.train(model: "ease", overrides: nil, store: f.store)
        let users = (0..<40).map { f.service.snapshot.train.users[$0 % f.service.snapshot.train.userCount] }
        try await f.app().test(.router) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for u in users {
                    group.addTask { try await client.execute(uri: "/v1/users/\(u)/recommendations?k=10", method: .get, headers: f.headers(.read)) { $0.status } }
                }
                group.addTask {
                    try await client.execute(uri: "/v1/models/\(candidate.record.id)/activate", method: .post, headers: f.headers(.admin)) { r in
                        #expect(object(r)["snapshot_version"] as? Int == 2)
                        return r.status
                    }
                }
                for try await status in group { #expect(status == .ok) }
            }
            try await client.execute(uri: "/v1/models", method: .get, headers: f.headers(.read)) { r in
                let serving = try #require(object(r)["serving"] as? [String: Int])
                #expect(serving["ease"] == Int(candidate.record.id))
            }
        }
        #expect(f.service.snapshot.loaded["ease"]?.id == candidate.record.id)
    }

    @Test func acceptedEventsSurviveARestart() async throws {
        let f = try await Fixture.make(policies: ["default"])
        let user = f.firstUser, song = f.service.snapshot.train.items[3]
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/events", method: .post, headers: f.headers(.write),
                                     body: body(#"{"events": [{"user": "brand-new-listener", "song": "\#(song)", "plays": 2}, {"user": "\#(user)", "song": "\#(song)", "kind": "like"}, {"user": "\#(user)", "song": "\#(song)", "plays": 1, "timestamp": 1764000000000}, {"user": "\#(user)", "song": "\#(song)", "plays": 1.0}]}"#)) {
                #expect($0.status == .accepted)
            }
        }
        try await f.store.close()
        let reopened = try await Stores.open(f.directory + "/encore.db")
        let history = try await reopened.history(of: "brand-new-listener")
        #expect(history.count == 1 && history[0].song == song && history[0].plays == 2)
        let restarted = try await RecommendationService.start(store: reopened)
        #expect(restarted.snapshot.train.users.index(of: "brand-new-listener") != nil)
        try await reopened.close()
    }

    @Test func noAuthIsRefusedOffLoopback() {
        var c = ServerConfiguration()
        c.requireKeys = false
        c.host = "0.0.0.0"
        #expect(throws: ServiceError.self) { try c.validate() }
        c.host = "127.0.0.1"
        #expect(throws: Never.self) { try c.validate() }
    }
}

@Suite struct JSONWriterTests {
    /// The hand-written list JSON parses back to the same values, escapes included.
    @Test func listsRoundTripThroughJSONSerialization() throws {
        let item = Routes.ItemBody(song: "s\"1", title: "Line\nbreak \\ tab\t \u{1}", artist: "Björk ✓", score: 1.5, source: "ease",
                                   reason: Routes.ReasonBody(kind: "model", sentence: "ok", songs: ["a", "b"]))
        let body = Routes.RecommendationsBody(request_id: "r", user: "u", known_user: true,
                                              segment: Routes.SegmentBody(name: "regular", reason: "why", values: Routes.ValuesBody(songs: 3, plays: 12.5, popularity_percentile: .nan, top_share: 0.25)),
                                              policy: "default", arm: "default", folded_in_songs: 1, items: [item, item])
        let o = try #require(try JSONSerialization.jsonObject(with: Data(body.json())) as? [String: Any])
        let items = try #require(o["items"] as? [[String: Any]])
        #expect(items.count == 2 && items[0]["song"] as? String == "s\"1" && items[0]["title"] as? String == "Line\nbreak \\ tab\t \u{1}")
        #expect(items[1]["artist"] as? String == "Björk ✓" && items[1]["score"] as? Double == 1.5)
        #expect(((o["segment"] as? [String: Any])?["values"] as? [String: Any])?["popularity_percentile"] as? Double == 0)
        #expect(o["known_user"] as? Bool == true && o["folded_in_songs"] as? Int == 1)
    }
}
