import Testing
@testable import EncoreData
import EncoreMath
import EncoreModels
@testable import EncorePolicy

/// Four hand-built listeners, one per segment:
///   u0: i0 (1 play)                      → 1 song: cold start (fewer than 2)
///   u1: i0, i1 (1 play each)             → 2 plays: low engagement (below 5)
///   u2: i0, i1 (10 plays each)           → popular songs only: low discovery
///   u3: i2, i3, i4 (10 plays each)       → regular
/// Listeners per song: i0 3, i1 2, i2–i4 1. Played songs sorted by listeners: i2, i3, i4 (tied at
/// positions 0–2, mid-rank 1), i1 (3), i0 (4); percentile = 100 · position / 4: i2–i4 25, i1 75, i0 100.
@Suite struct SegmentationTests {
    let m = matrix([(0, 0, 1), (1, 0, 1), (1, 1, 1), (2, 0, 10), (2, 1, 10), (3, 2, 10), (3, 3, 10), (3, 4, 10)])

    var fixed: SegmentRules {
        var r = SegmentRules()
        r.coldMaxSongs = 2
        r.lowEngagementPlays = 5
        r.lowDiscoveryPopularity = 80
        return r
    }

    @Test func handBuiltUsersGetOneSegmentEach() throws {
        let s = try Segmenter(m, rules: fixed)
        #expect(s.itemPercentile == [100, 75, 25, 25, 25])
        #expect(s.itemInTop == [true, false, false, false, false])
        #expect(s.segments == [.coldStart, .lowEngagement, .lowDiscovery, .regular])
        #expect(s.userValues[2] == SegmentValues(songs: 2, plays: 20, popularityPercentile: 87.5, topShare: 0.5))
        #expect(s.userValues[3] == SegmentValues(songs: 3, plays: 30, popularityPercentile: 25, topShare: 0))
        #expect(s.sizes == [.coldStart: 1, .lowEngagement: 1, .lowDiscovery: 1, .regular: 1])
        #expect(s.reason(for: s.userValues[2]).contains("87.5"))
    }

    @Test func percentileThresholdsComeFromTheWarmUsers() throws {
        var r = SegmentRules()
        r.coldMaxSongs = 2
        let s = try Segmenter(m, rules: r)
        // Warm users u1–u3: plays 2, 20, 30 → 25th percentile 2 + 0.5 · 18 = 11; means 87.5, 87.5, 25 → 75th percentile 87.5.
        #expect(s.lowEngagementPlays == 11)
        #expect(s.lowDiscoveryPopularity == 87.5)
        #expect(s.segments == [.coldStart, .lowEngagement, .lowDiscovery, .regular])
    }

    @Test func aHistoryIsPlacedByTheTrainingThresholds() throws {
        let s = try Segmenter(m, rules: fixed)
        #expect(s.segment(of: try UserHistory(items: [0, 1, 2], weights: [5, 5, 5], itemCount: 5)) == .regular)   // mean (100+75+25)/3 = 66.7
        #expect(s.segment(of: try UserHistory(items: [0, 1], weights: [50, 50], itemCount: 5)) == .lowDiscovery)
        #expect(s.segment(of: try UserHistory(items: [3], itemCount: 5)) == .coldStart)
    }

    @Test func badRulesAreRefused() {
        var r = SegmentRules()
        r.lowEngagementPercentile = 120
        #expect(throws: PolicyError.self) { try Segmenter(m, rules: r) }
        r = SegmentRules()
        r.coldMaxSongs = -1
        #expect(throws: PolicyError.self) { try Segmenter(m, rules: r) }
    }
}
