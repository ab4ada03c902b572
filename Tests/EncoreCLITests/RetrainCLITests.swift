// `encore retrain` on both stores, as a scheduler would run it: the Last.fm split's training plays
// imported, the split's test plays appended later as new listening, retrains that promote, keep,
// prune and roll back, the lock that lets one retrain run at a time, and a cancelled retrain that
// registers nothing. PostgreSQL uses the throwaway server of scripts/with-postgres.sh.
import Foundation
import Testing

@Suite(.serialized) struct RetrainCLITests {
    enum Kind: String, CaseIterable, Sendable { case sqlite, postgres }

    /// A new database of the kind and a way to run SQL in it with the database's own tool.
    static func database(_ kind: Kind, in scratch: Scratch) throws -> (url: String, sql: (String) throws -> Void) {
        switch kind {
        case .sqlite:
            let path = scratch.path + "/retrain.db"
            return (path, { statement in try Self.tool(["sqlite3", path, statement]) })
        case .postgres:
            let env = ProcessInfo.processInfo.environment
            guard let url = env["ENCORE_TEST_POSTGRES"], let port = env["ENCORE_TEST_POSTGRES_PORT"] else {
                throw CLIFailure("ENCORE_TEST_POSTGRES is not set: run the tests through scripts/with-postgres.sh (make test does)")
            }
            let name = "retrain_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
            let psql = ["psql", "-h", "127.0.0.1", "-p", port, "-U", "encore", "-q", "-v", "ON_ERROR_STOP=1"]
            try tool(psql + ["-d", "postgres", "-c", "CREATE DATABASE \(name)"])
            return (url.replacingOccurrences(of: "/postgres", with: "/\(name)"), { statement in try Self.tool(psql + ["-d", name, "-c", statement]) })
        }
    }

    static func tool(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CLIFailure("\(arguments.prefix(2).joined(separator: " ")) failed") }
    }

    struct CLIFailure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    func json(_ r: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        #expect(r.status == 0, "\(r.stderr)", sourceLocation: sourceLocation)
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], sourceLocation: sourceLocation)
    }

    func registry(_ db: String) throws -> [(id: Int, kind: String, status: String)] {
        let r = try CLI.run(["registry", "list", "--database", db, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let list = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
        return list.map { ($0["id"] as? Int ?? -1, $0["kind"] as? String ?? "", $0["status"] as? String ?? "") }
    }

    func append(_ db: String, _ file: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["db", "append", "--database", db, "--batch", "5000"]
        p.standardInput = FileHandle(forReadingAtPath: file)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test(arguments: Kind.allCases)
    func retrainPromotesKeepsPrunesRollsBackLocksAndCancels(_ kind: Kind) throws {
        let scratch = Scratch()
        let (db, sql) = try Self.database(kind, in: scratch)
        let split = CLI.shared + "/lastfm-2k/splits"
        #expect(try CLI.run(["import", split + "/train.tsv", "--database", db]).status == 0)
        let retrain = ["retrain", "--database", db, "--models", "als,item-knn", "--format", "json"]

        // No active version: every candidate is promoted.
        let first = try json(try CLI.run(retrain))
        #expect(first["status"] as? String == "promoted")
        let firstModels = first["models"] as? [[String: Any]] ?? []
        #expect(firstModels.count == 2 && firstModels.allSatisfy { $0["promoted"] as? Bool == true && $0["active"] == nil })
        #expect(try registry(db).map(\.status) == ["active", "active"])

        // Nothing discovered since: nothing to compare, nothing registered.
        let idle = try json(try CLI.run(retrain))
        #expect(idle["status"] as? String == "kept" && (idle["note"] as? String ?? "").contains("since the active versions"))
        #expect(try registry(db).count == 2)

        // New listening: the split's test plays arrive as events. A margin no model can clear keeps
        // the active versions; the candidates are registered with both scores.
        let test = scratch.write("new.tsv", try String(contentsOfFile: split + "/test.tsv", encoding: .utf8).split(separator: "\n").dropFirst().joined(separator: "\n") + "\n")
        try append(db, test)
        let kept = try json(try CLI.run(retrain + ["--margin", "1"]))
        #expect(kept["status"] as? String == "kept")
        for m in kept["models"] as? [[String: Any]] ?? [] {
            let (candidate, active) = (m["candidate"] as? Double ?? 0, m["active"] as? Double ?? 0)
            // Both rank the new discoveries well above chance (the split's NDCG@10 for these models is about 0.2).
            #expect(candidate > 0.1 && active > 0.1 && m["promoted"] as? Bool == false, "\(m)")
        }
        #expect(try registry(db).map(\.status) == ["active", "active", "candidate", "candidate"])

        // A margin every candidate clears promotes them; keeping 2 versions per model leaves the
        // active one and the one active before, and deletes the unpromoted candidate.
        let promoted = try json(try CLI.run(retrain + ["--margin", "-1", "--keep", "2"]))
        #expect(promoted["status"] as? String == "promoted")
        #expect(try registry(db).map(\.id) == [1, 2, 5, 6])
        #expect(try registry(db).map(\.status) == ["retired", "retired", "active", "active"])
        let back = try CLI.run(["registry", "rollback", "--model", "als", "--database", db])
        #expect(back.status == 0 && back.stdout.contains("model 1 (als v1) is active again"), "\(back.stdout)\(back.stderr)")
        #expect(try registry(db).map(\.status) == ["active", "retired", "retired", "active"])

        // One retrain at a time: a lock held by another (unexpired) refuses this one; an expired
        // lock (its holder died) does not.
        try sql("INSERT INTO store_locks (name, holder, acquired_at, expires_at) VALUES ('retrain', 'elsewhere', 1, 99999999999999)")
        let refused = try CLI.run(retrain)
        #expect(refused.status == 1 && refused.stderr.contains("another retrain is running"), "\(refused.stderr)")
        try sql("UPDATE store_locks SET expires_at = 2")
        let (modelsBefore, _) = (try registry(db), ())

        // Cancelled while it fits: nothing registered, the log says cancelled, the lock is free.
        let more = scratch.write("more.tsv", (0..<400).map { "\(2 + $0 % 50)\t\(90_000 + $0)\t3" }.joined(separator: "\n") + "\n")
        try append(db, more)
        let log = scratch.path + "/retrain.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["retrain", "--database", db, "--models", "als,item-knn"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("fitting the candidate") { usleep(20_000) }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let stderr = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(p.terminationStatus == 1 && stderr.contains("error: the retrain was cancelled; nothing was registered"), "\(stderr)")
        #expect(try registry(db).map(\.id) == modelsBefore.map(\.id))
        let history = try CLI.run(["registry", "retrains", "--database", db, "--format", "json"])
        let entries = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(entries.map { $0["status"] as? String ?? "" } == ["cancelled", "promoted", "kept", "kept", "promoted"], "\(history.stdout)")
        // The lock was released: the next retrain runs (and finds the new discoveries to compare on).
        let after = try json(try CLI.run(retrain + ["--margin", "1"]))
        #expect(after["status"] as? String == "kept" && (after["models"] as? [Any])?.count == 2)
    }
}
