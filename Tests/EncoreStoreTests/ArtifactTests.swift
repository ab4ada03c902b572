import Foundation
import Testing
@testable import EncoreData
@testable import EncoreModels
@testable import EncoreStore

func tempPath(_ name: String) -> String { NSTemporaryDirectory() + "encore-artifact-" + UUID().uuidString + "-" + name }

let small: InteractionMatrix = {
    var b = InteractionBuilder()
    let rows: [(Int32, Int32, Double)] = [(0, 0, 3), (0, 1, 1), (1, 0, 2), (1, 2, 5), (2, 1, 4), (2, 2, 2), (3, 0, 1), (3, 2, 3)]
    for (u, i, v) in rows { b.append(user: u, item: i, plays: v) }
    return b.build(users: IDMap(["a", "b", "c", "d"]), items: IDMap(["x", "y", "z"])).matrix.mapValues(.log1p)
}()

@Suite struct ArtifactTests {
    // Every registered model that fits on four users without a catalogue (the content models and
    // the clustering hybrid have round trips of their own; ConformanceTests round-trips them all).
    @Test(arguments: ModelRegistry.all.map(\.name).filter { !["tfidf", "transformer", "clustering"].contains($0) })
    func saveLoadPredictIsIdentical(_ name: String) throws {
        let model = try ModelRegistry.entry(named: name).fit(small, overrides: name.hasPrefix("knn") ? #"{"similarity": "msd"}"# : nil)
        let path = tempPath("\(name).model")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Artifact(model: model, transform: .log1p).write(to: path)
        let artifact = try Artifact.read(path: path)
        #expect(artifact.header.algorithm == name)
        #expect(artifact.transform == .log1p)
        let loaded = try artifact.model()
        if let a = model as? any RatingPredictor {
            let b = try #require(loaded as? any RatingPredictor)
            for u in 0..<4 { for i in 0..<3 { #expect(a.predict(user: u, item: i) == b.predict(user: u, item: i)) } }
        }
        for u in 0..<4 { #expect(model.scoreAll(user: u) == loaded.scoreAll(user: u)) }
        #expect(model.recommend(user: 0, k: 2) == loaded.recommend(user: 0, k: 2))
        #expect(loaded.configurationJSON == model.configurationJSON)
    }

    @Test func damagedTruncatedWrongVersionAndWrongDataAreRefused() throws {
        let model = try ModelRegistry.entry(named: "svd").fit(small)
        let path = tempPath("svd.model")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let artifact = Artifact(model: model, transform: .log1p)
        try artifact.write(to: path)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        func refused(_ bytes: Data, _ expect: String) {
            let p = tempPath("bad.model")
            defer { try? FileManager.default.removeItem(atPath: p) }
            _ = FileManager.default.createFile(atPath: p, contents: bytes)
            do {
                _ = try Artifact.read(path: p)
                Issue.record("accepted a bad artifact (\(expect))")
            } catch {
                #expect("\(error)".contains(expect), "\(error)")
            }
        }
        var damaged = good
        damaged[good.count / 2] ^= 0x55
        refused(damaged, "checksum")
        refused(good.prefix(good.count - 100), "checksum")
        var version = good
        version[8] = 2
        refused(version, "format version 2")
        refused(Data("ENCMODEL".utf8), "truncated")
        refused(Data("not a model at all, just text".utf8), "magic")
        #expect(throws: DataError.self) { try Artifact.read(path: path, expectedFingerprint: "0") }
        #expect(throws: DataError.self) { try Artifact.read(path: tempPath("missing.model")) }
        // A snapshot is not a model.
        #expect(throws: DataError.self) { try Artifact.read(path: path + ".none") }
    }
}

@Suite struct ClusteringArtifactTests {
    @Test func clusteringRoundTrip() throws {
        let model = try ModelRegistry.entry(named: "clustering").fit(small, overrides: #"{"user_clusters": 2, "item_clusters": 2, "dimensions": 0}"#)
        let path = tempPath("clustering.model")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Artifact(model: model, transform: .log1p).write(to: path)
        let loaded = try Artifact.read(path: path).model()
        let a = try #require(model as? any RatingPredictor), b = try #require(loaded as? any RatingPredictor)
        for u in 0..<4 { for i in 0..<3 { #expect(a.predict(user: u, item: i) == b.predict(user: u, item: i)) } }
    }
}

@Suite struct ContentArtifactTests {
    @Test func tfidfRoundTripKeepsScoresAndTerms() throws {
        let catalog = Catalog(entries: [CatalogEntry(title: "Rock Anthem", artist: "Alpha", tags: ["rock"]),
                                        CatalogEntry(title: "Pop Song", artist: "Beta", tags: ["pop"]),
                                        CatalogEntry(title: "Rock Ballad", artist: "Alpha", tags: ["rock", "ballad"])])
        let model = try ModelRegistry.entry(named: "tfidf").fit(small, catalog: catalog)
        let path = tempPath("tfidf.model")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Artifact(model: model, transform: .none).write(to: path)
        let loaded = try #require(try Artifact.read(path: path).model() as? TFIDFRecommender)
        for u in 0..<4 { #expect(model.scoreAll(user: u) == loaded.scoreAll(user: u)) }
        #expect(loaded.similarItems(to: 0, k: 1).first?.reason == (model as? TFIDFRecommender)?.similarItems(to: 0, k: 1).first?.reason)
    }
}
