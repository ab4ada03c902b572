import Foundation
import Testing

/// Runs the built `encore` binary and captures its exit status and output.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The process died of a signal (`status` is then the signal number).
    var signalled = false
}

enum CLI {
    /// The `encore` binary beside this test bundle (same build folder), or in .build/release.
    static var binary: String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var candidates = [exe.deletingLastPathComponent().appendingPathComponent("encore").path]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates += [root.appendingPathComponent(".build/release/encore").path, root.appendingPathComponent(".build/debug/encore").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    static var shared: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data").path
    }

    /// Runs with the address space limited to `memoryKiB` (ulimit -v), so runaway allocation fails fast.
    static func runLimited(_ arguments: [String], memoryKiB: Int) throws -> CLIResult {
        try run(arguments, executable: "/bin/sh", prefix: ["-c", "ulimit -v \(memoryKiB); exec \"$0\" \"$@\"", binary])
    }

    static func run(_ arguments: [String], executable: String? = nil, prefix: [String] = [], environment: [String: String] = [:]) throws -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable ?? binary)
        p.arguments = prefix + arguments
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self),
                         signalled: p.terminationReason == .uncaughtSignal)
    }
}

final class Scratch {
    let path = NSTemporaryDirectory() + "encore-cli-" + UUID().uuidString
    init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func write(_ name: String, _ text: String) -> String {
        let p = path + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }
}

@Suite(.serialized) struct CLITests {
    @Test func binaryIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: CLI.binary), "build the encore binary first (make test does)")
    }

    @Test func helpExitsZero() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("generate") && r.stdout.contains("import") && r.stdout.contains("eda") && r.stdout.contains("split"))
    }

    @Test func generateImportEdaSplitPipeline() throws {
        let s = Scratch()
        var r = try CLI.run(["generate", "--users", "500", "--songs", "300", "--plays", "8000", "--seed", "3", "--output", s.path + "/raw"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["import", s.path + "/raw", "--output", s.path + "/d.snapshot", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(summary?["interactions"] as? Int == 8_000)
        r = try CLI.run(["eda", s.path + "/d.snapshot", "--format", "json", "--report", s.path + "/eda.html"])
        #expect(r.status == 0, "\(r.stderr)")
        let eda = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        for key in ["users", "items", "interactions", "total_plays", "sparsity", "user_total_plays", "user_unique_songs",
                    "user_average_plays_per_song", "song_average_plays_per_listener", "song_listeners", "song_total_plays"] {
            #expect(eda?[key] != nil, "missing \(key)")
        }
        #expect(eda?["users"] as? Int == 500)
        let html = try String(contentsOfFile: s.path + "/eda.html", encoding: .utf8)
        #expect(html.contains("<svg") && !html.contains("<script"))
        r = try CLI.run(["eda", s.path + "/d.snapshot", "--report-filters"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("users with at least 80 total plays"))
        r = try CLI.run(["split", s.path + "/d.snapshot", "--method", "per-user", "--test-fraction", "0.2", "--seed", "1", "--output", s.path + "/split"])
        #expect(r.status == 0, "\(r.stderr)")
        let train = try String(contentsOfFile: s.path + "/split/train.tsv", encoding: .utf8)
        #expect(train.hasPrefix("user\titem\tplays\n"))
        r = try CLI.run(["split", "--train", s.path + "/split/train.tsv", "--test", s.path + "/split/test.tsv", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["split", s.path + "/d.snapshot", "--method", "kfold", "--folds", "3", "--output", s.path + "/folds"])
        #expect(r.status == 0)
        #expect(FileManager.default.fileExists(atPath: s.path + "/folds/fold-3/test.tsv"))
    }

    @Test func lastfmImportAndSharedSplit() throws {
        let s = Scratch()
        var r = try CLI.run(["import", CLI.shared + "/lastfm-2k", "--output", s.path + "/l.snapshot", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"interactions\" : 92834"))
        r = try CLI.run(["split", "--train", CLI.shared + "/lastfm-2k/splits/train.tsv", "--test", CLI.shared + "/lastfm-2k/splits/test.tsv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("74,265") && r.stdout.contains("18,569") && r.stdout.contains("2,415"))
    }

    /// Every command: a clear `error:` line and exit status 1, never a crash.
    @Test(arguments: [
        ["import", "/nonexistent/plays.csv", "--output", "/tmp/x.snapshot"],
        ["eda", "/nonexistent/plays.csv"],
        ["split", "/nonexistent/plays.csv", "--output", "/tmp/x"],
        ["import", "EMPTY", "--output", "/tmp/x.snapshot", "--input-format", "triplets"],
        ["eda", "EMPTY", "--input-format", "triplets"],
        ["split", "EMPTY", "--input-format", "triplets", "--output", "/tmp/x"],
        ["import", "COLUMNS", "--output", "/tmp/x.snapshot", "--input-format", "triplets"],
        ["eda", "COLUMNS", "--input-format", "triplets"],
        ["split", "COLUMNS", "--input-format", "triplets", "--output", "/tmp/x"],
        ["import", "COLUMNS", "--output", "/tmp/x.snapshot", "--input-format", "parquet"],
        ["eda", "COLUMNS", "--input-format", "parquet"],
        ["split", "COLUMNS", "--input-format", "parquet", "--output", "/tmp/x"],
        ["import", "UNKNOWN", "--output", "/tmp/x.snapshot"],
        ["eda", "CORRUPT"],
        ["generate", "--users", "0", "--output", "/tmp/x"],
        ["generate", "--users", "10", "--plays", "5", "--output", "/tmp/x"],
        ["split", "COLUMNS", "--method", "sideways", "--output", "/tmp/x"],
        ["import", "COLUMNS", "--output", "/tmp/x.snapshot", "--input-format", "delimited", "--delimiter", "xx"],
        ["eda", "--bogus-flag", "x"],
        ["split", "--train", "/nonexistent/a.tsv", "--test", "/nonexistent/b.tsv"],
    ])
    func badInputGetsAClearMessageAndStatusOne(_ arguments: [String]) throws {
        let s = Scratch()
        let files = [
            "EMPTY": s.write("empty.txt", ""),
            "COLUMNS": s.write("columns.txt", "u1\tS1\t3\nu2\tS2\n"),
            "UNKNOWN": s.write("unknown.txt", "hello world\n"),
            "CORRUPT": s.write("corrupt.snapshot", "ENCSNAP\u{0}garbage"),
        ]
        let r = try CLI.run(arguments.map { files[$0] ?? $0 })
        #expect(r.status == 1, "\(arguments): status \(r.status), stderr \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: "), "\(arguments): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count <= 3, "\(arguments): \(r.stderr)")
    }

    @Test func strictErrorNamesFileLineColumnAndField() throws {
        let s = Scratch()
        let p = s.write("count_data.csv", ",user_id,song_id,play_count\n0,u,s,1\n1,u,t,-2\n")
        var r = try CLI.run(["import", p, "--output", s.path + "/x.snapshot"])
        #expect(r.status == 1)
        #expect(r.stderr == "error: \(p):3:7: field 'play_count': the play count -2 is negative\n")
        #expect(!FileManager.default.fileExists(atPath: s.path + "/x.snapshot"))
        r = try CLI.run(["import", p, "--lenient", "--output", s.path + "/x.snapshot"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("skipped: negative_value"))
    }

    /// Files Encore writes read back: the `user item plays` TSV of `encore split` (and the shared
    /// splits) is recognised by import, eda and train; input formats are `--input-format` and
    /// outputs `--format` on every command, markdown included; JSON keeps its slashes; `train`
    /// with `--split` trains on the split's train part and says so.
    @Test func splitFilesReadBackAndFormatsAreNamedAlike() throws {
        let s = Scratch()
        let train = CLI.shared + "/lastfm-2k/splits/train.tsv"
        var r = try CLI.run(["import", train, "--output", s.path + "/t.snapshot", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"format\" : \"split\"") && r.stdout.contains("\"interactions\" : 74265"))
        #expect(r.stdout.contains(s.path + "/t.snapshot"), "slashes are not escaped in JSON")
        r = try CLI.run(["eda", train, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["import", train, "--input-format", "split", "--output", s.path + "/u.snapshot", "--format", "markdown"])
        #expect(r.status == 0 && r.stdout.contains("| format | split |") && r.stdout.contains("|---|---|"))
        // An unknown file's advice names the option that exists.
        let odd = s.write("odd.txt", "a b c d\n")
        r = try CLI.run(["eda", odd])
        #expect(r.status == 1 && r.stderr.contains("--input-format"))
        r = try CLI.run(["train", "--data", s.path + "/t.snapshot", "--model", "most-popular", "--split", "per-user", "--output", s.path + "/m.model", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"trained_on\" : \"the train part of a per-user split"))
        #expect(r.stdout.contains("\"interactions\" : 59") && !r.stdout.contains("\"interactions\" : 74265"), "trained on the split's train part")
        r = try CLI.run(["train", "--data", s.path + "/t.snapshot", "--model", "most-popular", "--output", s.path + "/all.model", "--format", "json"])
        #expect(r.stdout.contains("\"trained_on\" : \"all of ") && r.stdout.contains("\"interactions\" : 74265"))
        r = try CLI.run(["train", "--train", train, "--model", "most-popular", "--test-fraction", "0.3", "--output", s.path + "/x.model"])
        #expect(r.status == 1 && r.stderr.contains("--split and --test-fraction split --data"))
        r = try CLI.run(["train", "--data", s.path + "/t.snapshot", "--model", "most-popular", "--test-fraction", "1.5", "--output", s.path + "/x.model"])
        #expect(r.status == 1 && r.stderr.contains("between 0 and 1"))
        // evaluate says which data and which value scale it used.
        r = try CLI.run(["evaluate", "--data", s.path + "/t.snapshot", "--protocol", "seed", "--model", "baseline"])
        #expect(r.status == 0 && r.stdout.contains("data: a ratio split of " + s.path + "/t.snapshot (test fraction 0.2, seed 42)"), "\(r.stderr)")
        #expect(r.stdout.contains("values: log1p(plays) for rating models"))
        // tune --metric rmse is the seed protocol's metric.
        r = try CLI.run(["tune", "--model", "baseline", "--train", train, "--metric", "rmse", "--grid", "{\"reg_i\": [10]}", "--format", "json"])
        #expect(r.status == 0 && r.stdout.contains("\"protocol\" : \"seed\""), "\(r.stderr)")
        r = try CLI.run(["tune", "--model", "baseline", "--train", train, "--metric", "rmse", "--protocol", "ranking", "--grid", "{\"reg_i\": [10]}"])
        #expect(r.status == 1 && r.stderr.contains("use --protocol seed"))
        // A transformer without its weights says in its column that TF-IDF stood in, and the
        // advice names an option evaluate has.
        r = try CLI.run(["evaluate", "--train", train, "--test", CLI.shared + "/lastfm-2k/splits/test.tsv", "--catalog", CLI.shared + "/lastfm-2k",
                         "--model", "transformer{\"model_directory\": \"" + s.path + "/no-weights\"}", "--format", "markdown"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("(TF-IDF stand-in)") && r.stderr.contains("--config '{\"model_directory\": \"DIR\"}'"))
        // An option given twice is an error, not a silent last-one-wins.
        for repeated in [["recommend", "--model", s.path + "/m.model", "--user", "2", "--user", "3"], ["eda", train, "-k", "3", "-k", "4"],
                         ["eda", train, "--format=json", "--format", "table"]] {
            r = try CLI.run(repeated)
            #expect(r.status == 1 && r.stderr.hasPrefix("error: ") && r.stderr.contains("is given more than once") && r.stderr.split(separator: "\n").count == 1)
        }
        r = try CLI.run(["recommend", "--model", s.path + "/m.model", "--user", "2", "-k", "-1"])
        #expect(r.status == 1 && r.stderr.contains("must be positive"))
    }

    /// The sweep and the headline give the same numbers at the same k (songs are clustered with
    /// their own seed in both), and the report draws silhouette and Davies–Bouldin apart.
    @Test func clustersSweepAgreesWithTheHeadline() throws {
        let s = Scratch()
        var r = try CLI.run(["generate", "--users", "300", "--songs", "150", "--plays", "6000", "--output", s.path + "/raw"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["clusters", s.path + "/raw", "--user-clusters", "3", "--item-clusters", "4", "--n-init", "2", "--dimensions", "8",
                         "--sweep", "3..4", "--report", s.path + "/c.html", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let items = try #require(json["items"] as? [String: Any]), users = try #require(json["users"] as? [String: Any])
        let sweep = try #require(json["sweep"] as? [String: [[String: Any]]])
        let itemAt4 = try #require(sweep["items"]?.first { $0["k"] as? Int == 4 })
        let userAt3 = try #require(sweep["users"]?.first { $0["k"] as? Int == 3 })
        #expect(itemAt4["silhouette"] as? Double == items["silhouette"] as? Double)
        #expect(userAt3["silhouette"] as? Double == users["silhouette"] as? Double)
        let html = try String(contentsOfFile: s.path + "/c.html", encoding: .utf8)
        #expect(html.contains("Silhouette (songs; higher is better)") && html.contains("Davies–Bouldin (songs; lower is better)"))
    }

    /// "A new song arrives": the listeners closest to a catalogue song (its listeners left out) or
    /// to a song known only by its text, each with the played song closest to it.
    @Test func audienceForASongAndForANewSongsText() throws {
        let lastfm = CLI.shared + "/lastfm-2k"
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let dir = root + "/.models/all-MiniLM-L6-v2"
        var r = try CLI.run(["audience", lastfm, "--song", "89", "-k", "5", "--model-dir", dir, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 5)
        let scores = rows.compactMap { $0["score"] as? Double }
        #expect(scores.count == 5 && zip(scores, scores.dropFirst()).allSatisfy { $0 >= $1 })
        // Nobody who played Lady Gaga (artist 89) is in the audience.
        let lines = try String(contentsOfFile: lastfm + "/user_artists.dat", encoding: .utf8).split(separator: "\n").dropFirst()
        var players = Set<String>()
        for line in lines {
            let fields = line.split(separator: "\t")
            if fields.count > 1, fields[1] == "89" { players.insert(String(fields[0])) }
        }
        #expect(rows.allSatisfy { !players.contains($0["user"] as? String ?? "") })
        r = try CLI.run(["audience", lastfm, "--text", "Night Hymns / Frostveil / black metal, metal", "-k", "3", "--model-dir", dir])
        #expect(r.status == 0 && r.stdout.contains("closest played song"), "\(r.stderr)")
        r = try CLI.run(["audience", lastfm, "--song", "no-such-song", "--model-dir", dir])
        #expect(r.status == 1 && r.stderr.contains("unknown song") && r.stderr.contains("--text"))
        r = try CLI.run(["audience", lastfm, "--song", "89", "--text", "x", "--model-dir", dir])
        #expect(r.status == 1 && r.stderr.contains("one of them"))
    }

    /// A model file carries its catalogue's fingerprint: the same catalogue names its songs, a
    /// changed one is refused with one error line.
    @Test func modelFilesRefuseAnotherCatalogue() throws {
        let s = Scratch()
        let lastfm = CLI.shared + "/lastfm-2k", split = lastfm + "/splits"
        var r = try CLI.run(["train", "--train", split + "/train.tsv", "--catalog", lastfm, "--model", "most-popular", "--output", s.path + "/m.model"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["recommend", "--model", s.path + "/m.model", "--user", "2", "--catalog", lastfm, "-k", "3"])
        #expect(r.status == 0 && r.stdout.contains("Britney Spears"), "\(r.stderr)")
        // The same plays with one artist renamed.
        let copy = s.path + "/lastfm"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for f in ["user_artists.dat", "tags.dat", "user_taggedartists.dat"] { try FileManager.default.copyItem(atPath: lastfm + "/" + f, toPath: copy + "/" + f) }
        let artists = try String(contentsOfFile: lastfm + "/artists.dat", encoding: .utf8)
        try artists.replacingOccurrences(of: "\tBritney Spears\t", with: "\tBritney S.\t").write(toFile: copy + "/artists.dat", atomically: true, encoding: .utf8)
        r = try CLI.run(["recommend", "--model", s.path + "/m.model", "--user", "2", "--catalog", copy, "-k", "3"])
        #expect(r.status == 1 && r.stderr.contains("differs from the one the model was trained with") && r.stderr.split(separator: "\n").count == 1)
    }

    /// A song in the catalogue that nobody played is placed by its text (--by content); TF-IDF,
    /// which has vectors only for played songs, says so; an id in neither is an error naming --text.
    @Test func similarPlacesACatalogueSongNobodyPlayed() throws {
        let s = Scratch()
        var r = try CLI.run(["generate", "--users", "50", "--songs", "300", "--plays", "400", "--output", s.path + "/raw"])
        #expect(r.status == 0, "\(r.stderr)")
        let played = Set(try String(contentsOfFile: s.path + "/raw/count_data.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { String($0.split(separator: ",")[2]) })
        let songs = try String(contentsOfFile: s.path + "/raw/song_data.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let unplayed = try #require(songs.map { String($0.split(separator: ",")[0]) }.first { !played.contains($0) })
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        r = try CLI.run(["similar", s.path + "/raw", "--song", unplayed, "--by", "content", "-k", "3", "--model-dir", root + "/.models/all-MiniLM-L6-v2", "--format", "json"],
                        environment: ["XDG_CACHE_HOME": s.path + "/cache"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 3 && rows.allSatisfy { played.contains($0["item"] as? String ?? "") })
        r = try CLI.run(["similar", s.path + "/raw", "--song", unplayed])
        #expect(r.status == 1 && r.stderr.contains("nobody played it") && r.stderr.contains("--by content"))
        r = try CLI.run(["similar", s.path + "/raw", "--song", "NO-SUCH-SONG", "--by", "content"])
        #expect(r.status == 1 && r.stderr.contains("neither played nor in the catalogue"))
    }
}
