// The dashboard: server-rendered pages over the running service (swift-mustache templates and
// EncoreCharts SVG, no JavaScript). Each page answers a question of the report: the data and what
// is served (/), the models and their evaluation (/models), the segments and the bandit
// (/segments), one listener (/users/{id}), one song (/songs/{id}), onboarding, the new-song
// playlist and the clusters. Reading pages needs a read session; "play" a write one; "activate" and
// "add a song" an admin one. Forms post a CSRF token; pages are sent with a strict CSP
// (no scripts at all), no-store caching and frame-ancestors 'none'; the stylesheet is cached.
// This file parses, checks and renders; the figures come from RecommendationService.
import EncoreCharts
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
import EncorePolicy
import EncoreService
import EncoreStore
import Foundation
import Hummingbird
import Mustache
import Synchronization

struct Dashboard: Sendable {
    let service: RecommendationService
    let configuration: ServerConfiguration
    let library: MustacheLibrary
    let sessions = DashboardSessions()
    let live: LiveStats
    let cache = DashboardCache()

    static let pages = ["/", "/data", "/models", "/segments", "/users", "/songs", "/onboarding", "/new-songs", "/clusters"]

    init(service: RecommendationService, configuration: ServerConfiguration, live: LiveStats) throws {
        self.service = service
        self.configuration = configuration
        self.live = live
        library = try DashboardTemplates.library()
    }

    func register(on router: Router<BasicRequestContext>) {
        router.get("/static/encore.css") { request, _ in asset(request, DashboardTemplates.stylesheet, type: "text/css; charset=utf-8") }
        router.get("/static/icon.svg") { request, _ in asset(request, DashboardTemplates.icon, type: "image/svg+xml") }
        router.get("/favicon.ico") { request, _ in asset(request, DashboardTemplates.icon, type: "image/svg+xml") }
        router.get("/login") { request, _ -> Response in
            let next: String = safeNext(request.uri.queryParameters.get("next"))
            return page(title: "Sign in", template: "login", ["next": next], session: nil)
        }
        router.post("/login") { request, _ in try await login(request) }
        router.post("/logout") { request, _ in try await logout(request) }
        router.get("/") { request, _ in try await serve(request, .read) { s in try overview(s) } }
        router.get("/data") { request, _ in try await serve(request, .read) { _ in data() } }
        router.get("/models") { request, _ in try await serve(request, .read) { s in try await models(s) } }
        router.post("/models/:id/activate") { request, context in try await act(request, .admin) { s, _ in try await activate(context, s) } }
        router.get("/segments") { request, _ in try await serve(request, .read) { s in try segments(s) } }
        router.get("/users") { request, _ in try await serve(request, .read) { s in try userSearch(request, s) } }
        router.get("/users/:id") { request, context in try await serve(request, .read) { s in try user(try parameter(context, "id"), s) } }
        router.post("/users/:id/play") { request, context in try await act(request, .write) { _, form in try await play(try parameter(context, "id"), form) } }
        router.get("/songs") { request, _ in try await serve(request, .read) { s in try songSearch(request, s) } }
        router.get("/songs/:id") { request, context in try await serve(request, .read) { s in try song(try parameter(context, "id"), s) } }
        router.get("/onboarding") { request, _ in try await serve(request, .read) { s in try onboarding(request, s) } }
        router.get("/new-songs") { request, _ in try await serve(request, .read) { s in try newSongs(request, s) } }
        router.post("/new-songs") { request, _ in try await act(request, .admin) { _, form in try await addSong(form) } }
        router.get("/clusters") { request, _ in try await serve(request, .read) { s in try await clusters(s) } }
    }

    // MARK: Responses, sessions and forms

    struct Page {
        var title: String
        var template: String
        var context: [String: Any]
        var status: HTTPResponse.Status = .ok
    }

    struct Redirect: Error { var location: String }

    static let securityHeaders: HTTPFields = {
        var h = HTTPFields()
        h[.contentSecurityPolicy] = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        if let name = HTTPFields.Element.Name("X-Content-Type-Options") { h[name] = "nosniff" }
        if let name = HTTPFields.Element.Name("Referrer-Policy") { h[name] = "same-origin" }
        h[.cacheControl] = "no-store"
        return h
    }()

    func html(_ text: String, status: HTTPResponse.Status = .ok, extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers.append(contentsOf: Self.securityHeaders)
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func page(title: String, template: String, _ context: [String: Any], session: DashboardSession?, status: HTTPResponse.Status = .ok,
              notice: String? = nil, extra: HTTPFields = [:]) -> Response {
        var context = context
        if let session { context["csrf"] = session.csrf }
        let body = library.render(context, withTemplate: template) ?? ""
        var frame: [String: Any] = ["title": title, "body": body, "version": EncoreServer.version, "snapshot": service.snapshot.version]
        if let session, configuration.requireKeys { frame["signOut"] = true; frame["csrf"] = session.csrf }
        if let notice { frame["notice"] = notice }
        return html(library.render(frame, withTemplate: "layout") ?? "", status: status, extra: extra)
    }

    func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    /// A static file compiled in, cached for a day, with an ETag (FNV-1a of its text) for revalidation.
    func asset(_ request: Request, _ text: String, type: String) -> Response {
        let etag = "\"\(text.utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 })\""
        if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: [.eTag: etag]) }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=86400", .eTag: etag],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Only a local path of this dashboard is a place to go back to after signing in.
    func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), next.count < 512, !next.contains("\\"),
              next.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) else { return "/" }
        return next
    }

    /// The request's session; with keys off, one is made (admin) on the first page.
    func session(_ request: Request) -> (DashboardSession?, newCookie: String?) {
        let id = DashboardSessions.cookieValue(request.headers[.cookie])
        if let s = sessions.session(id) { return (s, nil) }
        guard !configuration.requireKeys else { return (nil, nil) }
        let s = sessions.create(role: .admin)
        return (s, DashboardSessions.setCookie(s, secure: Self.secure(request)))
    }

    static func secure(_ request: Request) -> Bool {
        guard let name = HTTPFields.Element.Name("X-Forwarded-Proto") else { return false }
        return request.headers[name]?.lowercased() == "https"
    }

    /// Renders a page for a session of at least `role`; no session: to /login; an error: an error page with its status.
    func serve(_ request: Request, _ role: APIRole, _ build: (DashboardSession) async throws -> Page) async throws -> Response {
        let (session, cookie) = session(request)
        guard let session else {
            let next = safeNext(request.uri.path + (request.uri.query.map { "?" + $0 } ?? ""))
            return redirect("/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
        }
        var extra = HTTPFields()
        if let cookie { extra[.setCookie] = cookie }
        guard AuthMiddleware.allows(session.role, role) else {
            return page(title: "Not allowed", template: "error", ["message": "This page needs a \(role.rawValue) key; this session has a \(session.role.rawValue) key."],
                        session: session, status: .forbidden, extra: extra)
        }
        do {
            let p = try await build(session)
            return page(title: p.title, template: p.template, p.context, session: session, status: p.status, extra: extra)
        } catch let r as Redirect {
            return redirect(r.location, cookie: cookie)
        } catch {
            let e = APIError.from(error)
            return page(title: e.status == .notFound ? "Not found" : "Cannot show this", template: "error", ["message": e.message],
                        session: session, status: e.status, extra: extra)
        }
    }

    /// A form post: a session of at least `role`, the form (64 KiB at most) and its CSRF token; then a redirect.
    func act(_ request: Request, _ role: APIRole, _ action: (DashboardSession, [String: String]) async throws -> String) async throws -> Response {
        guard let session = sessions.session(DashboardSessions.cookieValue(request.headers[.cookie])) else {
            return page(title: "Sign in first", template: "error", ["message": "Your session has ended: sign in again."], session: nil, status: .unauthorized)
        }
        let form: [String: String]
        do { form = try await Self.form(request) } catch {
            return page(title: "Cannot do this", template: "error", ["message": "\(APIError.from(error).message)"], session: session, status: .badRequest)
        }
        guard let token = form["csrf"], DashboardSessions.sameToken(token, session.csrf) else {
            return page(title: "Cannot do this", template: "error", ["message": "The form is out of date (its CSRF token does not match): reload the page and try again."],
                        session: session, status: .forbidden)
        }
        guard AuthMiddleware.allows(session.role, role) else {
            return page(title: "Not allowed", template: "error", ["message": "This needs a \(role.rawValue) key; this session has a \(session.role.rawValue) key."],
                        session: session, status: .forbidden)
        }
        do { return redirect(try await action(session, form)) } catch {
            let e = APIError.from(error)
            return page(title: "Cannot do this", template: "error", ["message": e.message], session: session, status: e.status)
        }
    }

    /// An application/x-www-form-urlencoded body.
    static func form(_ request: Request) async throws -> [String: String] {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: 64 << 10) } catch { throw Routes.bad("the form is larger than 64 KiB") }
        return parseForm(String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    static func parseForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { (String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding) ?? "" }
            guard let k = kv.first else { continue }
            out[decode(k)] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }

    func login(_ request: Request) async throws -> Response {
        let form = (try? await Self.form(request)) ?? [:]
        let next = safeNext(form["next"])
        guard let secret = form["key"], !secret.isEmpty, secret.count < 512, let key = try await service.store.authenticate(secret: secret) else {
            return page(title: "Sign in", template: "login", ["next": next], session: nil, status: .unauthorized, notice: "That key is not valid.")
        }
        let s = sessions.create(role: key.role)
        return redirect(next, cookie: DashboardSessions.setCookie(s, secure: Self.secure(request)))
    }

    func logout(_ request: Request) async throws -> Response {
        let id = DashboardSessions.cookieValue(request.headers[.cookie])
        if let s = sessions.session(id), let form = try? await Self.form(request), let token = form["csrf"], DashboardSessions.sameToken(token, s.csrf) {
            sessions.end(id)
        }
        return redirect("/login", cookie: "\(DashboardSessions.cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
    }

    func parameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        guard let v = context.parameters.get(name), let decoded = v.removingPercentEncoding else { throw Routes.bad("missing \(name)") }
        return decoded
    }

    // MARK: Names and links

    static func path(_ id: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }

    static func query(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }

    func songContext(_ i: Int, _ s: ServingSnapshot) -> [String: Any] {
        let id = s.train.items[i]
        let e = i < s.catalog.count ? s.catalog[i] : CatalogEntry()
        return ["song": id, "path": Self.path(id), "title": e.title.isEmpty ? id : e.title, "artist": e.artist]
    }

    /// A value for a template: mustache renders a missing Optional inside Any as "nil", so a
    /// missing value is false (the section is skipped).
    static func present(_ v: Any?) -> Any { v ?? false }

    static func number(_ v: Double, digits: Int = 3) -> String {
        guard v.isFinite else { return "–" }
        if v == v.rounded(), abs(v) < 1e15 { return Format.grouped(Int(v)) }
        return String(format: "%.\(digits)f", v)
    }

    // MARK: Pages

    func overview(_ session: DashboardSession) throws -> Page {
        let s = service.snapshot
        let e = cache.eda(s)
        let (rps, p99, eps) = live.figures()
        let engine = s.engines[service.policyNames[0]]
        var segments: [[String: Any]] = []
        if let engine {
            let counts = Dictionary(grouping: engine.segmenter.segments, by: { $0 }).mapValues(\.count)
            for seg in Segment.allCases {
                let n = counts[seg] ?? 0
                segments.append(["id": seg.rawValue, "name": seg.label, "size": Format.grouped(n),
                                 "share": Format.percent(Double(n) / Double(max(1, s.train.userCount)))])
            }
        }
        let modelNames = Set(s.engines.values.flatMap { $0.models.keys }).sorted()
        let models: [[String: Any]] = modelNames.map { name in
            var m: [String: Any] = ["name": name]
            if let r = s.loaded[name] { m["record"] = ["id": r.id, "kind": r.kind, "version": r.version] }
            return m
        }
        let top = e.topSongs.prefix(5).enumerated().map { n, t -> [String: Any] in
            ["path": Self.path(t.id), "title": t.title.isEmpty ? t.id : t.title, "plays": Self.number(t.plays), "sep": n < min(5, e.topSongs.count) - 1 ? ", " : ""]
        }
        let context: [String: Any] = [
            "rps": String(format: "%.1f", rps), "p99": p99.map { String(format: "%.1f ms", $0) } ?? "–", "eps": String(format: "%.1f", eps),
            "events": Format.grouped(service.counterValues.eventsIngested),
            "dataset": [("users", Format.grouped(e.users)), ("songs", Format.grouped(e.items)), ("plays (user–song pairs)", Format.grouped(e.interactions)),
                        ("total play count", Self.number(e.totalPlays)), ("sparsity", String(format: "%.5f", e.sparsity)),
                        ("Gini of song plays", String(format: "%.3f", e.giniSongPlays)), ("plays of the top 1% of songs", Format.percent(e.top1PercentShare))]
                .map { ["name": $0.0, "value": $0.1, "anchor": "overview"] },
            "topSongs": top, "segments": segments, "policies": service.policyNames, "models": models,
            "charts": cache.edaCharts(s).map { ["svg": $0] },
        ]
        return Page(title: "Overview", template: "overview", context: context)
    }

    /// The EDA's tables: the evidence behind the overview's figures.
    func data() -> Page {
        let e = cache.eda(service.snapshot)
        let tables = EDAReport.tables(e).map { t -> [String: Any] in
            ["id": t.id, "title": t.title, "header": t.table.header,
             "rows": t.table.rows.map { row in ["cells": row.enumerated().map { n, cell in ["text": cell, "numeric": n > 0 && Self.looksNumeric(cell)] }] }]
        }
        return Page(title: "The data", template: "data", context: ["tables": tables])
    }

    /// A cell that holds a number (digits with separators, a sign, a point or a percent sign).
    static func looksNumeric(_ cell: String) -> Bool {
        !cell.isEmpty && cell.allSatisfy { $0.isNumber || ",.-%–".contains($0) }
    }

    func models(_ session: DashboardSession) async throws -> Page {
        let s = service.snapshot
        let records = try await service.store.models()
        let serving = Set(s.loaded.values.map(\.id))
        let isAdmin = AuthMiddleware.allows(session.role, .admin)
        let dates = ISO8601DateFormatter()
        let rows: [[String: Any]] = records.map { r in
            ["id": r.id, "kind": r.kind, "version": r.version, "status": r.status.rawValue, "serving": serving.contains(r.id),
             "trained": dates.string(from: Date(timeIntervalSince1970: Double(r.trainedAt) / 1000)),
             "configuration": r.configuration, "canActivate": isAdmin && r.status != .active]
        }
        func parsed(_ r: ModelRecord) -> [String: Double] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(r.metrics.utf8)) as? [String: Any] else { return [:] }
            return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
        let withMetrics = records.map { (r: $0, m: parsed($0)) }.filter { !$0.m.isEmpty }
        let hidden: Set<String> = ["users_evaluated"]
        let names = Array(Set(withMetrics.flatMap(\.m.keys)).subtracting(hidden)).sorted()
        func lowerIsBetter(_ m: String) -> Bool { m.hasPrefix("mae") || m.hasPrefix("rmse") || m.hasSuffix("seconds") || m.hasPrefix("popularity") }
        var best: [String: Double] = [:]
        for m in names {
            let values = withMetrics.compactMap { $0.m[m] }.filter(\.isFinite)
            best[m] = lowerIsBetter(m) ? values.min() : values.max()
        }
        let board: [[String: Any]] = withMetrics.map { r, metrics in
            ["id": r.id, "label": "\(r.kind) v\(r.version)",
             "cells": names.map { m -> [String: Any] in
                 guard let v = metrics[m] else { return ["value": "–", "best": false] }
                 return ["value": Self.number(v, digits: 4), "best": withMetrics.count > 1 && v == best[m]]
             }]
        }
        var charts: [String] = []
        for m in ["ndcg_at_10", "precision_at_10", "recall_at_10", "map_at_10", "ndcg@10", "precision@10", "recall@10", "map@10"] where names.contains(m) {
            charts.append(BarChart(title: m, bars: withMetrics.map { ("\($0.r.kind) v\($0.r.version)", $0.m[m] ?? 0) }, valueLabel: m).svg())
        }
        if let accuracy = ["ndcg_at_10", "ndcg@10", "precision_at_10", "precision@10"].first(where: names.contains),
           let novelty = ["novelty_at_10", "novelty@10"].first(where: names.contains) ?? names.first(where: { $0.hasPrefix("novelty") }) {
            let points = withMetrics.filter { $0.m[accuracy] != nil && $0.m[novelty] != nil }
            if !points.isEmpty {
                var plot = ScatterPlot(title: "\(accuracy) against \(novelty)", x: points.map { $0.m[novelty] ?? 0 }, y: points.map { $0.m[accuracy] ?? 0 },
                                       groups: Array(points.indices), legend: points.map { "\($0.r.kind) v\($0.r.version)" })
                plot.xLabel = novelty
                plot.yLabel = accuracy
                charts.append(plot.svg())
            }
        }
        // Each retrain's outcome, newest first: per model the candidate's and the active version's score.
        let retrains: [[String: Any]] = try await service.store.retrains(limit: 20).map { r in
            let report = (try? JSONSerialization.jsonObject(with: Data(r.report.utf8)) as? [String: Any]) ?? [:]
            let metric = report["metric"] as? String ?? ""
            let models: [[String: Any]] = (report["models"] as? [[String: Any]] ?? []).map { m in
                ["kind": m["kind"] as? String ?? "", "candidate": (m["candidate"] as? Double).map { Self.number($0, digits: 4) } ?? "–",
                 "active": (m["active"] as? Double).map { Self.number($0, digits: 4) } ?? "none",
                 "decision": (m["promoted"] as? Bool ?? false) ? "promoted" : "kept", "metric": metric]
            }
            return ["id": r.id, "started": dates.string(from: Date(timeIntervalSince1970: Double(r.startedAt) / 1000)), "status": r.status.rawValue,
                    "policy": r.policy, "seconds": r.finishedAt.map { Self.number(Double($0 - r.startedAt) / 1000, digits: 1) } ?? "running",
                    "models": models, "reason": report["note"] as? String ?? report["error"] as? String ?? ""]
        }
        return Page(title: "Models", template: "models", context: [
            "records": rows, "hasRecords": !rows.isEmpty, "hasLeaderboard": !board.isEmpty, "metricNames": names, "leaderboard": board,
            "charts": charts.map { ["svg": $0] }, "retrains": retrains, "hasRetrains": !retrains.isEmpty,
        ])
    }

    func activate(_ context: BasicRequestContext, _ session: DashboardSession) async throws -> String {
        guard let text = context.parameters.get("id"), let id = Int64(text) else { throw Routes.bad("the model id must be an integer") }
        _ = try await service.activate(id: id)
        return "/models#model-\(id)"
    }

    func segments(_ session: DashboardSession) throws -> Page {
        let s = service.snapshot
        guard let engine = s.engines[service.policyNames[0]] else { throw ServiceError(.unavailable, "no policy is loaded") }
        let rules = engine.segmenter
        let policy = engine.policy
        let counts = Dictionary(grouping: rules.segments, by: { $0 }).mapValues(\.count)
        let bandit = service.banditState
        let served = service.counterValues.served
        let offline = cache.segmentMetrics(s, engine: engine)
        let context: [String: Any] = [
            "rules": [("cold start: fewer distinct songs than", Format.grouped(policy.segments.coldMaxSongs)),
                      ("low engagement: total plays below", Self.number(rules.lowEngagementPlays)),
                      ("low discovery: mean song-popularity percentile at or above", Self.number(rules.lowDiscoveryPopularity, digits: 1))]
                .map { ["name": $0.0, "value": $0.1] },
            "segments": Segment.allCases.map { seg -> [String: Any] in
                let recipe = engine.recipe(for: seg)
                let n = counts[seg] ?? 0
                let posteriors = bandit.configuration.arms.map { (arm: $0, p: bandit.posterior(segment: seg, arm: $0)) }
                let total = posteriors.reduce(0) { $0 + $1.p.impressions }
                var metrics: [[String: Any]] = []
                if let m = offline?.result?.segments[seg.rawValue] {
                    metrics = [("test listeners", Format.grouped(m.users)), ("NDCG@10", String(format: "%.4f", m.ndcgAt10)), ("recall@30", String(format: "%.4f", m.recallAt30)),
                               ("novelty@10", String(format: "%.3f", m.noveltyAt10)), ("coverage@30", Format.percent(m.coverageAt30)),
                               ("long-tail share@10", Format.percent(m.longTailAt10)), ("artists per list@10", String(format: "%.2f", m.artistsAt10))]
                        .map { ["name": $0.0, "value": $0.1] }
                }
                return ["id": seg.rawValue, "name": seg.label, "size": Format.grouped(n), "share": Format.percent(Double(n) / Double(max(1, s.train.userCount))),
                        "metrics": metrics, "hasMetrics": !metrics.isEmpty,
                        "metricsNote": offline == nil ? "The offline metrics are being computed for this snapshot (a 20% per-user holdout, the policy refitted on the rest); reload in a minute."
                            : (offline?.failed.map { "The offline metrics could not be computed: \($0)" } ?? "No test listener of this segment in the holdout."),
                        "policy": policy.name, "mode": recipe.mode == .blend ? "a blend of standardised scores" : "slots, \(recipe.interleave.rawValue)",
                        "cap": Self.present(recipe.maxPerArtist.map { String($0) }), "weightName": recipe.mode == .blend ? "weight" : "slots",
                        "sources": recipe.sources.map { ["name": $0.source.description, "value": recipe.mode == .blend ? Self.number($0.weight ?? 0) : String($0.slots ?? 0)] },
                        "arms": posteriors.map { a -> [String: Any] in
                            let (lo, hi) = a.p.interval
                            return ["arm": a.arm, "mean": String(format: "%.3f", a.p.mean), "low": String(format: "%.3f", lo), "high": String(format: "%.3f", hi),
                                    "impressions": Format.grouped(a.p.impressions), "rewards": Self.number(a.p.rewards),
                                    "share": total > 0 ? Format.percent(Double(a.p.impressions) / Double(total)) : "–"]
                        }]
            },
            "rewardChart": Self.present(rewardChart(served: served)),
        ]
        return Page(title: "Segments and the bandit", template: "segments", context: context)
    }

    /// Each arm's reward rate (rewards per list served) at each sample: cumulative figures.
    func rewardChart(served: [String: Int]) -> String? {
        let samples = live.history
        guard samples.count >= 2 else { return nil }
        let start = samples[0].time
        let arms = service.policyNames
        return LineChart(title: "Rewards per list served, over time", xLabel: "minutes since the first sample", yLabel: "rewards per list",
                         x: samples.map { ($0.time - start) / 60 },
                         series: arms.map { arm in (arm, samples.map { s in s.served[arm].map { $0 > 0 ? (s.rewards[arm] ?? 0) / Double($0) : 0 } ?? 0 }) }).svg()
    }

    func userSearch(_ request: Request, _ session: DashboardSession) throws -> Page {
        if let id = request.uri.queryParameters.get("id"), !id.isEmpty { throw Redirect(location: "/users/" + Self.path(id)) }
        let s = service.snapshot
        let examples = (0..<min(8, s.train.userCount)).map { u -> [String: Any] in ["id": s.train.users[u], "path": Self.path(s.train.users[u])] }
        return Page(title: "Users", template: "user-search", context: ["query": "", "examples": examples, "hasExamples": !examples.isEmpty])
    }

    func user(_ id: String, _ session: DashboardSession) throws -> Page {
        let (view, s) = try service.inspect(user: id, k: 10)
        let r = view.recommendation
        let canPlay = AuthMiddleware.allows(session.role, .write)
        let items: [[String: Any]] = r.items.map { item in
            var c = songContext(item.item, s)
            c["source"] = item.source
            c["reason"] = item.explanation.sentence
            c["canPlay"] = canPlay
            c["userPath"] = Self.path(id)
            return c
        }
        let history: [[String: Any]] = view.history.prefix(15).map { h in
            var c = songContext(h.song, s)
            c["plays"] = Self.number(h.plays)
            return c
        }
        let models: [[String: Any]] = view.models.map { m in ["name": m.name, "songs": m.songs.map { songContext($0, s) }] }
        var network: String?
        if let knn = service.coListening(s), !view.history.isEmpty {
            let total = max(view.history.reduce(0) { $0 + $1.plays }, 1)
            func node(_ i: Int) -> NetworkNode { NetworkNode(id: s.train.items[i], label: (songContext(i, s)["title"] as? String) ?? s.train.items[i]) }
            network = NetworkGraph(title: "\(id)'s top songs and their co-listening neighbours", focus: NetworkNode(id: "user:" + id, label: id),
                                   neighbours: view.history.prefix(5).map { h in
                                       (node(h.song), h.plays / total, knn.similarItems(to: h.song, k: 3).map { (node($0.item), $0.score) })
                                   }).svg()
        }
        return Page(title: "Listener \(id)", template: "user", context: [
            "segment": r.segment.label, "segmentID": r.segment.rawValue, "reason": r.segmentReason, "known": view.known,
            "folded": view.foldedIn > 0 ? view.foldedIn as Any : false, "policy": r.policy, "items": items, "history": history,
            "models": models, "hasModels": !models.isEmpty, "network": Self.present(network),
        ])
    }

    func play(_ id: String, _ form: [String: String]) async throws -> String {
        guard let song = form["song"], !song.isEmpty else { throw Routes.bad("which song was played?") }
        _ = try await service.ingest([Event(user: id, song: song, kind: .play, plays: 1)])
        return "/users/" + Self.path(id)
    }

    func songSearch(_ request: Request, _ session: DashboardSession) throws -> Page {
        let q = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        let s = service.snapshot
        var results: [[String: Any]] = []
        if !q.isEmpty {
            guard q.count <= 200 else { throw Routes.bad("a search is at most 200 characters") }
            if s.train.items.index(of: q) != nil { throw Redirect(location: "/songs/" + Self.path(q)) }
            let needle = q.lowercased()
            let index = cache.searchIndex(s)
            for (i, text) in index.enumerated() where results.count < 50 && text.contains(needle) { results.append(songContext(i, s)) }
        }
        return Page(title: "Songs", template: "song-search", context: ["query": q, "searched": !q.isEmpty, "results": results, "hasResults": !results.isEmpty])
    }

    func song(_ id: String, _ session: DashboardSession) throws -> Page {
        let (view, s) = try service.inspect(song: id, audience: 10)
        let e = view.item < s.catalog.count ? s.catalog[view.item] : CatalogEntry()
        var similar: [[String: Any]] = []
        for by in ["cf", "content", "tfidf"] {
            let label = ["cf": "co-listening (item-KNN)", "content": "content (MiniLM)", "tfidf": "TF-IDF of the text"][by] ?? by
            do {
                let (items, _) = try service.similar(song: id, by: by, k: 8)
                let songs = items.map { item -> [String: Any] in
                    var c = songContext(item.item, s)
                    c["score"] = String(format: "%.3f", item.score)
                    return c
                }
                similar.append(["by": label, "songs": songs, "hasSongs": !songs.isEmpty, "note": "No neighbours."])
            } catch {
                similar.append(["by": label, "songs": [] as [Any], "hasSongs": false, "note": APIError.from(error).message])
            }
        }
        let label = view.cluster.flatMap { c in cache.songClusterLabels(s).flatMap { c >= 0 && c < $0.count ? $0[c] : nil } }
        return Page(title: e.title.isEmpty ? id : e.title, template: "song", context: [
            "artist": e.artist, "release": e.release, "year": e.year > 0 ? String(e.year) as Any : false, "tags": e.tags.prefix(8).joined(separator: ", "),
            "plays": Self.number(view.plays), "listeners": Format.grouped(view.listeners), "popularity": String(format: "%.3f", view.popularityScore),
            "cluster": Self.present(view.cluster.map { String($0) }), "clusterLabel": Self.present(label), "similar": similar,
            "audienceBy": view.audienceBy.isEmpty ? "nothing (no ALS or content model is served)" : view.audienceBy,
            "audience": view.audience.map { ["user": s.train.users[$0.user], "path": Self.path(s.train.users[$0.user]), "score": String(format: "%.3f", $0.score)] },
        ])
    }

    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func onboarding(_ request: Request, _ session: DashboardSession) throws -> Page {
        let artists = request.uri.queryParameters.get("artists") ?? ""
        let tags = request.uri.queryParameters.get("tags") ?? ""
        var context: [String: Any] = ["artists": artists, "tags": tags, "submitted": false]
        let (a, t) = (Self.list(artists), Self.list(tags))
        if !a.isEmpty || !t.isEmpty {
            guard a.count + t.count <= 100 else { throw Routes.bad("at most 100 preferences") }
            let (r, s) = try service.onboarding(Preferences(artists: a, tags: t, songs: []), k: 15)
            context["submitted"] = true
            context["unmatched"] = r.unmatched
            context["hasUnmatched"] = !r.unmatched.isEmpty
            context["items"] = r.items.map { item -> [String: Any] in
                var c = songContext(item.item, s)
                c["source"] = item.source
                c["reason"] = item.explanation.sentence
                return c
            }
        }
        return Page(title: "Onboarding", template: "onboarding", context: context)
    }

    func newSongs(_ request: Request, _ session: DashboardSession) throws -> Page {
        let s = service.snapshot
        let user = request.uri.queryParameters.get("user") ?? (s.train.userCount > 0 ? s.train.users[0] : "")
        let (songs, _) = try service.newSongs(user: user, k: 20)
        let items = songs.map { song -> [String: Any] in
            ["path": Self.path(song.song), "title": song.title.isEmpty ? song.song : song.title, "artist": song.artist,
             "score": String(format: "%.3f", song.score), "reason": song.explanation?.sentence ?? ""]
        }
        return Page(title: "New songs", template: "new-songs", context: ["user": user, "items": items, "canAdd": AuthMiddleware.allows(session.role, .admin)])
    }

    func addSong(_ form: [String: String]) async throws -> String {
        guard let id = form["id"], !id.isEmpty else { throw Routes.bad("a song needs an id") }
        let entry = CatalogEntry(title: form["title"] ?? "", artist: form["artist"] ?? "", tags: Self.list(form["tags"]))
        try await service.upsertSong(id: id, entry: entry)
        return "/new-songs?user=" + Self.query(form["user"] ?? "")
    }

    func clusters(_ session: DashboardSession) async throws -> Page {
        let s = service.snapshot
        guard let analysis = cache.clusters(s) else {
            return Page(title: "Clusters", template: "clusters", context: ["ready": false, "sides": [] as [Any]])
        }
        return Page(title: "Clusters", template: "clusters", context: ["ready": true, "sides": analysis.map(\.context)])
    }
}

/// A value computed once per snapshot on its own thread: the first caller starts it, and every
/// caller gets nil until it is ready (the page says so), then the value.
final class InBackground<T: Sendable>: Sendable {
    let state = Mutex<(version: Int, value: T?)?>(nil)

    func value(for version: Int, compute: @escaping @Sendable () -> T) -> T? {
        let start = state.withLock { st -> Bool in
            if let st, st.version == version { return false }
            st = (version, nil)
            return true
        }
        if start {
            Thread.detachNewThread { [self] in
                let v = compute()
                state.withLock { st in if st?.version == version { st = (version, v) } }
            }
        }
        return ready(for: version)
    }

    /// The value when it is ready, without starting anything.
    func ready(for version: Int) -> T? { state.withLock { $0?.version == version ? $0?.value : nil } }
}

/// What the pages compute once per snapshot: the EDA and its charts, the model's cluster labels,
/// the song search index, the cluster analysis and the per-segment metrics (these two in the background).
final class DashboardCache: Sendable {
    struct Entry<T: Sendable>: Sendable {
        var version: Int
        var value: T
    }

    let edaValue = Mutex<Entry<ExploratoryAnalysis>?>(nil)
    let charts = Mutex<Entry<[String]>?>(nil)
    let clusterSides = InBackground<[ClusterSide]>()

    /// One side of the cluster analysis, as the page shows it.
    struct ClusterSide: Sendable {
        var id: String
        var name: String
        var k: Int
        var silhouette: Double
        var sample: Int?
        var daviesBouldin: Double
        var clusters: [(size: Int, label: String)]
        var charts: [String]

        var context: [String: Any] {
            ["id": id, "name": name, "k": k, "silhouette": String(format: "%.4f", silhouette), "sample": Dashboard.present(sample.map { Format.grouped($0) }),
             "daviesBouldin": String(format: "%.4f", daviesBouldin),
             "clusters": clusters.enumerated().map { ["index": $0.offset, "size": Format.grouped($0.element.size), "label": $0.element.label] as [String: Any] },
             "charts": charts.map { ["svg": $0] }]
        }
    }

    func eda(_ s: ServingSnapshot) -> ExploratoryAnalysis {
        if let e = edaValue.withLock({ $0 }), e.version == s.version { return e.value }
        let e = ExploratoryAnalysis(Dataset(name: "served plays", interactions: s.train, catalog: s.catalog, report: LoadReport(format: "database")))
        edaValue.withLock { $0 = Entry(version: s.version, value: e) }
        return e
    }

    func edaCharts(_ s: ServingSnapshot) -> [String] {
        if let c = charts.withLock({ $0 }), c.version == s.version { return c.value }
        let e = eda(s)
        // The report's six distributions, as the EDA report draws them.
        let xLabels = ["user_total_plays": "total plays", "user_unique_songs": "unique songs", "user_average_plays_per_song": "plays per unique song",
                       "song_average_plays_per_listener": "plays per listener", "song_listeners": "listeners", "song_total_plays": "total plays"]
        var out = e.distributions.map { d -> String in
            var h = Histogram(title: d.title, xLabel: xLabels[d.key] ?? d.key, values: d.values)
            h.logY = true
            return h.svg()
        }
        if !e.topArtists.isEmpty {
            out.append(BarChart(title: "Top artists by plays", bars: e.topArtists.prefix(10).map { ($0.name, $0.plays) }, valueLabel: "plays").svg())
        }
        charts.withLock { $0 = Entry(version: s.version, value: out) }
        return out
    }


    let evaluation = InBackground<(result: PolicyEvaluationResult?, failed: String?)>()
    let search = Mutex<Entry<[String]>?>(nil)

    /// Each song's title and artist, lower-cased, for the song search.
    func searchIndex(_ s: ServingSnapshot) -> [String] {
        if let e = search.withLock({ $0 }), e.version == s.version { return e.value }
        let index = (0..<s.train.itemCount).map { i -> String in
            let e = i < s.catalog.count ? s.catalog[i] : CatalogEntry()
            return (e.title + "\u{1F}" + e.artist).lowercased()
        }
        search.withLock { $0 = Entry(version: s.version, value: index) }
        return index
    }

    /// The first policy's offline metrics per segment on a 20% per-user holdout of the snapshot's
    /// plays (its models refitted on the rest), or nil while they are being computed (started here).
    func segmentMetrics(_ s: ServingSnapshot, engine: PolicyEngine) -> (result: PolicyEvaluationResult?, failed: String?)? {
        evaluation.value(for: s.version) {
            do {
                let split = try DatasetSplitter.split(s.train, method: .perUser(testFraction: 0.2), seed: 42)[0]
                let fitted = try PolicyEngine.fit(policy: engine.policy, train: split.train, catalog: s.catalog)
                let evaluator = try PolicyEvaluator(train: split.train, test: split.test, catalog: s.catalog,
                                                    segmenter: try Segmenter(split.train, rules: engine.policy.segments))
                return (evaluator.evaluate(engine: fitted), nil)
            } catch {
                return (nil, "\(error)")
            }
        }
    }

    let modelLabels = Mutex<Entry<[String]?>?>(nil)

    /// The served clustering model's song clusters labelled by their top tags and artists (the
    /// cluster a song page names is the model's, not the cluster page's own k-means).
    func songClusterLabels(_ s: ServingSnapshot) -> [String]? {
        if let e = modelLabels.withLock({ $0 }), e.version == s.version { return e.value }
        var labels: [String]? = nil
        if let c = s.engines.values.compactMap(\.clustering).first, s.catalog.count == s.train.itemCount {
            let k = c.configuration.itemClusters
            let items = (0..<min(c.itemLabels.count, s.train.itemCount)).filter { c.itemLabels[$0] >= 0 && Int(c.itemLabels[$0]) < k }
            labels = ClusterAnalysis.labels(itemLabels: items.map { c.itemLabels[$0] }, itemIndex: items, k: k, train: s.train, catalog: s.catalog)
        }
        modelLabels.withLock { $0 = Entry(version: s.version, value: labels) }
        return labels
    }

    /// The two sides' figures and pictures, or nil while they are being computed (started here).
    func clusters(_ s: ServingSnapshot) -> [ClusterSide]? {
        clusterSides.value(for: s.version) { (try? Self.analyse(s)) ?? [] }
    }

    static func analyse(_ s: ServingSnapshot) throws -> [ClusterSide] {
        let train = s.train.mapValues(.log1p)
        let seed: UInt64 = 42
        let clustering = s.engines.values.compactMap(\.clustering).first?.configuration ?? ClusteringConfiguration()
        let f = try ClusterAnalysis.features(train, dimensions: clustering.dimensions, seed: seed)
        var sides: [ClusterSide] = []
        for (id, name, x, k, sideSeed) in [("users", "Listeners", f.users, clustering.userClusters, seed), ("songs", "Songs", f.items, clustering.itemClusters, seed ^ 0x1715)] {
            guard k < x.rows else { continue }
            let (result, firstReport) = try ClusterAnalysis.side(x, k: k, nInit: clustering.nInit, seed: sideSeed)
            var report = firstReport
            if id == "songs" {
                report.labels = ClusterAnalysis.labels(itemLabels: result.labels, itemIndex: f.itemIndex, k: k, train: s.train, catalog: s.catalog)
            }
            let legend = report.sizes.enumerated().map { "cluster \($0.offset)" + ((report.labels?[$0.offset]).map { ": \($0)" } ?? "") }
            let projection = try ClusterAnalysis.project(x, labels: result.labels, fraction: 0.2, cap: 3_000, seed: seed, tsne: true)
            var charts = [ScatterPlot(title: "\(name): PCA of a 20% sample", x: projection.pca.x, y: projection.pca.y, groups: projection.pca.clusters, legend: legend).svg()]
            if let t = projection.tsne {
                charts.append(ScatterPlot(title: "\(name): t-SNE of a sample", x: t.x, y: t.y, groups: t.clusters, legend: legend).svg())
            }
            sides.append(ClusterSide(id: id, name: name, k: k, silhouette: report.silhouette, sample: report.sampleSize, daviesBouldin: report.daviesBouldin,
                                     clusters: report.sizes.enumerated().map { ($0.element, report.labels?[$0.offset] ?? "") }, charts: charts))
        }
        return sides
    }
}
