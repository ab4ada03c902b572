import ArgumentParser
import EncoreMath
import EncoreServer
import EncoreService
import EncoreStore
import Foundation
import Logging

extension Encore {
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve recommendations over HTTP: per-segment policies, onboarding, similar songs, the new-song playlist, live events, model activation, metrics and the OpenAPI contract.",
            discussion: "Stops gracefully on SIGTERM or SIGINT: requests in flight finish and accepted events are committed.")

        @Option(help: "The database (SQLite file or postgres://user@host:port/db).") var database: String = "encore.db"
        @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
        @Option(parsing: .unconditional, help: "Port to listen on.") var port: Int = 8080
        @Option(help: "Policies the bandit chooses between, comma separated (built-in names or policy files; the first serves onboarding).") var policy: String = "default"
        @Flag(name: .customLong("no-auth"), help: "Serve without API keys: local demos only, refused on a non-loopback host.") var noAuth = false
        @Flag(name: .customLong("freeze-bandit"), help: "Serve the bandit's best arm per segment and stop learning.") var freezeBandit = false
        @Option(name: .customLong("minimum-share"), parsing: .unconditional, help: "Each policy's least share of a segment's traffic.") var minimumShare: Double = 0.05
        @Option(name: .customLong("reward-window"), parsing: .unconditional, help: "Seconds after a list in which a play or like of its songs rewards it.") var rewardWindow: Double = 1800
        @Option(name: .customLong("list-cache"), parsing: .unconditional, help: "Composed lists kept for listeners with no new plays since the models were loaded (0: compose every list).") var listCache: Int = 20_000
        @Option(name: .customLong("retrain-every"), help: "Retrain the first policy's models in the background this often (90s, 30m, 6h, 1d), promoting the better ones and swapping them in.") var retrainEvery: String?
        @Option(name: .customLong("embedding-cache"), help: "The transformer's embedding cache (default: DATABASE.embeddings beside a SQLite file; none for PostgreSQL).") var embeddingCache: String?

        func run() throws {
            var server = ServerConfiguration()
            server.host = host
            server.port = port
            server.requireKeys = !noAuth
            do { try server.validate() } catch { throw UsageError("\(error)") }
            var options = ServingOptions()
            options.policies = policy.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            options.freezeBandit = freezeBandit
            options.minimumShare = minimumShare
            options.rewardWindowSeconds = rewardWindow
            guard listCache >= 0 else { throw UsageError("--list-cache must be 0 or more") }
            options.listCacheSize = listCache
            options.embeddingCache = embeddingCache ?? (database.hasPrefix("postgres") ? nil : database + ".embeddings")
            guard minimumShare >= 0, rewardWindow > 0 else { throw UsageError("--minimum-share must be ≥ 0 and --reward-window positive") }
            let retrainSeconds = try retrainEvery.map(Self.seconds)
            MemoryBudget.keepFreedMemory()
            if noAuth { note("WARNING: --no-auth: every request is allowed without an API key. For local demos only.") }
            var logger = Logger(label: "encore")
            logger.logLevel = .info
            let url = database
            let (h, p) = (host, port)
            let (serving, listening, log) = (options, server, logger)
            try waitFor {
                let store = try await Stores.open(url)
                do {
                    note("loading the stored plays and building the policies \(serving.policies.joined(separator: ", ")) …")
                    let service = try await RecommendationService.start(store: store, options: serving) { note($0) }
                    let app = try EncoreServer.makeApplication(service: service, configuration: listening, logger: log)
                    note("serving on http://\(h):\(p) (GET /readyz, /openapi.json, /metrics)")
                    let retraining = retrainSeconds.map { service.retrainPeriodically(every: $0) { note($0) } }
                    let following = service.followStore { note($0) }
                    if let retrainSeconds { note("retraining every \(Format.number(retrainSeconds, digits: 0)) s in the background") }
                    try await app.runService()
                    retraining?.cancel()
                    following.cancel()
                    await service.flush()
                    note("stopped: every accepted event is committed, the served lists and the bandit are stored")
                    try await store.close()
                } catch {
                    try? await store.close()
                    throw error
                }
            }
        }

        /// "90s", "30m", "6h", "1d" or plain seconds, as seconds (at least 1).
        static func seconds(_ text: String) throws -> Double {
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
            let (number, unit) = text.last.flatMap { units[$0] }.map { (String(text.dropLast()), $0) } ?? (text, 1)
            guard let value = Double(number), value.isFinite, value * unit >= 1 else {
                throw UsageError("--retrain-every takes a duration such as 90s, 30m, 6h or 1d (at least one second), not '\(text)'")
            }
            return value * unit
        }
    }
}
