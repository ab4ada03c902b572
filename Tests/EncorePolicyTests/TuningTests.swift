import Foundation
import Testing
@testable import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
@testable import EncorePolicy
import EncoreService

@Suite struct TuningTests {
    /// A synthetic dataset.
    static func dataset(in dir: String) throws -> InteractionMatrix {
        let gen = dir + "/gen"
        _ = try SyntheticGenerator.generate(GeneratorConfiguration(users: 300, songs: 400, plays: 12_000, seed: 5), to: gen, progress: false)
        return try DatasetImporter.load(path: gen, options: LoadOptions(lenient: false, progress: false)).interactions
    }

    /// `user<TAB>item<TAB>plays` lines (the Taste Profile's triplets layout).
    static func write(_ m: InteractionMatrix, to path: String, values: (Int, Int, Float) -> Float = { _, _, v in v }) throws {
        var text = ""
        for u in 0..<m.userCount {
            for q in m.rowRange(u) {
                let i = Int(m.columnIndices[q])
                text += "\(m.users[u])\t\(m.items[i])\t\(Int(values(u, i, m.values[q])))\n"
            }
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    var options: PolicyTuningOptions {
        var o = PolicyTuningOptions()
        o.sources = [.model("item-knn"), .popular, .discovery]
        o.grids = ["item-knn": ["{\"k\": 20}", "{\"k\": 50}"]]
        o.minimumUsers = 10
        o.floors = [.lowDiscovery: NoveltyFloor(relative: 0.3)]
        return o
    }

    /// Tuning reads the training side only: the held-out plays of the split, poisoned, change nothing.
    @Test func tuningNeverReadsTheTestSplit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("encore-tune-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = try Self.dataset(in: dir)
        try Self.write(m, to: dir + "/clean.tsv")
        var data = TrainingData()
        data.data = dir + "/clean.tsv"
        data.split = "per-user"
        let clean = try data.loadRaw(requireTest: true)
        let test = try #require(clean.test)
        // The same rows, with every held-out play count replaced: the per-user split puts the same rows aside.
        try Self.write(m, to: dir + "/poisoned.tsv") { u, i, v in
            let user = clean.train.users.index(of: m.users[u]), item = clean.train.items.index(of: m.items[i])
            guard let user, let item, user < test.userCount, test.value(user: user, item: item) != nil else { return v }
            return 9_999
        }
        data.data = dir + "/poisoned.tsv"
        let poisoned = try data.loadRaw(requireTest: true)
        #expect(Snapshot.fingerprint(poisoned.train) == Snapshot.fingerprint(clean.train))
        #expect(Snapshot.fingerprint(try #require(poisoned.test)) != Snapshot.fingerprint(test))
        let a = try PolicyTuning.tune(train: clean.train, catalog: nil, options: options)
        let b = try PolicyTuning.tune(train: poisoned.train, catalog: nil, options: options)
        #expect(a.policy == b.policy)
        #expect(a.policy.models["item-knn"] != nil)
        #expect(a.trials["item-knn"]?.count == 2)
        try a.policy.validate()
        #expect(a.policy.recipes.values.allSatisfy { $0.mode == .blend })
    }

    /// The low-discovery floor binds: the tuned mix is at least 30% more novel than the most
    /// accurate single source on the validation users, or the tuner says it could not be.
    @Test func theNoveltyFloorIsMetOrReported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("encore-tune-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = try Self.dataset(in: dir)
        let r = try PolicyTuning.tune(train: m, catalog: nil, options: options)
        let rows = try #require(r.validation[.lowDiscovery])
        let tuned = rows[0]
        let best = try #require(rows.dropFirst().max { $0.ndcg < $1.ndcg })
        let met = tuned.novelty >= best.novelty * 1.3 - 1e-9
        #expect(met || r.notes.contains { $0.contains("low_discovery") && $0.contains("not reached") })
        #expect(throws: PolicyError.self) { try NoveltyFloor(parsing: "lots") }
        #expect(try NoveltyFloor(parsing: "+25%") == NoveltyFloor(relative: 0.25))
        #expect(try NoveltyFloor(parsing: "5") == NoveltyFloor(absolute: 5))
    }
}
