// Encore's durable home: play events, the catalogue, users, the model registry, served lists and
// API keys, behind one async `Store` protocol with two real databases — SQLite through GRDB (the
// embedded default, one file in WAL mode) and PostgreSQL through PostgresNIO. The store logic is
// written once (SQLStore, over a small connection protocol); each database supplies its
// connection, its schema dialect and its fast paths (prepared inserts or COPY, streamed reads).
import EncoreData
import EncoreMath
import Foundation

/// What a listener did with a song.
public enum EventKind: String, Codable, Sendable, CaseIterable {
    case play, skip, like, dislike, impression
}

/// One event as a client reports it: external user and song ids.
public struct Event: Sendable, Equatable, Codable {
    public var user: String
    public var song: String
    public var kind: EventKind
    /// Plays for `play` (1 for one listen; an imported row carries its count); 0 otherwise.
    public var plays: Double
    /// Milliseconds since 1970.
    public var timestamp: Int64
    /// The served list the event came from, when known.
    public var requestID: String?

    public init(user: String, song: String, kind: EventKind = .play, plays: Double = 1, timestamp: Int64 = Event.now(), requestID: String? = nil) {
        self.user = user
        self.song = song
        self.kind = kind
        self.plays = plays
        self.timestamp = timestamp
        self.requestID = requestID
    }

    public static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Checks what a client could get wrong, before anything is written.
    public func validate() throws {
        guard !user.isEmpty, !song.isEmpty else { throw StoreError.badInput("an event needs a user and a song") }
        guard user.utf8.count <= 512, song.utf8.count <= 512 else { throw StoreError.badInput("ids are limited to 512 bytes") }
        guard !user.contains("\0"), !song.contains("\0") else { throw StoreError.badInput("ids cannot contain NUL") }
        guard plays.isFinite, plays >= 0, plays <= 1e9 else { throw StoreError.badInput("plays must be finite, between 0 and 1e9, got \(plays)") }
        guard kind == .play || plays == 0 else { throw StoreError.badInput("only play events carry plays") }
    }
}

/// Counts shown by `encore db status` (JSON keys as named).
public struct StoreStatus: Codable, Sendable, Equatable {
    public var users: Int
    public var songs: Int
    public var events: Int
    public var models: Int
    public var schemaVersion: Int
    public var bytes: Int64

    enum CodingKeys: String, CodingKey {
        case users, songs, events, models, bytes
        case schemaVersion = "schema_version"
    }
}

/// How an import treats what is stored already.
public enum ImportMode: String, Sendable, CaseIterable {
    /// Adds to the stored plays; a file imported before (same content hash) is refused.
    case append
    /// Replaces every event, play count and import record (songs and users stay, and grow).
    case replace
}

/// What an import did.
public struct ImportSummary: Sendable, Codable {
    public var rows: Int
    public var users: Int
    public var songs: Int
    public var contentHash: String
    public var seconds: Double
    /// Seconds per step of the write, in order: songs, catalogue, users, events, plays, commit.
    public var phases: [ImportPhase] = []
}

/// One timed step of an import.
public struct ImportPhase: Sendable, Codable, Equatable {
    public var name: String
    public var seconds: Double
}

/// A model registry entry's life: trained, served, or put aside.
public enum ModelStatus: String, Codable, Sendable, CaseIterable {
    case candidate, active, retired
}

/// A trained model as the registry keeps it (the artifact bytes are fetched separately).
public struct ModelRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var kind: String
    public var version: Int
    /// The configuration as a JSON object.
    public var configuration: String
    public var dataFingerprint: String
    /// The metrics as a JSON object.
    public var metrics: String
    public var artifactSHA256: String
    /// Where the artifact lives when it is a file (nil: bytes in the database).
    public var artifactPath: String?
    public var trainedAt: Int64
    public var status: ModelStatus
    /// The segment it serves, if any (nil: every segment).
    public var segment: String?
    /// When it was last made active (for rollback).
    public var activatedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, kind, version, configuration, metrics, status, segment
        case dataFingerprint = "data_fingerprint"
        case artifactSHA256 = "artifact_sha256"
        case artifactPath = "artifact_path"
        case trainedAt = "trained_at"
        case activatedAt = "activated_at"
    }
}

/// A change another store object committed.
public enum StoreChange: Sendable {
    /// Events appended elsewhere.
    case events([Event])
    /// A model was activated, retired or rolled back elsewhere.
    case models
    /// The listening connection came back after losing the database: notifications may have
    /// been missed, so whatever depends on them should be read again.
    case resync
}

/// How a retrain ended.
public enum RetrainStatus: String, Sendable, Codable, CaseIterable {
    case running
    /// At least one candidate was better than its active version and was activated.
    case promoted
    /// Candidates registered; every active version stayed.
    case kept
    case failed
    case cancelled
}

/// One retrain in the store's log.
public struct RetrainRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var startedAt: Int64
    public var finishedAt: Int64?
    public var policy: String
    public var status: RetrainStatus
    /// A JSON object: per model the candidate's and the active version's metric, the decision.
    public var report: String

    enum CodingKeys: String, CodingKey {
        case id, policy, status, report
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

/// A model to register: its artifact as bytes (kept in the database) or as a file path.
public struct NewModel: Sendable {
    public var kind: String
    public var configuration: String
    public var dataFingerprint: String
    public var metrics: String
    public var artifact: [UInt8]
    public var artifactPath: String?

    public init(kind: String, configuration: String, dataFingerprint: String, metrics: String, artifact: [UInt8], artifactPath: String? = nil) {
        self.kind = kind
        self.configuration = configuration
        self.dataFingerprint = dataFingerprint
        self.metrics = metrics
        self.artifact = artifact
        self.artifactPath = artifactPath
    }
}

/// A list that was served, for learning from what followed.
public struct ServedList: Sendable, Codable, Equatable {
    public var requestID: String
    public var user: String
    public var segment: String
    /// The recipe or bandit arm that made it.
    public var arm: String
    public var items: [String]
    public var timestamp: Int64

    public init(requestID: String, user: String, segment: String, arm: String, items: [String], timestamp: Int64 = Event.now()) {
        self.requestID = requestID
        self.user = user
        self.segment = segment
        self.arm = arm
        self.items = items
        self.timestamp = timestamp
    }
}

/// What a key may do.
public enum APIRole: String, Codable, Sendable, CaseIterable {
    case read, write, admin
}

/// An API key's record; the secret itself is never stored, only a salted hash.
public struct APIKey: Sendable, Codable, Equatable {
    public var id: String
    public var role: APIRole
    public var createdAt: Int64
    public var lastUsedAt: Int64?
    public var revoked: Bool
}

/// A user's onboarding answers.
public struct Onboarding: Sendable, Codable, Equatable {
    public var artists: [String]
    public var tags: [String]
    public var songs: [String]
    public init(artists: [String] = [], tags: [String] = [], songs: [String] = []) {
        self.artists = artists
        self.tags = tags
        self.songs = songs
    }
}

/// Errors of the store: each is one clear sentence for the `error:` line.
public enum StoreError: UserFacingError, Sendable, Equatable {
    case badLocation(String)
    case cannotOpen(String)
    case newerSchema(found: Int, supported: Int)
    case notFound(String)
    case conflict(String)
    case badInput(String)

    public var description: String {
        switch self {
        case .badLocation(let m), .cannotOpen(let m), .notFound(let m), .conflict(let m), .badInput(let m): m
        case .newerSchema(let found, let supported):
            "the database was written by a newer Encore (schema version \(found), this one knows up to \(supported)); it was left untouched"
        }
    }
}

extension Store {
    /// Rolls back the kind activated last in the segment.
    public func rollback(segment: String?) async throws -> ModelRecord { try await rollback(segment: segment, kind: nil) }

    /// Imports a loaded dataset in one transaction.
    public func importDataset(_ dataset: Dataset, contentHash: String, source: String, mode: ImportMode) async throws -> ImportSummary {
        try await importFeed(ImportFeed(dataset: dataset, contentHash: contentHash, source: source), mode: mode)
    }
}

/// The durable store. Every method is atomic: it changes everything it says or nothing.
public protocol Store: Sendable {
    /// "SQLite /path/encore.db" or "PostgreSQL user@host:port/db".
    var location: String { get }
    /// Applies the pending migrations, each in a transaction; returns (before, after) versions.
    @discardableResult func migrate() async throws -> (from: Int, to: Int)
    func status() async throws -> StoreStatus
    /// Imports what a feed brings (plays as `play` events, the catalogue, the users) in one
    /// transaction: the rows a loader streams while it reads, written as they come, then the
    /// loaded dataset. Stops the feed when it ends; a failed load commits nothing.
    func importFeed(_ feed: ImportFeed, mode: ImportMode) async throws -> ImportSummary
    /// Appends events durably (committed and synced when it returns), creating unknown users and songs.
    func append(_ events: [Event]) async throws
    /// Adds or updates songs of the catalogue.
    func upsertSongs(ids: [String], entries: [CatalogEntry]) async throws
    /// Adds a user (or updates the onboarding answers of an existing one).
    func upsertUser(_ id: String, onboarding: Onboarding?) async throws
    func onboarding(of user: String) async throws -> Onboarding?
    /// The aggregated play counts (play events only) and the catalogue, as a Dataset.
    func trainingData() async throws -> Dataset
    /// The plays of one user (aggregated), for history scoring.
    func history(of user: String) async throws -> [(song: String, plays: Double)]
    func registerModel(_ model: NewModel) async throws -> ModelRecord
    func models() async throws -> [ModelRecord]
    func model(id: Int64) async throws -> ModelRecord
    func artifact(id: Int64) async throws -> [UInt8]
    /// Makes a model the active one of its segment (retiring the one active there before).
    func activate(id: Int64, segment: String?) async throws -> ModelRecord
    func retire(id: Int64) async throws -> ModelRecord
    /// Retires the active model of a segment and reactivates the one active before it.
    func rollback(segment: String?, kind: String?) async throws -> ModelRecord
    /// Takes the named lock for `seconds` unless another holder has it unexpired; true when taken.
    func acquireLock(_ name: String, holder: String, seconds: Int) async throws -> Bool
    /// Extends a lock its holder has; false when the holder no longer has it (it expired and was taken).
    func renewLock(_ name: String, holder: String, seconds: Int) async throws -> Bool
    func releaseLock(_ name: String, holder: String) async throws
    /// Each user's most recently discovered songs, for a time-based holdout: of each user with at
    /// least `minimumSongs` played songs, the `fraction` (at least one, never all) whose first play
    /// event is latest, of those first played at or after `since` (ms since 1970) when given.
    /// Songs first played at the same time (an import stamps its rows alike) are ordered by a hash
    /// of (user, song, seed).
    func recentDiscoveries(fraction: Double, minimumSongs: Int, since: Int64?, seed: UInt64) async throws -> [(user: String, song: String)]
    /// A retrain's result in one transaction: registers the candidates, activates those marked in
    /// `promote` (for every segment), and keeps `keep` versions of each kind: its active versions,
    /// the version active before (what `rollback` restores), then the newest; the others are deleted.
    func commitRetrain(_ candidates: [NewModel], promote: [Bool], keep: Int) async throws -> [ModelRecord]
    /// Logs a retrain as running; returns its id.
    func startRetrain(policy: String) async throws -> Int64
    func finishRetrain(id: Int64, status: RetrainStatus, report: String) async throws
    /// The newest retrains first.
    func retrains(limit: Int) async throws -> [RetrainRecord]
    /// What other store objects over the same database (other replicas, the CLI) commit, as they
    /// commit it: PostgreSQL's LISTEN/NOTIFY. SQLite: nothing (the stream ends at once).
    func changes() -> AsyncStream<StoreChange>
    /// One round trip to the database; throws when it cannot be reached (a lost connection is
    /// opened again first).
    func ping() async throws
    func recordServedList(_ list: ServedList) async throws
    /// Many served lists in one transaction (all or none), for a service that logs in batches.
    func recordServedLists(_ lists: [ServedList]) async throws
    func servedLists(user: String, limit: Int) async throws -> [ServedList]
    /// The lists served at or after `since` (ms since 1970), newest first, at most `limit`.
    func servedLists(since: Int64, limit: Int) async throws -> [ServedList]
    /// A named piece of service state (JSON) kept across restarts, such as the bandit's posteriors; nil when never stored.
    func serviceState(_ name: String) async throws -> String?
    /// Stores a named piece of service state, replacing the value before.
    func setServiceState(_ name: String, json: String) async throws
    /// Creates a key; the secret is returned once and stored only as a salted hash.
    func createAPIKey(role: APIRole) async throws -> (key: APIKey, secret: String)
    /// The key a secret belongs to (and marks it used), nil when unknown or revoked.
    func authenticate(secret: String) async throws -> APIKey?
    func revokeAPIKey(id: String) async throws
    func apiKeys() async throws -> [APIKey]
    func close() async throws
}

/// Where a store lives, parsed from `--database`.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(host: String, port: Int, user: String, password: String?, database: String)

    /// `postgres://user[:password]@host[:port]/db` (password also from PGPASSWORD), or a SQLite path.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else {
            guard !text.isEmpty else { throw StoreError.badLocation("--database needs a SQLite path or a postgres:// URL") }
            guard !text.contains("://") else { throw StoreError.badLocation("'\(text)' is not a database: use a SQLite path or postgres://user@host:port/db") }
            self = .sqlite(path: text)
            return
        }
        guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw StoreError.badLocation("'\(text)' is not a valid PostgreSQL URL (postgres://user@host:port/db)")
        }
        guard let user = url.user, !user.isEmpty else { throw StoreError.badLocation("the PostgreSQL URL '\(text)' names no user") }
        let db = String(url.path.drop(while: { $0 == "/" }))
        guard !db.isEmpty, !db.contains("/") else { throw StoreError.badLocation("the PostgreSQL URL '\(text)' names no database (…/encore)") }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw StoreError.badLocation("port \(port) is out of range") }
        self = .postgres(host: host, port: port, user: user, password: url.password ?? environment["PGPASSWORD"], database: db)
    }
}

/// Opens a store and brings its schema up to date (or refuses a newer one, untouched).
public enum Stores {
    public static func open(_ location: StoreLocation, migrate: Bool = true) async throws -> any Store {
        let store: any Store
        switch location {
        case .sqlite(let path): store = try SQLStore(connection: SQLiteConnection(path: path))
        case .postgres(let host, let port, let user, let password, let database):
            store = try await SQLStore(connection: PostgresSQLConnection.connect(host: host, port: port, user: user, password: password, database: database))
        }
        if migrate {
            do { try await store.migrate() } catch {
                try? await store.close()
                throw error
            }
        }
        return store
    }

    public static func open(_ text: String, migrate: Bool = true) async throws -> any Store {
        try await open(StoreLocation(text), migrate: migrate)
    }
}
