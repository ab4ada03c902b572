// One conformance suite for both stores, the same cases: a new SQLite file, and a new database
// on the throwaway PostgreSQL server that scripts/with-postgres.sh starts (make test runs the
// suite through it). Without that server the PostgreSQL cases fail; they never skip.
import Crypto
import EncoreMath
import Foundation
import Testing

@testable import EncoreData
@testable import EncoreStore

enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

struct TestDatabaseError: Error, CustomStringConvertible {
    var description: String
}

enum TestStores {
    static let environment = ProcessInfo.processInfo.environment

    /// This test process's SQLite files, in a directory of their own removed when the process ends.
    static let sqliteDirectory: String = {
        let directory = NSTemporaryDirectory() + "encore-store-tests-\(ProcessInfo.processInfo.processIdentifier)/"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: TestStores.sqliteDirectory) }
        return directory
    }()

    /// A new, empty database of the kind: its `--database` text.
    static func fresh(_ kind: StoreKind) throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
        switch kind {
        case .sqlite:
            return sqliteDirectory + "\(name).db"
        case .postgres:
            guard let url = environment["ENCORE_TEST_POSTGRES"], let port = environment["ENCORE_TEST_POSTGRES_PORT"] else {
                throw TestDatabaseError(description: "ENCORE_TEST_POSTGRES is not set: run the tests through scripts/with-postgres.sh (make test does), which starts a throwaway PostgreSQL server")
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["psql", "-h", "127.0.0.1", "-p", port, "-U", "encore", "-d", "postgres", "-q", "-c", "CREATE DATABASE \(name)"]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw TestDatabaseError(description: "psql could not create database \(name)") }
            return url.replacingOccurrences(of: "/postgres", with: "/\(name)")
        }
    }

    static func open(_ kind: StoreKind, migrate: Bool = true) async throws -> (store: any StoreTesting, url: String) {
        let url = try fresh(kind)
        let store = try await Stores.open(url, migrate: migrate)
        return (try #require(store as? any StoreTesting), url)
    }

    /// A small dataset with a catalogue: 3 users, 4 songs.
    static func dataset(extraUser: String? = nil) throws -> Dataset {
        var users = ["ann", "bob", "cy"]
        if let extraUser { users.append(extraUser) }
        var triples: [(Int, Int, Float)] = [(0, 0, 3), (0, 2, 1), (1, 1, 5), (1, 2, 2), (2, 3, 7)]
        if extraUser != nil { triples.append((3, 0, 1)) }
        let m = try InteractionMatrix.validated(users: users, items: ["s1", "s2", "s3", "s4"],
                                                rowPointers: rowPointers(triples, users: users.count), columnIndices: triples.map { Int32($0.1) },
                                                values: triples.map(\.2), timestamps: nil, corrupt: { TestDatabaseError(description: $0) })
        let catalog = Catalog(entries: [CatalogEntry(title: "One", artist: "A", year: 2001, tags: ["rock", "pop"]), CatalogEntry(title: "Two", artist: "B"),
                                        CatalogEntry(title: "Three", artist: "A"), CatalogEntry()])
        return Dataset(name: "tiny", interactions: m, catalog: catalog, report: LoadReport(format: "test"))
    }

    static func rowPointers(_ t: [(Int, Int, Float)], users: Int) -> [Int64] {
        var p = [Int64](repeating: 0, count: users + 1)
        for (u, _, _) in t { p[u + 1] += 1 }
        for u in 0..<users { p[u + 1] += p[u] }
        return p
    }
}

@Suite(.serialized) struct StoreConformanceTests {
    /// Migration 4 moves each artifact out of the models row into model_artifacts: the model still
    /// loads (its SHA-256 checked), and the row no longer holds it.
    @Test(arguments: StoreKind.allCases)
    func artifactsMoveToTheirOwnTable(_ kind: StoreKind) async throws {
        let (store, _) = try await TestStores.open(kind, migrate: false)
        _ = try await store.migrate(upTo: 3)
        let bytes: [UInt8] = [1, 2, 3, 250]
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let blob = kind == .sqlite ? "X'\(hex)'" : "'\\x\(hex)'::bytea"
        try await store.rawExecute("""
            INSERT INTO models (kind, version, configuration, data_fingerprint, dataset_id, metrics, artifact, artifact_sha256, trained_at, status)
            VALUES ('ease', 1, '{}', 'f', 'd', '{}', \(blob), '\(SQLStore<SQLiteConnection>.sha256(bytes))', 1, 'candidate')
            """)
        _ = try await store.migrate()
        let id = try #require(try await store.models().first?.id)
        #expect(try await store.artifact(id: id) == bytes)
        #expect(try await store.rawQuery("SELECT count(*) FROM models WHERE artifact IS NOT NULL").first?.first?.int == 0)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func migrationsFromEmptyAndFromEachEarlierVersion(_ kind: StoreKind) async throws {
        let latest = SQLStore<SQLiteConnection>.latestVersion
        for start in 0...latest {
            let (store, url) = try await TestStores.open(kind, migrate: false)
            #expect(try await store.status().schemaVersion == 0)
            _ = try await store.migrate(upTo: start)
            if start >= 1 {
                try await store.rawExecute("INSERT INTO songs (external_id, title, added_at) VALUES ('kept', 'Kept', 1)")
                try await store.rawExecute("INSERT INTO events (user_id, song_id, kind, plays, at) VALUES (1, 1, 'skip', 0, 5)")
                try await store.rawExecute("INSERT INTO users (external_id, created_at) VALUES ('ann', 1)")
                // Before 6 the aggregate was a row per pair; migration 6 packs it per user.
                if start < 6 { try await store.rawExecute("INSERT INTO play_counts (user_id, song_id, plays) VALUES (1, 1, 4.5)") }
            }
            let (from, to) = try await store.migrate()
            #expect(from == start && to == latest)
            let status = try await store.status()
            #expect(status.schemaVersion == latest)
            if start >= 1 {
                #expect(status.songs == 1 && status.events == 1, "a migration from version \(start) kept the data")
                #expect(try await store.rawQuery("SELECT kind, at FROM events").first == [.text("skip"), .int(5)])
                if start < 6 {
                    #expect(try await store.history(of: "ann").map { "\($0.song) \($0.plays)" } == ["kept 4.5"], "the plays survive migration 6")
                    let m = try await store.trainingData().interactions
                    #expect(m.nnz == 1 && m.values == [4.5] && m.users.ids == ["ann"] && m.items.ids == ["kept"])
                }
            }
            // The events' kind is still checked (migration 5 rewrote the check for SQLite).
            await #expect(throws: (any Error).self) {
                try await store.rawExecute("INSERT INTO events (user_id, song_id, kind, plays, at) VALUES (1, 1, 'bogus', 0, 5)")
            }
            // Migrating again is a no-op.
            #expect(try await store.migrate() == (latest, latest))
            try await store.close()
            // A database from a newer Encore is refused and left untouched.
            let raw = try await Stores.open(url) as? any StoreTesting
            try await raw?.rawExecute("UPDATE encore_schema SET version = 99")
            try await raw?.close()
            await #expect(throws: StoreError.newerSchema(found: 99, supported: latest)) { _ = try await Stores.open(url) }
            let again = try #require(try await Stores.open(url, migrate: false) as? any StoreTesting)
            #expect(try await again.rawQuery("SELECT version FROM encore_schema").first?.first?.int == 99)
            await #expect(throws: StoreError.self) { _ = try await again.trainingData() }
            try await again.close()
        }
    }

    /// A disk that fills up during an import: SQLite's own "database or disk is full" (SQLITE_FULL),
    /// raised by capping the file's pages at what it holds. The import fails with a clear error and
    /// leaves the database as it was; with room again, the same import succeeds.
    @Test func aFullDiskDuringAnImportChangesNothing() async throws {
        let (store, _) = try await TestStores.open(.sqlite)
        _ = try await store.importDataset(try TestStores.dataset(), contentHash: "small", source: "tiny", mode: .append)
        let before = try await store.status()
        // A bigger dataset: 400 users × 300 songs, 12,000 plays.
        let users = (0..<400).map { "u\($0)" }, songs = (0..<300).map { "song-\($0)" }
        var triples: [(Int, Int, Float)] = []
        for u in 0..<400 { for k in 0..<30 { triples.append((u, (u * 7 + k * 11) % 300, Float(1 + k % 5))) } }
        triples.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var seen = Set<[Int]>()
        triples = triples.filter { seen.insert([$0.0, $0.1]).inserted }
        let m = try InteractionMatrix.validated(users: users, items: songs, rowPointers: TestStores.rowPointers(triples, users: users.count),
                                                columnIndices: triples.map { Int32($0.1) }, values: triples.map(\.2), timestamps: nil,
                                                corrupt: { TestDatabaseError(description: $0) })
        let big = Dataset(name: "big", interactions: m, catalog: Catalog(entries: songs.map { CatalogEntry(title: $0, artist: "A") }), report: LoadReport(format: "test"))
        let pages = try #require(try await store.rawQuery("PRAGMA page_count").first?.first?.int)
        try await store.rawExecute("PRAGMA max_page_count = \(pages + 2)")
        do {
            _ = try await store.importDataset(big, contentHash: "big", source: "big", mode: .append)
            Issue.record("an import past the end of the disk succeeded")
        } catch {
            #expect("\(error)".lowercased().contains("full"), "\(error)")
        }
        let after = try await store.status()
        #expect(after.users == before.users && after.events == before.events && after.songs == before.songs)
        #expect(try await store.trainingData().interactions.nnz == 5)
        try await store.rawExecute("PRAGMA max_page_count = 1073741823")
        _ = try await store.importDataset(big, contentHash: "big", source: "big", mode: .append)
        #expect(try await store.status().events == before.events + m.nnz)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func importIsAllOrNothingAndIdempotent(_ kind: StoreKind) async throws {
        let (store, _) = try await TestStores.open(kind)
        let d = try TestStores.dataset()
        // A failure inside the transaction, after the events were written: nothing stays.
        await #expect(throws: StoreError.self) {
            try await StoreFault.$failImportAfterEvents.withValue(true) { _ = try await store.importDataset(d, contentHash: "h1", source: "tiny", mode: .append) }
        }
        let empty = try await store.status()
        #expect(empty.events == 0 && empty.songs == 0 && empty.users == 0)
        let summary = try await store.importDataset(d, contentHash: "h1", source: "tiny", mode: .append)
        #expect(summary.rows == 5 && summary.users == 3 && summary.songs == 4)
        let once = try await store.status()
        #expect(once.events == 5 && once.songs == 4 && once.users == 3)
        // The same content again: refused in append mode, nothing doubled.
        await #expect(throws: StoreError.self) { _ = try await store.importDataset(d, contentHash: "h1", source: "tiny", mode: .append) }
        #expect(try await store.status() == once)
        _ = try await store.importDataset(d, contentHash: "h1", source: "tiny", mode: .replace)
        #expect(try await store.status().events == 5)
        // What comes back is what went in: pairs, values, catalogue.
        let back = try await store.trainingData()
        #expect(back.interactions.nnz == 5)
        for u in 0..<d.interactions.userCount {
            let user = d.interactions.users[u]
            let b = try #require(back.interactions.users.index(of: user))
            let want = Dictionary(uniqueKeysWithValues: zip(d.interactions.row(u).items.map { d.interactions.items[Int($0)] }, d.interactions.row(u).values))
            let got = Dictionary(uniqueKeysWithValues: zip(back.interactions.row(b).items.map { back.interactions.items[Int($0)] }, back.interactions.row(b).values))
            #expect(want == got, "user \(user)")
        }
        let s1 = try #require(back.interactions.items.index(of: "s1"))
        #expect(back.catalog.entries[s1] == CatalogEntry(title: "One", artist: "A", year: 2001, tags: ["rock", "pop"]))
        try await store.close()
    }

    /// A second import mixes stored and new users and songs, after an append made room between
    /// the ids: new ids are numbered right, the aggregate adds up, and a replacing import (an empty
    /// aggregate over users stored in another order) reads back exactly.
    @Test(arguments: StoreKind.allCases)
    func importsOverStoredUsersAndSongsAddUp(_ kind: StoreKind) async throws {
        let (store, _) = try await TestStores.open(kind)
        _ = try await store.importDataset(try TestStores.dataset(), contentHash: "h", source: "tiny", mode: .append)
        try await store.append([Event(user: "zed", song: "s9", plays: 4)])
        let users = ["new1", "ann", "zed", "new2"], songs = ["s9", "fresh", "s1"]
        let triples: [(Int, Int, Float)] = [(0, 1, 2), (1, 0, 1), (1, 2, 5), (2, 0, 3), (3, 1, 1), (3, 2, 6)]
        let m = try InteractionMatrix.validated(users: users, items: songs, rowPointers: TestStores.rowPointers(triples, users: users.count),
                                                columnIndices: triples.map { Int32($0.1) }, values: triples.map(\.2), timestamps: nil,
                                                corrupt: { TestDatabaseError(description: $0) })
        let second = Dataset(name: "second", interactions: m, catalog: Catalog(entries: songs.map { _ in CatalogEntry() }), report: LoadReport(format: "test"))
        func plays(_ d: Dataset) -> [String: Float] {
            var out: [String: Float] = [:]
            let m = d.interactions
            for u in 0..<m.userCount { for (i, v) in zip(m.row(u).items, m.row(u).values) { out["\(m.users[u])/\(m.items[Int(i)])"] = v } }
            return out
        }
        _ = try await store.importDataset(second, contentHash: "h2", source: "second", mode: .append)
        var want = plays(try TestStores.dataset())
        want["zed/s9"] = 4
        for (key, v) in plays(second) { want[key, default: 0] += v }
        #expect(plays(try await store.trainingData()) == want)
        #expect(try await store.status().users == 6)
        _ = try await store.importDataset(second, contentHash: "h2", source: "second", mode: .replace)
        #expect(plays(try await store.trainingData()).filter { $0.value > 0 } == plays(second))
        try await store.close()
    }

    /// Loads a course file on a thread of its own, its rows streamed into the store's import in
    /// batches of `batch` (the CLI's path), and returns the summary or throws the load's error.
    static func streamImport(_ store: any Store, counts: String, songs: String?, batch: Int, hash: String,
                             mode: ImportMode = .append) async throws -> ImportSummary {
        let feed = ImportFeed(capacity: 2)
        Thread.detachNewThread {
            do {
                var options = LoadOptions(progress: false)
                options.rowSink = { try feed.send($0) }
                options.rowBatchSize = batch
                let d = try CourseFilesLoader.load(counts: counts, songs: songs, options: options)
                try feed.finish(d, contentHash: hash, source: counts)
            } catch is ImportFeed.Stopped {
            } catch {
                feed.fail(error)
            }
        }
        do { return try await store.importFeed(feed, mode: mode) } catch { throw feed.loadError ?? error }
    }

    /// The streamed import (rows written while the file is parsed, several batches) stores what
    /// the import of the loaded dataset stores: the same plays, users, songs and catalogue, into
    /// an empty store and over stored users and songs; only the log differs, one event per line
    /// (a repeated line is two events; the loaded matrix had merged them).
    @Test(arguments: StoreKind.allCases)
    func streamedImportStoresWhatTheLoadedImportStores(_ kind: StoreKind) async throws {
        let dir = NSTemporaryDirectory() + "encore-stream-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let counts = dir + "/count_data.csv", songs = dir + "/song_data.csv", second = dir + "/count_data_2.csv"
        try ",user_id,song_id,play_count\n0,ann,s1,3\n1,bob,s2,5\n2,ann,s3,1\n3,cy,s4,7\n4,bob,s3,2\n5,ann,s1,2\n6,dee,s2,1\n"
            .write(toFile: counts, atomically: true, encoding: .utf8)
        try "song_id,title,release,artist_name,year\ns1,One,R,A,2001\ns3,Three,R,A,0\ns9,Nine,R,C,1999\n".write(toFile: songs, atomically: true, encoding: .utf8)
        try ",user_id,song_id,play_count\n0,eve,s9,4\n1,ann,s9,1\n2,eve,s1,2\n3,fay,s5,3\n".write(toFile: second, atomically: true, encoding: .utf8)
        let (streamed, _) = try await TestStores.open(kind)
        let (loaded, _) = try await TestStores.open(kind)
        func plays(_ d: Dataset) -> [String: Float] {
            var out: [String: Float] = [:]
            let m = d.interactions
            for u in 0..<m.userCount { for (i, v) in zip(m.row(u).items, m.row(u).values) { out["\(m.users[u])/\(m.items[Int(i)])"] = v } }
            return out
        }
        func titles(_ d: Dataset) -> [String: String] {
            Dictionary(uniqueKeysWithValues: d.interactions.items.ids.enumerated().map { ($1, d.catalog.entries[$0].title) })
        }
        for (file, catalogue, hash) in [(counts, Optional(songs), "h1"), (second, Optional(songs), "h2")] {
            let summary = try await Self.streamImport(streamed, counts: file, songs: catalogue, batch: 2, hash: hash)
            let d = try CourseFilesLoader.load(counts: file, songs: catalogue, options: LoadOptions(progress: false))
            _ = try await loaded.importDataset(d, contentHash: hash, source: file, mode: .append)
            #expect(summary.rows == d.interactions.nnz + d.report.duplicatesMerged && summary.contentHash == hash)
            let (a, b) = (try await streamed.trainingData(), try await loaded.trainingData())
            #expect(plays(a) == plays(b) && !plays(a).isEmpty)
            #expect(titles(a) == titles(b))
            let (sa, sb) = (try await streamed.status(), try await loaded.status())
            #expect(sa.users == sb.users && sa.songs == sb.songs)
        }
        #expect(plays(try await streamed.trainingData())["ann/s1"] == 5)  // two lines of the first file, merged
        #expect(try await streamed.status().events == 11)  // one per line
        #expect(try await streamed.history(of: "eve").map(\.song).sorted() == ["s1", "s9"])
        // The same file again is refused, after streaming its rows: nothing is added.
        let before = try await streamed.status()
        await #expect(throws: StoreError.self) { _ = try await Self.streamImport(streamed, counts: second, songs: nil, batch: 2, hash: "h2") }
        #expect(try await streamed.status() == before)
        // Ids assigned past the largest are the ones the tables hand out next.
        try await streamed.append([Event(user: "gus", song: "s10", plays: 1)])
        #expect(try await streamed.history(of: "gus").map(\.song) == ["s10"])
        try await streamed.close(); try await loaded.close()
    }

    /// A bad line after several batches were written: the load's own error (file, line), and the
    /// store exactly as before (an empty store stays empty).
    @Test(arguments: StoreKind.allCases)
    func aBadLineAfterStreamedBatchesChangesNothing(_ kind: StoreKind) async throws {
        let path = NSTemporaryDirectory() + "encore-stream-bad-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var text = ",user_id,song_id,play_count\n"
        for n in 0..<40 { text += "\(n),u\(n % 7),s\(n % 5),\(n + 1)\n" }
        text += "40,u1,s2,lots\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let (store, _) = try await TestStores.open(kind)
        do {
            _ = try await Self.streamImport(store, counts: path, songs: nil, batch: 4, hash: "bad")
            Issue.record("an import with a bad line succeeded")
        } catch let e as DataError {
            #expect(e.line == 42 && e.field == "play_count", "\(e)")
        }
        let status = try await store.status()
        #expect(status.events == 0 && status.users == 0 && status.songs == 0)
        try await store.close()
    }

    /// What one store object commits reaches another over the same database as it commits
    /// (PostgreSQL: LISTEN/NOTIFY), never its own; SQLite has no such stream and ends it at once.
    @Test(arguments: StoreKind.allCases)
    func changesReachOtherStoreObjects(_ kind: StoreKind) async throws {
        let (a, url) = try await TestStores.open(kind)
        let b = try await Stores.open(url)
        let changes = b.changes()
        let own = a.changes()
        if kind == .sqlite {
            var iterator = changes.makeAsyncIterator()
            #expect(await iterator.next() == nil)
            try await a.close(); try await b.close()
            return
        }
        try await Task.sleep(for: .milliseconds(500))  // the listeners connect
        let sent = [Event(user: "ann", song: "s1", plays: 2, timestamp: 5, requestID: "r1"), Event(user: "bob", song: "s2", kind: .like, plays: 0, timestamp: 6)]
        try await a.append(sent)
        let model = try await a.registerModel(NewModel(kind: "ease", configuration: "{}", dataFingerprint: "f", metrics: "{}", artifact: [1]))
        _ = try await a.activate(id: model.id, segment: nil)
        var received: [StoreChange] = []
        for await change in changes {
            received.append(change)
            if received.count == 2 { break }
        }
        guard received.count == 2, case .events(let events) = received[0], case .models = received[1] else {
            Issue.record("expected the events then a model change, got \(received)"); return
        }
        #expect(events == sent)
        // A's own commits are not echoed back to it: its stream stays quiet.
        let echo = Task { var i = own.makeAsyncIterator(); return await i.next() }
        try await Task.sleep(for: .milliseconds(500))
        echo.cancel()
        #expect(await echo.value == nil)
        try await a.close(); try await b.close()
    }

    /// The time-based holdout by hand: ann's five songs were first played at 1…5 ms and s1 again
    /// at 10; 40% of five songs are the two discovered last (s5, s4; s1's replay does not make it
    /// new), and only s5 when asking for discoveries from 5 on. bob (two songs) is under the
    /// minimum. Equal times are ordered by the seed, the same way each time.
    @Test(arguments: StoreKind.allCases)
    func recentDiscoveriesByHand(_ kind: StoreKind) async throws {
        let (store, _) = try await TestStores.open(kind)
        var events = (1...5).map { Event(user: "ann", song: "s\($0)", plays: 1, timestamp: Int64($0)) }
        events += [Event(user: "ann", song: "s1", plays: 4, timestamp: 10), Event(user: "bob", song: "s1", timestamp: 1), Event(user: "bob", song: "s2", timestamp: 1)]
        events += (1...5).map { Event(user: "cy", song: "s\($0)", plays: 1, timestamp: 7) }
        try await store.append(events)
        let held = try await store.recentDiscoveries(fraction: 0.4, minimumSongs: 3, since: nil, seed: 1)
        #expect(held.filter { $0.user == "ann" }.map(\.song) == ["s5", "s4"])
        #expect(held.filter { $0.user == "bob" }.isEmpty)
        let cy = held.filter { $0.user == "cy" }.map(\.song)
        let again = try await store.recentDiscoveries(fraction: 0.4, minimumSongs: 3, since: nil, seed: 1)
        #expect(cy.count == 2 && again.filter { $0.user == "cy" }.map(\.song) == cy)
        #expect(try await store.recentDiscoveries(fraction: 0.4, minimumSongs: 3, since: 5, seed: 1).filter { $0.user == "ann" }.map(\.song) == ["s5"])
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func appendedEventsAggregateAndBadEventsChangeNothing(_ kind: StoreKind) async throws {
        let (store, _) = try await TestStores.open(kind)
        _ = try await store.importDataset(try TestStores.dataset(), contentHash: "h", source: "tiny", mode: .append)
        try await store.append([Event(user: "ann", song: "s1", plays: 2), Event(user: "ann", song: "s1"), Event(user: "new", song: "s9"),
                                Event(user: "ann", song: "s2", kind: .skip, plays: 0)])
        let history = Dictionary(uniqueKeysWithValues: try await store.history(of: "ann").map { ($0.song, $0.plays) })
        #expect(history == ["s1": 6, "s3": 1], "plays add up; a skip is an event, not a play")
        #expect(try await store.history(of: "new").map(\.song) == ["s9"])
        let before = try await store.status()
        #expect(before.events == 9 && before.users == 4 && before.songs == 5)
        for bad in [Event(user: "", song: "s1"), Event(user: "ann", song: "s1", plays: .nan), Event(user: "ann", song: "s1", plays: -1),
                    Event(user: "a\u{0}b", song: "s1"), Event(user: "ann", song: "s1", kind: .like, plays: 3)] {
            await #expect(throws: StoreError.self) { try await store.append([Event(user: "ok", song: "s1"), bad]) }
        }
        #expect(try await store.status() == before)
        try await store.upsertUser("newcomer", onboarding: Onboarding(artists: ["A"], tags: ["rock"]))
        #expect(try await store.onboarding(of: "newcomer") == Onboarding(artists: ["A"], tags: ["rock"]))
        try await store.recordServedList(ServedList(requestID: "r1", user: "ann", segment: "regular", arm: "mix-a", items: ["s2", "s4"], timestamp: 5))
        await #expect(throws: StoreError.self) { try await store.recordServedList(ServedList(requestID: "r1", user: "ann", segment: "x", arm: "y", items: [])) }
        #expect(try await store.servedLists(user: "ann", limit: 10) == [ServedList(requestID: "r1", user: "ann", segment: "regular", arm: "mix-a", items: ["s2", "s4"], timestamp: 5)])
        // A batch is all or nothing: a request id seen before refuses the whole batch.
        await #expect(throws: StoreError.self) {
            try await store.recordServedLists([ServedList(requestID: "r2", user: "bob", segment: "regular", arm: "a", items: ["s1"]),
                                               ServedList(requestID: "r1", user: "bob", segment: "regular", arm: "a", items: ["s1"])])
        }
        #expect(try await store.servedLists(user: "bob", limit: 10).isEmpty)
        try await store.recordServedLists([ServedList(requestID: "r2", user: "bob", segment: "regular", arm: "a", items: ["s1"], timestamp: 6),
                                           ServedList(requestID: "r3", user: "newbie", segment: "cold_start", arm: "b", items: ["s3"], timestamp: 7)])
        #expect(try await store.servedLists(user: "newbie", limit: 10).map(\.requestID) == ["r3"])
        // By time, newest first, with each list's user.
        #expect(try await store.servedLists(since: 6, limit: 10).map { "\($0.requestID)/\($0.user)" } == ["r3/newbie", "r2/bob"])
        #expect(try await store.servedLists(since: 0, limit: 1).map(\.requestID) == ["r3"])
        #expect(try await store.servedLists(since: 8, limit: 10).isEmpty)
        try await store.close()
    }

    /// Named service state (the bandit's) is stored, replaced, and read back after reopening; a bad
    /// name or a value that is not JSON is refused and changes nothing.
    @Test(arguments: StoreKind.allCases)
    func serviceStateSurvivesReopening(_ kind: StoreKind) async throws {
        let (store, location) = try await TestStores.open(kind)
        #expect(try await store.serviceState("bandit") == nil)
        try await store.setServiceState("bandit", json: #"{"a": 1}"#)
        try await store.setServiceState("bandit", json: #"{"a": 2}"#)
        await #expect(throws: StoreError.self) { try await store.setServiceState("bandit", json: "{not json") }
        await #expect(throws: StoreError.self) { try await store.setServiceState("no spaces", json: "1") }
        await #expect(throws: StoreError.self) { try await store.serviceState("") }
        try await store.close()
        let reopened = try await Stores.open(location)
        #expect(try await reopened.serviceState("bandit") == #"{"a": 2}"#)
        #expect(try await reopened.status().schemaVersion == SQLStore<SQLiteConnection>.latestVersion)
        try await reopened.close()
    }

    @Test(arguments: StoreKind.allCases)
    func registryStatesAndRollback(_ kind: StoreKind) async throws {
        let (store, _) = try await TestStores.open(kind)
        _ = try await store.importDataset(try TestStores.dataset(), contentHash: "h", source: "tiny", mode: .append)
        func register(_ kind: String) async throws -> ModelRecord {
            try await store.registerModel(NewModel(kind: kind, configuration: #"{"k": 1}"#, dataFingerprint: "f", metrics: #"{"ndcg_at_10": 0.2}"#, artifact: [1, 2, 3]))
        }
        let a = try await register("ease"), b = try await register("ease"), c = try await register("als")
        #expect(a.version == 1 && b.version == 2 && c.version == 1 && a.status == .candidate)
        #expect(try await store.artifact(id: b.id) == [1, 2, 3])
        #expect(try await store.activate(id: a.id, segment: nil).status == .active)
        _ = try await store.activate(id: b.id, segment: nil)
        #expect(try await store.model(id: a.id).status == .retired)
        _ = try await store.activate(id: c.id, segment: "cold")
        #expect(try await store.model(id: b.id).status == .active, "another segment's activation leaves this one alone")
        let back = try await store.rollback(segment: nil)
        #expect(back.id == a.id && back.status == .active)
        #expect(try await store.model(id: b.id).status == .retired)
        await #expect(throws: StoreError.self) { _ = try await store.rollback(segment: nil) }
        await #expect(throws: StoreError.notFound("no model with id 999 (encore registry list shows them)")) { _ = try await store.model(id: 999) }
        #expect(try await store.retire(id: c.id).status == .retired)
        #expect(try await store.models().map(\.id) == [a.id, b.id, c.id])
        await #expect(throws: StoreError.self) { _ = try await store.registerModel(NewModel(kind: "x", configuration: "[1]", dataFingerprint: "", metrics: "{}", artifact: [])) }
        // Models trained before the plays were replaced are refused.
        _ = try await store.importDataset(try TestStores.dataset(extraUser: "dee"), contentHash: "h2", source: "tiny2", mode: .replace)
        await #expect(throws: StoreError.self) { _ = try await store.activate(id: b.id, segment: nil) }
        let fresh = try await register("ease")
        #expect(try await store.activate(id: fresh.id, segment: nil).status == .active)
        // A damaged artifact is caught by its SHA-256.
        try await store.rawExecute("UPDATE models SET artifact_sha256 = 'x' WHERE id = \(fresh.id)")
        await #expect(throws: StoreError.self) { _ = try await store.artifact(id: fresh.id) }
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func apiKeysAreStoredOnlyAsSaltedHashes(_ kind: StoreKind) async throws {
        let (store, _) = try await TestStores.open(kind)
        let (key, secret) = try await store.createAPIKey(role: .write)
        let (_, secret2) = try await store.createAPIKey(role: .read)
        let rows = try await store.rawQuery("SELECT id, role, salt, hash, created_at FROM api_keys ORDER BY created_at, id")
        #expect(rows.count == 2)
        let secretBytes = Array(secret.utf8)
        for row in rows {
            for cell in row {
                if let t = cell.text { #expect(!t.contains(secret) && !secret.hasSuffix(t) || t == key.id) }
                if let b = cell.blob { #expect(b != secretBytes && b != Array(SHA256.hash(data: secretBytes))) }
            }
        }
        #expect(rows[0][2].blob != rows[1][2].blob, "each key has its own salt")
        #expect(try await store.authenticate(secret: secret)?.role == .write)
        #expect(try await store.authenticate(secret: secret2)?.role == .read)
        #expect(try await store.authenticate(secret: secret + "x") == nil)
        #expect(try await store.authenticate(secret: "enc_\(key.id)_" + String(repeating: "0", count: 48)) == nil)
        #expect(try await store.authenticate(secret: "nonsense") == nil)
        #expect(try await store.apiKeys().first { $0.id == key.id }?.lastUsedAt != nil)
        try await store.revokeAPIKey(id: key.id)
        #expect(try await store.authenticate(secret: secret) == nil)
        await #expect(throws: StoreError.self) { try await store.revokeAPIKey(id: "nope") }
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func readersRunWhileOneWriterAppends(_ kind: StoreKind) async throws {
        let (writer, url) = try await TestStores.open(kind)
        _ = try await writer.importDataset(try TestStores.dataset(), contentHash: "h", source: "tiny", mode: .append)
        let batches = 60, size = 50
        let readers = [try await Stores.open(url), try await Stores.open(url)]
        async let written: Void = {
            for b in 0..<batches {
                try await writer.append((0..<size).map { Event(user: "w\(b % 7)", song: "song\(b)-\($0)") })
            }
        }()
        // Each reader sees a consistent, growing store while the writer works.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for r in readers {
                group.addTask {
                    var reads = 0, last = 0
                    while reads < 20 {
                        let d = try await r.trainingData()
                        let status = try await r.status()
                        #expect(d.interactions.nnz >= last)
                        #expect(status.events >= d.interactions.nnz - 5)
                        last = d.interactions.nnz
                        reads += 1
                    }
                    return reads
                }
            }
            for try await n in group { #expect(n == 20) }
        }
        try await written
        #expect(try await readers[0].status().events == 5 + batches * size)
        for r in readers { try await r.close() }
        try await writer.close()
    }

    /// Two connections (two replicas) append plays for the same new listener at once: every play
    /// counts, none overwrites another (the per-user row is locked before it is merged).
    @Test(arguments: StoreKind.allCases)
    func concurrentAppendsForOneListenerAddUp(_ kind: StoreKind) async throws {
        let (first, url) = try await TestStores.open(kind)
        let second = try await Stores.open(url)
        let rounds = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, store) in [first as any Store, second].enumerated() {
                group.addTask {
                    for r in 0..<rounds {
                        try await store.append([Event(user: "zed", song: "s\(r % 3)", plays: 1), Event(user: "w\(n)-\(r)", song: "s9", plays: 2)])
                    }
                }
            }
            try await group.waitForAll()
        }
        let history = try await first.history(of: "zed")
        #expect(history.map(\.song) == ["s0", "s1", "s2"])
        #expect(history.map(\.plays).reduce(0, +) == Double(2 * rounds))
        #expect(history.map(\.plays) == [18, 16, 16])
        // 50 appended pairs for three songs: compaction keeps the row under 16 pairs.
        let length = try await first.rawQuery("SELECT length(p.songs) FROM user_plays p JOIN users u ON u.id = p.user_id WHERE u.external_id = 'zed'")
        #expect((length.first?.first?.int ?? 999) < Int64(16 * PackedPlays.pairBytes))
        #expect(try await second.trainingData().interactions.nnz == 3 + 2 * rounds)
        try await second.close()
        try await first.close()
    }

    @Test(arguments: StoreKind.allCases)
    func acknowledgedEventsSurviveKill9(_ kind: StoreKind) async throws {
        // Writing into the killed child's pipe must fail with EPIPE, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        let url = try TestStores.fresh(kind)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: StoreCLI.binary)
        p.arguments = ["db", "append", "--database", url, "--batch", "5"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Feed events from another thread while this one reads the acknowledgements.
        let feeder = Thread {
            for n in 0..<100_000 {
                guard (try? input.fileHandleForWriting.write(contentsOf: Data("user\(n % 13)\tsong\(n)\t1\n".utf8))) != nil else { return }
            }
        }
        feeder.start()
        var acknowledged = 0
        var buffer = ""
        while acknowledged < 200 {
            let data = output.fileHandleForReading.availableData
            guard !data.isEmpty else { break }
            buffer += String(decoding: data, as: UTF8.self)
            let lines = buffer.split(separator: "\n", omittingEmptySubsequences: false)
            for line in lines.dropLast() where line.hasPrefix("ok ") { acknowledged = max(acknowledged, Int(line.dropFirst(3)) ?? 0) }
            buffer = String(lines.last ?? "")
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        #expect(acknowledged >= 200, "the child acknowledged \(acknowledged) events")
        let store = try await Stores.open(url)
        let d = try await store.trainingData()
        let songs = Set(d.interactions.items.ids)
        let missing = (0..<acknowledged).filter { !songs.contains("song\($0)") }
        #expect(missing.isEmpty, "\(missing.count) acknowledged events were lost, first \(missing.prefix(5))")
        #expect(try await store.status().events >= acknowledged)
        try await store.close()
    }

    @Test func locationsAndOpeningErrors() async throws {
        #expect(try StoreLocation("encore.db") == .sqlite(path: "encore.db"))
        #expect(try StoreLocation("postgres://me:pw@db.example:6000/music", environment: [:]) == .postgres(host: "db.example", port: 6000, user: "me", password: "pw", database: "music"))
        #expect(try StoreLocation("postgres://me@localhost/music", environment: ["PGPASSWORD": "s"]) == .postgres(host: "localhost", port: 5432, user: "me", password: "s", database: "music"))
        for bad in ["", "postgres://", "postgres://host/db", "postgres://me@host", "postgres://me@host:99999/db", "mysql://me@host/db"] {
            #expect(throws: StoreError.self, "\(bad)") { _ = try StoreLocation(bad) }
        }
        let notSQLite = NSTemporaryDirectory() + "encore-not-sqlite-\(UUID().uuidString)"
        try Data("user\tsong\tplays\n".utf8).write(to: URL(fileURLWithPath: notSQLite))
        await #expect(throws: StoreError.self) { _ = try await Stores.open(notSQLite) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: notSQLite)) == Data("user\tsong\tplays\n".utf8), "left untouched")
        await #expect(throws: StoreError.self) { _ = try await Stores.open("/nonexistent-folder/x.db") }
        await #expect(throws: StoreError.self) { _ = try await Stores.open("postgres://encore@127.0.0.1:1/none") }
    }
}

enum StoreCLI {
    /// The `encore` binary beside this test bundle, or in .build/release.
    static var binary: String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [exe.deletingLastPathComponent().appendingPathComponent("encore").path, root.appendingPathComponent(".build/release/encore").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }
}

/// An import killed mid-transaction leaves nothing behind (SQLite and PostgreSQL).
@Suite(.serialized) struct KilledImportTests {
    @Test(arguments: StoreKind.allCases)
    func aKilledImportLeavesNothing(_ kind: StoreKind) async throws {
        let dir = NSTemporaryDirectory() + "encore-killed-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = GeneratorConfiguration(users: 20_000, songs: 5_000, plays: 600_000, seed: 3)
        c.writeTriplets = false
        _ = try SyntheticGenerator.generate(c, to: dir, progress: false)
        func importer(_ url: String) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: StoreCLI.binary)
            p.arguments = ["import", dir, "--database", url]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        // A whole import first, to learn how long one takes here; then one killed at 60% of that
        // time, well inside its transaction (parsing is the first third).
        let whole = try importer(try TestStores.fresh(kind))
        let start = Date()
        whole.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        #expect(whole.terminationStatus == 0)
        let url = try TestStores.fresh(kind)
        let p = try importer(url)
        usleep(UInt32(seconds * 0.6 * 1_000_000))
        let wasRunning = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(wasRunning && p.terminationReason == .uncaughtSignal, "the import ended before it could be killed")
        let after = try await Stores.open(url)
        let status = try await after.status()
        #expect(status.events == 0 && status.songs == 0 && status.users == 0, "\(status)")
        try await after.close()
    }
}

/// The per-user packed plays, by hand: two pairs are 16 bytes, little-endian; appended pairs
/// (out of order, repeated) read back sorted and summed; compaction at powers of two from 16 pairs.
/// The feed between a loader and an import: bounded (a sender waits while it is full), in order,
/// the load's error ends the taker, and a stopped import makes the sender's next send throw.
@Test func importFeedOrderBoundAndStop() throws {
    let feed = ImportFeed(capacity: 1)
    let rows = { @Sendable (n: Int32) in AcceptedRows(newUsers: [], newItems: [], users: [n], items: [0], plays: [1], timestamps: nil) }
    let sent = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        for n in 0..<3 { try? feed.send(rows(Int32(n))) }
        sent.signal()
    }
    #expect(sent.wait(timeout: .now() + 0.2) == .timedOut, "three sends into room for one must wait")
    for n in 0..<3 {
        guard case .rows(let r) = try feed.next() else { Issue.record("expected rows"); return }
        #expect(r.users == [Int32(n)])
    }
    #expect(sent.wait(timeout: .now() + 5) == .success)
    feed.fail(TestDatabaseError(description: "the load failed"))
    #expect(throws: TestDatabaseError.self) { _ = try feed.next() }
    let stopped = ImportFeed(capacity: 1)
    try stopped.send(rows(0))
    stopped.stop()
    #expect(throws: ImportFeed.Stopped.self) { try stopped.send(rows(1)) }
}

@Test func packedPlaysEncodeDecodeAndCompact() throws {
    let bytes = try PackedPlays.encode([2, 300], [1.5, 7])
    #expect(bytes.count == 16)
    #expect(Array(bytes[0..<4]) == [2, 0, 0, 0] && Array(bytes[8..<12]) == [44, 1, 0, 0])
    #expect(Array(bytes[4..<8]) == [0, 0, 0xC0, 0x3F])  // 1.5 as a Float32
    let appended = bytes + (try PackedPlays.encode([7, 300, 7], [1, 2, 1]))
    let decoded = try PackedPlays.pairs(appended)
    #expect(decoded.songs == [2, 7, 300] && decoded.plays == [1.5, 2, 9])
    #expect(try PackedPlays.compacted(appended) == (try PackedPlays.encode([2, 7, 300], [1.5, 2, 9])))
    #expect(try PackedPlays.pairs([]).songs.isEmpty)
    #expect(throws: StoreError.self) { try PackedPlays.pairs([1, 2, 3]) }
    #expect(throws: StoreError.self) { try PackedPlays.encode([Int64(UInt32.max) + 1], [1]) }
    let pair = PackedPlays.pairBytes
    #expect(PackedPlays.crossesCompaction(before: 15 * pair, after: 16 * pair))
    #expect(!PackedPlays.crossesCompaction(before: 16 * pair, after: 17 * pair))
    #expect(!PackedPlays.crossesCompaction(before: 6 * pair, after: 8 * pair))  // under 16 pairs
    #expect(PackedPlays.crossesCompaction(before: 30 * pair, after: 33 * pair))
}

/// COPY's text format by hand: escapes, NULL, integers of both signs, doubles, bytea hex.
@Test func copyTextFieldsByHand() {
    func text(_ v: SQLValue) -> String {
        var out = [UInt8](repeating: 0, count: PostgresSession.maxCopyBytes(v))
        let n = out.withUnsafeMutableBufferPointer { PostgresSession.writeCopyField(v, to: $0.baseAddress!) }
        return String(decoding: out[0..<n], as: UTF8.self)
    }
    #expect(text(.null) == "\\N")
    #expect(text(.int(0)) == "0" && text(.int(-120)) == "-120" && text(.int(Int64.max)) == "9223372036854775807")
    #expect(text(.int(Int64.min)) == "-9223372036854775808")
    #expect(text(.double(3)) == "3" && text(.double(0.25)) == "0.25" && text(.double(-.infinity)) == "-Infinity")
    #expect(text(.text("a\tb\nc\\d\re")) == "a\\tb\\nc\\\\d\\re")
    #expect(text(.text("")) == "")
    #expect(text(.blob([0, 171, 255])) == "\\\\x00abff")
}

/// Row ids to positions by hand: dense ids through an array, a far id switching to a dictionary,
/// unknown ids nil either way.
@Test func rowIndexDenseAndSparse() {
    var index = RowIndex()
    for id in [1, 2, 5] as [Int64] { index.append(id) }
    #expect(index[1] == 0 && index[2] == 1 && index[5] == 2 && index[3] == nil && index[0] == nil && index[-1] == nil && index[99] == nil)
    index.append(10_000_000)
    #expect(index[1] == 0 && index[5] == 2 && index[10_000_000] == 3 && index[4] == nil && index.count == 4)
}
