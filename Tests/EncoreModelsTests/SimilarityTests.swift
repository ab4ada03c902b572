import Foundation
import Testing
@testable import EncoreData
@testable import EncoreModels

@Suite struct SimilarityTests {
    func sims(_ measure: SimilarityMeasure, shrinkage: Double = 100, baselines: Baselines? = nil, minSupport: Int = 1) throws -> SimilarityMatrix {
        try SimilarityMatrix.compute(rows: handMatrix, measure: measure, minSupport: minSupport, shrinkage: shrinkage, baselines: baselines)
    }

    @Test func cosine() throws {
        let s = try sims(.cosine)
        // u0–u1 share i0, i3: (1·2 + 4·5) / √((1 + 16)(4 + 25)).
        #expect(abs(s.similarity(0, 1) - 22 / 493.0.squareRoot()) < 1e-6)
        #expect(abs(s.similarity(0, 3) - 5 / 50.0.squareRoot()) < 1e-6)  // (1·3 + 2·1) / √(5·10)
        #expect(abs(s.similarity(0, 2) - 1) < 1e-6)  // one common item
        #expect(s.similarity(1, 0) == s.similarity(0, 1))
        #expect(s.similarity(2, 2) == 1)
    }

    @Test func meanSquaredDifference() throws {
        let s = try sims(.msd)
        #expect(abs(s.similarity(0, 1) - 0.5) < 1e-6)  // ((1−2)² + (4−5)²)/2 = 1 → 1/2
        #expect(abs(s.similarity(0, 3) - 1 / 3.5) < 1e-6)  // ((1−3)² + (2−1)²)/2 = 2.5
        #expect(abs(s.similarity(0, 2) - 0.2) < 1e-6)  // (2−4)² = 4 → 1/5
        #expect(try sims(.msd, minSupport: 2).similarity(0, 2) == 0)
    }

    @Test func pearson() throws {
        let s = try sims(.pearson)
        #expect(abs(s.similarity(0, 1) - 1) < 1e-6)  // (2·22 − 5·7) / √((34 − 25)(58 − 49)) = 9/9
        #expect(s.similarity(0, 3) == 0)  // −1: negative similarities are not stored
        #expect(s.similarity(0, 2) == 0)  // one common item: zero variance
    }

    @Test func pearsonBaselineShrinks() throws {
        let b = Baselines(globalMean: 1, userBias: [0, 0, 0, 0], itemBias: [0, 0, 0, 0, 0])
        // Residuals u0 (0, 3), u1 (1, 4): 12 / √(9 · 17), shrunk by (2 − 1)/(2 − 1 + shrinkage).
        let raw = 12 / 153.0.squareRoot()
        #expect(abs(try sims(.pearsonBaseline, shrinkage: 1, baselines: b).similarity(0, 1) - raw / 2) < 1e-6)
        #expect(abs(try sims(.pearsonBaseline, shrinkage: 100, baselines: b).similarity(0, 1) - raw / 101) < 1e-6)
        #expect(abs(try sims(.pearsonBaseline, shrinkage: 0, baselines: b).similarity(0, 1) - raw) < 1e-6)
        // A single common item gives (1 − 1)/… = 0.
        #expect(try sims(.pearsonBaseline, shrinkage: 0, baselines: b).similarity(0, 2) == 0)
        #expect(throws: ModelError.self) { try sims(.pearsonBaseline) }
    }

    @Test func itemBasedUsesTheTranspose() throws {
        let s = try SimilarityMatrix.compute(rows: handMatrix.transposed, measure: .cosine)
        // i0 and i3 share u0 (1, 4) and u1 (2, 5): (1·4 + 2·5) / √((1 + 4)(16 + 25)).
        #expect(abs(s.similarity(0, 3) - 14 / 205.0.squareRoot()) < 1e-6)
    }

    @Test func largeSetsKeepOnlyTheBestNeighbours() throws {
        let full = try SimilarityMatrix.compute(rows: handMatrix, measure: .msd)
        let capped = try SimilarityMatrix.compute(rows: handMatrix, measure: .msd, denseLimit: 2, rowLimit: 1)
        for x in 0..<4 {
            #expect(capped.rowPointers[x + 1] - capped.rowPointers[x] <= 1)
            #expect(capped.top(x, k: 1) == full.top(x, k: 1))
        }
    }
}

@Suite struct TransformerAudienceTests {
    /// Songs (1, 0), (0, 1) and (0.6, 0.8); user 0 played song 0, user 1 song 1. For song 2 the
    /// cosines are 0.6 and 0.8: user 1 first, each with the played song closest to it; a user
    /// left out (who played it) is not listed.
    @Test func audienceByHand() throws {
        let m = matrix([(0, 0, 3), (1, 1, 2)], users: 2, items: 3)
        let model = try TransformerRecommender(train: m, configuration: TransformerConfiguration(),
                                               state: ModelState(arrays: ["embeddings": .float([1, 0, 0, 1, 0.6, 0.8])]))
        let a = model.audience(for: [0.6, 0.8], k: 5)
        #expect(a.map(\.user) == [1, 0])
        #expect(abs(a[0].score - 0.8) < 1e-6 && abs(a[1].score - 0.6) < 1e-6)
        #expect(a.map(\.closest) == [1, 0])
        #expect(model.audience(for: [0.6, 0.8], k: 5, excluding: [1]).map(\.user) == [0])
        #expect(model.audience(for: [1, 0, 0], k: 5).isEmpty, "a vector of another dimension ranks nobody")
    }
}
