import EncoreMath
import Foundation
import Testing
@testable import EncoreData

@Suite struct GeneratorTests {
    func generate(seed: UInt64, users: Int = 3_000, songs: Int = 2_000, plays: Int = 60_000) throws -> (TempDirectory, GeneratorSummary) {
        let dir = TempDirectory()
        let s = try SyntheticGenerator.generate(GeneratorConfiguration(users: users, songs: songs, plays: plays, seed: seed), to: dir.path, progress: false)
        return (dir, s)
    }

    @Test func sameSeedSameFilesOtherSeedOtherFiles() throws {
        let (a, sa) = try generate(seed: 5, users: 300, songs: 200, plays: 4_000)
        let (b, _) = try generate(seed: 5, users: 300, songs: 200, plays: 4_000)
        let (c, _) = try generate(seed: 6, users: 300, songs: 200, plays: 4_000)
        for f in ["count_data.csv", "song_data.csv", "train_triplets.txt"] {
            let da = try Data(contentsOf: URL(fileURLWithPath: a.file(f)))
            #expect(da == (try Data(contentsOf: URL(fileURLWithPath: b.file(f)))))
            #expect(da != (try Data(contentsOf: URL(fileURLWithPath: c.file(f)))))
        }
        #expect(sa.rows == 4_000)
    }

    @Test func statisticalShapeIsMSDLike() throws {
        let (dir, summary) = try generate(seed: 42)
        #expect(summary.rows == 60_000)
        let d = try DatasetImporter.load(path: dir.file("count_data.csv"), options: strict)
        let t = try DatasetImporter.load(path: dir.file("train_triplets.txt"), options: strict)
        let m = d.interactions
        // Both formats hold the same rows, with no duplicate pairs.
        #expect(m.nnz == 60_000 && t.interactions.nnz == 60_000)
        #expect(d.report.duplicatesMerged == 0)
        #expect(m.userCount == 3_000)
        #expect(Snapshot.fingerprint(m) == Snapshot.fingerprint(t.interactions))
        let e = ExploratoryAnalysis(d)
        // Power-law popularity: concentrated song plays; power-law activity: a long user tail.
        #expect(e.giniSongPlays > 0.5)
        #expect(e.top10PercentShare > 0.35)
        let songs = try #require(e.distribution("user_unique_songs")).statistics
        #expect(songs.max > 8 * songs.median)
        let plays = try #require(e.distribution("song_total_plays")).statistics
        #expect(plays.max > 20 * plays.median)
        // Catalogue: artists with several songs, years with some unknown, quoted titles survive.
        #expect(d.report.itemsWithoutMetadata == 0)
        let artists = Dictionary(grouping: d.catalog.entries, by: \.artist)
        #expect(artists.values.contains { $0.count >= 5 })
        #expect(e.unknownYears > 0 && !e.releaseYears.isEmpty)
        #expect(d.catalog.entries.contains { $0.title.contains(",") })
        #expect(d.catalog.entries.contains { $0.title.contains("\"") })
        #expect(d.catalog.entries.allSatisfy { $0.tags.count == 1 && SyntheticGenerator.genres.contains($0.tags[0]) })
    }

    @Test func tasteCommunitiesGiveCollaborativeSignal() throws {
        let (dir, _) = try generate(seed: 7)
        let d = try DatasetImporter.load(path: dir.file("count_data.csv"), options: strict)
        let m = d.interactions
        // Share of each active user's songs in their most played genre, against 1/16 by chance.
        var shares: [Double] = []
        for u in 0..<m.userCount where m.rowRange(u).count >= 10 {
            var byGenre: [String: Int] = [:]
            for k in m.rowRange(u) { byGenre[d.catalog[Int(m.columnIndices[k])].tags[0], default: 0] += 1 }
            shares.append(Double(byGenre.values.max()!) / Double(m.rowRange(u).count))
        }
        #expect(shares.count > 100)
        #expect(shares.reduce(0, +) / Double(shares.count) > 0.5)
    }

    @Test func badArgumentsAreRefused() {
        let dir = TempDirectory()
        #expect(throws: ParameterError.self) { try SyntheticGenerator.generate(GeneratorConfiguration(users: 0, songs: 1, plays: 1, seed: 1), to: dir.path, progress: false) }
        #expect(throws: ParameterError.self) { try SyntheticGenerator.generate(GeneratorConfiguration(users: 10, songs: 10, plays: 5, seed: 1), to: dir.path, progress: false) }
        #expect(throws: ParameterError.self) { try SyntheticGenerator.generate(GeneratorConfiguration(users: 2, songs: 4, plays: 100, seed: 1), to: dir.path, progress: false) }
    }

    @Test func idsAreUniqueAndShaped() {
        var a = [UInt8](repeating: 0, count: 40), b = a
        Words.userID(seed: 1, index: 0, into: &a)
        Words.userID(seed: 1, index: 1, into: &b)
        #expect(a != b)
        #expect(a.allSatisfy { Words.hex.contains($0) })
        var songs = [UInt8](repeating: 0, count: 18 * 3)
        for i in 0..<3 { Words.songID(seed: 1, index: i, into: &songs, at: i * 18) }
        let ids = (0..<3).map { String(decoding: songs[($0 * 18)..<($0 * 18 + 18)], as: UTF8.self) }
        #expect(Set(ids).count == 3)
        #expect(ids.allSatisfy { $0.hasPrefix("SO") && $0.count == 18 })
    }
}
