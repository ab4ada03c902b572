import EncoreData
import EncoreModels
import EncorePolicy
@testable import EncoreServer
import EncoreService
import EncoreStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The dashboard in process: sessions, roles, CSRF, escaping and every page's content. The same
/// pages in a real browser: scripts/dashboard-check.sh (make test).
@Suite(.serialized) struct DashboardTests {
    static let pages = ["/", "/data", "/models", "/segments", "/users", "/songs?q=a", "/onboarding?artists=x&tags=rock", "/new-songs", "/clusters"]

    func cookie(_ r: TestResponse) -> String? {
        r.headers[.setCookie].flatMap { $0.split(separator: ";").first.map(String.init) }
    }

    func signIn(_ client: some TestClientProtocol, key: String) async throws -> String {
        try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                 body: body("key=\(key)&next=%2F")) { r in
            #expect(r.status == .seeOther && r.headers[.location] == "/")
            let header = r.headers[.setCookie] ?? ""
            #expect(header.contains("HttpOnly") && header.contains("SameSite=Strict"), "\(header)")
            return try #require(cookie(r))
        }
    }

    /// The CSRF token in a page's forms.
    func csrf(_ html: String) -> String? {
        guard let r = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    @Test func pagesNeedASessionAndRenderForEachRole() async throws {
        let f = try await Fixture.make(policies: ["default"])
        let user = f.firstUser, song = f.service.snapshot.train.items[0]
        try await f.app().test(.router) { client in
            // No session: to the sign-in form, keeping where the person was going.
            try await client.execute(uri: "/models", method: .get) { r in
                #expect(r.status == .seeOther && r.headers[.location] == "/login?next=%2Fmodels")
            }
            try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: body("key=enc_wrong&next=%2F")) { r in
                #expect(r.status == .unauthorized && String(buffer: r.body).contains("not valid"))
            }
            let read = try await signIn(client, key: try #require(f.keys[.read]))
            for page in Self.pages + ["/users/\(user)", "/songs/\(song)"] {
                try await client.execute(uri: page, method: .get, headers: [.cookie: read]) { r in
                    #expect(r.status == .ok, "\(page): \(r.status)")
                    let html = String(buffer: r.body)
                    #expect(html.hasPrefix("<!doctype html>") && html.contains("</html>"), "\(page)")
                    #expect(!html.contains(">nil<") && !html.contains(" nil ") && !html.contains("\nnil\n"), "\(page) shows a missing value as nil")
                    #expect(r.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                    #expect(r.headers[.cacheControl] == "no-store")
                }
            }
            // The song page names the served clustering model's cluster and its label, also once the cluster page's own analysis is ready.
            for _ in 0..<2 {
                try await client.execute(uri: "/clusters", method: .get, headers: [.cookie: read]) { #expect($0.status == .ok) }
                try await client.execute(uri: "/songs/\(song)", method: .get, headers: [.cookie: read]) { r in
                    #expect(r.status == .ok && String(buffer: r.body).contains("Cluster label:"))
                }
                try await Task.sleep(for: .seconds(2))
            }
            // The overview's figures link to the EDA tables they come from.
            let overview = try await client.execute(uri: "/", method: .get, headers: [.cookie: read]) { String(buffer: $0.body) }
            #expect(overview.contains(#"<a href="/data#overview">"#))
            let data = try await client.execute(uri: "/data", method: .get, headers: [.cookie: read]) { String(buffer: $0.body) }
            #expect(data.contains(#"id="overview""#) && data.contains("sparsity") && data.contains(#"id="top-songs""#))
            try await client.execute(uri: "/static/encore.css", method: .get) { r in
                #expect(r.status == .ok && r.headers[.cacheControl]?.contains("max-age") == true && r.headers[.eTag] != nil)
            }
            // A read session sees no admin forms, and a post it makes anyway is refused (403), even with its CSRF token.
            let models = try await client.execute(uri: "/models", method: .get, headers: [.cookie: read]) { String(buffer: $0.body) }
            #expect(!models.contains("/activate"))
            let token = try #require(csrf(models))
            try await client.execute(uri: "/new-songs", method: .post, headers: [.cookie: read, .contentType: "application/x-www-form-urlencoded"],
                                     body: body("csrf=\(token)&id=s-new&title=T")) { #expect($0.status == .forbidden) }
            // Unknown listener and song: pages that say so, with the right status.
            try await client.execute(uri: "/songs/no-such-song", method: .get, headers: [.cookie: read]) { r in
                #expect(r.status == .notFound && String(buffer: r.body).contains("unknown song"))
            }
            try await client.execute(uri: "/users/brand-new-person", method: .get, headers: [.cookie: read]) { r in
                #expect(r.status == .ok && String(buffer: r.body).contains("cold start"))
            }
        }
    }

    /// Play changes the list; activate swaps the model; a form without the CSRF token is refused;
    /// a title with markup comes back as text.
    @Test func formsPlayActivateEscapeAndCheckTheirToken() async throws {
        let f = try await Fixture.make(policies: ["default"])
        let candidate = try await StoreWorkflows.train(model: "ease", overrides: #"{"lambda": 50}"#, store: f.store)
        let user = f.firstUser
        try await f.app().test(.router) { client in
            let admin = try await signIn(client, key: try #require(f.keys[.admin]))
            let page = try await client.execute(uri: "/users/\(user)", method: .get, headers: [.cookie: admin]) { String(buffer: $0.body) }
            let token = try #require(csrf(page))
            let first = try #require(page.range(of: #"name="song" value=""#).map { String(page[$0.upperBound...].prefix { $0 != "\"" }) })
            let form: HTTPFields = [.cookie: admin, .contentType: "application/x-www-form-urlencoded"]
            // Activate through the form (before any play: the candidate was trained on these plays).
            try await client.execute(uri: "/models/\(candidate.record.id)/activate", method: .post, headers: form, body: body("csrf=\(token)")) { r in
                #expect(r.status == .seeOther)
            }
            #expect(f.service.snapshot.version == 2 && f.service.snapshot.loaded["ease"]?.id == candidate.record.id)
            try await client.execute(uri: "/users/\(user)/play", method: .post, headers: form, body: body("song=\(first)")) { r in
                #expect(r.status == .forbidden, "no CSRF token")
            }
            try await client.execute(uri: "/users/\(user)/play", method: .post, headers: form, body: body("csrf=bad&song=\(first)")) { #expect($0.status == .forbidden) }
            #expect(f.service.counterValues.eventsIngested == 0)
            try await client.execute(uri: "/users/\(user)/play", method: .post, headers: form, body: body("csrf=\(token)&song=\(first)")) { r in
                #expect(r.status == .seeOther && r.headers[.location] == "/users/\(user)")
            }
            let after = try await client.execute(uri: "/users/\(user)", method: .get, headers: [.cookie: admin]) { String(buffer: $0.body) }
            #expect(!after.contains(#"name="song" value="\#(first)""#), "the played song left the list")
            #expect(after.contains("folded in"))
            // A title with markup, added through the form, is escaped on the page.
            try await client.execute(uri: "/new-songs", method: .post, headers: form,
                                     body: body("csrf=\(token)&user=\(user)&id=xss-1&title=%3Cscript%3Ealert(1)%3C%2Fscript%3E&artist=A")) { r in
                #expect(r.status == .seeOther)
            }
            let listed = try await client.execute(uri: "/new-songs?user=\(user)", method: .get, headers: [.cookie: admin]) { String(buffer: $0.body) }
            #expect(listed.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!listed.contains("<script>"))
            // Signing out ends the session.
            try await client.execute(uri: "/logout", method: .post, headers: form, body: body("csrf=\(token)")) { #expect($0.status == .seeOther) }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: admin]) { #expect($0.status == .seeOther) }
        }
    }

    /// With --no-auth a session is made on the first page, so forms still carry a token.
    @Test func withoutKeysASessionIsMadeOnTheFirstPage() async throws {
        let f = try await Fixture.make(policies: ["default"])
        try await f.app(requireKeys: false).test(.router) { client in
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.setCookie]?.contains("HttpOnly") == true)
                #expect(String(buffer: r.body).contains("The dataset"))
            }
        }
    }

    @Test func formsDecodeAndNextStaysLocal() throws {
        #expect(Dashboard.parseForm("a=1+2&b=%3Cx%3E&c=&d") == ["a": "1 2", "b": "<x>", "c": "", "d": ""])
        #expect(Dashboard.path("a b/c?d") == "a%20b%2Fc%3Fd")
    }
}

/// `serve --retrain-every`: the service retrains in the background while it serves; the first
/// retrain (no active versions) promotes every model the policy uses, the service swaps onto the
/// registry's versions, /metrics counts it, and the models page shows the outcome.
extension DashboardTests {
@Test func backgroundRetrainPromotesSwapsAndShowsOnTheModelsPage() async throws {
    let f = try await Fixture.make(policies: ["default"])
    #expect(f.service.snapshot.loaded.isEmpty && f.service.snapshot.version == 1)
    let task = f.service.retrainPeriodically(every: 0.2)
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline, f.service.snapshot.version < 2 { try await Task.sleep(for: .milliseconds(100)) }
    task.cancel()
    let s = f.service.snapshot
    #expect(s.version >= 2, "the promoted versions were swapped in")
    let required = Set(PolicyEngine.requiredModels(try Policy.named("default")))
    #expect(Set(s.loaded.keys) == required, "every model of the policy serves from the registry: \(s.loaded.keys.sorted())")
    let log = try await f.store.retrains(limit: 5)
    #expect(log.last?.status == .promoted)
    try await f.app().test(.router) { client in
        let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
        #expect(metrics.contains(#"encore_background_retrains{status="promoted"} 1"#), "\(metrics.split(separator: "\n").filter { $0.contains("retrain") })")
        let read = try await signIn(client, key: try #require(f.keys[.read]))
        let page = try await client.execute(uri: "/models", method: .get, headers: [.cookie: read]) { String(buffer: $0.body) }
        #expect(page.contains(#"id="retrains""#) && page.contains(#"<span class="status promoted">promoted</span>"#))
        #expect(page.contains("ndcg_at_10") && page.contains("against none, promoted"))
    }
}
}
