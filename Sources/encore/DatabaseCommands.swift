// `encore db` and `encore registry`: the store's schema and counts, a durable event stream, and
// the model registry's states. Parse, call the store, print.
import ArgumentParser
import EncoreData
import EncoreMath
import EncoreService
import EncoreStore
import Foundation

struct DatabaseOption: ParsableArguments {
    @Option(help: "A SQLite file (created when missing) or postgres://user@host:port/db (password from PGPASSWORD).") var database: String = "encore.db"

    func open(migrate: Bool = true) throws -> any Store {
        let text = database
        return try waitFor { try await Stores.open(text, migrate: migrate) }
    }

    /// Opens the store, runs `body`, and closes the store whatever happens.
    func use<T: Sendable>(_ body: @escaping @Sendable (any Store) async throws -> T) throws -> T {
        let store = try open()
        return try waitFor {
            do {
                let result = try await body(store)
                try await store.close()
                return result
            } catch {
                try? await store.close()
                throw error
            }
        }
    }
}

extension ModelStatus: ExpressibleByArgument {}
extension ImportMode: ExpressibleByArgument {}

extension Encore {
    struct Db: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db", abstract: "Create, migrate and inspect the database.",
            subcommands: [Init.self, Status.self, Migrate.self, Append.self])

        struct Init: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create the database (or bring it up to date) and print its status.")
            @OptionGroup var db: DatabaseOption
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
            func run() throws {
                let store = try db.open()
                try Status.show(store, format: format)
            }
        }

        struct Migrate: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations, each in a transaction.")
            @OptionGroup var db: DatabaseOption
            func run() throws {
                let store = try db.open(migrate: false)
                let (from, to) = try waitFor { try await store.migrate() }
                try waitFor { try await store.close() }
                print(from == to ? "schema version \(to): up to date" : "schema version \(from) → \(to)")
            }
        }

        struct Status: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Counts of users, songs, events and models; the schema version; the size.")
            @OptionGroup var db: DatabaseOption
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
            @Flag(name: .customLong("read-plays"), help: "Also read the play matrix back as training does, and time it.") var readPlays = false

            struct Report: Encodable {
                var status: StoreStatus
                var plays: Int
                var readSeconds: Double
                enum CodingKeys: String, CodingKey {
                    case status, plays
                    case readSeconds = "read_seconds"
                }
            }

            func run() throws {
                let store = try db.open(migrate: false)
                guard readPlays else { return try Self.show(store, format: format) }
                let (status, plays, seconds) = try waitFor { () async throws -> (StoreStatus, Int, Double) in
                    let start = MonotonicClock.now()
                    let d = try await store.trainingData()
                    let seconds = MonotonicClock.now() - start
                    let s = try await store.status()
                    try await store.close()
                    return (s, d.interactions.nnz, seconds)
                }
                if format == .json { print(try jsonString(Report(status: status, plays: plays, readSeconds: seconds))); return }
                print(Self.table(store, status, extra: [["plays read", Format.grouped(plays)], ["read seconds", Format.number(seconds, digits: 3)]], format: format), terminator: "")
            }

            static func show(_ store: any Store, format: OutputFormat) throws {
                let s = try waitFor { try await store.status() }
                try waitFor { try await store.close() }
                if format == .json { print(try jsonString(s)); return }
                print(table(store, s, format: format), terminator: "")
            }

            static func table(_ store: any Store, _ s: StoreStatus, extra: [[String]] = [], format: OutputFormat = .table) -> String {
                TextTable(header: ["database", store.location], rows: [
                    ["users", Format.grouped(s.users)], ["songs", Format.grouped(s.songs)], ["events", Format.grouped(s.events)],
                    ["models", Format.grouped(s.models)], ["schema version", String(s.schemaVersion)], ["bytes", Format.grouped(Int(s.bytes))],
                ] + extra).render(format)
            }
        }

        struct Append: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Append events read from standard input (`user<TAB>song[<TAB>plays[<TAB>kind]]` per line).",
                discussion: "Each batch is committed durably before `ok N` (the running total) is printed.")
            @OptionGroup var db: DatabaseOption
            @Option(parsing: .unconditional, help: "Events per transaction.") var batch: Int = 1

            func run() throws {
                guard (1...100_000).contains(batch) else { throw UsageError("--batch must be between 1 and 100,000") }
                let store = try db.open()
                var pending: [Event] = []
                var total = 0
                var line = 0
                func flush() throws {
                    let events = pending
                    try waitFor { try await store.append(events) }
                    total += events.count
                    pending.removeAll(keepingCapacity: true)
                    print("ok \(total)")
                    fflush(nil)
                }
                while let text = readLine() {
                    line += 1
                    let f = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                    guard f.count >= 2 else { throw UsageError("line \(line): expected user<TAB>song[<TAB>plays[<TAB>kind]]") }
                    let kind = f.count > 3 ? EventKind(rawValue: f[3]) : .play
                    guard let kind else { throw UsageError("line \(line): unknown kind '\(f[3])'; kinds: \(EventKind.allCases.map(\.rawValue).joined(separator: ", "))") }
                    let plays = f.count > 2 ? Double(f[2]) : (kind == .play ? 1 : 0)
                    guard let plays else { throw UsageError("line \(line): plays '\(f[2])' is not a number") }
                    let event = Event(user: f[0], song: f[1], kind: kind, plays: plays)
                    do { try event.validate() } catch { throw UsageError("line \(line): \(error)") }
                    pending.append(event)
                    if pending.count >= batch { try flush() }
                }
                if !pending.isEmpty { try flush() }
                try waitFor { try await store.close() }
            }
        }
    }

    struct Registry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The trained models: list, show, activate, retire, roll back.",
            subcommands: [List.self, Show.self, Activate.self, Retire.self, Rollback.self, Retrains.self])

        static func rows(_ models: [ModelRecord]) -> [[String]] {
            models.map { m in
                [String(m.id), m.kind, "v\(m.version)", m.status.rawValue, m.segment ?? "", Self.metric(m.metrics, "ndcg_at_10"), Self.date(m.trainedAt)]
            }
        }
        static let header = ["id", "model", "version", "status", "segment", "NDCG@10", "trained"]

        static func metric(_ json: String, _ key: String) -> String {
            guard let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], let v = o[key] as? Double else { return "" }
            return Format.number(v, digits: 4)
        }

        static func date(_ ms: Int64) -> String {
            let f = ISO8601DateFormatter()
            return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
        }

        static func print(_ models: [ModelRecord], format: OutputFormat) throws {
            if format == .json { Swift.print(try jsonString(models)); return }
            Swift.print(TextTable(header: header, rows: rows(models)).render(format), terminator: "")
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every registered model.")
            @OptionGroup var db: DatabaseOption
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
            func run() throws {
                let models = try db.use { try await $0.models() }
                try Registry.print(models, format: format)
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One model: configuration, metrics, artifact.")
            @OptionGroup var db: DatabaseOption
            @Argument(help: "Model id.") var id: Int64
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
            func run() throws {
                let id = id
                let m = try db.use { try await $0.model(id: id) }
                if format == .json { Swift.print(try jsonString(m)); return }
                Swift.print(TextTable(header: ["model \(m.id)", ""], rows: [
                    ["kind", m.kind], ["version", String(m.version)], ["status", m.status.rawValue], ["segment", m.segment ?? ""],
                    ["configuration", m.configuration], ["metrics", m.metrics], ["data fingerprint", m.dataFingerprint],
                    ["artifact", m.artifactPath ?? "in the database"], ["artifact SHA-256", m.artifactSHA256], ["trained", Registry.date(m.trainedAt)],
                ]).render(format), terminator: "")
            }
        }

        struct Activate: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Serve a model version (the version of that model active before in its segment is retired).")
            @OptionGroup var db: DatabaseOption
            @Argument(help: "Model id.") var id: Int64
            @Option(help: "The segment it serves (default: every segment).") var segment: String?
            func run() throws {
                let (id, segment) = (id, segment)
                let m = try db.use { try await $0.activate(id: id, segment: segment) }
                Swift.print("model \(m.id) (\(m.kind) v\(m.version)) is active\(m.segment.map { " for \($0)" } ?? "")")
            }
        }

        struct Retire: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Stop serving a model.")
            @OptionGroup var db: DatabaseOption
            @Argument(help: "Model id.") var id: Int64
            func run() throws {
                let id = id
                let m = try db.use { try await $0.retire(id: id) }
                Swift.print("model \(m.id) (\(m.kind) v\(m.version)) is retired")
            }
        }

        struct Retrains: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The retrain log, newest first: when, the policy, the outcome per model.")
            @OptionGroup var db: DatabaseOption
            @Option(parsing: .unconditional, help: "How many retrains.") var limit: Int = 20
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
            func run() throws {
                let limit = limit
                let log = try db.use { try await $0.retrains(limit: limit) }
                if format == .json { Swift.print(try jsonString(log)); return }
                Swift.print(TextTable(header: ["retrain", "started", "status", "policy", "seconds", "models"], rows: log.map { r in
                    [String(r.id), Registry.date(r.startedAt), r.status.rawValue, r.policy,
                     r.finishedAt.map { Format.number(Double($0 - r.startedAt) / 1000, digits: 1) } ?? "", Self.summary(r.report)]
                }).render(format), terminator: "")
            }

            /// "als promoted, ease kept" from a retrain's report.
            static func summary(_ report: String) -> String {
                guard let o = try? JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any] else { return "" }
                let models = (o["models"] as? [[String: Any]] ?? []).map { m in "\(m["kind"] as? String ?? "?") \((m["promoted"] as? Bool ?? false) ? "promoted" : "kept")" }
                return models.isEmpty ? (o["note"] as? String ?? o["error"] as? String ?? "") : models.joined(separator: ", ")
            }
        }

        struct Rollback: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Retire a model's active version and serve the version active before it.")
            @OptionGroup var db: DatabaseOption
            @Option(help: "The segment (default: the models serving every segment).") var segment: String?
            @Option(help: "The model (default: the one activated last).") var model: String?
            func run() throws {
                let (segment, kind) = (segment, model)
                let m = try db.use { try await $0.rollback(segment: segment, kind: kind) }
                Swift.print("model \(m.id) (\(m.kind) v\(m.version)) is active again")
            }
        }
    }
}

extension APIRole: ExpressibleByArgument {}

extension Encore {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "API keys for the service: create (the secret is printed once), list, revoke.",
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a key; only its salted hash is stored.")
            @OptionGroup var db: DatabaseOption
            @Option(help: "read, write or admin.") var role: APIRole = .read
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
            func run() throws {
                let role = role
                let (key, secret) = try db.use { try await $0.createAPIKey(role: role) }
                if format == .json {
                    struct Created: Encodable { var id: String; var role: APIRole; var secret: String }
                    print(try jsonString(Created(id: key.id, role: key.role, secret: secret)))
                    return
                }
                print("key \(key.id) (\(key.role.rawValue)): \(secret)")
                note("the secret is shown only now; the database keeps a salted hash")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every key: id, role, created, last used, revoked (never the secret).")
            @OptionGroup var db: DatabaseOption
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
            func run() throws {
                let keys = try db.use { try await $0.apiKeys() }
                if format == .json { print(try jsonString(keys)); return }
                print(TextTable(header: ["id", "role", "created", "last used", "revoked"], rows: keys.map { k in
                    [k.id, k.role.rawValue, Registry.date(k.createdAt), k.lastUsedAt.map(Registry.date) ?? "", k.revoked ? "yes" : ""]
                }).render(format), terminator: "")
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a key by its id.")
            @OptionGroup var db: DatabaseOption
            @Argument(help: "Key id (from `encore keys list`).") var id: String
            func run() throws {
                let id = id
                try db.use { try await $0.revokeAPIKey(id: id) }
                print("key \(id) is revoked")
            }
        }
    }
}
