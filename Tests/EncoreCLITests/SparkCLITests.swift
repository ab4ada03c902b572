// The Spark round trip without Spark: `encore export --format spark` writes the plays with integer
// ids, factors written by hand stand in for what MLlib's ALS writes beside them, and
// `encore import-factors` turns them into a model whose lists are the factors' dot products
// (computed here by hand). Bad factor files are refused with one error line. The real Spark job
// runs in `bench/run.sh spark` (BENCHMARKS.md).
import Foundation
import Testing

@Suite struct SparkCLITests {
    @Test func exportImportFactorsAndServeByHand() throws {
        let scratch = Scratch()
        // ann played a and b; bob played c. Songs d and e nobody else has.
        let plays = scratch.write("plays.tsv", "user\titem\tplays\nann\ta\t3\nann\tb\t1\nbob\tc\t7\nbob\td\t1\ncy\te\t2\n")
        let dir = scratch.path + "/export"
        let exported = try CLI.run(["export", "--train", plays, "--format", "spark", "--output", dir, "--value", "none"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let interactions = try String(contentsOfFile: dir + "/interactions.csv", encoding: .utf8)
        #expect(interactions == "user,item,plays\n0,0,3.0\n0,1,1.0\n1,2,7.0\n1,3,1.0\n2,4,2.0\n", "\(interactions)")
        #expect(try String(contentsOfFile: dir + "/users.csv", encoding: .utf8) == "number,id\n0,ann\n1,bob\n2,cy\n")
        // Rank 2. ann = (1, 0): her scores are the items' first factors: c 0.9, e 0.5, d −0.2 (a and b played).
        try "number,f0,f1\n0,1.0,0.0\n1,0.0,1.0\n2,0.5,0.5\n".write(toFile: dir + "/user_factors.csv", atomically: true, encoding: .utf8)
        // Written as Python's csv module writes them: CRLF line ends.
        let items = "number,f0,f1\r\n0,0.1,0.0\r\n1,0.2,0.3\r\n2,0.9,0.1\r\n3,-0.2,0.8\r\n4,0.5,0.4\r\n"
        try items.write(toFile: dir + "/item_factors.csv", atomically: true, encoding: .utf8)
        try #"{"rank": 2, "regParam": 0.1, "alpha": 1.0, "maxIter": 5}"#.write(toFile: dir + "/spark_params.json", atomically: true, encoding: .utf8)
        let model = scratch.path + "/spark.model"
        let imported = try CLI.run(["import-factors", dir, "--output", model])
        #expect(imported.status == 0 && imported.stdout.contains("als with 2 factors"), "\(imported.stdout)\(imported.stderr)")
        let list = try CLI.run(["recommend", "--model", model, "--user", "ann", "-k", "3", "--format", "json"])
        #expect(list.status == 0, "\(list.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.map { $0["item"] as? String ?? "" } == ["c", "e", "d"])
        let scores = rows.map { ($0["score"] as? Double) ?? .nan }
        for (got, want) in zip(scores, [0.9, 0.5, -0.2]) { #expect(abs(got - want) < 1e-6, "\(scores)") }
        // bob = (0, 1): e 0.4, b 0.3, a 0.0.
        let bob = try CLI.run(["recommend", "--model", model, "--user", "bob", "-k", "2", "--format", "json"])
        #expect(((try JSONSerialization.jsonObject(with: Data(bob.stdout.utf8)) as? [[String: Any]]) ?? []).map { $0["item"] as? String ?? "" } == ["e", "b"])

        // A song without factors, and an export changed after the fact, are refused.
        try "number,f0,f1\n0,0.1,0.0\n1,0.2,0.3\n2,0.9,0.1\n3,-0.2,0.8\n".write(toFile: dir + "/item_factors.csv", atomically: true, encoding: .utf8)
        let missing = try CLI.run(["import-factors", dir, "--output", scratch.path + "/x.model"])
        #expect(missing.status == 1 && missing.stderr.hasPrefix("error: ") && missing.stderr.contains("no factors for item 4"), "\(missing.stderr)")
        try items.write(toFile: dir + "/item_factors.csv", atomically: true, encoding: .utf8)
        try interactions.replacingOccurrences(of: "1,2,7.0", with: "1,2,8.0").write(toFile: dir + "/interactions.csv", atomically: true, encoding: .utf8)
        let changed = try CLI.run(["import-factors", dir, "--output", scratch.path + "/x.model"])
        #expect(changed.status == 1 && changed.stderr.contains("fingerprint"), "\(changed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/x.model"))
    }
}
