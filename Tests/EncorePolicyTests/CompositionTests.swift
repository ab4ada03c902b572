import Foundation
import Testing
@testable import EncoreData
import EncoreMath
import EncoreModels
@testable import EncorePolicy

/// Six songs: i0–i2 by artist A, i3 by B, i4 by C, i5 by D; three listeners.
let catalogue = Catalog(entries: [
    CatalogEntry(title: "a0", artist: "A", tags: ["rock"]), CatalogEntry(title: "a1", artist: "A", tags: ["rock"]),
    CatalogEntry(title: "a2", artist: "A", tags: ["pop"]), CatalogEntry(title: "b3", artist: "B", tags: ["jazz"]),
    CatalogEntry(title: "c4", artist: "C", tags: ["pop"]), CatalogEntry(title: "d5", artist: "D", tags: ["folk"]),
])
let small = matrix([(0, 0, 5), (0, 1, 3), (1, 0, 2), (1, 3, 1), (2, 4, 7), (2, 0, 1)], users: 3, items: 6)

func poolsOnly(_ recipe: Recipe = Recipe(mode: .slots, sources: [RecipePart(.popular, slots: 1)])) -> Policy {
    Policy(name: "test", description: "", recipes: Dictionary(uniqueKeysWithValues: Segment.allCases.map { ($0, recipe) }))
}

@Suite struct CompositionTests {
    let engine: PolicyEngine
    // S1 ranks every song 6…1; S2 ranks only i3 (1), i4 (3), i5 (2).
    let s1 = PolicyEngine.SourceScores(scores: [6, 5, 4, 3, 2, 1]) { _ in Explanation(kind: .model, sentence: "s1") }
    let s2 = PolicyEngine.SourceScores(scores: [-.infinity, -.infinity, -.infinity, 1, 3, 2]) { _ in Explanation(kind: .popular, sentence: "s2") }

    init() throws { engine = try PolicyEngine(policy: poolsOnly(), train: small, catalog: catalogue, models: [:]) }

    func recipe(_ a: Int, _ b: Int, cap: Int? = nil, interleave: Recipe.Interleave = .roundRobin) -> Recipe {
        Recipe(mode: .slots, sources: [RecipePart(.model("ease"), slots: a), RecipePart(.popular, slots: b)], maxPerArtist: cap, interleave: interleave)
    }

    /// A list scored from batched queries (what the service does) is the list scored here, for a
    /// training user and for a folded-in history; ALS's reason names songs by title. (A blend of
    /// ALS with sparse sources only goes by norm bounds instead: `prunedBlendIsTheWholeBlend`.)
    @Test func precomputedBatchScoresGiveTheSameList() throws {
        var c = ALSConfiguration()
        c.factors = 2
        let als = try AlternatingLeastSquares(train: small, configuration: c, state: ModelState(arrays: [
            "user_factors": .float([1, 0, 0, 1, 1, 1]), "item_factors": .float([1, 0, 0.9, 0.1, 0.1, 0.9, 0.5, 0.5, 0, 1, 0.8, 0])]))
        let blend = Recipe(mode: .slots, sources: [RecipePart(.model("als"), slots: 3), RecipePart(.popular, slots: 1)])
        let e = try PolicyEngine(policy: poolsOnly(blend), train: small, catalog: catalogue, models: ["als": FittedModel(model: als, transform: .none)])
        #expect(e.prunedPart(blend) == nil)
        let changed = Listener(user: 1, history: try UserHistory(items: [0, 3, 5], weights: [2, 1, 4], itemCount: 6))
        for l in [e.listener(user: 0), e.listener(user: 1), changed] {
            let queries = e.batchQueries(for: l)
            #expect(queries.map(\.source) == [.model("als")])
            let precomputed = Dictionary(uniqueKeysWithValues: queries.map { ($0.source, $0.scorer.scoreAll(queries: [$0.query])[0]) })
            let direct = e.recommend(l, k: 4), batched = e.recommend(l, k: 4, precomputed: precomputed)
            #expect(direct.items.map(\.item) == batched.items.map(\.item) && direct.items.map(\.source) == batched.items.map(\.source))
        }
        #expect(e.batchQueries(for: e.listener(user: 0))[0].query == [1, 0])
        // User 0 played i0 and i1; i5's factors (0.8, 0) point the way of i0's: "because you played “a0 — A” and …".
        let reasons = e.recommend(e.listener(user: 0), k: 4).items.filter { $0.source == "als" }.map(\.explanation.sentence)
        #expect(reasons.first?.hasPrefix("because you played “a0 — A” and “a1 — A”") == true && !reasons.contains { $0.contains("“i0”") }, "\(reasons)")
    }

    /// The blend of ALS (found by norm bounds) with item-KNN and the popular pool is the whole
    /// blend of every song's scores with the same statistics: the same songs in the same order from
    /// the same sources, for training users and a folded-in history; with an artist cap of one
    /// song, which passes over every song found, the whole blend's greedy list. On 400 songs of 6
    /// factors whose norms span three orders of magnitude, most lists score a fraction of them.
    @Test func prunedBlendIsTheWholeBlend() throws {
        var g = SeededGenerator(seed: 11)
        let users = 40, songs = 400, f = 6
        var rows: [(Int, Int, Float)] = []
        for u in 0..<users { for _ in 0..<12 { rows.append((u, Int(g.nextDouble() * g.nextDouble() * Double(songs)), Float(1 + Int(g.nextDouble() * 5)))) } }
        let train = matrix(rows, users: users, items: songs)
        var c = ALSConfiguration()
        c.factors = f
        let itemFactors = (0..<songs).flatMap { i -> [Float] in
            let scale = Float(pow(10, -3 * Double(i) / Double(songs)))  // song 0 largest
            return (0..<f).map { _ in scale * Float(g.nextDouble() - 0.3) }
        }
        let userFactors = (0..<(users * f)).map { _ in Float(g.nextDouble() - 0.3) }
        let als = try AlternatingLeastSquares(train: train, configuration: c, state: ModelState(arrays: [
            "user_factors": .float(userFactors), "item_factors": .float(itemFactors)]))
        let knn = try ItemKNN(train: train)
        let artists = Catalog(entries: (0..<songs).map { CatalogEntry(title: "s\($0)", artist: "a\($0 % 7)", tags: []) })
        for cap in [nil, 1] as [Int?] {
            let blend = Recipe(mode: .blend, sources: [RecipePart(.model("item-knn"), weight: 0.75), RecipePart(.model("als"), weight: 1),
                                                       RecipePart(.popular, weight: 0.5)], maxPerArtist: cap)
            let e = try PolicyEngine(policy: poolsOnly(blend), train: train, catalog: artists,
                                     models: ["als": FittedModel(model: als, transform: .none), "item-knn": FittedModel(model: knn, transform: .none)])
            #expect(e.prunedPart(blend) == 1)
            let changed = Listener(user: 3, history: try UserHistory(items: [2, 50, 399], weights: [2, 1, 4], itemCount: songs))
            for l in (0..<users).map(e.listener(user:)) + [changed] {
                #expect(e.batchQueries(for: l).isEmpty)
                let k = cap == nil ? 10 : 7
                let list = e.recommend(l, k: k).items
                // The whole blend: every song's scores, ALS's statistics in closed form.
                let query = l.history == UserHistory(user: l.user ?? -1, of: train) ? als.query(user: l.user ?? 0) : als.query(history: l.history)
                let m = als.normPanel.moments(query: query)
                let alsZ = Standardisation(sum: m.sum, squares: m.squares, rankable: songs, lowest: Float(m.lowestBound))
                let sourced = [e.scores(of: .model("item-knn"), for: l), e.explainedModelScores("als", try #require(e.models["als"]), als.panel.scores(query: query), for: l),
                               e.scores(of: .popular, for: l)]
                let z = [sourced[0].standardisation, alsZ, sourced[2].standardisation]
                let total = Standardisation.blend(sourced.map(\.scores), z, weights: [0.75, 1, 0.5], count: songs)
                var blocked = l.blocked
                if let u = l.user { blocked.formUnion(train.row(u).items.map(Int.init)) }
                var expected: [Int] = [], perArtist: [Int: Int] = [:]
                for (i, _) in TopScores.select(total, k: songs) where !blocked.contains(i) && expected.count < k {
                    guard perArtist[i % 7, default: 0] < (cap ?? .max) else { continue }
                    perArtist[i % 7, default: 0] += 1
                    expected.append(i)
                }
                #expect(list.map(\.item) == expected, "listener \(l.user ?? -1), cap \(cap ?? 0)")
                #expect(zip(list, expected).allSatisfy { $0.score == Double(total[$1]) })
            }
        }
        // The norm bounds leave most songs unscored for most listeners.
        let scanned = (0..<users).map { u in
            als.normPanel.top(query: als.query(user: u), skip: [UInt64](repeating: 0, count: (songs + 63) / 64), depth: 30).scanned
        }
        #expect(scanned.sorted()[users / 2] < songs / 2, "\(scanned)")
        // The top songs by norm bounds are the top songs of every song's scores, ties to the lower song.
        for u in 0..<users {
            let q = als.query(user: u)
            let top = als.normPanel.top(query: q, skip: [UInt64](repeating: 0, count: (songs + 63) / 64), depth: 30).entries
            let all = TopScores.select(als.scoreAll(user: u), k: 30)
            #expect(top.map(\.index) == all.map(\.index) && top.map(\.score) == all.map(\.score))
            #expect(als.normPanel.scores(of: top.map(\.index), query: q) == top.map(\.score))
        }
    }

    @Test func slotsAreSharedByLargestRemainder() {
        #expect(PolicyEngine.allocate(30, [12, 12, 6]) == [12, 12, 6])
        #expect(PolicyEngine.allocate(10, [12, 12, 6]) == [4, 4, 2])
        #expect(PolicyEngine.allocate(4, [2, 1]) == [3, 1])        // exact 2.67 / 1.33
        #expect(PolicyEngine.allocate(5, [1, 0]) == [5, 0])
        #expect(PolicyEngine.allocate(3, [0, 0]) == [0, 0])
    }

    @Test func roundRobinSkipsBlockedAndDuplicateSongs() {
        // Order S1, S2, S1: S1 skips the blocked i0 → i1; S2 → i4; S1 → i2.
        let l = engine.compose(recipe(2, 1), sourced: [s1, s2], blocked: [0], k: 3)
        #expect(l.map(\.item) == [1, 4, 2])
        #expect(l.map(\.source) == ["ease", "popular", "ease"])
        #expect(l[1].explanation.sentence == "s2")
        // k = 4: slots 3 + 1, order S1, S1, S2, S1.
        #expect(engine.compose(recipe(2, 1), sourced: [s1, s2], blocked: [0], k: 4).map(\.item) == [1, 2, 4, 3])
        // In order: S1's three, then S2's one.
        #expect(engine.compose(recipe(2, 1, interleave: .sequential), sourced: [s1, s2], blocked: [0], k: 4).map(\.item) == [1, 2, 3, 4])
    }

    @Test func theArtistCapHolds() {
        // At most one song by A: S1 takes i1, skips i2 (A) for i3; S2 takes i4; S1 then i5.
        let l = engine.compose(recipe(2, 1, cap: 1), sourced: [s1, s2], blocked: [0], k: 4)
        #expect(l.map(\.item) == [1, 3, 4, 5])
        let artists = l.map { catalogue[$0.item].artist }
        #expect(Set(artists).count == artists.count)
    }

    @Test func anEmptySourceIsBackfilledByTheOthers() {
        // S2 alone has the slots; after its three songs, S1 fills the rest.
        let l = engine.compose(recipe(0, 1), sourced: [s1, s2], blocked: [0], k: 5)
        #expect(l.map(\.item) == [4, 5, 3, 1, 2])
        #expect(l.map(\.source) == ["popular", "popular", "popular", "ease", "ease"])
    }

    @Test func theBlendRanksByWeightedZScores() {
        // S1 z: (v − 3.5) / 1.7078; S2 z over i3–i5: −1.2247, 1.2247, 0, and −1.2247 (its lowest) elsewhere.
        // Totals: i1 −0.347, i2 −0.932, i3 −1.518, i4 0.347, i5 −1.464.
        let blend = Recipe(mode: .blend, sources: [RecipePart(.model("ease"), weight: 1), RecipePart(.popular, weight: 1)])
        let l = engine.compose(blend, sourced: [s1, s2], blocked: [0], k: 5)
        #expect(l.map(\.item) == [4, 1, 2, 5, 3])
        #expect(abs(l[0].score - 0.3469) < 1e-3)
        #expect(l[0].source == "popular" && l[1].source == "ease")
    }

    @Test func aListNeverHoldsAPlayedSong() {
        let l = engine.recommend(engine.listener(user: 0), k: 6)
        #expect(!l.items.contains { $0.item == 0 || $0.item == 1 })
        #expect(Set(l.items.map(\.item)).count == l.items.count)
    }

    @Test func recipesAreValidated() throws {
        #expect(throws: PolicyError.self) { try recipe(0, 0).validate(.regular) }
        let bad = Recipe(mode: .slots, sources: [RecipePart(.popular, weight: 1)])
        #expect(throws: PolicyError.self) { try bad.validate(.regular) }
        #expect(throws: PolicyError.self) { try PolicySource(name: "nonsense") }
        var p = poolsOnly()
        p.recipes[.regular] = nil
        #expect(throws: PolicyError.self) { try p.validate() }
    }

    @Test func policyFilesRoundTripAndBadOnesSayWhere() throws {
        for p in Policy.builtIn {
            try p.validate()
            let back = try Policy.parse(Data(try p.json().utf8), source: "x.json")
            #expect(back == p)
        }
        let text = #"{"name": "x", "recipes": {"regular": {"sources": [{"source": "popular", "slots": 3}]}, "cold_start": {"sources": []}}}"#
        #expect(throws: PolicyError.self) { try Policy.parse(Data(text.utf8), source: "x.json") }
        let unknownSegment = #"{"name": "x", "recipes": {"sleepy": {"sources": [{"source": "popular", "slots": 3}]}}}"#
        do {
            _ = try Policy.parse(Data(unknownSegment.utf8), source: "x.json")
            Issue.record("an unknown segment was accepted")
        } catch let e as PolicyError {
            #expect(e.message.contains("sleepy") && e.message.contains("x.json"))
        }
    }

    @Test func theReportPolicyIsTheReportsRecipe() {
        let r = Policy.report
        #expect(r.recipes[.coldStart]?.sources.map(\.source) == [.popular, .discovery, .clusterMates])
        #expect(r.recipes[.lowEngagement]?.sources.map(\.source) == [.model("clustering"), .content, .popular])
        #expect(r.recipes[.lowDiscovery]?.sources.map(\.source) == [.model("clustering"), .content])
        #expect(PolicyEngine.requiredModels(r) == ["clustering", "svd", "transformer"])
    }
}

@Suite struct OnboardingTests {
    let engine: PolicyEngine
    init() throws {
        let recipe = Recipe(mode: .slots, sources: [RecipePart(.popular, slots: 1), RecipePart(.discovery, slots: 1)])
        engine = try PolicyEngine(policy: poolsOnly(recipe), train: small, catalog: catalogue, models: [:])
    }

    @Test func knownArtistsRestrictThePoolsAndUnknownOnesAreReported() throws {
        let r = try engine.recommend(onboarding: Preferences(artists: ["a", "Nobody"], tags: ["nosuchtag"]), k: 5)
        #expect(r.segment == .coldStart)
        #expect(r.unmatched == ["artist: Nobody", "tag: nosuchtag"])
        // Only A's played songs (i0, i1) qualify, and an artist's songs may be recommended back;
        // the list goes on with the other played songs, said to be beyond the preferences.
        #expect(Set(r.items.prefix(2).map(\.item)) == [0, 1])
        #expect(r.items.prefix(2).allSatisfy { $0.explanation.sentence.contains("within your preferences") })
        #expect(Set(r.items.dropFirst(2).map(\.item)) == [3, 4])
        #expect(r.items.dropFirst(2).allSatisfy { $0.explanation.sentence == "popular (beyond your preferences)" })
    }

    @Test func namedSongsAreSeedsButNeverRecommendedBack() throws {
        let r = try engine.recommend(onboarding: Preferences(tags: ["POP"], songs: ["i4", "no such song"]), k: 5)
        #expect(r.unmatched == ["song: no such song"])
        // Tag pop: i2 (never played) and i4, which was named: the pools run dry, and the list goes on
        // with popular songs beyond the preferences, by popularity score, the named song left out.
        #expect(r.items.count == 3 && Set(r.items.map(\.item)) == [0, 1, 3])
        #expect(r.items.allSatisfy { $0.explanation.sentence == "popular (beyond your preferences)" })
    }

    @Test func emptyOrOversizedAnswersAreRefused() {
        #expect(throws: PolicyError.self) { try engine.onboard(Preferences()) }
        #expect(throws: PolicyError.self) { try engine.onboard(Preferences(artists: (0..<101).map { "x\($0)" })) }
    }
}

@Suite struct StandardisationTests {
    /// Worked by hand: the finite scores 1, 2, 3, 6 have mean 3 and (population) sd √3.5; −∞ and NaN
    /// cannot be ranked and take the z of the lowest score, (1 − 3)/√3.5.
    @Test func zScoresByHand() {
        let z = Standardisation([1, -.infinity, 2, 3, .nan, 6])
        let sd = Float(3.5).squareRoot()
        #expect(z.rankable == 4)
        #expect(abs(z.z(6) - 3 / sd) < 1e-6 && abs(z.z(3)) < 1e-6)
        #expect(abs(z.z(-.infinity) - (-2 / sd)) < 1e-6 && z.z(.nan) == z.floor)
        #expect(Standardisation([-.infinity, -.infinity]) == Standardisation([]))
        #expect(Standardisation([]).z(5) == 0)
    }

    /// The vectorised statistics and blend agree with a plain Double computation on 1,037 songs
    /// (SIMD blocks, a 1,024-song block boundary and a tail), holes included.
    @Test func vectorisedBlendMatchesAPlainComputation() {
        var rng = SeededGenerator(seed: 5)
        let count = 1_037
        let sources: [[Float]] = (0..<3).map { n in
            (0..<count).map { i in (i + n) % 7 == 0 ? -.infinity : Float(rng.nextDouble() * 10 - 2) }
        }
        // The third source ranks nothing the first two do not, and one song no source ranks.
        var third = sources[2]
        for i in 0..<count where third[i].isFinite && sources[0][i].isFinite == false && sources[1][i].isFinite == false { third[i] = -.infinity }
        var s = sources
        s[2] = third
        let weights: [Float] = [1, 0.5, 0]
        let z = s.map { Standardisation($0) }
        let total = Standardisation.blend(s, z, weights: weights, count: count)
        for (n, scores) in s.enumerated() {
            let finite = scores.filter(\.isFinite).map { Double($0) }
            let mean = finite.reduce(0, +) / Double(finite.count)
            let sd = (finite.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(finite.count)).squareRoot()
            #expect(z[n].rankable == finite.count)
            for i in stride(from: 0, to: count, by: 97) where scores[i].isFinite {
                #expect(abs(Double(z[n].z(scores[i])) - (Double(scores[i]) - mean) / sd) < 1e-4)
            }
        }
        for i in 0..<count {
            let rankable = s[0][i].isFinite || s[1][i].isFinite
            if !rankable { #expect(total[i] == -.infinity); continue }
            let expected = Double(z[0].z(s[0][i])) + 0.5 * Double(z[1].z(s[1][i]))
            #expect(abs(Double(total[i]) - expected) < 1e-4, "song \(i)")
        }
    }
}
