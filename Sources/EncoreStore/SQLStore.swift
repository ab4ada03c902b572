// The store logic, once for both databases: versioned forward-only migrations (each in its own
// transaction, a newer schema refused untouched), imports in one transaction, durable appends
// that keep the aggregated play counts current, the model registry's states, served lists and
// salted API-key hashes. Ids are external strings at the edge and integers inside.
import Crypto
import EncoreData
import EncoreMath
import Foundation

/// Whether this store object has seen the current schema (checked once, not per call).
final class SchemaCheck: @unchecked Sendable {
    private let lock = NSLock()
    private var current = false
    var isCurrent: Bool {
        get { lock.lock(); defer { lock.unlock() }; return current }
        set { lock.lock(); current = newValue; lock.unlock() }
    }
}

struct SQLStore<C: SQLConnection>: Store {
    let connection: C
    let schema = SchemaCheck()
    var location: String { connection.location }
    /// Names this store object in its notifications, so it can skip its own.
    let origin = UUID().uuidString

    init(connection: C) throws { self.connection = connection }

    // MARK: Schema

    /// Forward-only migrations; migration n brings the schema from version n − 1 to n. The events
    /// log and the play counts carry no foreign keys and events no secondary index: their ids come
    /// from interning in the same transaction, and bulk imports would pay for each check per row
    /// (per-user reads go through user_plays, one row per user).
    static var migrations: [Migration] {
        [
            // 1: the catalogue, users, events and their aggregate, imports.
            Migration("""
            CREATE TABLE encore_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE songs (id {ID}, external_id TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '', release TEXT NOT NULL DEFAULT '',
                artist TEXT NOT NULL DEFAULT '', year {INT} NOT NULL DEFAULT 0, tags TEXT NOT NULL DEFAULT '', added_at {INT} NOT NULL);
            CREATE TABLE users (id {ID}, external_id TEXT NOT NULL UNIQUE, created_at {INT} NOT NULL, onboarding TEXT);
            CREATE TABLE events (id {ID}, user_id {INT} NOT NULL, song_id {INT} NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('play', 'skip', 'like', 'dislike', 'impression')), plays {REAL} NOT NULL,
                at {INT} NOT NULL, request_id TEXT);
            CREATE TABLE play_counts (user_id {INT} NOT NULL, song_id {INT} NOT NULL,
                plays {REAL} NOT NULL, PRIMARY KEY (user_id, song_id)) {NOROWID};
            CREATE TABLE imports (content_hash TEXT PRIMARY KEY, source TEXT NOT NULL, rows {INT} NOT NULL, imported_at {INT} NOT NULL);
            """),
            // 2: the model registry, served lists and API keys.
            Migration("""
            CREATE TABLE models (id {ID}, kind TEXT NOT NULL, version {INT} NOT NULL, configuration TEXT NOT NULL,
                data_fingerprint TEXT NOT NULL, dataset_id TEXT NOT NULL, metrics TEXT NOT NULL, artifact {BLOB}, artifact_path TEXT,
                artifact_sha256 TEXT NOT NULL, trained_at {INT} NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('candidate', 'active', 'retired')), segment TEXT, activated_at {INT},
                UNIQUE (kind, version));
            CREATE TABLE served_lists (request_id TEXT PRIMARY KEY, user_id {INT} NOT NULL REFERENCES users(id), segment TEXT NOT NULL,
                arm TEXT NOT NULL, items TEXT NOT NULL, at {INT} NOT NULL);
            CREATE INDEX served_by_user ON served_lists (user_id, at);
            CREATE TABLE api_keys (id TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('read', 'write', 'admin')),
                salt {BLOB} NOT NULL, hash {BLOB} NOT NULL, created_at {INT} NOT NULL, last_used_at {INT}, revoked {INT} NOT NULL DEFAULT 0);
            """),
            // 3: served lists by time, for a restarted service to reopen the reward windows still open.
            Migration("""
            CREATE INDEX served_by_time ON served_lists (at);
            """),
            // 4: artifacts in a table of their own. SQLite reads every column stored after a large BLOB
            // through the BLOB's overflow pages, so listing the registry read through each artifact.
            Migration("""
            CREATE TABLE model_artifacts (model_id {INT} PRIMARY KEY, artifact {BLOB} NOT NULL);
            INSERT INTO model_artifacts (model_id, artifact) SELECT id, artifact FROM models WHERE artifact IS NOT NULL;
            UPDATE models SET artifact = NULL WHERE artifact IS NOT NULL;
            """),
            // 5: bulk imports write the events log at the speed of a plain table. SQLite evaluated
            // the events' `kind IN (…)` check by building a lookup table for every row (2M rows in
            // the sqlite3 shell: 5.5 s, against 2.0 s without the check); the same check written as
            // equalities costs next to nothing (1.3 s), and since SQLite cannot alter a check, the
            // table is rebuilt.
            // PostgreSQL spent half of a 2M-row COPY (6.9 s against 3.5 s) maintaining the
            // primary-key index on events.id, which nothing reads (the log is appended to and
            // counted; identity still numbers it); the index goes.
            Migration(sqlite: """
            CREATE TABLE events_v5 (id {ID}, user_id {INT} NOT NULL, song_id {INT} NOT NULL,
                kind TEXT NOT NULL CHECK (kind = 'play' OR kind = 'skip' OR kind = 'like' OR kind = 'dislike' OR kind = 'impression'),
                plays {REAL} NOT NULL, at {INT} NOT NULL, request_id TEXT);
            INSERT INTO events_v5 (id, user_id, song_id, kind, plays, at, request_id) SELECT id, user_id, song_id, kind, plays, at, request_id FROM events;
            DROP TABLE events;
            ALTER TABLE events_v5 RENAME TO events
            """, postgres: """
            ALTER TABLE events DROP CONSTRAINT events_pkey
            """),
            // 6: the aggregated plays become one row per user (PackedPlays): a 2M-pair import wrote
            // 2M entries into play_counts' primary key (4.6 s in PostgreSQL, against 0.3 s for the
            // 76,000 packed rows), and the training read decoded 2M rows. PostgreSQL's events lose
            // the identity column nothing reads (0.3–0.5 s per 2M rows even with a sequence
            // cache) and get the kind check as equalities, as SQLite's did in 5 (0.8 s per 2M rows).
            Migration(sqlite: """
            CREATE TABLE user_plays (user_id {INT} PRIMARY KEY, songs {BLOB} NOT NULL)
            """, postgres: """
            CREATE TABLE user_plays (user_id {INT} PRIMARY KEY, songs {BLOB} NOT NULL);
            ALTER TABLE user_plays ALTER COLUMN songs SET STORAGE EXTERNAL;
            ALTER TABLE events DROP COLUMN id;
            ALTER TABLE events DROP CONSTRAINT events_kind_check;
            ALTER TABLE events ADD CONSTRAINT events_kind_check
                CHECK (kind = 'play' OR kind = 'skip' OR kind = 'like' OR kind = 'dislike' OR kind = 'impression')
            """, data: { s in
                var users: [Int64] = [], blobs: [[UInt8]] = []
                var songs: [Int64] = [], plays: [Double] = []
                try s.forEachTriple("SELECT user_id, song_id, plays FROM play_counts ORDER BY user_id, song_id") { u, song, p in
                    if users.last != u {
                        if !users.isEmpty { blobs.append(try PackedPlays.encode(songs, plays)) }
                        songs.removeAll(keepingCapacity: true); plays.removeAll(keepingCapacity: true)
                        users.append(u)
                    }
                    songs.append(song); plays.append(p)
                }
                if !users.isEmpty { blobs.append(try PackedPlays.encode(songs, plays)) }
                try s.insertMany(table: "user_plays", columns: ["user_id", "songs"], count: users.count, conflict: nil) { n, row in
                    row[0] = .int(users[n]); row[1] = .blob(blobs[n])
                }
                try s.execute("DROP TABLE play_counts")
            }),
            // 7: offline retraining: a lock that one retrain holds at a time (it expires when its
            // holder stops renewing it: a killed retrain does not block the next), and the outcome
            // of each retrain for the dashboard.
            Migration("""
            CREATE TABLE store_locks (name TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at {INT} NOT NULL, expires_at {INT} NOT NULL);
            CREATE TABLE retrains (id {ID}, started_at {INT} NOT NULL, finished_at {INT}, policy TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status = 'running' OR status = 'promoted' OR status = 'kept' OR status = 'failed' OR status = 'cancelled'),
                report TEXT NOT NULL);
            """),
        ]
    }

    /// One migration: its DDL, the same for both databases unless it says otherwise, then an
    /// optional data step in the same transaction.
    struct Migration {
        let sqlite: String
        let postgres: String
        let data: (@Sendable (any SQLSession) throws -> Void)?
        init(_ both: String) { (sqlite, postgres, data) = (both, both, nil) }
        init(sqlite: String, postgres: String, data: (@Sendable (any SQLSession) throws -> Void)? = nil) {
            (self.sqlite, self.postgres, self.data) = (sqlite, postgres, data)
        }
        func text(for dialect: SQLDialect) -> String { dialect == .sqlite ? sqlite : postgres }
    }

    static var latestVersion: Int { migrations.count }

    static func version(_ s: any SQLSession, dialect: SQLDialect) throws -> Int {
        let exists = dialect == .sqlite
            ? try s.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'encore_schema'").int ?? 0
            : try s.scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'encore_schema'").int ?? 0
        guard exists > 0 else { return 0 }
        return Int(try s.scalar("SELECT version FROM encore_schema").int ?? 0)
    }

    func migrate() async throws -> (from: Int, to: Int) { try await migrate(upTo: Self.latestVersion) }

    /// Applies migrations up to `target`, one transaction each; a newer database is refused untouched.
    func migrate(upTo target: Int) async throws -> (from: Int, to: Int) {
        let dialect = connection.dialect
        let start = try await connection.read { s in try Self.version(s, dialect: dialect) }
        guard start <= Self.latestVersion else { throw StoreError.newerSchema(found: start, supported: Self.latestVersion) }
        var version = start
        while version < target {
            let next = version + 1
            let migration = Self.migrations[next - 1]
            let ddl = dialect.ddl(migration.text(for: dialect))
            version = try await connection.transaction { s in
                // Re-read inside the transaction: another process may have migrated meanwhile.
                let current = try Self.version(s, dialect: dialect)
                guard current < next else { return current }
                guard current == next - 1 else { throw StoreError.newerSchema(found: current, supported: Self.latestVersion) }
                for statement in ddl.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                    try s.execute(statement)
                }
                try migration.data?(s)
                if current == 0 {
                    try s.execute("CREATE TABLE encore_schema (version \(dialect.ddl("{INT}")) NOT NULL)")
                    try s.execute("INSERT INTO encore_schema (version) VALUES (?)", [.int(Int64(next))])
                    try s.execute("INSERT INTO encore_meta (key, value) VALUES ('dataset_id', ?)", [.text(UUID().uuidString)])
                } else {
                    try s.execute("UPDATE encore_schema SET version = ?", [.int(Int64(next))])
                }
                return next
            }
        }
        return (start, version)
    }

    /// Every other call first checks that the schema is the one this Encore writes.
    func ready() async throws {
        if schema.isCurrent { return }
        let dialect = connection.dialect
        let v = try await connection.read { s in try Self.version(s, dialect: dialect) }
        if v > Self.latestVersion { throw StoreError.newerSchema(found: v, supported: Self.latestVersion) }
        if v < Self.latestVersion { throw StoreError.conflict("the database is at schema version \(v), this Encore needs \(Self.latestVersion): run `encore db migrate`") }
        schema.isCurrent = true
    }

    func status() async throws -> StoreStatus {
        let dialect = connection.dialect
        let bytes = try await connection.databaseBytes()
        return try await connection.read { s in
            let v = try Self.version(s, dialect: dialect)
            guard v > 0 else { return StoreStatus(users: 0, songs: 0, events: 0, models: 0, schemaVersion: 0, bytes: bytes) }
            guard v <= Self.latestVersion else { throw StoreError.newerSchema(found: v, supported: Self.latestVersion) }
            func count(_ t: String) throws -> Int { Int(try s.scalar("SELECT count(*) FROM \(t)").int ?? 0) }
            return StoreStatus(users: try count("users"), songs: try count("songs"), events: try count("events"),
                               models: v >= 2 ? try count("models") : 0, schemaVersion: v, bytes: bytes)
        }
    }

    // MARK: Catalogue, users, events

    /// Interns external ids into a table (`songs` or `users`), returning their row ids.
    static func intern(_ s: any SQLSession, table: String, ids: [String], now: Int64) throws -> [String: Int64] {
        var known: [String: Int64] = [:]
        known.reserveCapacity(ids.count)
        let wanted = Set(ids)
        try lookUp(s, table: table, ids: wanted, into: &known)
        var seen = Set<String>()
        let missing = ids.filter { known[$0] == nil && seen.insert($0).inserted }
        guard !missing.isEmpty else { return known }
        let stamp = table == "songs" ? "added_at" : "created_at"
        // Another writer (a second replica) may be interning the same new id: its row wins, ours is skipped.
        try s.insertMany(table: table, columns: ["external_id", stamp], count: missing.count, conflict: "ON CONFLICT (external_id) DO NOTHING") { n, row in
            row[0] = .text(missing[n])
            row[1] = .int(now)
        }
        try lookUp(s, table: table, ids: Set(missing), into: &known)
        return known
    }

    /// Row ids of external ids: by index lookups for a few, one scan for many.
    static func lookUp(_ s: any SQLSession, table: String, ids: Set<String>, into known: inout [String: Int64]) throws {
        if ids.count > 2_000 {
            try s.forEachIDText("SELECT id, external_id FROM \(table)") { id, ext in
                if ids.contains(ext) { known[ext] = id }
            }
            return
        }
        let list = Array(ids)
        for start in stride(from: 0, to: list.count, by: 500) {
            let part = list[start..<min(list.count, start + 500)]
            let marks = part.map { _ in "?" }.joined(separator: ", ")
            for row in try s.query("SELECT id, external_id FROM \(table) WHERE external_id IN (\(marks))", part.map { .text($0) }) {
                if let id = row[0].int, let ext = row[1].text { known[ext] = id }
            }
        }
    }

    /// An import's row ids for `songs` or `users`, assigned as the loader numbers its ids (0, 1,
    /// … in the order first seen): a stored id keeps its row; a new one gets the next id past the
    /// largest, so nothing is read back, and `insertNew` writes them explicitly at the end.
    /// PostgreSQL's table lock, taken first, holds other writers back until the import commits
    /// (readers pass); its identity sequence is moved past the new ids. SQLite's writer is alone.
    struct BulkIDs {
        let table: String
        let dialect: SQLDialect
        /// Row id per loader number.
        private(set) var rows: [Int64] = []
        /// The new ids: loader number and external id, in row-id order.
        private var new: [(number: Int, external: String)] = []
        /// Loader numbers of the ids the table held already.
        private(set) var storedNumbers: [Int] = []
        private let first: Int64
        private var tableIsEmpty: Bool
        /// Every stored id, read once when a batch brings too many new ids to look up one by one.
        private var stored: [String: Int64]?

        init(_ s: any SQLSession, table: String, dialect: SQLDialect) throws {
            (self.table, self.dialect) = (table, dialect)
            if dialect == .postgres { try s.execute("LOCK TABLE \(table) IN SHARE ROW EXCLUSIVE MODE") }
            first = (try s.scalar("SELECT coalesce(max(id), 0) FROM \(table)").int ?? 0) + 1
            tableIsEmpty = try s.query("SELECT 1 FROM \(table) LIMIT 1", []).isEmpty
        }

        /// Numbers the next external ids (each new to the loader).
        mutating func add(_ s: any SQLSession, _ externals: [String]) throws {
            var known: [String: Int64] = [:]
            if !tableIsEmpty {
                if stored == nil && externals.count > 2_000 {
                    var all: [String: Int64] = [:]
                    try s.forEachIDText("SELECT id, external_id FROM \(table)") { id, ext in all[ext] = id }
                    stored = all
                }
                if stored == nil { try SQLStore.lookUp(s, table: table, ids: Set(externals), into: &known) }
            }
            for external in externals {
                let number = rows.count
                if let id = stored?[external] ?? known[external] {
                    rows.append(id)
                    storedNumbers.append(number)
                } else {
                    rows.append(first + Int64(new.count))
                    new.append((number, external))
                }
            }
        }

        /// Writes the new ids with their timestamp and the `columns` that `values` fills per
        /// loader number (from the row's fourth value on).
        func insertNew(_ s: any SQLSession, now: Int64, columns: [String] = [], values: (Int, inout [SQLValue]) -> Void = { _, _ in }) throws {
            guard !new.isEmpty else { return }
            let stamp = table == "songs" ? "added_at" : "created_at"
            let (new, first) = (self.new, self.first)
            try s.insertMany(table: table, columns: ["id", "external_id", stamp] + columns, count: new.count, conflict: nil) { n, row in
                row[0] = .int(first + Int64(n)); row[1] = .text(new[n].external); row[2] = .int(now)
                values(new[n].number, &row)
            }
            if dialect == .postgres {
                try s.execute("SELECT setval(pg_get_serial_sequence('\(table)', 'id'), ?)", [.int(first - 1 + Int64(new.count))])
            }
        }
    }

    static func writeCatalog(_ s: any SQLSession, ids: [String], entries: [CatalogEntry], now: Int64) throws {
        // One row per id (the last entry wins): an upsert may not touch a row twice in one statement.
        var last: [String: Int] = [:]
        for (n, id) in ids.enumerated() { last[id] = n }
        let pairs = zip(ids, entries).enumerated().filter { last[$0.element.0] == $0.offset }.map(\.element)
            .filter { !$0.1.title.isEmpty || !$0.1.artist.isEmpty || !$0.1.tags.isEmpty }
        try s.insertMany(table: "songs", columns: ["external_id", "title", "release", "artist", "year", "tags", "added_at"], count: pairs.count,
                         conflict: "ON CONFLICT (external_id) DO UPDATE SET title = excluded.title, release = excluded.release, artist = excluded.artist, year = excluded.year, tags = excluded.tags") { n, row in
            let (id, e) = pairs[n]
            row[0] = .text(id); row[1] = .text(e.title); row[2] = .text(e.release); row[3] = .text(e.artist)
            row[4] = .int(Int64(e.year)); row[5] = .text(e.tags.joined(separator: "|")); row[6] = .int(now)
        }
    }

    /// Appends plays to the users' packed rows (PackedPlays): PostgreSQL concatenates each row in
    /// one atomic upsert (the update locks the row, so appends on several replicas add up and
    /// nothing is read first); SQLite's writer is alone and concatenates in memory. A row whose
    /// pair count crosses a power of two is compacted in the same transaction.
    static func addPlays(_ s: any SQLSession, dialect: SQLDialect, _ adding: [Int64: [(song: Int64, plays: Double)]]) throws {
        let users = adding.keys.sorted()
        guard !users.isEmpty else { return }
        let added = try users.map { try PackedPlays.encode(adding[$0] ?? []) }
        var rows: [(user: Int64, songs: [UInt8])] = []
        switch dialect {
        case .postgres:
            let position = Dictionary(uniqueKeysWithValues: users.enumerated().map { ($1, $0) })
            var due: [Int64] = []
            for start in stride(from: 0, to: users.count, by: 500) {
                let part = start..<min(users.count, start + 500)
                let tuples = part.map { _ in "(?, ?)" }.joined(separator: ", ")
                for row in try s.query("""
                    INSERT INTO user_plays (user_id, songs) VALUES \(tuples)
                    ON CONFLICT (user_id) DO UPDATE SET songs = user_plays.songs || excluded.songs RETURNING user_id, length(songs)
                    """, part.flatMap { [SQLValue.int(users[$0]), .blob(added[$0])] }) {
                    guard let u = row[0].int, let length = row[1].int, let n = position[u] else { continue }
                    if PackedPlays.crossesCompaction(before: Int(length) - added[n].count, after: Int(length)) { due.append(u) }
                }
            }
            for (u, bytes) in try storedPlays(s, users: due) { rows.append((u, try PackedPlays.compacted(bytes))) }
        case .sqlite:
            let stored = try storedPlays(s, users: users)
            for (n, u) in users.enumerated() {
                let before = stored[u] ?? []
                let grown = before + added[n]
                rows.append((u, PackedPlays.crossesCompaction(before: before.count, after: grown.count) ? try PackedPlays.compacted(grown) : grown))
            }
        }
        try writePlays(s, rows)
    }

    /// Merges plays into the users' rows and writes them canonical: an import into a store that
    /// already has plays. PostgreSQL's table lock (taken by the import) holds appends back.
    static func mergePlays(_ s: any SQLSession, _ adding: [Int64: [(song: Int64, plays: Double)]]) throws {
        let users = adding.keys.sorted()
        let stored = try storedPlays(s, users: users)
        let rows = try users.map { u in (user: u, songs: try PackedPlays.compacted((stored[u] ?? []) + PackedPlays.encode(adding[u] ?? []))) }
        try writePlays(s, rows)
    }

    /// The stored rows of some users: by key for a few, one scan for many.
    static func storedPlays(_ s: any SQLSession, users: [Int64]) throws -> [Int64: [UInt8]] {
        var stored: [Int64: [UInt8]] = [:]
        guard !users.isEmpty else { return stored }
        if users.count > 2_000 {
            let wanted = Set(users)
            try s.forEachIDBlob("SELECT user_id, songs FROM user_plays", []) { u, bytes in
                if wanted.contains(u) { stored[u] = Array(bytes) }
            }
            return stored
        }
        for start in stride(from: 0, to: users.count, by: 500) {
            let part = users[start..<min(users.count, start + 500)]
            let marks = part.map { _ in "?" }.joined(separator: ", ")
            try s.forEachIDBlob("SELECT user_id, songs FROM user_plays WHERE user_id IN (\(marks))", part.map { .int($0) }) { u, bytes in stored[u] = Array(bytes) }
        }
        return stored
    }

    static func writePlays(_ s: any SQLSession, _ rows: [(user: Int64, songs: [UInt8])]) throws {
        try s.insertMany(table: "user_plays", columns: ["user_id", "songs"], count: rows.count,
                         conflict: "ON CONFLICT (user_id) DO UPDATE SET songs = excluded.songs") { n, row in
            row[0] = .int(rows[n].user); row[1] = .blob(rows[n].songs)
        }
    }

    /// Plays grouped by user, zero and negative counts dropped (they add nothing).
    static func byUser(_ triples: [(user: Int64, song: Int64, plays: Double)]) -> [Int64: [(song: Int64, plays: Double)]] {
        var out: [Int64: [(song: Int64, plays: Double)]] = [:]
        for t in triples where t.plays > 0 { out[t.user, default: []].append((t.song, t.plays)) }
        return out
    }

    func importFeed(_ feed: ImportFeed, mode: ImportMode) async throws -> ImportSummary {
        defer { feed.stop() }
        try await ready()
        let start = MonotonicClock.now()
        // Task-locals do not reach the connection's thread: read the fault here.
        let failAfterEvents = StoreFault.failImportAfterEvents
        let dialect = connection.dialect
        let result: (rows: Int, users: Int, songs: Int, hash: String, phases: [ImportPhase]) = try await connection.transaction { s in
            var phases: [ImportPhase] = []
            var mark = MonotonicClock.now()
            func phase(_ name: String) {
                let t = MonotonicClock.now()
                phases.append(ImportPhase(name: name, seconds: t - mark))
                mark = t
            }
            let now = Event.now()
            if mode == .replace {
                for t in ["events", "user_plays", "imports"] { try s.execute("DELETE FROM \(t)") }
                try s.execute("UPDATE encore_meta SET value = ? WHERE key = 'dataset_id'", [.text(UUID().uuidString)])
            }
            var songs = try BulkIDs(s, table: "songs", dialect: dialect)
            var users = try BulkIDs(s, table: "users", dialect: dialect)
            // Batches of rows as the loader accepts them, each written as events while it parses
            // the next; then the loaded dataset. A dataset loaded before (a snapshot, a filtered
            // load) comes alone, and its matrix is written as events.
            var streamed = 0
            var waiting = 0.0
            let (dataset, contentHash, source): (Dataset, String, String)
            while true {
                let wait = MonotonicClock.now()
                let item = try feed.next()
                waiting += MonotonicClock.now() - wait
                guard case .rows(let batch) = item else {
                    guard case .done(let d, let hash, let files) = item else { continue }
                    (dataset, contentHash, source) = (d, hash, files)
                    break
                }
                try songs.add(s, batch.newItems)
                try users.add(s, batch.newUsers)
                let (userRow, songRow) = (users.rows, songs.rows)
                try s.insertMany(table: "events", columns: ["user_id", "song_id", "kind", "plays", "at"], count: batch.count, conflict: nil) { k, row in
                    row[0] = .int(userRow[Int(batch.users[k])]); row[1] = .int(songRow[Int(batch.items[k])]); row[2] = .text("play")
                    row[3] = .double(Double(batch.plays[k])); row[4] = .int(batch.timestamps.map { $0[k] * 1000 } ?? now)
                }
                streamed += batch.count
            }
            let m = dataset.interactions
            guard dataset.transform == .none else { throw StoreError.badInput("import stores raw play counts; the dataset was transformed (\(dataset.transform))") }
            if mode == .append, try !s.query("SELECT source FROM imports WHERE content_hash = ?", [.text(contentHash)]).isEmpty {
                throw StoreError.conflict("this file was imported before (content hash \(contentHash.prefix(16))…); nothing was added. Use --mode replace to start over")
            }
            let fromMatrix = streamed == 0
            let progress = ProgressReporter(label: "import", total: Double((fromMatrix ? m.nnz : 0) + m.userCount), rateUnit: "rows")
            defer { progress.finish() }
            if !fromMatrix {
                // The matrix merges the rows the loader sent: the same ids in the same order, and
                // every row either an entry or a duplicate merged into one.
                guard songs.rows.count == m.itemCount, users.rows.count == m.userCount, streamed == m.nnz + dataset.report.duplicatesMerged else {
                    throw StoreError.conflict("the loaded dataset (\(m.nnz) plays) does not match the \(streamed) rows the loader streamed; nothing was imported")
                }
            } else {
                try songs.add(s, m.items.ids)
                try users.add(s, m.users.ids)
                let (userRow, songRow) = (users.rows, songs.rows)
                var owner = [Int32](repeating: 0, count: m.nnz)
                for u in 0..<m.userCount { for k in m.rowRange(u) { owner[k] = Int32(u) } }
                try s.insertMany(table: "events", columns: ["user_id", "song_id", "kind", "plays", "at"], count: m.nnz, conflict: nil) { k, row in
                    if k & 0xFFFF == 0 { progress.update(Double(k)) }
                    row[0] = .int(userRow[Int(owner[k])]); row[1] = .int(songRow[Int(m.columnIndices[k])]); row[2] = .text("play")
                    row[3] = .double(Double(m.values[k])); row[4] = .int(m.timestamps.map { $0[k] * 1000 } ?? now)
                }
                streamed = m.nnz
            }
            if failAfterEvents { throw StoreError.conflict("injected failure after the events") }
            phases.append(ImportPhase(name: "parse wait", seconds: waiting))
            mark += waiting
            phase("events")
            // New songs are written with their catalogue entries; stored ones have theirs updated.
            let entry = { (n: Int) in n < dataset.catalog.count ? dataset.catalog.entries[n] : CatalogEntry() }
            try songs.insertNew(s, now: now, columns: ["title", "release", "artist", "year", "tags"]) { n, row in
                let e = entry(n)
                row[3] = .text(e.title); row[4] = .text(e.release); row[5] = .text(e.artist); row[6] = .int(Int64(e.year)); row[7] = .text(e.tags.joined(separator: "|"))
            }
            phase("songs")
            let stored = songs.storedNumbers
            try Self.writeCatalog(s, ids: stored.map { m.items.ids[$0] }, entries: stored.map(entry), now: now)
            phase("catalogue")
            try users.insertNew(s, now: now)
            phase("users")
            let songRow = songs.rows, userRow = users.rows
            // The matrix has one entry per pair already. Into an empty aggregate each user's row is
            // packed straight from the matrix and bulk-inserted in user order; otherwise the plays
            // merge into what is stored. PostgreSQL's table lock keeps concurrent appends (which
            // wait) from creating rows between the check and the insert; readers pass.
            if dialect == .postgres { try s.execute("LOCK TABLE user_plays IN SHARE ROW EXCLUSIVE MODE") }  // appends wait; readers pass
            if try s.query("SELECT 1 FROM user_plays LIMIT 1", []).isEmpty {
                if let big = songRow.first(where: { UInt32(exactly: $0) == nil }) {
                    throw StoreError.conflict("song row id \(big) does not fit the packed plays")
                }
                let order = (0..<m.userCount).filter { !m.rowRange($0).isEmpty }.sorted { userRow[$0] < userRow[$1] }
                var songs: [Int64] = [], plays: [Double] = [], pairs: [(Int64, Double)] = []
                let base = fromMatrix ? m.nnz : 0
                try s.insertMany(table: "user_plays", columns: ["user_id", "songs"], count: order.count, conflict: nil) { n, row in
                    let u = order[n]
                    songs.removeAll(keepingCapacity: true); plays.removeAll(keepingCapacity: true)
                    var sorted = true
                    for k in m.rowRange(u) {
                        let song = songRow[Int(m.columnIndices[k])]
                        if let last = songs.last, last >= song { sorted = false }
                        songs.append(song); plays.append(Double(m.values[k]))
                    }
                    if !sorted {
                        pairs = zip(songs, plays).sorted { $0.0 < $1.0 }
                        songs = pairs.map(\.0); plays = pairs.map(\.1)
                    }
                    row[0] = .int(userRow[u])
                    row[1] = .blob((try? PackedPlays.encode(songs, plays)) ?? [])  // cannot fail: every id fits (checked above)
                    if n & 0xFFF == 0 { progress.update(Double(base + n)) }
                }
            } else {
                var adding: [Int64: [(song: Int64, plays: Double)]] = [:]
                for u in 0..<m.userCount where !m.rowRange(u).isEmpty {
                    adding[userRow[u]] = m.rowRange(u).map { (songRow[Int(m.columnIndices[$0])], Double(m.values[$0])) }
                }
                try Self.mergePlays(s, adding)
            }
            try s.execute("INSERT INTO imports (content_hash, source, rows, imported_at) VALUES (?, ?, ?, ?)",
                          [.text(contentHash), .text(source), .int(Int64(streamed)), .int(now)])
            phase("plays")
            return (streamed, m.userCount, m.itemCount, contentHash, phases)
        }
        let end = MonotonicClock.now()
        let commit = ImportPhase(name: "commit", seconds: end - start - result.phases.reduce(0) { $0 + $1.seconds })
        return ImportSummary(rows: result.rows, users: result.users, songs: result.songs, contentHash: result.hash, seconds: end - start,
                             phases: result.phases + [commit])
    }

    func append(_ events: [Event]) async throws {
        guard !events.isEmpty else { return }
        for e in events { try e.validate() }
        try await ready()
        let dialect = connection.dialect
        try await connection.transaction { s in
            let now = Event.now()
            let songs = try Self.intern(s, table: "songs", ids: events.map(\.song), now: now)
            let users = try Self.intern(s, table: "users", ids: events.map(\.user), now: now)
            try s.insertMany(table: "events", columns: ["user_id", "song_id", "kind", "plays", "at", "request_id"], count: events.count, conflict: nil) { n, row in
                let e = events[n]
                row[0] = .int(users[e.user] ?? -1); row[1] = .int(songs[e.song] ?? -1); row[2] = .text(e.kind.rawValue)
                row[3] = .double(e.plays); row[4] = .int(e.timestamp); row[5] = .optional(e.requestID)
            }
            try Self.addPlays(s, dialect: dialect, Self.byUser(events.filter { $0.kind == .play }.map { (users[$0.user] ?? -1, songs[$0.song] ?? -1, $0.plays) }))
            try notifyEvents(s, events)
        }
    }

    // MARK: Changes for other replicas

    static var eventsChannel: String { "encore_events" }
    static var modelsChannel: String { "encore_models" }

    /// PostgreSQL: tells the other store objects listening (replicas) about appended events, in
    /// payloads under NOTIFY's 8,000-byte limit, delivered when the transaction commits.
    func notifyEvents(_ s: any SQLSession, _ events: [Event]) throws {
        guard connection.dialect == .postgres else { return }
        var rows: [[Any]] = []
        var bytes = 0
        func send() throws {
            guard !rows.isEmpty else { return }
            let payload = try JSONSerialization.data(withJSONObject: ["o": origin, "e": rows])
            try s.execute("SELECT pg_notify('\(Self.eventsChannel)', ?)", [.text(String(decoding: payload, as: UTF8.self))])
            rows.removeAll()
            bytes = 0
        }
        for e in events {
            let row: [Any] = [e.user, e.song, e.plays, e.kind.rawValue, e.timestamp, e.requestID ?? NSNull()]
            let size = e.user.utf8.count * 6 + e.song.utf8.count * 6 + (e.requestID?.utf8.count ?? 0) * 6 + 80
            if bytes + size > 7_000 { try send() }
            rows.append(row)
            bytes += size
        }
        try send()
    }

    /// PostgreSQL: tells the other store objects that the models served changed.
    func notifyModels(_ s: any SQLSession) throws {
        guard connection.dialect == .postgres else { return }
        try s.execute("SELECT pg_notify('\(Self.modelsChannel)', ?)", [.text(origin)])
    }

    func changes() -> AsyncStream<StoreChange> {
        let notifications = connection.listen([Self.eventsChannel, Self.modelsChannel])
        let origin = origin
        return AsyncStream { continuation in
            let task = Task {
                for await n in notifications {
                    switch n {
                    case .reconnected: continuation.yield(.resync)
                    case .message(let channel, let payload) where channel == Self.modelsChannel:
                        if payload != origin { continuation.yield(.models) }
                    case .message(_, let payload):
                        guard let o = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any], o["o"] as? String != origin,
                              let rows = o["e"] as? [[Any]] else { continue }
                        let events = rows.compactMap { r -> Event? in
                            guard r.count == 6, let user = r[0] as? String, let song = r[1] as? String, let plays = (r[2] as? NSNumber)?.doubleValue,
                                  let kind = (r[3] as? String).flatMap(EventKind.init(rawValue:)), let at = (r[4] as? NSNumber)?.int64Value else { return nil }
                            return Event(user: user, song: song, kind: kind, plays: plays, timestamp: at, requestID: r[5] as? String)
                        }
                        if !events.isEmpty { continuation.yield(.events(events)) }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func ping() async throws {
        try await connection.read { s in _ = try s.query("SELECT 1", []) }
    }

    func upsertSongs(ids: [String], entries: [CatalogEntry]) async throws {
        guard ids.count == entries.count else { throw StoreError.badInput("one catalogue entry per song id") }
        for id in ids { try Event(user: "-", song: id).validate() }
        try await ready()
        try await connection.transaction { s in try Self.writeCatalog(s, ids: ids, entries: entries, now: Event.now()) }
    }

    func upsertUser(_ id: String, onboarding: Onboarding?) async throws {
        try Event(user: id, song: "-").validate()
        try await ready()
        let answers = try onboarding.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await connection.transaction { s in
            _ = try Self.intern(s, table: "users", ids: [id], now: Event.now())
            if let answers { try s.execute("UPDATE users SET onboarding = ? WHERE external_id = ?", [.text(answers), .text(id)]) }
        }
    }

    func onboarding(of user: String) async throws -> Onboarding? {
        try await ready()
        let text = try await connection.read { s in try s.scalar("SELECT onboarding FROM users WHERE external_id = ?", [.text(user)]).text }
        return try text.map { try JSONDecoder().decode(Onboarding.self, from: Data($0.utf8)) }
    }

    func trainingData() async throws -> Dataset {
        try await ready()
        return try await connection.read { s in
            var songIndex = RowIndex(), userIndex = RowIndex()
            var songIDs: [String] = [], userIDs: [String] = [], entries: [CatalogEntry] = []
            for row in try s.query("SELECT id, external_id, title, release, artist, year, tags FROM songs ORDER BY id", []) {
                guard let id = row[0].int, let ext = row[1].text else { continue }
                songIndex.append(id)
                songIDs.append(ext)
                let tags = row[6].text ?? ""
                entries.append(CatalogEntry(title: row[2].text ?? "", release: row[3].text ?? "", artist: row[4].text ?? "",
                                            year: Int(row[5].int ?? 0), tags: tags.isEmpty ? [] : tags.split(separator: "|").map(String.init)))
            }
            try s.forEachIDText("SELECT id, external_id FROM users ORDER BY id") { id, ext in
                userIndex.append(id)
                userIDs.append(ext)
            }
            // Rows arrive by user then song id; song indices follow song ids, so each row is sorted.
            var pointers = [Int64](repeating: 0, count: userIDs.count + 1)
            var columns: [Int32] = [], values: [Float] = []
            var lastUser = -1
            try s.forEachIDBlob("SELECT user_id, songs FROM user_plays ORDER BY user_id", []) { u, bytes in
                guard let ui = userIndex[u] else { throw StoreError.conflict("user_plays names a user that does not exist") }
                let user = Int(ui)
                if user != lastUser {
                    for w in (lastUser + 1)...user { pointers[w] = Int64(columns.count) }
                    lastUser = user
                }
                let (songs, plays) = try PackedPlays.pairs(bytes)
                for (song, p) in zip(songs, plays) {
                    guard let si = songIndex[song] else { throw StoreError.conflict("user_plays names a song that does not exist") }
                    columns.append(si)
                    values.append(Float(p))
                }
            }
            for w in (lastUser + 1)...userIDs.count { pointers[w] = Int64(columns.count) }
            let matrix = try InteractionMatrix.validated(users: userIDs, items: songIDs, rowPointers: pointers, columnIndices: columns, values: values,
                                                         timestamps: nil, corrupt: { StoreError.conflict("the stored plays are inconsistent: \($0)") })
            var report = LoadReport(format: "database")
            report.rowsRead = values.count
            report.rowsAccepted = values.count
            return Dataset(name: "database", interactions: matrix, catalog: Catalog(entries: entries), report: report)
        }
    }

    func history(of user: String) async throws -> [(song: String, plays: Double)] {
        try await ready()
        return try await connection.read { s in
            var pairs: [(song: Int64, plays: Double)] = []
            try s.forEachIDBlob("SELECT p.user_id, p.songs FROM user_plays p JOIN users u ON u.id = p.user_id WHERE u.external_id = ?", [.text(user)]) { _, bytes in
                let (songs, plays) = try PackedPlays.pairs(bytes)
                pairs = zip(songs, plays).map { ($0, $1) }
            }
            var names: [Int64: String] = [:]
            for start in stride(from: 0, to: pairs.count, by: 500) {
                let part = pairs[start..<min(pairs.count, start + 500)]
                let marks = part.map { _ in "?" }.joined(separator: ", ")
                for row in try s.query("SELECT id, external_id FROM songs WHERE id IN (\(marks))", part.map { .int($0.song) }) {
                    if let id = row[0].int, let ext = row[1].text { names[id] = ext }
                }
            }
            return pairs.compactMap { p in names[p.song].map { ($0, p.plays) } }
        }
    }

    // MARK: Registry

    static var modelColumns: String { "id, kind, version, configuration, data_fingerprint, metrics, artifact_sha256, artifact_path, trained_at, status, segment, activated_at" }

    static func record(_ r: [SQLValue]) throws -> ModelRecord {
        guard let id = r[0].int, let kind = r[1].text, let version = r[2].int, let status = r[9].text.flatMap(ModelStatus.init(rawValue:)) else {
            throw StoreError.conflict("a models row is malformed")
        }
        return ModelRecord(id: id, kind: kind, version: Int(version), configuration: r[3].text ?? "{}", dataFingerprint: r[4].text ?? "",
                           metrics: r[5].text ?? "{}", artifactSHA256: r[6].text ?? "", artifactPath: r[7].text, trainedAt: r[8].int ?? 0,
                           status: status, segment: r[10].text, activatedAt: r[11].int)
    }

    static func sha256(_ bytes: [UInt8]) -> String { hexString(SHA256.hash(data: bytes)) }

    func registerModel(_ model: NewModel) async throws -> ModelRecord {
        try await ready()
        let id: Int64 = try await connection.transaction { s in try Self.register(s, model) }
        return try await self.model(id: id)
    }

    static func register(_ s: any SQLSession, _ model: NewModel) throws -> Int64 {
        for json in [model.configuration, model.metrics] {
            guard (try? JSONSerialization.jsonObject(with: Data(json.utf8))) is [String: Any] else { throw StoreError.badInput("configuration and metrics must be JSON objects") }
        }
        let digest = Self.sha256(model.artifact)
        let version = (try s.scalar("SELECT max(version) FROM models WHERE kind = ?", [.text(model.kind)]).int ?? 0) + 1
        let dataset = try s.scalar("SELECT value FROM encore_meta WHERE key = 'dataset_id'").text ?? ""
        let rows = try s.query("""
            INSERT INTO models (kind, version, configuration, data_fingerprint, dataset_id, metrics, artifact_path, artifact_sha256, trained_at, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'candidate') RETURNING id
            """, [.text(model.kind), .int(version), .text(model.configuration), .text(model.dataFingerprint), .text(dataset), .text(model.metrics),
                  .optional(model.artifactPath), .text(digest), .int(Event.now())])
        guard let id = rows.first?.first?.int else { throw StoreError.conflict("the new model got no id") }
        if model.artifactPath == nil {
            try s.execute("INSERT INTO model_artifacts (model_id, artifact) VALUES (?, ?)", [.int(id), .blob(model.artifact)])
        }
        return id
    }

    func models() async throws -> [ModelRecord] {
        try await ready()
        return try await connection.read { s in try s.query("SELECT \(Self.modelColumns) FROM models ORDER BY id", []).map(Self.record) }
    }

    static func model(_ s: any SQLSession, id: Int64) throws -> ModelRecord {
        guard let row = try s.query("SELECT \(modelColumns) FROM models WHERE id = ?", [.int(id)]).first else {
            throw StoreError.notFound("no model with id \(id) (encore registry list shows them)")
        }
        return try record(row)
    }

    func model(id: Int64) async throws -> ModelRecord {
        try await ready()
        return try await connection.read { s in try Self.model(s, id: id) }
    }

    func artifact(id: Int64) async throws -> [UInt8] {
        let record = try await model(id: id)
        let bytes: [UInt8]
        if let path = record.artifactPath {
            guard let data = FileManager.default.contents(atPath: path) else { throw StoreError.notFound("model \(id)'s artifact file \(path) cannot be read") }
            bytes = [UInt8](data)
        } else {
            bytes = try await connection.read { s in try s.scalar("SELECT artifact FROM model_artifacts WHERE model_id = ?", [.int(id)]).blob ?? [] }
        }
        guard Self.sha256(bytes) == record.artifactSHA256 else {
            throw StoreError.conflict("model \(id)'s artifact does not match its SHA-256 (\(record.artifactSHA256.prefix(16))…): it was changed or damaged")
        }
        return bytes
    }

    func activate(id: Int64, segment: String?) async throws -> ModelRecord {
        try await ready()
        try await connection.transaction { s in
            let m = try Self.model(s, id: id)
            let dataset = try s.scalar("SELECT value FROM encore_meta WHERE key = 'dataset_id'").text
            let trainedOn = try s.scalar("SELECT dataset_id FROM models WHERE id = ?", [.int(id)]).text
            guard dataset == trainedOn else {
                throw StoreError.conflict("model \(id) (\(m.kind) v\(m.version)) was trained on other data (the plays were replaced since); train a new one")
            }
            // Strictly increasing, so activation history has an order even within one millisecond.
            let now = max(Event.now(), (try s.scalar("SELECT max(activated_at) FROM models").int ?? 0) + 1)
            try Self.activate(s, id: id, kind: m.kind, segment: segment, at: now)
            try notifyModels(s)
        }
        return try await model(id: id)
    }

    /// Makes a model the active version of its kind in a segment, retiring the one active there before.
    static func activate(_ s: any SQLSession, id: Int64, kind: String, segment: String?, at now: Int64) throws {
        try s.execute("UPDATE models SET status = 'retired' WHERE status = 'active' AND id <> ? AND kind = ? AND " + Self.sameSegment,
                      [.int(id), .text(kind)] + Self.segmentArgs(segment))
        try s.execute("UPDATE models SET status = 'active', segment = ?, activated_at = ? WHERE id = ?", [.optional(segment), .int(now), .int(id)])
    }

    static var sameSegment: String { "((segment IS NULL AND CAST(? AS TEXT) IS NULL) OR segment = ?)" }
    static func segmentArgs(_ segment: String?) -> [SQLValue] { [.optional(segment), .optional(segment)] }

    func retire(id: Int64) async throws -> ModelRecord {
        try await ready()
        try await connection.transaction { s in
            _ = try Self.model(s, id: id)
            try s.execute("UPDATE models SET status = 'retired' WHERE id = ?", [.int(id)])
            try notifyModels(s)
        }
        return try await model(id: id)
    }

    func rollback(segment: String?, kind: String?) async throws -> ModelRecord {
        try await ready()
        let id: Int64 = try await connection.transaction { s in
            // Without a kind: the kind activated last in the segment.
            let active = try s.query("SELECT id, activated_at, kind FROM models WHERE status = 'active' AND " + Self.sameSegment
                                     + (kind == nil ? "" : " AND kind = ?") + " ORDER BY activated_at DESC, id DESC",
                                     Self.segmentArgs(segment) + (kind.map { [SQLValue.text($0)] } ?? []))
            guard let current = active.first?.first?.int, let since = active.first?[1].int, let currentKind = active.first?[2].text else {
                throw StoreError.notFound("no active \(kind ?? "model")\(segment.map { " for segment \($0)" } ?? "") to roll back")
            }
            // Walks back in the kind's activation history: a rolled-back-to model keeps its activation time.
            let previous = try s.query("SELECT id FROM models WHERE id <> ? AND kind = ? AND status = 'retired' AND activated_at < ? AND " + Self.sameSegment
                                       + " ORDER BY activated_at DESC, id DESC", [.int(current), .text(currentKind), .int(since)] + Self.segmentArgs(segment))
            guard let back = previous.first?.first?.int else { throw StoreError.notFound("model \(current) is the first one served\(segment.map { " for segment \($0)" } ?? ""): nothing to roll back to") }
            try s.execute("UPDATE models SET status = 'retired' WHERE id = ?", [.int(current)])
            try s.execute("UPDATE models SET status = 'active' WHERE id = ?", [.int(back)])
            try notifyModels(s)
            return back
        }
        return try await model(id: id)
    }

    // MARK: Retraining

    func acquireLock(_ name: String, holder: String, seconds: Int) async throws -> Bool {
        try await ready()
        return try await connection.transaction { s in
            let now = Event.now()
            try s.execute("DELETE FROM store_locks WHERE name = ? AND expires_at < ?", [.text(name), .int(now)])
            let taken = try s.query("INSERT INTO store_locks (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING name",
                                    [.text(name), .text(holder), .int(now), .int(now + Int64(seconds) * 1000)])
            return !taken.isEmpty
        }
    }

    func renewLock(_ name: String, holder: String, seconds: Int) async throws -> Bool {
        try await ready()
        return try await connection.transaction { s in
            !(try s.query("UPDATE store_locks SET expires_at = ? WHERE name = ? AND holder = ? RETURNING name",
                          [.int(Event.now() + Int64(seconds) * 1000), .text(name), .text(holder)]).isEmpty)
        }
    }

    func releaseLock(_ name: String, holder: String) async throws {
        try await ready()
        try await connection.transaction { s in try s.execute("DELETE FROM store_locks WHERE name = ? AND holder = ?", [.text(name), .text(holder)]) }
    }

    func recentDiscoveries(fraction: Double, minimumSongs: Int, since: Int64?, seed: UInt64) async throws -> [(user: String, song: String)] {
        guard fraction > 0, fraction < 1 else { throw StoreError.badInput("the holdout fraction must be between 0 and 1, got \(fraction)") }
        try await ready()
        let real = connection.dialect == .postgres ? "DOUBLE PRECISION" : "REAL"
        return try await connection.read { s in
            var held: [(user: Int64, song: Int64)] = []
            var user: Int64 = -1
            var songs: [(song: Int64, first: Double, tie: UInt64)] = []
            func close() {
                guard songs.count >= max(2, minimumSongs) else { return }
                let n = min(songs.count - 1, max(1, Int((Double(songs.count) * fraction).rounded())))
                songs.sort { ($0.first, $0.tie) > ($1.first, $1.tie) }
                for e in songs.prefix(n) where since.map({ e.first >= Double($0) }) ?? true { held.append((user, e.song)) }
            }
            try s.forEachTriple("""
                SELECT user_id, song_id, CAST(min(at) AS \(real)) FROM events WHERE kind = 'play' AND plays > 0
                GROUP BY user_id, song_id ORDER BY user_id
                """) { u, song, first in
                if u != user { close(); user = u; songs.removeAll(keepingCapacity: true) }
                var h = SeededGenerator(seed: seed ^ UInt64(bitPattern: u) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: song))
                songs.append((song, first, h.next()))
            }
            close()
            var users: [Int64: String] = [:], songNames: [Int64: String] = [:]
            let wantedUsers = Set(held.map(\.user)), wantedSongs = Set(held.map(\.song))
            try s.forEachIDText("SELECT id, external_id FROM users") { id, ext in if wantedUsers.contains(id) { users[id] = ext } }
            try s.forEachIDText("SELECT id, external_id FROM songs") { id, ext in if wantedSongs.contains(id) { songNames[id] = ext } }
            return held.compactMap { h in users[h.user].flatMap { u in songNames[h.song].map { (u, $0) } } }
        }
    }

    func commitRetrain(_ candidates: [NewModel], promote: [Bool], keep: Int) async throws -> [ModelRecord] {
        guard promote.count == candidates.count, keep >= 1 else { throw StoreError.badInput("a retrain keeps at least one version of each model") }
        try await ready()
        let ids: [Int64] = try await connection.transaction { s in
            let ids = try candidates.map { try Self.register(s, $0) }
            var now = max(Event.now(), (try s.scalar("SELECT max(activated_at) FROM models").int ?? 0) + 1)
            for (n, id) in ids.enumerated() where promote[n] {
                try Self.activate(s, id: id, kind: candidates[n].kind, segment: nil, at: now)
                now += 1
            }
            if promote.contains(true) { try notifyModels(s) }
            // Per kind: the active versions and the one active before (rollback's target) stay;
            // the newest of the rest fill up to `keep`.
            for kind in Set(candidates.map(\.kind)) {
                let rows = try s.query("SELECT id, status, activated_at FROM models WHERE kind = ? ORDER BY version DESC", [.text(kind)])
                let previous = rows.filter { $0[1].text != "active" && $0[2].int != nil }.max { ($0[2].int ?? 0) < ($1[2].int ?? 0) }?.first?.int
                let kept = Set(rows.filter { $0[1].text == "active" }.compactMap { $0.first?.int } + (previous.map { [$0] } ?? []))
                let rest = rows.compactMap { $0.first?.int }.filter { !kept.contains($0) }
                for id in rest.dropFirst(max(0, keep - kept.count)) {
                    try s.execute("DELETE FROM model_artifacts WHERE model_id = ?", [.int(id)])
                    try s.execute("DELETE FROM models WHERE id = ?", [.int(id)])
                }
            }
            return ids
        }
        var records: [ModelRecord] = []
        for id in ids { records.append(try await model(id: id)) }
        return records
    }

    func startRetrain(policy: String) async throws -> Int64 {
        try await ready()
        return try await connection.transaction { s in
            guard let id = try s.query("INSERT INTO retrains (started_at, policy, status, report) VALUES (?, ?, 'running', '{}') RETURNING id",
                                       [.int(Event.now()), .text(policy)]).first?.first?.int else { throw StoreError.conflict("the retrain got no id") }
            return id
        }
    }

    func finishRetrain(id: Int64, status: RetrainStatus, report: String) async throws {
        try await ready()
        try await connection.transaction { s in
            try s.execute("UPDATE retrains SET finished_at = ?, status = ?, report = ? WHERE id = ?", [.int(Event.now()), .text(status.rawValue), .text(report), .int(id)])
        }
    }

    func retrains(limit: Int) async throws -> [RetrainRecord] {
        try await ready()
        return try await connection.read { s in
            try s.query("SELECT id, started_at, finished_at, policy, status, report FROM retrains ORDER BY id DESC LIMIT ?", [.int(Int64(max(0, limit)))]).compactMap { r in
                guard let id = r[0].int, let started = r[1].int, let policy = r[3].text, let status = r[4].text.flatMap(RetrainStatus.init(rawValue:)),
                      let report = r[5].text else { return nil }
                return RetrainRecord(id: id, startedAt: started, finishedAt: r[2].int, policy: policy, status: status, report: report)
            }
        }
    }

    // MARK: Served lists

    func recordServedList(_ list: ServedList) async throws { try await recordServedLists([list]) }

    func recordServedLists(_ lists: [ServedList]) async throws {
        guard !lists.isEmpty else { return }
        for list in lists {
            try Event(user: list.user, song: "-").validate()
            guard !list.requestID.isEmpty, list.items.count <= 10_000 else { throw StoreError.badInput("a served list needs a request id and at most 10,000 items") }
        }
        guard Set(lists.map(\.requestID)).count == lists.count else { throw StoreError.conflict("a request id appears twice in the batch") }
        try await ready()
        let rows = try lists.map { ($0, String(decoding: try JSONEncoder().encode($0.items), as: UTF8.self)) }
        try await connection.transaction { s in
            let users = try Self.intern(s, table: "users", ids: Array(Set(lists.map(\.user))), now: Event.now())
            for (list, items) in rows {
                guard try s.query("SELECT 1 FROM served_lists WHERE request_id = ?", [.text(list.requestID)]).isEmpty else {
                    throw StoreError.conflict("request id \(list.requestID) was recorded before")
                }
                try s.execute("INSERT INTO served_lists (request_id, user_id, segment, arm, items, at) VALUES (?, ?, ?, ?, ?, ?)",
                              [.text(list.requestID), .int(users[list.user] ?? -1), .text(list.segment), .text(list.arm), .text(items), .int(list.timestamp)])
            }
        }
    }

    /// The columns of a served list, its user's external id included, in the order `servedList` reads them.
    static var servedColumns: String { "l.request_id, u.external_id, l.segment, l.arm, l.items, l.at FROM served_lists l JOIN users u ON u.id = l.user_id" }

    static func servedList(_ r: [SQLValue]) throws -> ServedList {
        let items = try JSONDecoder().decode([String].self, from: Data((r[4].text ?? "[]").utf8))
        return ServedList(requestID: r[0].text ?? "", user: r[1].text ?? "", segment: r[2].text ?? "", arm: r[3].text ?? "", items: items, timestamp: r[5].int ?? 0)
    }

    func servedLists(user: String, limit: Int) async throws -> [ServedList] {
        try await ready()
        let rows = try await connection.read { s in
            try s.query("SELECT \(Self.servedColumns) WHERE u.external_id = ? ORDER BY l.at DESC, l.request_id LIMIT ?",
                        [.text(user), .int(Int64(max(0, min(limit, 10_000))))])
        }
        return try rows.map(Self.servedList)
    }

    func servedLists(since: Int64, limit: Int) async throws -> [ServedList] {
        try await ready()
        let rows = try await connection.read { s in
            try s.query("SELECT \(Self.servedColumns) WHERE l.at >= ? ORDER BY l.at DESC, l.request_id LIMIT ?",
                        [.int(since), .int(Int64(max(0, min(limit, 1_000_000))))])
        }
        return try rows.map(Self.servedList)
    }

    // MARK: Service state

    /// Service state lives in encore_meta under `state.NAME`.
    static func stateKey(_ name: String) throws -> String {
        guard !name.isEmpty, name.utf8.count <= 100, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw StoreError.badInput("a state name is 1 to 100 letters, digits, '-', '_' or '.'")
        }
        return "state." + name
    }

    func serviceState(_ name: String) async throws -> String? {
        let key = try Self.stateKey(name)
        try await ready()
        return try await connection.read { s in try s.scalar("SELECT value FROM encore_meta WHERE key = ?", [.text(key)]).text }
    }

    func setServiceState(_ name: String, json: String) async throws {
        let key = try Self.stateKey(name)
        guard json.utf8.count <= 16 << 20 else { throw StoreError.badInput("a state value is at most 16 MiB") }
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])) != nil else {
            throw StoreError.badInput("the state value for '\(name)' is not JSON")
        }
        try await ready()
        try await connection.transaction { s in
            try s.execute("INSERT INTO encore_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [.text(key), .text(json)])
        }
    }

    // MARK: API keys

    static func randomBytes(_ n: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
    }


    static func keyHash(salt: [UInt8], secret: String) -> [UInt8] {
        Array(SHA256.hash(data: salt + Array(secret.utf8)))
    }

    static func apiKey(_ r: [SQLValue]) throws -> APIKey {
        guard let id = r[0].text, let role = r[1].text.flatMap(APIRole.init(rawValue:)) else { throw StoreError.conflict("an api_keys row is malformed") }
        return APIKey(id: id, role: role, createdAt: r[2].int ?? 0, lastUsedAt: r[3].int, revoked: (r[4].int ?? 0) != 0)
    }

    func createAPIKey(role: APIRole) async throws -> (key: APIKey, secret: String) {
        try await ready()
        let id = hexString(Self.randomBytes(6))
        let secret = "enc_\(id)_" + hexString(Self.randomBytes(24))
        let salt = Self.randomBytes(16)
        let now = Event.now()
        try await connection.transaction { s in
            try s.execute("INSERT INTO api_keys (id, role, salt, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                          [.text(id), .text(role.rawValue), .blob(salt), .blob(Self.keyHash(salt: salt, secret: secret)), .int(now)])
        }
        return (APIKey(id: id, role: role, createdAt: now, lastUsedAt: nil, revoked: false), secret)
    }

    func authenticate(secret: String) async throws -> APIKey? {
        let parts = secret.split(separator: "_")
        guard parts.count == 3, parts[0] == "enc", parts[1].count == 12, secret.utf8.count < 200 else { return nil }
        try await ready()
        let id = String(parts[1])
        return try await connection.transaction { s in
            guard let r = try s.query("SELECT salt, hash, revoked FROM api_keys WHERE id = ?", [.text(id)]).first,
                  let salt = r[0].blob, let stored = r[1].blob, (r[2].int ?? 1) == 0 else { return nil }
            let computed = Self.keyHash(salt: salt, secret: secret)
            // Constant time over the digest.
            guard computed.count == stored.count, zip(computed, stored).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
            try s.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [.int(Event.now()), .text(id)])
            return try Self.apiKey(try s.query("SELECT id, role, created_at, last_used_at, revoked FROM api_keys WHERE id = ?", [.text(id)])[0])
        }
    }

    func revokeAPIKey(id: String) async throws {
        try await ready()
        try await connection.transaction { s in
            guard try !s.query("SELECT 1 FROM api_keys WHERE id = ?", [.text(id)]).isEmpty else { throw StoreError.notFound("no API key \(id)") }
            try s.execute("UPDATE api_keys SET revoked = 1 WHERE id = ?", [.text(id)])
        }
    }

    func apiKeys() async throws -> [APIKey] {
        try await ready()
        return try await connection.read { s in try s.query("SELECT id, role, created_at, last_used_at, revoked FROM api_keys ORDER BY created_at, id", []).map(Self.apiKey) }
    }

    func close() async throws { try await connection.close() }
}

/// A fault the tests inject into an import, inside its transaction (after the events are written),
/// to show that a failed import changes nothing.
enum StoreFault {
    @TaskLocal static var failImportAfterEvents = false
}

/// What the conformance tests need beyond the protocol: partial migrations and raw SQL.
protocol StoreTesting: Store {
    func migrate(upTo target: Int) async throws -> (from: Int, to: Int)
    func rawQuery(_ sql: String) async throws -> [[SQLValue]]
    func rawExecute(_ sql: String) async throws
}

extension SQLStore: StoreTesting {
    func rawQuery(_ sql: String) async throws -> [[SQLValue]] { try await connection.read { s in try s.query(sql, []) } }
    func rawExecute(_ sql: String) async throws { try await connection.transaction { s in try s.execute(sql) } }
}
