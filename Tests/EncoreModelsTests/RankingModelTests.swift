import Foundation
import Testing
@testable import EncoreData
@testable import EncoreModels

/// Songs 0…59 with popularity falling with the index; every user played a few; user 0 played 0 and 1.
func popularityFixture() -> (InteractionMatrix, Catalog) {
    var rows: [(Int, Int, Float)] = []
    for i in 0..<60 {
        let listeners = max(1, 60 - i)
        for u in 0..<listeners { rows.append((u, i, Float(1 + (i * 7 + u) % 11))) }
    }
    let m = matrix(rows, users: 60, items: 60)
    let catalog = Catalog(entries: (0..<60).map { CatalogEntry(title: "S\($0)", artist: $0 % 3 == 0 ? "Alpha" : "Beta", tags: [$0 % 2 == 0 ? "rock" : "jazz"]) })
    return (m, catalog)
}

@Suite struct PopularityRankerTests {
    @Test func tenPopularAndTwentyDiscoveryWithReasons() throws {
        let (m, _) = popularityFixture()
        let ranker = try PopularityRanker(train: m, configuration: .report)
        let list = ranker.rankedList(user: 59)  // user 59 played only song 0
        #expect(list.count == 30)
        let popular = list.prefix(10), discovery = list.dropFirst(10)
        #expect(popular.allSatisfy { $0.reason == "popular by the report's score" })
        #expect(discovery.allSatisfy { $0.reason?.hasPrefix("discovery: ") == true && $0.reason?.hasSuffix("th percentile") == true })
        // Popular picks come from the 20 highest Song Popularity Scores.
        let top20 = Set((0..<60).sorted { ranker.score[$0] > ranker.score[$1] }.prefix(20))
        #expect(popular.allSatisfy { top20.contains($0.item) })
        // Played songs are excluded; no song twice.
        #expect(!list.contains { $0.item == 0 })
        #expect(Set(list.map(\.item)).count == 30)
        // At most 2 per bucket, buckets from 85–90 downward.
        let byBucket = Dictionary(grouping: discovery, by: { $0.reason! })
        #expect(byBucket.values.allSatisfy { $0.count <= 2 })
        // Buckets are visited from the most popular down: bucket lower bounds never increase.
        let lows = discovery.compactMap { r -> Int? in
            guard let reason = r.reason, let range = reason.split(separator: " ").dropFirst().first else { return nil }
            return Int(range.split(separator: "–").first ?? "")
        }
        #expect(lows.count == 20)
        #expect(zip(lows, lows.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(lows.first! >= 80)
        // Inside a bucket, more plays per listener first.
        for group in byBucket.values where group.count == 2 {
            #expect(ranker.averagePlays[group[0].item] >= ranker.averagePlays[group[1].item])
        }
    }

    /// The popular pool's listener floor by hand: listener counts 5, 1, 1, 3 (and an unplayed
    /// song) make 10 listening pairs; the median pair belongs to a 3-listener song.
    @Test func theListenerFloorKeepsOneListenerSongsOutOfThePopularPool() throws {
        #expect(PopularityRanker.minimumListeners([5, 1, 1, 3, 0], percentile: 50) == 3)
        #expect(PopularityRanker.minimumListeners([5, 1, 1, 3, 0], percentile: 0) == 0)
        #expect(PopularityRanker.minimumListeners([5, 1, 1, 3, 0], percentile: 100) == 5)
        // Song 0: one listener with 1,000 plays, the report's most popular; songs 1–3 have 3–5
        // listeners with a few plays each.
        var rows: [(Int, Int, Float)] = [(0, 0, 1000)]
        for (song, listeners) in [(1, 5), (2, 4), (3, 3)] { for u in 0..<listeners { rows.append((u + 1, song, 2)) } }
        let m = matrix(rows, users: 6, items: 4)
        var c = PopularityRankerConfiguration()
        c.popularCount = 1
        c.popularPool = 1
        c.discoveryCount = 0
        let floored = try PopularityRanker(train: m, configuration: c)
        c.popularMinListenerPercentile = 0
        let report = try PopularityRanker(train: m, configuration: c)
        #expect(report.rankedList(user: nil).map(\.item) == [0], "the report's score puts the one-listener song first")
        #expect(floored.rankedList(user: nil).first?.item != 0, "the floor keeps it out of the popular pool")
        var bad = PopularityRankerConfiguration()
        bad.popularMinListenerPercentile = 101
        #expect(throws: ModelError.self) { try PopularityRanker(train: m, configuration: bad) }
    }

    @Test func mixIsConfigurableAndRestrictable() throws {
        let (m, catalog) = popularityFixture()
        var c = PopularityRankerConfiguration()
        c.popularCount = 3
        c.discoveryCount = 4
        c.perBucket = 1
        let small = try PopularityRanker(train: m, configuration: c)
        #expect(small.rankedList(user: nil).count == 7)
        c.artists = ["alpha"]
        #expect(throws: ModelError.self) { try PopularityRanker(train: m, configuration: c) }
        let alpha = try PopularityRanker(train: m, configuration: c, catalog: catalog)
        #expect(alpha.rankedList(user: nil).allSatisfy { catalog[$0.item].artist == "Alpha" })
        c.artists = []
        c.tags = ["jazz"]
        let jazz = try PopularityRanker(train: m, configuration: c, catalog: catalog)
        #expect(jazz.rankedList(user: nil).allSatisfy { catalog[$0.item].tags == ["jazz"] })
        c.perBucket = 0
        #expect(throws: ModelError.self) { try PopularityRanker(train: m, configuration: c, catalog: catalog) }
    }
}

@Suite struct FactorModelTests {
    @Test func alsImprovesItsObjectiveAndIsDeterministic() throws {
        let (train, _) = try SharedSplit.load(transform: .none)
        var c = ALSConfiguration()
        c.iterations = 6
        c.trackLoss = true
        let a = try AlternatingLeastSquares(train: train, configuration: c)
        #expect(a.lossHistory.count == 6)
        #expect(a.lossHistory.last! < a.lossHistory.first!)
        for (x, y) in zip(a.lossHistory.dropFirst(), a.lossHistory.dropFirst(2)) { #expect(y <= x * 1.001) }
        let b = try AlternatingLeastSquares(train: train, configuration: c)
        #expect(a.userFactors == b.userFactors && a.itemFactors == b.itemFactors)
    }

    @Test func recalculateUserMatchesTrainingFactors() throws {
        let (train, _) = try SharedSplit.load(transform: .none)
        var c = ALSConfiguration()
        c.iterations = 15
        c.cgSteps = 10
        let als = try AlternatingLeastSquares(train: train, configuration: c)
        let f = c.factors
        var worst = 1.0
        for u in stride(from: 0, to: train.userCount, by: 97) {
            let history = train.rowRange(u).map { (item: Int(train.columnIndices[$0]), plays: train.values[$0]) }
            let x = als.recalculateUser(history: history)
            let t = Array(als.userFactors[(u * f)..<((u + 1) * f)])
            let dot = zip(x, t).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            let nx = x.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot(), nt = t.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
            worst = min(worst, dot / (nx * nt))
        }
        #expect(worst > 0.98, "cosine between folded-in and trained factors: \(worst)")
        #expect(als.recalculateUser(history: []).allSatisfy { $0 == 0 })
    }

    @Test func bprLearnsToRankAndIsDeterministic() throws {
        let (train, _) = try SharedSplit.load(transform: .none)
        var c = BPRConfiguration()
        c.epochs = 8
        let a = try BayesianPersonalizedRanking(train: train, configuration: c)
        #expect(a.accuracyHistory.last! > a.accuracyHistory.first!)
        #expect(a.accuracyHistory.last! > 0.5)
        let b = try BayesianPersonalizedRanking(train: train, configuration: c)
        #expect(a.itemFactors == b.itemFactors)
        #expect(throws: ModelError.self) { try ConfigurationOverrides.apply(#"{"negative_sampling": "sideways"}"#, to: c, model: "bpr") }
    }
}

@Suite struct EASETests {
    /// B from a direct Gauss–Jordan inverse in Double.
    func directB(_ m: InteractionMatrix, lambda: Double) -> [[Double]] {
        let n = m.itemCount
        var g = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for u in 0..<m.userCount { for a in m.rowRange(u) { for b in m.rowRange(u) { g[Int(m.columnIndices[a])][Int(m.columnIndices[b])] += 1 } } }
        for i in 0..<n { g[i][i] += lambda }
        var inv = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for col in 0..<n {
            let pivot = g[col][col]
            for j in 0..<n { g[col][j] /= pivot; inv[col][j] /= pivot }
            for r in 0..<n where r != col {
                let factor = g[r][col]
                for j in 0..<n { g[r][j] -= factor * g[col][j]; inv[r][j] -= factor * inv[col][j] }
            }
        }
        return (0..<n).map { i in (0..<n).map { j in i == j ? 0 : -inv[i][j] / inv[j][j] } }
    }

    @Test(arguments: [EASEConfiguration.Form.primal, .dual])
    func matchesTheDirectInverse(_ form: EASEConfiguration.Form) throws {
        let m = matrix([(0, 0, 3), (0, 1, 1), (1, 1, 2), (1, 2, 5), (2, 0, 1), (2, 2, 1), (2, 3, 4), (3, 3, 2), (3, 1, 1), (4, 0, 2), (4, 3, 1)])
        let b = directB(m, lambda: 2)
        var c = EASEConfiguration()
        c.lambda = 2
        c.form = form
        let ease = try EASE(train: m, configuration: c)
        #expect(ease.form == form)
        for u in 0..<m.userCount {
            let s = ease.scoreAll(user: u)
            for j in 0..<m.itemCount {
                let expected = m.rowRange(u).reduce(0.0) { $0 + b[Int(m.columnIndices[$1])][j] }
                #expect(abs(Double(s[j]) - expected) < 1e-4, "user \(u) item \(j): \(s[j]) vs \(expected)")
            }
        }
        // The dual form saves K (users²) and recomputes K X when loaded: the same scores.
        let state = ease.state()
        #expect(form == .dual ? state.arrays.keys.sorted() == ["active_items", "k_inverse"] : state.arrays["weights"] != nil)
        let loaded = try EASE(train: m, configuration: c, state: state)
        #expect(loaded.form == form)
        for u in 0..<m.userCount { #expect(loaded.scoreAll(user: u) == ease.scoreAll(user: u)) }
    }

    @Test func refusesWhatDoesNotFit() throws {
        var c = EASEConfiguration()
        c.maxDimension = 2
        #expect(throws: ModelError.self) { try EASE(train: handMatrix, configuration: c) }
        c.maxDimension = 100
        c.lambda = 0
        #expect(throws: ModelError.self) { try EASE(train: handMatrix, configuration: c) }
    }
}

@Suite struct RankingModelBasicsTests {
    @Test func itemKNNCosineByHand() throws {
        // Binary cosine of items 0 and 3 in handMatrix: raters {u0, u1, u3} and {u0, u1}: 2 / √(3·2).
        let knn = try ItemKNN(train: handMatrix)
        #expect(abs(knn.neighbours.similarity(0, 3) - 2 / 6.0.squareRoot()) < 1e-6)
        // u2 played i1, i2, i4: the score of i0 is Σ sim(i, i0) over them.
        let s = knn.scoreAll(user: 2)
        let expected = [1, 2, 4].reduce(0.0) { $0 + knn.neighbours.similarity($1, 0) }
        #expect(abs(Double(s[0]) - expected) < 1e-6)
        for w in [ItemKNNConfiguration.Weighting.bm25, .tfidf] {
            var c = ItemKNNConfiguration()
            c.weighting = w
            #expect(try ItemKNN(train: handMatrix, configuration: c).recommend(user: 0, k: 2).count == 2)
        }
    }

    @Test func recommendExcludesPlayedAndHandlesBadK() throws {
        let mp = MostPopular(train: handMatrix)
        let list = mp.recommend(user: 0, k: 10)
        #expect(Set(list.map(\.item)).isDisjoint(with: [0, 1, 3]))
        #expect(list.map(\.item) == [4, 2])  // i4 and i2 have 3 and 2 listeners
        #expect(mp.recommend(user: 0, k: 0).isEmpty)
        #expect(mp.recommend(user: 99, k: 3).isEmpty)
        #expect(throws: ModelError.self) { try ModelRegistry.entry(named: "als").fit(matrix([], users: 3, items: 3)) }
    }
}

@Suite struct BlendTests {
    @Test func standardisedWeightedSum() throws {
        var c = BlendConfiguration()
        c.components = [BlendComponent(model: "most-popular", weight: 2)]
        let blend = try ScoreBlend(train: handMatrix, configuration: c)
        // One component: the blend is its z-score times the weight, so the order is the same.
        let mp = MostPopular(train: handMatrix)
        #expect(blend.recommend(user: 0, k: 2).map(\.item) == mp.recommend(user: 0, k: 2).map(\.item))
        let pop = mp.scoreAll(user: 0).map(Double.init)
        let mean = pop.reduce(0, +) / 5
        let sd = (pop.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5).squareRoot()
        #expect(abs(Double(blend.scoreAll(user: 0)[4]) - 2 * (pop[4] - mean) / sd) < 1e-5)
        c.components = []
        #expect(throws: ModelError.self) { try ScoreBlend(train: handMatrix, configuration: c) }
        c.components = [BlendComponent(model: "blend", weight: 1)]
        #expect(throws: ModelError.self) { try ScoreBlend(train: handMatrix, configuration: c) }
        c.components = [BlendComponent(model: "als", weight: 1, configuration: #"{"factorz": 3}"#)]
        #expect(throws: ModelError.self) { try ScoreBlend(train: handMatrix, configuration: c) }
    }
}

@Suite struct ClusteringHybridTests {
    /// Users 0–1 like songs 0–1, users 2–3 like songs 2–3; user 4 only played song 4.
    func model() throws -> ClusteringHybrid {
        let m = matrix([(0, 0, 4), (0, 1, 2), (1, 0, 6), (1, 1, 4), (2, 2, 3), (2, 3, 5), (3, 2, 1), (3, 3, 3), (4, 4, 2)], users: 6, items: 6)
        // Labels fixed by hand: user clusters {0, 1}, {2, 3, 4}; song clusters {0, 1}, {2, 3, 4}.
        var c = ClusteringConfiguration()
        c.userClusters = 2
        c.itemClusters = 2
        return try ClusteringHybrid(train: m, configuration: c, userLabels: [0, 0, 1, 1, 1, -1], itemLabels: [0, 0, 1, 1, 1, -1])
    }

    @Test func meanOfTheTwoClusterEstimates() throws {
        let h = try model()
        // (u0, i1): cluster 0's listeners of song 1: (2 + 4)/2 = 3; u0 over song cluster 0: (4 + 2)/2 = 3 → 3.
        #expect(abs(h.predict(user: 0, item: 1).value - 3) < 1e-6)
        // (u2, i4): cluster 1's listeners of song 4: u4's 2; u2 over song cluster 1: (3 + 5)/2 = 4 → 3.
        #expect(abs(h.predict(user: 2, item: 4).value - 3) < 1e-6)
    }

    @Test func fallbacks() throws {
        let h = try model()
        // (u0, i2): cluster 0 never played song 2 and u0 never played song cluster 1: the user's mean 3.
        let p = h.predict(user: 0, item: 2)
        #expect(!p.impossible && abs(p.value - 3) < 1e-6 && p.reason?.contains("user's mean") == true)
        // (u4, i0): cluster 1 never played song 0, but u4 played song cluster … 1 only: user mean 2.
        #expect(abs(h.predict(user: 4, item: 0).value - 2) < 1e-6)
        // Unknown user: the song's mean; unknown user and song: the global mean, impossible.
        #expect(abs(h.predict(user: 5, item: 0).value - 5) < 1e-6)
        #expect(h.predict(user: 5, item: 5).impossible)
        #expect(h.moreFromCluster(user: 2, k: 3).map(\.item) == [4])
    }

    @Test func fitsOnRealDataAndRefusesTooManyClusters() throws {
        let (train, _) = try SharedSplit.load()
        var c = ClusteringConfiguration()
        c.dimensions = 16
        let h = try ClusteringHybrid(train: train, configuration: c)
        #expect(Set(h.userLabels.filter { $0 >= 0 }).count == 8)
        c.userClusters = 5_000
        #expect(throws: ModelError.self) { try ClusteringHybrid(train: train, configuration: c) }
        c.userClusters = 0
        #expect(throws: ModelError.self) { try ClusteringHybrid(train: train, configuration: c) }
    }
}

@Suite struct ContentModelTests {
    let lastfm = try! HetRecLastFMLoader.load(directory: URL(fileURLWithPath: SharedSplit.directory).deletingLastPathComponent().path,
                                             options: LoadOptions(lenient: false, progress: false))

    @Test func artistsSharingTagsAreNearestByTFIDF() throws {
        let model = try TFIDFRecommender(train: lastfm.interactions, catalog: lastfm.catalog)
        let m = lastfm.interactions
        let metallica = try #require(m.items.index(of: "707"))
        #expect(lastfm.catalog[metallica].title == "Metallica")
        let top = model.similarItems(to: metallica, k: 10)
        #expect(top.count == 10)
        let tags = Set(lastfm.catalog[metallica].tags)
        // Most of the ten neighbours share at least three of Metallica's five top tags.
        let sharing = top.filter { Set(lastfm.catalog[$0.item].tags).intersection(tags).count >= 3 }
        #expect(sharing.count >= 7, "\(top.map { lastfm.catalog[$0.item].title })")
        #expect(top.allSatisfy { $0.reason?.isEmpty == false })
    }

    /// Batched cosines (one sgemm) equal one sgemv per profile, worked by hand on 3 songs in 2-d.
    @Test func batchedCosinesEqualOneProfileAtATime() throws {
        let m = matrix([(0, 0, 1), (0, 1, 2), (1, 2, 1)])
        let s = (0.5 as Float).squareRoot()
        let model = try TransformerRecommender(train: m, configuration: TransformerConfiguration(),
                                               state: ModelState(arrays: ["embeddings": .float([1, 0, 0, 1, s, s])]))
        #expect(model.embedsSongs && model.dimension == 2)
        let profiles: [[Float]] = [[1, 0], [0, 1], [s, -s]]
        let batched = model.cosines(profiles: profiles)
        #expect(batched.count == 3)
        let expected: [[Float]] = [[1, 0, s], [0, 1, s], [s, -s, 0]]
        for (b, e) in zip(batched, expected) { #expect(zip(b, e).allSatisfy { abs($0 - $1) < 1e-6 }, "\(b)") }
        // One profile alone goes through the sgemv path, with the same values.
        for (p, b) in zip(profiles, batched) { #expect(zip(model.cosines(profiles: [p])[0], b).allSatisfy { abs($0 - $1) < 1e-6 }) }
        // A user's profile: the play-weighted mean of songs 0 and 1, normalised: (1, 2)/√5.
        let u0 = model.scoreAll(user: 0)
        let viaBatch = model.cosines(profiles: [model.profile(UserHistory(user: 0, of: m)), [1, 0]])[0]
        #expect(zip(u0, viaBatch).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(abs(u0[2] - (1 * s + 2 * s) / Float(5).squareRoot()) < 1e-6)
    }

    /// ALS and BPR score queries in batches as they score one user: worked by hand on rank-2 factors.
    @Test func factorModelsScoreQueriesInBatches() throws {
        let m = matrix([(0, 0, 1), (0, 1, 2), (1, 2, 1)])
        var c = ALSConfiguration()
        c.factors = 2
        // Items (1, 0), (0, 1), (1, 1); users (2, 1) and (0, 3): scores (2, 1, 3) and (0, 3, 3).
        let als = try AlternatingLeastSquares(train: m, configuration: c, state: ModelState(arrays: [
            "user_factors": .float([2, 1, 0, 3]), "item_factors": .float([1, 0, 0, 1, 1, 1])]))
        #expect(als.query(user: 1) == [0, 3] && als.query(user: 5) == [0, 0])
        let both = als.scoreAll(queries: [als.query(user: 0), als.query(user: 1), [1]])
        #expect(both[0] == [2, 1, 3] && both[1] == [0, 3, 3] && both[2] == [0, 0, 0])
        #expect(both[0] == als.scoreAll(user: 0) && both[1] == als.scoreAll(user: 1))
        let h = try UserHistory(items: [2], weights: [4], itemCount: 3)
        #expect(zip(als.scoreAll(queries: [als.query(history: h)])[0], als.scoreAll(history: h)).allSatisfy { abs($0 - $1) < 1e-5 })
        // BPR: a bias column after the factors; the user's last entry is 1 (the item bias's weight).
        var b = BPRConfiguration()
        b.factors = 1
        let bpr = try BayesianPersonalizedRanking(train: m, configuration: b, state: ModelState(arrays: [
            "user_factors": .float([2, 1, -1, 1]), "item_factors": .float([1, 0.5, 0, 0.25, 3, 0])]))
        #expect(bpr.scoreAll(queries: [bpr.query(user: 0), bpr.query(user: 1)]) == [[2.5, 0.25, 6], [-0.5, 0.25, -3]])
        #expect(bpr.scoreAll(queries: [bpr.query(user: 0)])[0] == bpr.scoreAll(user: 0))
        #expect(zip(bpr.scoreAll(queries: [bpr.query(history: h)])[0], bpr.scoreAll(history: h)).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func contentModelsNeedACatalogueAndFallBackWithoutWeights() throws {
        #expect(throws: ModelError.self) { try TFIDFRecommender(train: lastfm.interactions, catalog: nil) }
        var c = TransformerConfiguration()
        c.modelDirectory = "/nonexistent/model"
        let fallback = try TransformerRecommender(train: lastfm.interactions, configuration: c, catalog: lastfm.catalog)
        #expect(fallback.fallback != nil)
        #expect(fallback.recommend(user: 0, k: 5).count == 5)
        c.fallbackToTFIDF = false
        #expect(throws: ModelError.self) { try TransformerRecommender(train: lastfm.interactions, configuration: c, catalog: lastfm.catalog) }
    }
}

@Suite struct ReasonTests {
    /// EASE on the hand matrix: a played song's share of a recommendation is x_j · B[j, i], and the
    /// reason names the two largest, by id in curly quotes; `naming` puts titles in their place.
    @Test func easeAndItemKNNNameThePlayedSongsBehindEachSong() throws {
        let ease = try EASE(train: handMatrix, configuration: { var c = EASEConfiguration(); c.lambda = 1; c.form = .primal; c.binarize = false; return c }())
        #expect(ease.form == .primal)
        let n = ease.activeItems.count
        for (j, i) in [(0, 2), (1, 4), (3, 2)] {
            let expected = 2 * ease.weights[Int(ease.activeOf[j]) * n + Int(ease.activeOf[i])]
            #expect(abs(ease.contribution(of: j, weight: 2, to: i) - expected) < 1e-6)
        }
        // u0 played i0, i1, i3; its list is i2 and i4, each with the played songs behind it.
        let list = ease.recommend(user: 0, k: 2)
        #expect(list.count == 2)
        for item in list {
            let e = try #require(item.explanation)
            #expect(e.kind == .becauseYouPlayed && !e.songs.isEmpty && e.songs.count <= 2)
            #expect(Set(e.songs).isSubset(of: [0, 1, 3]))
            // The songs named are the largest positive contributions, in order.
            let played = zip(handMatrix.row(0).items.map(Int.init), handMatrix.row(0).values)
            let shares = played.map { (j: $0.0, c: ease.contribution(of: $0.0, weight: $0.1, to: item.item)) }.filter { $0.c > 0 }.sorted { $0.c > $1.c }
            #expect(e.songs == shares.prefix(2).map(\.j))
            #expect(e.sentence.hasPrefix("because you played “i"))
            let named = e.naming(ids: handMatrix.items) { "Song \($0)" }
            #expect(named.sentence.contains("“Song \(e.songs[0])”") && !named.sentence.contains("“i"))
        }
        // Item-KNN: x_j · sim(j, i) from the neighbour rows.
        let knn = try ItemKNN(train: handMatrix)
        for j in 0..<5 {
            for r in knn.neighbours.rowPointers[j]..<knn.neighbours.rowPointers[j + 1] {
                let i = Int(knn.neighbours.columns[r])
                #expect(abs(knn.contribution(of: j, weight: 3, to: i) - (knn.configuration.binarize ? 1 : 3) * knn.neighbours.values[r]) < 1e-6)
            }
        }
        #expect(knn.recommend(user: 2, k: 2).allSatisfy { $0.explanation?.kind == .becauseYouPlayed })
    }

    /// ALS: the cosine of the item factors, worked from the trained factors.
    @Test func factorModelsUseTheCosineOfItemFactors() throws {
        var c = ALSConfiguration()
        c.factors = 3
        c.iterations = 3
        let als = try AlternatingLeastSquares(train: handMatrix, configuration: c)
        let f = 3
        let a = Array(als.itemFactors[0..<f]), b = Array(als.itemFactors[(2 * f)..<(3 * f)])
        let dot = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let norms = (a.reduce(Float(0)) { $0 + $1 * $1 } * b.reduce(Float(0)) { $0 + $1 * $1 }).squareRoot()
        #expect(abs(als.contribution(of: 0, weight: 5, to: 2) - dot / norms) < 1e-5)
        #expect(als.recommend(user: 0, k: 2).allSatisfy { $0.explanation == nil || $0.explanation?.kind == .becauseYouPlayed })
    }
}

@Suite struct PopularityAroundArtistsTests {
    /// Named artists: their own songs first, then the songs sharing their tags; a name that matches
    /// nothing is a warning and leaves the configuration; nothing matching at all is an error.
    @Test func artistsOwnSongsFirstThenTheirTagNeighbours() throws {
        let (m, _) = popularityFixture()
        // Alpha sings songs 0, 15, 30 and 45, tagged "alpha-sound", which every fifth song of the
        // others shares; the rest are "other". Four own songs cannot fill seven places.
        let catalog = Catalog(entries: (0..<60).map { i in
            CatalogEntry(title: "S\(i)", artist: i % 15 == 0 ? "Alpha" : "Beta\(i)", tags: i % 5 == 0 ? ["alpha-sound"] : ["other"])
        })
        var c = PopularityRankerConfiguration()
        c.artists = ["alpha", "Nobody"]
        c.popularCount = 3
        c.discoveryCount = 4
        let ranker = try PopularityRanker(train: m, configuration: c, catalog: catalog)
        #expect(ranker.warnings == ["no song in the catalogue matches 'Nobody'"])
        #expect(ranker.configuration.artists == ["alpha"])
        let list = ranker.rankedList(user: nil)
        #expect(list.count == 7)
        let own = list.prefix { catalog[$0.item].artist == "Alpha" }
        #expect(!own.isEmpty && own.count < 7)
        let rest = list.dropFirst(own.count)
        #expect(rest.allSatisfy { catalog[$0.item].artist != "Alpha" && catalog[$0.item].tags == ["alpha-sound"] && $0.reason?.hasPrefix("around alpha: ") == true })
        // Saved and loaded, the same list.
        let loaded = try PopularityRanker(train: m, configuration: ranker.configuration, state: ranker.state())
        #expect(loaded.rankedList(user: nil).map(\.item) == list.map(\.item))
        // Without the neighbours: only the artist's own songs.
        c.aroundArtists = false
        #expect(try PopularityRanker(train: m, configuration: c, catalog: catalog).rankedList(user: nil).allSatisfy { catalog[$0.item].artist == "Alpha" })
        c.artists = ["Nobody"]
        #expect(throws: ModelError.self) { try PopularityRanker(train: m, configuration: c, catalog: catalog) }
    }
}

/// Item-KNN's cap on each listener's songs, by hand (cosine, binarised). u0 played a 5, b 3, c 1
/// times; u1 played a and c. Uncapped, song vectors over listeners are a = {u0, u1}, b = {u0},
/// c = {u0, u1}: c's neighbours are a (2 / (√2 · √2) = 1) and b (1 / √2). With at most 2 songs per
/// listener, u0's c (their least played) leaves the similarities: c = {u1}, so a scores
/// 1 / (√2 · 1) and b shares no listener with c. Scoring still counts every played song.
@Test func itemKNNCapsEachListenersSongs() throws {
    struct Corrupt: Error { var text: String }
    let m = try InteractionMatrix.validated(users: ["u0", "u1"], items: ["a", "b", "c"], rowPointers: [0, 3, 5], columnIndices: [0, 1, 2, 0, 2],
                                            values: [5, 3, 1, 1, 1], timestamps: nil, corrupt: { Corrupt(text: $0) })
    var all = ItemKNNConfiguration()
    all.maxListenerSongs = 0
    let uncapped = try ItemKNN(train: m, configuration: all).similarItems(to: 2, k: 5)
    #expect(uncapped.map(\.item) == [0, 1])
    #expect(abs(uncapped[0].score - 1) < 1e-6 && abs(uncapped[1].score - 1 / 2.0.squareRoot()) < 1e-6)
    var two = ItemKNNConfiguration()
    two.maxListenerSongs = 2
    let model = try ItemKNN(train: m, configuration: two)
    let capped = model.similarItems(to: 2, k: 5)
    #expect(capped.map(\.item) == [0] && abs(capped[0].score - 1 / 2.0.squareRoot()) < 1e-6)
    #expect(ItemKNNConfiguration().maxListenerSongs == 500, "the default cap (Mahout's maxPrefsPerUser)")
    // An artifact written before the cap decodes with none.
    let old = try JSONDecoder().decode(ItemKNNConfiguration.self, from: Data(#"{"weighting": "cosine", "k": 10, "binarize": true, "bm25K1": 100, "bm25B": 0.8}"#.utf8))
    #expect(old.maxListenerSongs == 0)
    #expect(throws: ModelError.self) { var bad = ItemKNNConfiguration(); bad.maxListenerSongs = -1; _ = try ItemKNN(train: m, configuration: bad) }
}
