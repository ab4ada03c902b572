import Foundation
import Testing
@testable import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
@testable import EncorePolicy

/// The default policy on the shared Last.fm split, per segment, against floors measured when it
/// was tuned (BENCHMARKS.md has the full table) and against its own EASE (the same fitted model)
/// as a single-model list: at least 98% of EASE's NDCG@10 on regular users, better on
/// low-engagement users, and at least 25% more novelty@10 for low-discovery users.
@Suite struct LastFMPolicyTests {
    @Test func theDefaultPolicyMeetsItsFloors() throws {
        let d = try SharedLastFM.load()
        let engine = try PolicyEngine.fit(policy: .tuned, train: d.train, catalog: d.catalog)
        #expect(engine.warnings.isEmpty, "the transformer's weights are missing (make models): \(engine.warnings)")
        let evaluator = try PolicyEvaluator(train: d.train, test: d.test, catalog: d.catalog, segmenter: engine.segmenter)
        let policy = evaluator.evaluate(engine: engine)
        let ease = try #require(engine.models["ease"]?.model)
        let single = evaluator.evaluate(model: ease, fallback: engine.popularity)
        func m(_ r: PolicyEvaluationResult, _ s: Segment) throws -> SegmentMetrics { try #require(r.segments[s.rawValue]) }
        let regular = try m(policy, .regular), low = try m(policy, .lowEngagement), discovery = try m(policy, .lowDiscovery)
        #expect(regular.users == 1_006 && low.users == 469 && discovery.users == 401)
        #expect(regular.ndcgAt10 >= 0.2146, "regular NDCG@10 \(regular.ndcgAt10)")
        #expect(low.ndcgAt10 >= 0.1952, "low-engagement NDCG@10 \(low.ndcgAt10)")
        #expect(discovery.ndcgAt10 >= 0.351 && discovery.noveltyAt10 >= 4.28, "low discovery \(discovery)")
        #expect(regular.ndcgAt10 >= 0.98 * (try m(single, .regular)).ndcgAt10)
        #expect(low.ndcgAt10 > (try m(single, .lowEngagement)).ndcgAt10)
        #expect(discovery.noveltyAt10 >= 1.25 * (try m(single, .lowDiscovery)).noveltyAt10)
        // Every list: 30 unplayed songs, each once, each with a source and a reason.
        for u in stride(from: 0, to: d.train.userCount, by: 97) {
            let r = engine.recommend(engine.listener(user: u), k: 30)
            let played = Set(d.train.row(u).items.map(Int.init))
            #expect(r.items.count == 30 && Set(r.items.map(\.item)).count == 30)
            #expect(r.items.allSatisfy { !played.contains($0.item) && !$0.source.isEmpty && !$0.explanation.sentence.isEmpty })
            #expect(r.segment == engine.segmenter.segments[u])
        }
    }

    /// The report's recipe, served as it is written: its segments' lists come from the sources it names.
    @Test func theReportPolicyServesItsRecipe() throws {
        let d = try SharedLastFM.load()
        var p = Policy.report
        p.models["transformer"] = #"{"fallbackToTFIDF": true, "modelDirectory": "/nonexistent"}"#
        let engine = try PolicyEngine.fit(policy: p, train: d.train, catalog: d.catalog)
        let users = (0..<d.train.userCount).filter { engine.segmenter.segments[$0] == .lowEngagement }.prefix(20)
        for u in users {
            let r = engine.recommend(engine.listener(user: u), k: 30)
            #expect(Dictionary(grouping: r.items, by: \.source).mapValues(\.count) == ["clustering": 12, "content": 12, "popular": 6])
        }
        let onboarding = try engine.recommend(onboarding: Preferences(artists: ["Britney Spears", "Zzyzx Nonexistent Band"], tags: ["pop"]), k: 30)
        #expect(onboarding.unmatched == ["artist: Zzyzx Nonexistent Band"])
        #expect(onboarding.items.count == 30)
        #expect(Set(onboarding.items.map(\.source)).isSubset(of: ["popular", "discovery", "cluster-mates"]))
    }
}
