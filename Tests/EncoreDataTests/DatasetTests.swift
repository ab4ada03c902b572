import Foundation
import Testing
@testable import EncoreData
import EncoreMath

/// A small dataset from (user, item, plays) triples, with optional timestamps.
func makeDataset(_ rows: [(String, String, Double)], timestamps: [Int64]? = nil) -> Dataset {
    var users = IDMap(), items = IDMap()
    var b = InteractionBuilder(hasTimestamps: timestamps != nil)
    for (k, (u, i, v)) in rows.enumerated() {
        b.append(user: users.intern(u), item: items.intern(i), plays: v, timestamp: timestamps?[k] ?? 0)
    }
    let (m, dup) = b.build(users: users, items: items)
    var report = LoadReport(format: "test")
    report.duplicatesMerged = dup
    let catalog = Catalog(entries: items.ids.map { CatalogEntry(title: "Song \($0)", artist: "Artist \($0.prefix(1))", year: 2000, tags: ["t\($0.prefix(1))"]) })
    return Dataset(name: "test", interactions: m, catalog: catalog, report: report)
}

@Suite struct SnapshotTests {
    @Test func roundTripKeepsEverything() throws {
        let dir = TempDirectory()
        let d = makeDataset([("u1", "a", 3), ("u1", "b", 1), ("u2", "a", 7), ("u3", "c", 2)], timestamps: [5, 6, 7, 8])
        let p = dir.file("d.snapshot")
        try Snapshot.write(d, to: p)
        #expect(Snapshot.isSnapshot(path: p))
        let r = try Snapshot.read(path: p)
        #expect(r.interactions.users == d.interactions.users)
        #expect(r.interactions.items == d.interactions.items)
        #expect(r.interactions.rowPointers == d.interactions.rowPointers)
        #expect(r.interactions.columnIndices == d.interactions.columnIndices)
        #expect(r.interactions.values == d.interactions.values)
        #expect(r.interactions.timestamps == [5, 6, 7, 8])
        #expect(r.catalog == d.catalog)
        #expect(r.report == d.report)
        #expect(Snapshot.fingerprint(r.interactions) == Snapshot.fingerprint(d.interactions))
    }

    @Test func damagedTruncatedAndWrongVersionAreRefused() throws {
        let dir = TempDirectory()
        let d = makeDataset([("u1", "a", 3), ("u2", "b", 1)])
        let p = dir.file("d.snapshot")
        try Snapshot.write(d, to: p)
        let good = try Data(contentsOf: URL(fileURLWithPath: p))
        var flipped = good
        flipped[good.count / 2] ^= 0xFF
        let damaged = dir.write("damaged.snapshot", bytes: Array(flipped))
        #expect(throws: DataError.self) { try Snapshot.read(path: damaged) }
        let truncated = dir.write("truncated.snapshot", bytes: Array(good.prefix(good.count - 20)))
        #expect(throws: DataError.self) { try Snapshot.read(path: truncated) }
        var version = good
        version[8] = 99
        let wrong = dir.write("version.snapshot", bytes: Array(version))
        do {
            _ = try Snapshot.read(path: wrong)
            Issue.record("expected an error")
        } catch let e as DataError {
            #expect(e.description.contains("format version 99"))
        }
        #expect(throws: DataError.self) { try Snapshot.read(path: dir.file("none.snapshot")) }
    }

    @Test func lastfmSnapshotLoadsFast() throws {
        let dir = TempDirectory()
        let d = try HetRecLastFMLoader.load(directory: SharedData.lastfm, options: strict)
        let p = dir.file("lastfm.snapshot")
        try Snapshot.write(d, to: p)
        let start = MonotonicClock.now()
        let r = try Snapshot.read(path: p)
        let seconds = MonotonicClock.now() - start
        #expect(r.interactions.nnz == 92_834)
        #expect(r.catalog.entries == d.catalog.entries)
        // The contract is "well under a second"; this guards against an accidental O(n²).
        #expect(seconds < 1.0)
    }
}

@Suite struct FilterTests {
    // u1: 100 plays over 3 songs; u2: 90 plays over 2 songs; u3: 10 plays over 3 songs.
    func data() -> Dataset {
        makeDataset([("u1", "a", 50), ("u1", "b", 40), ("u1", "c", 10),
                     ("u2", "a", 80), ("u2", "d", 10),
                     ("u3", "a", 4), ("u3", "b", 3), ("u3", "c", 3)])
    }

    @Test func reportFiltersStepByStep() throws {
        let (f, steps) = try DatasetFilter.apply(.report, to: data())
        // Step 1: plays ≥ 80 removes u3 (3 rows). Step 2: ≥ 3 songs removes u2 (2 rows, song d).
        // Step 3: average plays per listener > 2: a 50, b 40, c 10: all stay.
        #expect(steps.count == 3)
        #expect(steps[0].removedRows == 3 && steps[0].removedUsers == 1 && steps[0].removedSongs == 0)
        #expect(steps[1].removedRows == 2 && steps[1].removedUsers == 1 && steps[1].removedSongs == 1)
        #expect(steps[2].removedRows == 0)
        #expect(f.interactions.users.ids == ["u1"])
        #expect(f.interactions.items.ids == ["a", "b", "c"])
        #expect(f.catalog.count == 3)
        #expect(f.catalog[2].title == "Song c")
    }

    @Test func songFilters() throws {
        var c = FilterConfiguration(minSongListeners: 2)
        var (f, steps) = try DatasetFilter.apply(c, to: data())
        #expect(f.interactions.items.ids == ["a", "b", "c"])  // d has one listener
        #expect(steps[0].removedSongs == 1)
        c = FilterConfiguration(minSongAveragePlays: 20)
        (f, _) = try DatasetFilter.apply(c, to: data())
        // a: 134/3 = 44.7, b: 43/2 = 21.5, c: 13/2 = 6.5, d: 10/1 = 10.
        #expect(f.interactions.items.ids == ["a", "b"])
        c = FilterConfiguration(topSongs: 1)
        (f, _) = try DatasetFilter.apply(c, to: data())
        #expect(f.interactions.items.ids == ["a"])
        #expect(f.interactions.nnz == 3)
    }

    @Test func badOrTotalFiltersAreRefused() {
        #expect(throws: ParameterError.self) { try DatasetFilter.apply(FilterConfiguration(minUserPlays: 1_000), to: data()) }
        #expect(throws: ParameterError.self) { try DatasetFilter.apply(FilterConfiguration(topSongs: 0), to: data()) }
    }

    @Test func transforms() {
        #expect(ValueTransform(argument: "log1p") == .log1p)
        #expect(ValueTransform(argument: "cap:10") == .capped(10))
        #expect(ValueTransform(argument: "cap:-1") == nil)
        #expect(ValueTransform(argument: "sqrt") == nil)
        #expect(abs(ValueTransform.log1p.apply(Float(M_E - 1)) - 1) < 1e-6)
        #expect(ValueTransform.capped(10).apply(50) == 10)
        let m = data().interactions.mapValues(.capped(20))
        #expect(m.values.max() == 20)
    }
}

@Suite struct PopularityScoreTests {
    @Test func handComputedScores() {
        // plays and listeners: a 10/2 (avg 5), b 30/3 (avg 10), c 2/1 (avg 2), d 5/5 (avg 1).
        let p = PopularityScore(totalPlays: [10, 30, 2, 5], averagePlays: [5, 10, 2, 1])
        // raw = 0.6·avg/10 + 0.4·total/30
        let expected = [0.6 * 0.5 + 0.4 * 10 / 30, 0.6 + 0.4, 0.6 * 0.2 + 0.4 * 2 / 30, 0.6 * 0.1 + 0.4 * 5 / 30]
        for (a, b) in zip(p.raw, expected) { #expect(abs(a - b) < 1e-12) }
        // Ranks: d (0.1267) < c (0.1467) < a (0.4333) < b (1.0), so d 0, c 1/3, a 2/3, b 1.
        #expect(p.scores == [2.0 / 3, 1, 1.0 / 3, 0])
    }

    @Test func tiesShareTheAverageRankAndMatrixEntryPoint() {
        #expect(PopularityScore.percentileRank([1, 1, 2]) == [0.25, 0.25, 1])
        #expect(PopularityScore.percentileRank([3]) == [1])
        let d = makeDataset([("u1", "a", 4), ("u2", "a", 2), ("u1", "b", 1)])
        let p = PopularityScore(d.interactions)
        #expect(p.averagePlays == [3, 1])
        #expect(p.totalPlays == [6, 1])
        #expect(p.scores == [1, 0])
    }
}

@Suite struct ExploratoryAnalysisTests {
    @Test func handComputedDataset() throws {
        // u1: a 2, b 4; u2: a 6; u3: a 1, b 1, c 1.
        let d = makeDataset([("u1", "a", 2), ("u1", "b", 4), ("u2", "a", 6), ("u3", "a", 1), ("u3", "b", 1), ("u3", "c", 1)])
        let e = ExploratoryAnalysis(d)
        #expect(e.users == 3 && e.items == 3 && e.interactions == 6 && e.totalPlays == 15)
        #expect(abs(e.sparsity - (1 - 6.0 / 9)) < 1e-12)
        let userPlays = try #require(e.distribution("user_total_plays")).statistics
        #expect(userPlays.mean == 5 && userPlays.min == 3 && userPlays.max == 6 && userPlays.median == 6)
        let userSongs = try #require(e.distribution("user_unique_songs")).statistics
        #expect(userSongs.mean == 2)
        let userAvg = try #require(e.distribution("user_average_plays_per_song")).values
        #expect(userAvg == [3, 6, 1])
        let songAvg = try #require(e.distribution("song_average_plays_per_listener")).values
        #expect(songAvg == [3, 2.5, 1])
        #expect(try #require(e.distribution("song_listeners")).values == [3, 2, 1])
        #expect(try #require(e.distribution("song_total_plays")).values == [9, 5, 1])
        #expect(e.top1PercentShare == 9.0 / 15)
        #expect(e.top10PercentShare == 9.0 / 15)
        #expect(abs(e.giniSongPlays - DescriptiveStatistics.gini([9, 5, 1])) < 1e-12)
        #expect(e.topSongs.map(\.id) == ["a", "b", "c"])
        #expect(e.topSongs[0].listeners == 3)
        // Artists are "Artist a", "Artist b", "Artist c"; tags "ta", "tb", "tc".
        #expect(e.topArtists.first?.name == "Artist a" && e.topArtists.first?.listeners == 3)
        #expect(e.releaseYears == ["2000": 3])
        // Every user has fewer than 5 songs: all are cold-start.
        #expect(e.engagement.counts["cold_start"] == 3)
        let json = String(decoding: try JSONEncoder().encode(e), as: UTF8.self)
        for key in ["\"users\"", "\"items\"", "\"interactions\"", "\"total_plays\"", "\"sparsity\"", "\"user_total_plays\"", "\"song_total_plays\""] {
            #expect(json.contains(key))
        }
    }

    @Test func engagementLevels() {
        #expect(ExploratoryAnalysis.level(songs: 4, plays: 1_000, low: 10, high: 100) == .coldStart)
        #expect(ExploratoryAnalysis.level(songs: 9, plays: 5, low: 10, high: 100) == .low)
        #expect(ExploratoryAnalysis.level(songs: 9, plays: 50, low: 10, high: 100) == .medium)
        #expect(ExploratoryAnalysis.level(songs: 9, plays: 100, low: 10, high: 100) == .high)
    }
}
