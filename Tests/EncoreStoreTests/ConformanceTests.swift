// One conformance suite for every model of the registry, in the spirit of implicit's
// RecommenderBase test mixin: a model added to the registry is covered without a line here.
import EncoreMath
import Foundation
import Testing

@testable import EncoreData
@testable import EncoreModels
@testable import EncoreStore

/// A small generated dataset with a catalogue, fitted once per model.
enum ConformanceData {
    static let dataset: Dataset = {
        let dir = NSTemporaryDirectory() + "encore-conformance-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = GeneratorConfiguration(users: 240, songs: 90, plays: 4000, seed: 11)
        c.writeTriplets = false
        _ = try? SyntheticGenerator.generate(c, to: dir, progress: false)
        guard let d = try? DatasetImporter.load(path: dir, options: LoadOptions(progress: false)) else { fatalError("the generator's data did not load") }
        return d
    }()

    /// The training matrix on the model's value scale, with one user and one song left empty
    /// (a cold user and a song nobody played).
    static let train: InteractionMatrix = {
        let m = dataset.interactions
        let coldUser = m.userCount - 1
        let coldItem = Int32(m.itemCount - 1)
        let keep = (0..<m.nnz).map { k in m.columnIndices[k] != coldItem && !(m.rowRange(coldUser).contains(k)) }
        return m.masked(keep: keep)
    }()

    static func values(for entry: ModelEntry) -> InteractionMatrix { entry.predictsValues ? train.mapValues(.log1p) : train }

    static func fit(_ entry: ModelEntry, workers: Int? = nil) throws -> any Recommender {
        // The graph models train for a few epochs here: the suite also runs under the thread
        // sanitizer, where their default budgets (600 and 150 epochs) take minutes per fit.
        let overrides: String? = switch entry.name {
        case let n where n.hasPrefix("knn"): #"{"similarity": "msd"}"#
        case "lightgcn": #"{"epochs": 20}"#
        case "gcn": #"{"epochs": 20}"#
        default: nil
        }
        return try ParallelLoop.$workerOverride.withValue(workers) {
            try entry.fit(values(for: entry), overrides: overrides, catalog: dataset.catalog)
        }
    }

    /// Users with training songs, a spread of them.
    static var users: [Int] { stride(from: 0, to: train.userCount - 1, by: 37).filter { !train.rowRange($0).isEmpty } }
}

/// Models that do not score histories yet, documented in the README; any other model must.
let modelsWithoutHistoryScoring: Set<String> = ["knn-user"]
/// Models whose history scores solve a new system (ALS, and the blend that holds it): equal rankings, not equal floats.
let foldInModels: Set<String> = ["als", "blend"]
/// Models trained by SGD, whose fold-in solves the user's side afresh (FoldIn): the trained user
/// vectors keep part of their random start, so the fold-in agrees in scores, not in every rank.
/// LightGCN scores a history with the mean of its songs' propagated embeddings, which agrees with
/// the trained user embedding in direction, not in every rank; the GCN refits the user's bias.
let sgdFoldInModels: Set<String> = ["svd", "svdpp", "bpr", "lightgcn", "gcn", "gcn-report"]

@Suite struct ConformanceTests {
    static let names = ModelRegistry.all.map(\.name)

    @Test(arguments: names)
    func badKAndBadIndicesNeverTrap(_ name: String) throws {
        let entry = try ModelRegistry.entry(named: name)
        let model = try ConformanceData.fit(entry)
        let n = model.train.itemCount
        #expect(model.recommend(user: 0, k: 0).isEmpty)
        #expect(model.recommend(user: 0, k: -5).isEmpty)
        #expect(model.recommend(user: 0, k: Int.max).count <= n)
        for bad in [-1, model.train.userCount, Int.max] {
            #expect(model.score(user: bad, items: [0, 1]).allSatisfy { $0.isNaN }, "user \(bad)")
            let list = model.recommend(user: bad, k: 5)
            #expect(list.allSatisfy { $0.item >= 0 && $0.item < n })
        }
        let scores = model.score(user: 0, items: [-1, n, Int.max, 0])
        #expect(scores.count == 4 && scores[0].isNaN && scores[1].isNaN && scores[2].isNaN && !scores[3].isNaN, "\(scores)")
        // The cold user (no training songs) gets a list or nothing, never a trap.
        let cold = ConformanceData.train.userCount - 1
        #expect(model.recommend(user: cold, k: 5).allSatisfy { $0.item >= 0 && $0.item < n })
        #expect(model.recommend(users: [0, -1, cold, 1], k: 3).count == 4)
    }

    @Test(arguments: names)
    func listsExcludeTrainingAndExcludedSongsWithoutRepeats(_ name: String) throws {
        let model = try ConformanceData.fit(try ModelRegistry.entry(named: name))
        for u in ConformanceData.users {
            let played = Set(model.train.row(u).items.map(Int.init))
            let excluded: Set<Int> = [0, 1, 2, 3, 4]
            let list = model.recommend(user: u, k: 20, excluding: excluded)
            let items = list.map(\.item)
            #expect(Set(items).count == items.count, "a song repeats for user \(u)")
            #expect(items.count <= 20)
            #expect(Set(items).isDisjoint(with: played), "a played song is recommended to \(u)")
            #expect(Set(items).isDisjoint(with: excluded), "an excluded song is recommended to \(u)")
            #expect(list.allSatisfy { $0.score.isFinite })
            #expect(zip(list, list.dropFirst()).allSatisfy { $0.score >= $1.score } || name == "popularity", "not best first for \(u)")
        }
        #expect(!model.recommend(user: ConformanceData.users[0], k: 10).isEmpty)
    }

    @Test(arguments: names)
    func sameSeedSameResultsWhateverTheThreadCount(_ name: String) throws {
        let entry = try ModelRegistry.entry(named: name)
        let a = try ConformanceData.fit(entry, workers: 1)
        let b = try ConformanceData.fit(entry, workers: 1)
        let c = try ConformanceData.fit(entry, workers: 3)
        for u in ConformanceData.users {
            let sa = a.scoreAll(user: u)
            #expect(sa.elementsEqual(b.scoreAll(user: u), by: sameFloat), "two fits with one seed differ for user \(u)")
            #expect(sa.elementsEqual(c.scoreAll(user: u), by: sameFloat), "1 and 3 threads differ for user \(u)")
        }
    }

    @Test(arguments: names)
    func artifactRoundTripKeepsEveryScore(_ name: String) throws {
        let model = try ConformanceData.fit(try ModelRegistry.entry(named: name))
        let bytes = try Artifact(model: model, transform: .none).encode()
        let loaded = try Artifact.decode(bytes, source: "\(name) bytes").model()
        for u in ConformanceData.users + [ConformanceData.train.userCount - 1] {
            #expect(model.scoreAll(user: u).elementsEqual(loaded.scoreAll(user: u), by: sameFloat), "user \(u)")
            #expect(model.recommend(user: u, k: 10) == loaded.recommend(user: u, k: 10))
        }
        if let h = model as? any HistoryRecommender, let g = loaded as? any HistoryRecommender {
            let history = UserHistory(user: ConformanceData.users[1], of: model.train)
            #expect(h.scoreAll(history: history).elementsEqual(g.scoreAll(history: history), by: sameFloat))
        }
    }

    /// Item-based KNN scores a history as a training user's row, for every variant (the baseline
    /// variant folds the history's bias in) and the report's pearson_baseline similarity.
    @Test(arguments: ["basic", "means", "zscore", "baseline"])
    func itemKNNHistoriesMatchEveryVariant(_ variant: String) throws {
        let entry = try ModelRegistry.entry(named: "knn-item")
        let model = try entry.fit(ConformanceData.train.mapValues(.log1p), overrides: "{\"variant\": \"\(variant)\", \"k\": 10}")
        let h = try #require(model as? any HistoryRecommender)
        for u in ConformanceData.users {
            #expect(model.scoreAll(user: u).elementsEqual(h.scoreAll(history: UserHistory(user: u, of: model.train)), by: sameFloat), "user \(u)")
        }
        let baseline = try ModelRegistry.entry(named: "baseline").fit(ConformanceData.train.mapValues(.log1p), overrides: #"{"method": "sgd"}"#)
        let b = try #require(baseline as? any HistoryRecommender)
        let u = ConformanceData.users[1]
        let top = Set(TopScores.select(baseline.scoreAll(user: u), k: 10).map(\.index))
        #expect(top == Set(TopScores.select(b.scoreAll(history: UserHistory(user: u, of: baseline.train)), k: 10).map(\.index)), "SGD baselines rank alike")
    }

    /// Iterative fits check for cancellation between iterations.
    @Test(arguments: ["als", "bpr", "svd", "svdpp", "lightgcn", "gcn"])
    func aCancelledFitStops(_ name: String) async throws {
        let entry = try ModelRegistry.entry(named: name)
        let task = Task { () throws -> Int in
            withUnsafeCurrentTask { $0?.cancel() }
            return try ConformanceData.fit(entry).train.nnz
        }
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test(arguments: names)
    func historyScoringEqualsTrainedScoring(_ name: String) throws {
        let entry = try ModelRegistry.entry(named: name)
        #expect(entry.scoresHistories == !modelsWithoutHistoryScoring.contains(name), "the README's list of models without history scoring")
        let model = try ConformanceData.fit(entry)
        guard entry.scoresHistories, let h = model as? any HistoryRecommender else { return }
        for u in ConformanceData.users {
            let trained = model.scoreAll(user: u)
            let folded = h.scoreAll(history: UserHistory(user: u, of: model.train))
            if sgdFoldInModels.contains(name) {
                let r = pearson(trained, folded)
                #expect(r >= 0.5, "user \(u): correlation \(r)")
            } else if foldInModels.contains(name) {
                // ALS's trained factors come from the last sweep against the previous item factors;
                // the fold-in solves against the final ones: the same ranking, not the same floats.
                let top = Set(TopScores.select(trained, k: 10).map(\.index))
                let foldedTop = Set(TopScores.select(folded, k: 10).map(\.index))
                #expect(top.intersection(foldedTop).count >= 7, "user \(u): \(top.intersection(foldedTop).count) of 10 shared")
            } else {
                let scale = trained.lazy.filter { $0.isFinite }.map(abs).max() ?? 1
                #expect(trained.elementsEqual(folded) { a, b in sameFloat(a, b) || abs(a - b) <= 1e-4 * max(scale, 1e-6) }, "user \(u)")
            }
            let list = h.recommend(history: UserHistory(user: u, of: model.train), k: 10)
            #expect(Set(list.map(\.item)).isDisjoint(with: model.train.row(u).items.map(Int.init)))
        }
        let history = try UserHistory(items: [3, 1, 3], weights: [2, 1, 1], itemCount: model.train.itemCount)
        #expect(history.items == [1, 3] && history.weights == [1, 3])
        let scores = h.score(history: history, items: [-1, 0, model.train.itemCount])
        #expect(scores[0].isNaN && scores[2].isNaN)
        #expect(throws: ModelError.self) { try UserHistory(items: [model.train.itemCount], itemCount: model.train.itemCount) }
        #expect(throws: ModelError.self) { try UserHistory(items: [0], weights: [.nan], itemCount: model.train.itemCount) }
    }
}

/// Equal, or both NaN, or both the same infinity.
func sameFloat(_ a: Float, _ b: Float) -> Bool { a == b || (a.isNaN && b.isNaN) }

/// Pearson correlation over the entries finite in both.
func pearson(_ a: [Float], _ b: [Float]) -> Double {
    let pairs = zip(a, b).filter { $0.0.isFinite && $0.1.isFinite }.map { (Double($0.0), Double($0.1)) }
    guard pairs.count > 1 else { return 1 }
    let n = Double(pairs.count)
    let ma = pairs.map(\.0).reduce(0, +) / n, mb = pairs.map(\.1).reduce(0, +) / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for (x, y) in pairs { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
    return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : (saa == sbb ? 1 : 0)
}
