import Foundation
import Testing
@testable import EncoreData
@testable import EncoreModels
import EncoreMath

@Suite struct BaselineTests {
    @Test func oneALSEpochByHand() throws {
        // μ = 3; b_i0 = ((4−3) + (3−3))/2 = 0.5; b_i1 = (2−3)/1 = −1;
        // b_u0 = ((4−3−0.5) + (2−3+1))/2 = 0.25; b_u1 = (3−3−0.5)/1 = −0.5.
        let m = matrix([(0, 0, 4), (0, 1, 2), (1, 0, 3)])
        var c = BaselineConfiguration()
        c.nEpochs = 1
        c.regU = 0
        c.regI = 0
        let b = try BaselineOnly(train: m, configuration: c)
        #expect(b.baselines.itemBias == [0.5, -1])
        #expect(b.baselines.userBias == [0.25, -0.5])
        #expect(b.predict(user: 0, item: 0).value == 3.75)
        // 3 − 0.5 − 1 = 1.5, clipped to the training range [2, 4].
        #expect(b.predict(user: 1, item: 1).value == 2)
    }

    @Test func sgdAndBadSettings() throws {
        var c = BaselineConfiguration()
        c.method = .sgd
        c.nEpochs = 1
        let m = matrix([(0, 0, 4), (1, 0, 2)])
        let b = try BaselineOnly(train: m, configuration: c)
        // First step: e = 4 − 3 = 1 → b_u0 = b_i0 = 0.005.
        #expect(abs(b.baselines.userBias[0] - 0.005) < 1e-12)
        #expect(throws: ModelError.self) { try ConfigurationOverrides.apply(#"{"method": "newton"}"#, to: c, model: "baseline") }
    }
}

@Suite struct NeighbourhoodTests {
    func model(_ variant: String = "basic", k: Int = 2, minK: Int = 1, userBased: Bool = true, similarity: SimilarityMeasure = .cosine) throws -> NeighbourhoodModel {
        var c = KNNConfiguration(userBased: userBased)
        c.variant = KNNConfiguration.Variant(rawValue: variant) ?? .basic
        c.similarity = similarity
        c.k = k
        c.minK = minK
        return try NeighbourhoodModel(train: handMatrix, configuration: c)
    }

    let c01 = 22 / 493.0.squareRoot()  // cosine(u0, u1)
    let c03 = 5 / 50.0.squareRoot()  // cosine(u0, u3)

    @Test func basicByHand() throws {
        // u0, i4: raters u1 (1), u2 (2), u3 (5) with cosines c01, 1, c03. k = 2 keeps u2 and u1.
        let p = try model().predict(user: 0, item: 4)
        #expect(!p.impossible)
        #expect(abs(p.value - (1 * 2 + c01 * 1) / (1 + c01)) < 1e-6)
        let p3 = try model(k: 3).predict(user: 0, item: 4)
        #expect(abs(p3.value - (2 + c01 * 1 + c03 * 5) / (1 + c01 + c03)) < 1e-6)
        #expect(p3.contributors.map(\.index) == [2, 1, 3])
    }

    @Test func basicImpossibleFallsBackToTheGlobalMean() throws {
        let m = try model(k: 3, minK: 4)
        let p = m.predict(user: 0, item: 4)
        #expect(p.impossible)
        #expect(abs(p.value - Double(handMatrix.values.reduce(0, +)) / 13) < 1e-6)
        #expect(p.reason?.contains("not enough neighbours") == true)
        let unknown = matrix([(0, 0, 1), (1, 0, 2)], users: 3, items: 2)
        let u = try NeighbourhoodModel(train: unknown, configuration: KNNConfiguration())
        #expect(u.predict(user: 2, item: 0).impossible)
        #expect(u.predict(user: 0, item: 1).reason == "item is unknown")
    }

    @Test func withMeansAndZScoreByHand() throws {
        let means = [7.0 / 3, 2.75, 7.0 / 3, 3]
        let p = try model("means").predict(user: 0, item: 4)
        #expect(abs(p.value - (means[0] + (1 * (2 - means[2]) + c01 * (1 - means[1])) / (1 + c01))) < 1e-6)
        // Not enough neighbours: the user's mean, not impossible.
        let q = try model("means", k: 2, minK: 2).predict(user: 0, item: 4)
        #expect(!q.impossible)
        let sigma: (Int) -> Double = { x in
            let r = handMatrix.row(x).values.map(Double.init)
            return (r.map { ($0 - means[x]) * ($0 - means[x]) }.reduce(0, +) / Double(r.count)).squareRoot()
        }
        let z = try model("zscore").predict(user: 0, item: 4)
        let expected = means[0] + sigma(0) * (1 * (2 - means[2]) / sigma(2) + c01 * (1 - means[1]) / sigma(1)) / (1 + c01)
        #expect(abs(z.value - min(5, max(1, expected))) < 1e-6)
    }

    @Test func baselineVariantKeepsBiasesForUnknowns() throws {
        let m = matrix([(0, 0, 4), (0, 1, 2), (1, 0, 3)], users: 2, items: 3)
        var c = KNNConfiguration()
        c.variant = .baseline
        c.similarity = .msd
        let knn = try NeighbourhoodModel(train: m, configuration: c)
        let b = try Baselines.fit(m, configuration: c.baseline)
        let p = knn.predict(user: 1, item: 2)  // item 2 unknown: μ + b_u1
        #expect(!p.impossible)
        #expect(abs(p.value - min(4, max(2, b.globalMean + b.userBias[1]))) < 1e-9)
    }

    @Test func batchPredictionsEqualSinglePredictions() throws {
        for userBased in [true, false] {
            let m = try model(k: 2, userBased: userBased, similarity: .msd)
            var pairs: [(user: Int, item: Int)] = []
            for u in 0..<4 { for i in 0..<5 { pairs.append((u, i)) } }
            let batch = m.predictAll(pairs)
            for (n, p) in pairs.enumerated() { #expect(batch[n] == m.predict(user: p.user, item: p.item)) }
        }
    }

    @Test func scoreAllEqualsPredictionsForEveryItem() throws {
        for userBased in [true, false] {
            let m = try model(k: 2, userBased: userBased, similarity: .cosine)
            for u in 0..<4 {
                let all = m.scoreAll(user: u)
                for i in 0..<5 { #expect(abs(Double(all[i]) - m.predict(user: u, item: i).value) < 1e-6) }
            }
        }
    }

    @Test func deterministicAndValidated() throws {
        let a = try model(similarity: .pearson), b = try model(similarity: .pearson)
        #expect(a.similarities.values == b.similarities.values)
        #expect(throws: ModelError.self) { try model(k: 0) }
        #expect(throws: ModelError.self) { try model(k: 2, minK: -1) }
        #expect(throws: ModelError.self) { try ConfigurationOverrides.apply(#"{"variant": "weighted"}"#, to: KNNConfiguration(), model: "knn-user") }
    }
}

@Suite struct SVDTests {
    @Test func oneEpochByHand() throws {
        // Train (u0, i0, 4), (u1, i0, 2); μ = 3; p = q = 0.5; lr = reg = 0.1; one factor, one epoch.
        // Step 1: e = 0.75 → b_u0 = b_i0 = 0.075, p_u0 = q_i0 = 0.5325.
        // Step 2: e = 2 − (3 + 0.075 + 0.5·0.5325) = −1.34125 → b_i0 = −0.059875, q_i0 = 0.4601125.
        var c = SVDConfiguration()
        c.nFactors = 1
        c.nEpochs = 1
        c.initMean = 0.5
        c.initStd = 0
        c.lrAll = 0.1
        c.regAll = 0.1
        let svd = try SVD(train: matrix([(0, 0, 4), (1, 0, 2)]), configuration: c)
        #expect(abs(svd.userBias[0] - 0.075) < 1e-6)
        #expect(abs(svd.itemBias[0] - -0.059875) < 1e-6)
        #expect(abs(svd.userFactors[1] - 0.4235784375) < 1e-6)
        #expect(abs(svd.itemFactors[0] - 0.4601125) < 1e-6)
        #expect(abs(svd.predict(user: 0, item: 0).value - 3.26013490625) < 1e-5)
    }

    @Test func trainingLossDecreasesAndSeedsAreDeterministic() throws {
        let (train, _) = try SharedSplit.load()
        var c = SVDConfiguration()
        c.nEpochs = 10
        let a = try SVD(train: train, configuration: c)
        #expect(a.epochRMSE.count == 10)
        for (x, y) in zip(a.epochRMSE, a.epochRMSE.dropFirst()) { #expect(y < x) }
        let b = try SVD(train: train, configuration: c)
        #expect(a.userFactors == b.userFactors && a.itemBias == b.itemBias)
        c.seed = 7
        #expect(try SVD(train: train, configuration: c).userFactors != a.userFactors)
    }

    @Test func unknownItemsKeepOnlyKnownTerms() throws {
        let m = matrix([(0, 0, 4), (1, 0, 2), (1, 1, 3)], users: 2, items: 3)
        let svd = try SVD(train: m)
        let p = svd.predict(user: 0, item: 2)
        #expect(abs(p.value - min(4, max(2, 3 + Double(svd.userBias[0])))) < 1e-6)
        #expect(throws: ModelError.self) { try SVD(train: m, configuration: { var c = SVDConfiguration(); c.nFactors = 0; return c }()) }
    }
}

@Suite struct SVDppTests {
    @Test func implicitFactorsJoinThePrediction() throws {
        // One factor, one epoch, all factors 0.5 at the start (std 0); two ratings of the same song.
        var c = SVDppConfiguration()
        c.nFactors = 1
        c.nEpochs = 0
        c.initMean = 0.5
        c.initStd = 0
        let m = matrix([(0, 0, 4), (0, 1, 2), (1, 0, 3)])
        let untrained = try SVDpp(train: m, configuration: c)
        // μ = 3; user 0 played two songs: q_i · (p_u + (y_0 + y_1)/√2) = 0.5 · (0.5 + 1/√2).
        #expect(abs(untrained.predict(user: 0, item: 0).value - (3 + 0.5 * (0.5 + 1 / 2.0.squareRoot()))) < 1e-5)
        c.nEpochs = 10
        c.initStd = 0.1
        let a = try SVDpp(train: m, configuration: c), b = try SVDpp(train: m, configuration: c)
        #expect(a.implicitFactors == b.implicitFactors)
        #expect(throws: ModelError.self) { try SVDpp(train: m, configuration: { var x = SVDppConfiguration(); x.nFactors = 0; return x }()) }
    }
}

@Suite struct ConfigurationTests {
    @Test func overridesAcceptSnakeAndCamelCaseAndRejectTypos() throws {
        let c = try ConfigurationOverrides.apply(#"{"n_epochs": 30, "lrAll": 0.01, "reg_all": 0.2}"#, to: SVDConfiguration(), model: "svd")
        #expect(c == SVDConfiguration.reportOptimised)
        let k = try ConfigurationOverrides.apply(#"{"min_k": 3, "k": 10, "similarity": "msd"}"#, to: KNNConfiguration(), model: "knn-user")
        #expect(k.minK == 3 && k.k == 10 && k.similarity == .msd)
        #expect(throws: ModelError.self) { try ConfigurationOverrides.apply(#"{"n_factorz": 3}"#, to: SVDConfiguration(), model: "svd") }
        #expect(throws: ModelError.self) { try ConfigurationOverrides.apply(#"{"n_factors": "many"}"#, to: SVDConfiguration(), model: "svd") }
        #expect(throws: ModelError.self) { try ConfigurationOverrides.apply(#"{"similarity": "jaccard"}"#, to: KNNConfiguration(), model: "knn-user") }
        #expect(throws: ModelError.self) { try ConfigurationOverrides.apply("/nonexistent.json", to: SVDConfiguration(), model: "svd") }
        // Optional fields can be set too.
        let lr = try ConfigurationOverrides.apply(#"{"lr_bu": 0.5}"#, to: SVDConfiguration(), model: "svd")
        #expect(lr.lrBu == 0.5)
    }

    @Test func registryKnowsEveryModel() throws {
        #expect(ModelRegistry.all.map(\.name) == ["baseline", "knn-user", "knn-item", "svd", "svdpp", "most-popular", "popularity", "item-knn", "als", "bpr", "ease", "clustering", "tfidf", "transformer", "lightgcn", "gcn", "gcn-report", "blend"])
        #expect(throws: ModelError.self) { try ModelRegistry.entry(named: "deep-magic") }
        let knn = try ModelRegistry.entry(named: "knn-item").fit(handMatrix, overrides: #"{"user_based": true, "similarity": "msd"}"#)
        #expect((knn as? NeighbourhoodModel)?.userBased == false)
        #expect(throws: ModelError.self) { try ModelRegistry.entry(named: "svd").fit(matrix([], users: 2, items: 2)) }
    }
}

@Suite struct TopScoresTests {
    /// By hand: ties go to the lower index, NaN and −∞ never rank, +∞ ranks first.
    @Test func tiesNaNAndInfinities() {
        let top = TopScores.select([1, .nan, 3, 3, -.infinity, .infinity, 2, 3], k: 4)
        #expect(top.map(\.index) == [5, 2, 3, 7])
        #expect(TopScores.select([-.infinity, .nan], k: 3).isEmpty)
        #expect(TopScores.select([2, 1], k: 5).map(\.index) == [0, 1])
        #expect(TopScores.select([2, 1], k: 0).isEmpty)
    }

    /// The specialised heap agrees with TopK's generic one on 5,000 scores with many ties and holes.
    @Test func agreesWithTheGenericHeap() {
        var rng = SeededGenerator(seed: 3)
        let scores: [Float] = (0..<5_000).map { i in i % 11 == 0 ? -.infinity : (i % 13 == 0 ? .nan : Float(rng.nextInt(below: 200))) }
        for k in [1, 7, 100, 4_000, 6_000] {
            let generic = TopK.best(scores.enumerated().filter { !$0.element.isNaN && $0.element != -.infinity }, k: k) {
                $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset
            }
            #expect(TopScores.select(scores, k: k).map(\.index) == generic.map(\.offset), "k \(k)")
        }
    }
}

/// EASE at the Million Song Dataset's shape (1,000,000 listeners × 380,000 songs, a few plays)
/// is refused before allocating, with the memory it would need (380,000² floats twice: 1.1 TiB)
/// and the models that scale instead.
@Test func easeAtMillionSongSizeIsRefusedWithAdvice() throws {
    let m = matrix([(0, 0, 1), (999_999, 379_999, 2)], users: 1_000_000, items: 380_000)
    do {
        _ = try ModelRegistry.entry(named: "ease").fit(m)
        Issue.record("EASE fitted a 380,000-song matrix")
    } catch let e as ResourceError {
        #expect(e.message.contains("needs about 1.1 TiB") && e.message.contains("item-knn") && e.message.contains("als"), "\(e.message)")
    }
}
