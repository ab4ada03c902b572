// The database commands as a user meets them: each bad input is one `error:` line, status 1, and
// nothing stored changes. PostgreSQL cases use the throwaway server of scripts/with-postgres.sh.
import Foundation
import Testing

@Suite(.serialized) struct DatabaseCLITests {
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIResult {
        try CLI.run(arguments, environment: environment)
    }

    func expectOneErrorLine(_ r: CLIResult, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 1, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: ") && !lines[0].hasPrefix("error: Error"), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(text), "\(r.stderr)", sourceLocation: sourceLocation)
    }

    func status(_ db: String) throws -> String {
        let r = try run(["db", "status", "--database", db, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        // The file's size moves with SQLite's own bookkeeping; the counts are what must not.
        return r.stdout.split(separator: "\n").filter { !$0.contains("\"bytes\"") }.joined(separator: "\n")
    }

    @Test func badDatabasesAndURLs() throws {
        let scratch = Scratch()
        expectOneErrorLine(try run(["db", "status", "--database", "postgres://"]), containing: "not a valid PostgreSQL URL")
        expectOneErrorLine(try run(["db", "status", "--database", "postgres://me@host"]), containing: "names no database")
        expectOneErrorLine(try run(["db", "status", "--database", "postgres://encore@127.0.0.1:1/x"]), containing: "connection refused")
        let text = scratch.write("plays.tsv", "u\ts\t1\n")
        expectOneErrorLine(try run(["db", "init", "--database", text]), containing: "is not a SQLite database")
        #expect(try String(contentsOfFile: text, encoding: .utf8) == "u\ts\t1\n")
        expectOneErrorLine(try run(["db", "init", "--database", scratch.path + "/missing/x.db"]), containing: "does not exist")
        // A database from a newer Encore.
        let db = scratch.path + "/newer.db"
        #expect(try run(["db", "init", "--database", db]).status == 0)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["sqlite3", db, "UPDATE encore_schema SET version = 42"]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0, "the sqlite3 tool is needed (make deps installs it)")
        for command in [["db", "status"], ["db", "migrate"], ["import", CLI.shared + "/lastfm-2k"], ["registry", "list"]] {
            expectOneErrorLine(try run(command + ["--database", db]), containing: "newer Encore (schema version 42")
        }
    }

    @Test func wrongPostgresPassword() throws {
        let url = try #require(ProcessInfo.processInfo.environment["ENCORE_TEST_POSTGRES"], "run through scripts/with-postgres.sh (make test does)")
        expectOneErrorLine(try run(["db", "status", "--database", url], environment: ["PGPASSWORD": "wrong"]), containing: "password authentication failed")
        #expect(try run(["db", "status", "--database", url]).status == 0)
    }

    @Test func importsAreAllOrNothingAndTheRegistryRefusesWhatDoesNotFit() throws {
        let scratch = Scratch()
        let db = scratch.path + "/encore.db"
        var lines = (0..<200).map { "u\($0 % 9)\ts\($0 % 31)\t\($0 % 5 + 1)" }
        let good = scratch.write("good.tsv", (["user\tsong\tplays"] + lines).joined(separator: "\n") + "\n")
        lines.append("u1\ts2\tnot-a-number")
        let bad = scratch.write("bad.tsv", (["user\tsong\tplays"] + lines).joined(separator: "\n") + "\n")
        #expect(try run(["db", "init", "--database", db]).status == 0)
        let empty = try status(db)
        expectOneErrorLine(try run(["import", bad, "--input-format", "delimited", "--delimiter", "tab", "--header", "--database", db]), containing: ":202:")
        #expect(try status(db) == empty, "a bad last line leaves nothing")
        let first = try run(["import", good, "--input-format", "delimited", "--delimiter", "tab", "--header", "--database", db, "--format", "json"])
        #expect(first.status == 0, "\(first.stderr)")
        let once = try status(db)
        #expect(once.contains("\"events\" : 200") || once.contains("\"events\":200"), "\(once)")
        expectOneErrorLine(try run(["import", good, "--input-format", "delimited", "--delimiter", "tab", "--header", "--database", db]), containing: "imported before")
        #expect(try status(db) == once)
        #expect(try run(["import", good, "--input-format", "delimited", "--delimiter", "tab", "--header", "--database", db, "--mode", "replace"]).status == 0)
        #expect(try status(db).contains("\"events\" : 200"))
        // The registry: train, activate, and refuse what does not exist or does not fit.
        let trained = try run(["train", "--database", db, "--model", "most-popular", "--format", "json"])
        #expect(trained.status == 0, "\(trained.stderr)")
        expectOneErrorLine(try run(["registry", "show", "999", "--database", db]), containing: "no model with id 999")
        expectOneErrorLine(try run(["registry", "activate", "999", "--database", db]), containing: "no model with id 999")
        expectOneErrorLine(try run(["registry", "rollback", "--database", db]), containing: "no active model")
        let other = scratch.write("other.tsv", "user\tsong\tplays\nx\ty\t3\n")
        #expect(try run(["import", other, "--input-format", "delimited", "--delimiter", "tab", "--header", "--database", db, "--mode", "replace"]).status == 0)
        expectOneErrorLine(try run(["registry", "activate", "1", "--database", db]), containing: "trained on other data")
        let list = try run(["registry", "list", "--database", db, "--format", "json"])
        #expect(list.status == 0 && list.stdout.contains("\"status\" : \"candidate\""), "\(list.stdout)")
        expectOneErrorLine(try run(["train", "--database", db, "--model", "nope"]), containing: "unknown model")
        expectOneErrorLine(try run(["import", good, "--database", db, "--output", scratch.path + "/x.snapshot"]), containing: "not both")
    }

    @Test func readingCommandsTakeADatabaseAndKeysAreManaged() throws {
        let scratch = Scratch()
        let db = scratch.path + "/read.db"
        #expect(try run(["import", CLI.shared + "/lastfm-2k", "--database", db]).status == 0)
        let eda = try run(["eda", "--database", db, "--format", "json"])
        #expect(eda.status == 0, "\(eda.stderr)")
        #expect(eda.stdout.contains("\"users\" : 1892") || eda.stdout.contains("1892"), "\(eda.stdout.prefix(300))")
        #expect(try run(["eda", db, "--format", "json"]).stdout == eda.stdout, "a database path works as the dataset too")
        let evaluation = try run(["evaluate", "--database", db, "--split", "per-user", "--model", "most-popular", "--format", "json"])
        #expect(evaluation.status == 0 && evaluation.stdout.contains("ndcg_at_10"), "\(evaluation.stderr)")
        expectOneErrorLine(try run(["evaluate", "--database", db, "--data", db, "--model", "most-popular"]), containing: "not both")
        expectOneErrorLine(try run(["eda"]), containing: "--database")
        // API keys: the secret is printed once, the list never shows it, a revoked key is marked.
        let created = try run(["keys", "create", "--role", "write", "--database", db, "--format", "json"])
        #expect(created.status == 0, "\(created.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any]
        let secret = try #require(object?["secret"] as? String), id = try #require(object?["id"] as? String)
        #expect(secret.hasPrefix("enc_\(id)_"))
        let list = try run(["keys", "list", "--database", db, "--format", "json"])
        #expect(list.status == 0 && list.stdout.contains(id) && !list.stdout.contains(secret))
        #expect(try run(["keys", "revoke", id, "--database", db]).status == 0)
        #expect(try run(["keys", "list", "--database", db, "--format", "json"]).stdout.contains("\"revoked\" : true"))
        expectOneErrorLine(try run(["keys", "revoke", "nope", "--database", db]), containing: "no API key nope")
        expectOneErrorLine(try run(["keys", "create", "--role", "root", "--database", db]), containing: "root")
    }

    @Test func appendAcknowledgesDurableBatches() throws {
        let scratch = Scratch()
        let db = scratch.path + "/events.db"
        let input = scratch.write("events.tsv", "ann\ts1\t2\nann\ts2\nbob\ts1\t0\tskip\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["db", "append", "--database", db, "--batch", "2"]
        p.standardInput = FileHandle(forReadingAtPath: input)
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(text == "ok 2\nok 3\n")
        #expect(try status(db).contains("\"events\" : 3"))
        let bad = scratch.write("bad.tsv", "ann\ts1\tlots\n")
        let q = Process()
        q.executableURL = URL(fileURLWithPath: CLI.binary)
        q.arguments = ["db", "append", "--database", db]
        q.standardInput = FileHandle(forReadingAtPath: bad)
        q.standardError = FileHandle.nullDevice
        try q.run()
        q.waitUntilExit()
        #expect(q.terminationStatus == 1)
        #expect(try status(db).contains("\"events\" : 3"))
    }
}
