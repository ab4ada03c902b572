import EncoreData
import EncoreEval
import EncoreMath
import Foundation
import Synchronization
import EncoreCharts
import Testing

@testable import EncoreService
@testable import EncorePolicy
import EncoreModels

@Suite struct ServiceTests {
    @Test func modelListsKeepCommasInsideBraces() throws {
        let specs = try ModelSpec.parse(#"svd, svd{"n_epochs": 30, "lr_all": 0.01},ease={"lambda": 50}"#, sharedConfig: nil)
        #expect(specs.map(\.name) == ["svd", "svd", "ease"])
        #expect(specs[1].overrides == #"{"n_epochs": 30, "lr_all": 0.01}"#)
        #expect(specs[2].overrides == #"{"lambda": 50}"#)
        #expect(try ModelSpec.parse("als", sharedConfig: #"{"factors": 8}"#)[0].label == #"als {"factors": 8}"#)
        #expect(throws: ParameterError.self) { try ModelSpec.parse("als,,ease", sharedConfig: nil) }
        #expect(throws: ParameterError.self) { try ModelSpec.parse(#"als{"factors": 8"#, sharedConfig: nil) }
    }

    @Test func tablesAlignAndEscape() {
        let t = TextTable(header: ["name", "plays"], rows: [["a|b", "1,234"], ["longer", "5"]])
        #expect(t.text() == "name    plays\n------  -----\na|b     1,234\nlonger      5\n")
        #expect(t.markdown().contains("| a\\|b | 1,234 |"))
        #expect(Format.grouped(-1_234_567) == "-1,234,567")
        #expect(Format.number(.nan) == "–")
        let comparison = ComparisonTable(title: "t", columns: ["baseline", "a|b"], rows: [("RMSE", ["1.0", "2.0"])])
        #expect(comparison.table.markdown().hasPrefix("| metric | baseline | a\\|b |\n|---|---:|---:|\n| RMSE | 1.0 | 2.0 |"))
    }

    @Test func trainingDataSplitsAndRefusesMixedSources() throws {
        let dir = NSTemporaryDirectory() + "encore-service-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try SyntheticGenerator.generate(GeneratorConfiguration(users: 60, songs: 40, plays: 900, seed: 2), to: dir, progress: false)
        var t = TrainingData()
        t.data = dir
        t.split = "per-user"
        let loaded = try t.loadRaw(requireTest: true)
        #expect(loaded.train.nnz + (loaded.test?.nnz ?? 0) == 900)
        #expect(loaded.catalog != nil)
        #expect(try t.transform(forRatingModel: true) == .log1p && t.transform(forRatingModel: false) == .none)
        t.test = dir + "/count_data.csv"
        #expect(throws: ParameterError.self) { try t.loadRaw(requireTest: true) }
        var source = DatasetSource()
        source.delimiter = "??"
        #expect(throws: ParameterError.self) { try source.load(dir, format: "delimited") }
        let d = try DatasetSource().load(dir)
        #expect(!SongNames(d).title(of: d.interactions.items[0]).isEmpty)
        #expect(SongNames(d).title(of: "no such song").isEmpty)
    }
}

@Suite struct MicroBatcherTests {
    /// A lone caller computes alone; callers that arrive while a batch runs share the next one, and
    /// every caller gets its own output.
    @Test func concurrentCallersShareBatchesAndGetTheirOwnOutputs() async throws {
        let sizes = Mutex<[Int]>([])
        let queued = Mutex<@Sendable () -> Int>({ 0 })
        let batcher = MicroBatcher<Int, Int>(maxBatch: 8) { inputs in
            sizes.withLock { $0.append(inputs.count) }
            // The first batch of the concurrent run waits (a bounded time) for others to queue behind it.
            if inputs.count == 1, inputs[0] >= 0 {
                let count = queued.withLock { $0 }
                let deadline = Date().addingTimeInterval(20)
                while count() < 10, Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
            }
            return inputs.map { $0 * 10 }
        }
        queued.withLock { $0 = { [batcher] in batcher.state.withLock { $0.queue.count } } }
        #expect(await batcher.run(-7) == -70)
        #expect(sizes.withLock { $0 } == [1])
        let outputs = await withTaskGroup(of: (Int, Int).self) { group in
            for n in 0..<40 { group.addTask { (n, await batcher.run(n)) } }
            var out: [Int: Int] = [:]
            for await (n, v) in group { out[n] = v }
            return out
        }
        #expect(outputs.count == 40 && outputs.allSatisfy { $0.value == $0.key * 10 })
        let batches = sizes.withLock { $0 }
        #expect(batches.reduce(0, +) == 41 && batches.allSatisfy { $0 <= 8 })
        #expect(batches.count < 41, "some callers shared a batch: \(batches)")
        #expect(batcher.counts.batches == batches.count && batcher.counts.inputs == 41)
    }
}

@Suite struct ListCacheTests {
    static func list(_ song: Int) -> PolicyRecommendation {
        PolicyRecommendation(policy: "p", segment: .regular, segmentReason: "", values: SegmentValues(songs: 1, plays: 1, popularityPercentile: 50, topShare: 0),
                             items: [PolicyItem(item: song, score: 1, source: "ease", explanation: Explanation(kind: .model, sentence: ""))], unmatched: [])
    }

    /// Keys are (user, policy, k); the oldest list goes first beyond the capacity; capacity 0 keeps nothing.
    @Test func boundedFirstInFirstOut() {
        let cache = ListCache(capacity: 2)
        cache.store(Self.list(1), user: "a", policy: "p", k: 5)
        cache.store(Self.list(2), user: "b", policy: "p", k: 5)
        #expect(cache.list(user: "a", policy: "p", k: 5)?.items.first?.item == 1)
        #expect(cache.list(user: "a", policy: "p", k: 6) == nil && cache.list(user: "a", policy: "q", k: 5) == nil)
        cache.store(Self.list(3), user: "c", policy: "p", k: 5)
        #expect(cache.list(user: "a", policy: "p", k: 5) == nil, "the oldest is evicted")
        #expect(cache.list(user: "c", policy: "p", k: 5)?.items.first?.item == 3)
        #expect(cache.counts.lists == 2 && cache.counts.hits == 2 && cache.counts.misses == 3)
        let none = ListCache(capacity: 0)
        none.store(Self.list(1), user: "a", policy: "p", k: 5)
        #expect(none.list(user: "a", policy: "p", k: 5) == nil && none.counts.lists == 0)
    }
}

@Suite struct EvaluationReportTests {
    /// The best value of each row is marked (lower for errors, higher otherwise), ties all marked,
    /// rows where every model ties and "users evaluated" unmarked; a bar chart per headline metric.
    @Test func bestValuesAreMarkedAndHeadlinesCharted() {
        let t = ComparisonTable(title: "T", columns: ["a", "b", "c"], rows: [
            ("RMSE (all test pairs)", ["0.9000", "0.8000", "–"]),
            ("NDCG@10", ["0.2000", "0.3000", "0.3000"]),
            ("NDCG@10 cold users", ["0.1000 (5)", "0.0500 (5)", "–"]),
            ("users evaluated", ["10", "12", "12"]),
            ("coverage@30", ["0.5000", "0.5000", "0.5000"]),
        ])
        #expect(EvaluationReport.best(t) == [[0, 2], [1, 2], [1, 3], [2, 1]])
        let html = EvaluationReport.html([t], subtitle: "s")
        #expect(html.components(separatedBy: "<span hidden> (best)</span>").count - 1 == 4)
        // Numbers right-aligned, text (the model names) left-aligned.
        #expect(html.contains("<td class=\"num best\">") && html.contains("<th class=\"num\">"))
        #expect(NumericText.columns(header: ["model", "n", "share"], rows: [["als", "1,024", "12.5%"], ["ease", "–", "3%"]]) == [false, true, true])
        #expect(NumericText.isNumeric("0.1000 (5)") && NumericText.isNumeric("-0.25") && NumericText.isNumeric("3.2x"))
        #expect(!NumericText.isNumeric("ease (5)") && !NumericText.isNumeric("Lady Gaga") && !NumericText.isNumeric("2 Unlimited"))
        #expect(html.contains("RMSE (all test pairs) (lower is better)") && html.contains("<svg"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 2, "RMSE and NDCG@10 are charted")
    }
}

/// The retrain's holdout by hand: the held pairs leave the training part for the test part, and
/// ranking is limited to a seeded sample of the test listeners (all of them when fewer).
@Test func retrainHoldoutAndListenerSample() throws {
    struct Corrupt: Error { var text: String }
    let users = ["u0", "u1", "u2", "u3", "u4"], items = ["a", "b", "c"]
    // Every user played a and b; u0..u3 also c.
    var pointers: [Int64] = [0], columns: [Int32] = [], values: [Float] = []
    for u in 0..<5 {
        let row: [Int32] = u < 4 ? [0, 1, 2] : [0, 1]
        columns += row; values += row.map { _ in 1 }
        pointers.append(Int64(columns.count))
    }
    let m = try InteractionMatrix.validated(users: users, items: items, rowPointers: pointers, columnIndices: columns, values: values,
                                            timestamps: nil, corrupt: { Corrupt(text: $0) })
    let (train, test) = Retraining.holdout(m, [("u0", "c"), ("u1", "c"), ("u2", "c"), ("u3", "b"), ("nobody", "a"), ("u4", "zzz")])
    #expect(train.nnz == 10 && test.nnz == 4)
    #expect(test.row(3).items == [1] && train.row(3).items == [0, 2])
    let two = Retraining.sample(test, users: 2, seed: 7)
    let sampled = (0..<5).filter { !two.rowRange($0).isEmpty }
    #expect(sampled.count == 2 && sampled.allSatisfy { $0 < 4 })
    #expect((0..<5).filter { !Retraining.sample(test, users: 2, seed: 7).rowRange($0).isEmpty } == sampled, "the same seed, the same listeners")
    #expect(Retraining.sample(test, users: 0, seed: 7).nnz == 4 && Retraining.sample(test, users: 10, seed: 7).nnz == 4)
}
