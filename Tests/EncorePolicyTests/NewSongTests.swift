import Foundation
import Testing
@testable import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
@testable import EncorePolicy

@Suite struct NewSongTests {
    /// i2 (A, pop) and i5 (D, folk) have no listeners. u2 played c4 (pop) and a0 (A, rock): i2
    /// shares "pop" and the artist with that history, i5 shares nothing.
    @Test func neverPlayedSongsAreRankedByContent() throws {
        let content = try TFIDFRecommender(train: small, catalog: catalogue)
        let p = try NewSongPlaylist(train: small, content: content, clustering: nil)
        #expect(p.songs == [2, 5])
        let list = p.playlist(history: UserHistory(user: 2, of: small), k: 5)
        #expect(list.map(\.item) == [2, 5])
        #expect(list[0].score > 0 && list[1].score == 0)
        #expect(list[0].explanation?.kind == .newSong && list[0].explanation?.sentence.contains("no listeners yet") == true)
    }

    @Test func addedDatesAndListenerCountsBothMakeASongNew() throws {
        let content = try TFIDFRecommender(train: small, catalog: catalogue)
        var rules = NewSongRules()
        rules.fewerListenersThan = 2
        rules.addedWithinDays = 7
        // i1, i3 and i4 have one listener; i0 was added 3 days ago; i2 and i5 none.
        let p = try NewSongPlaylist(train: small, content: content, clustering: nil, rules: rules, addedDays: [3, 100, nil, nil, 400, nil])
        #expect(p.songs == [0, 1, 2, 3, 4, 5])
        rules.fewerListenersThan = 0
        #expect(try NewSongPlaylist(train: small, content: content, clustering: nil, rules: rules, addedDays: [3, 100, nil, nil, 400, nil]).songs == [0])
        rules.contentWeight = -1
        #expect(throws: PolicyError.self) { try NewSongPlaylist(train: small, content: content, clustering: nil, rules: rules) }
    }

    /// On the shared split, 2,282 artists occur only in the test side: new songs with no training
    /// listener. The playlist, built from content (TF-IDF of names and tags) and content-assigned
    /// clusters, must find held-out new artists far more often than a random pick of new songs.
    @Test func thePlaylistFindsHeldOutNewArtistsOnLastFM() throws {
        let d = try SharedLastFM.load()
        let content = try TFIDFRecommender(train: d.train, catalog: d.catalog)
        var c = ClusteringConfiguration()
        c.seed = 42
        let clustering = try ClusteringHybrid(train: d.train.mapValues(.log1p), configuration: c)
        let p = try NewSongPlaylist(train: d.train, content: content, clustering: clustering)
        let new = Set(p.songs)
        #expect(new.count >= 2_000)
        #expect(p.songs.allSatisfy { p.cluster[$0] >= 0 })
        var hits = 0, expected = 0.0, users = 0
        for u in 0..<d.test.userCount where u < d.train.userCount {
            let relevant = Set(d.test.row(u).items.map(Int.init)).intersection(new)
            guard !relevant.isEmpty else { continue }
            users += 1
            let list = p.playlist(history: UserHistory(user: u, of: d.train), k: 20)
            hits += list.filter { relevant.contains($0.item) }.count
            expected += 20 * Double(relevant.count) / Double(new.count)
        }
        #expect(users > 500)
        #expect(Double(hits) >= 3 * expected, "hits \(hits) against \(expected) for a random pick")
    }
}
