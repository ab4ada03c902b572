import EncoreData
import Foundation
import Testing

/// A small generated dataset with a snapshot and a trained artifact, for the safety tests.
final class SafetyFixture {
    let scratch = Scratch()
    var path: String { scratch.path }
    let snapshot: String
    let artifact: String
    let user: String
    let song: String

    init() throws {
        snapshot = scratch.path + "/d.snapshot"
        artifact = scratch.path + "/m.model"
        var r = try CLI.run(["generate", "--users", "200", "--songs", "120", "--plays", "3000", "--seed", "5", "--output", scratch.path + "/raw"])
        guard r.status == 0 else { throw CLIFailure(r.stderr) }
        r = try CLI.run(["import", scratch.path + "/raw", "--output", snapshot])
        guard r.status == 0 else { throw CLIFailure(r.stderr) }
        r = try CLI.run(["train", "--model", "most-popular", "--data", snapshot, "--output", artifact])
        guard r.status == 0 else { throw CLIFailure(r.stderr) }
        let csv = try String(contentsOfFile: scratch.path + "/raw/count_data.csv", encoding: .utf8)
        user = String(csv.split(separator: "\n")[1].split(separator: ",")[1])
        song = String(csv.split(separator: "\n")[1].split(separator: ",")[2])
    }

    /// Name, size and modification time of every regular file under the scratch folder, except `excluded`.
    func fileState(excluding excluded: Set<String> = []) -> [String: String] {
        var state: [String: String] = [:]
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: path) else { return state }
        for case let name as String in walker where !excluded.contains(path + "/" + name) {
            let attrs = try? fm.attributesOfItem(atPath: path + "/" + name)
            guard attrs?[.type] as? FileAttributeType == .typeRegular else { continue }
            let size = (attrs?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            state[name] = "\(size) \(modified)"
        }
        return state
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension CLIResult {
    /// The `error:` lines of stderr (warnings are not errors).
    var errorLines: [String] { stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("error:") } }
    /// Exit 1 with exactly one error line that contains `text`.
    func refused(_ text: String) -> Bool { status == 1 && errorLines.count == 1 && errorLines[0].contains(text) }
}

@Suite(.serialized) struct SafetyCLITests {
    // MARK: data loss

    @Test func anOutputThatIsADirectoryIsRefusedAndKept() throws {
        let f = try SafetyFixture()
        try FileManager.default.createDirectory(atPath: f.path + "/d/sub", withIntermediateDirectories: true)
        _ = f.scratch.write("d/sub/keep", "keep me")
        for arguments in [["import", f.snapshot, "--output", f.path + "/d"], ["import", f.snapshot, "--output", f.path + "/d/"],
                          ["train", "--model", "most-popular", "--data", f.snapshot, "--output", f.path + "/d"],
                          ["train", "--model", "most-popular", "--data", f.snapshot, "--output", f.path + "/d/"],
                          ["eda", f.snapshot, "--report", f.path + "/d"]] {
            let r = try CLI.run(arguments)
            #expect(r.refused("is a directory"), "\(arguments): \(r.status) \(r.stderr)")
            #expect(try String(contentsOfFile: f.path + "/d/sub/keep", encoding: .utf8) == "keep me")
        }
    }

    @Test func anOutputThatIsAnInputIsRefused() throws {
        let f = try SafetyFixture()
        let tsv = f.scratch.write("f.tsv", "u1\ts1\t3\nu2\ts1\t1\nu2\ts2\t4\n")
        let before = try Data(contentsOf: URL(fileURLWithPath: tsv))
        try FileManager.default.linkItem(atPath: tsv, toPath: f.path + "/hard.tsv")
        for arguments in [["import", tsv, "--input-format", "triplets", "--output", tsv],
                          ["import", tsv, "--input-format", "triplets", "--output", f.path + "/./f.tsv"],
                          ["import", tsv, "--input-format", "triplets", "--output", f.path + "/hard.tsv"],
                          ["train", "--model", "most-popular", "--train", tsv, "--output", tsv],
                          ["import", f.path + "/raw", "--output", f.path + "/raw/song_data.csv"],
                          ["split", tsv, "--input-format", "triplets", "--method", "ratio", "--output", f.path, "--seed", "1"]] {
            // The split writes train.tsv and test.tsv beside f.tsv: only the import and train cases name an input.
            if arguments[0] == "split" { continue }
            let r = try CLI.run(arguments)
            #expect(r.refused("input"), "\(arguments): \(r.status) \(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: tsv)) == before)
        #expect(FileManager.default.fileExists(atPath: f.path + "/raw/song_data.csv"))
        let split = try CLI.run(["split", tsv, "--input-format", "triplets", "--method", "ratio", "--test-fraction", "0.5", "--output", f.path + "/s"])
        #expect(split.status == 0, "\(split.stderr)")
        let overInput = try CLI.run(["split", f.path + "/s/train.tsv", "--input-format", "delimited", "--delimiter", "tab", "--header",
                                     "--value-col", "2", "--output", f.path + "/s", "--test-fraction", "0.5"])
        #expect(overInput.refused("input"), "\(overInput.stderr)")
    }

    @Test func concurrentWritersAndKilledWritersLeaveOneWholeFile() throws {
        let f = try SafetyFixture()
        let out = f.path + "/same.snapshot"
        for _ in 0..<5 {
            let processes = try (0..<4).map { _ -> Process in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: CLI.binary)
                p.arguments = ["import", f.path + "/raw", "--output", out]
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                try p.run()
                return p
            }
            for p in processes {
                p.waitUntilExit()
                #expect(p.terminationStatus == 0)
            }
        }
        #expect(try CLI.run(["eda", out, "--format", "json"]).status == 0)
        // A writer killed with SIGKILL in the middle leaves a temporary file; the next write removes it.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sleep")
        p.arguments = ["0"]
        try p.run()
        p.waitUntilExit()
        _ = f.scratch.write("same.snapshot.tmp-\(p.processIdentifier)-1", "half a snapshot")
        #expect(try CLI.run(["import", f.path + "/raw", "--output", out]).status == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    // MARK: crashes become one error line

    @Test func hugeKAndSizesAreClampedOrRefused() throws {
        let f = try SafetyFixture()
        var r = try CLI.run(["recommend", "--model", f.artifact, "--user", f.user, "-k", "1000000000000", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let list = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Any]
        #expect((list?.count ?? 0) > 0 && (list?.count ?? 0) <= 120)
        r = try CLI.run(["eda", f.snapshot, "--top", "1000000000000", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["similar", f.snapshot, "--song", f.song, "-k", "1000000000000", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        for (model, field) in [("als", "factors"), ("svd", "n_factors"), ("svdpp", "n_factors"), ("bpr", "factors")] {
            for size in ["1000000000", "3000000"] {
                r = try CLI.run(["train", "--model", model, "--data", f.snapshot, "--config", "{\"\(field)\": \(size)}", "--output", f.path + "/big.model"])
                #expect(r.refused(field), "\(model) \(size): \(r.stderr)")
            }
        }
        r = try CLI.run(["train", "--model", "als", "--data", f.snapshot, "--config", "{\"iterations\": 1000000000}", "--output", f.path + "/big.model"])
        #expect(r.refused("iterations must be between 0 and 100000"), "\(r.stderr)")
        r = try CLI.run(["train", "--model", "clustering", "--data", f.snapshot, "--config", "{\"dimensions\": 0, \"user_clusters\": 100000000}",
                         "--output", f.path + "/big.model"])
        #expect(r.refused("needs about"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: f.path + "/big.model"))
    }

    @Test func aLineWithNoEndIsRefusedInBoundedMemory() throws {
        let f = try SafetyFixture()
        let zero = f.path + "/zero.tsv"
        try FileManager.default.createSymbolicLink(atPath: zero, withDestinationPath: "/dev/zero")
        for lenient in [false, true] {
            let r = try CLI.runLimited(["import", zero, "--input-format", "triplets", "--output", f.path + "/z.snapshot"] + (lenient ? ["--lenient"] : []),
                                       memoryKiB: 1_000_000)
            #expect(r.refused("zero.tsv:1"), "\(r.status) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: f.path + "/z.snapshot"))
    }

    @Test func filesThatPassTheChecksumButLieAreRefusedByEveryCommand() throws {
        let f = try SafetyFixture()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: f.snapshot)))
        let sections = 16 + Int(bytes[12]) + Int(bytes[13]) << 8 + Int(bytes[14]) << 16 + Int(bytes[15]) << 24
        var nonMonotonic = bytes
        withUnsafeBytes(of: Int64(1 << 40).littleEndian) { for (k, b) in $0.enumerated() { nonMonotonic[sections + 16 + k] = b } }
        Checksums.fix(&nonMonotonic)
        let bad = f.scratch.path + "/bad.snapshot"
        FileManager.default.createFile(atPath: bad, contents: Data(nonMonotonic))
        for arguments in [["eda", bad], ["train", "--model", "most-popular", "--data", bad, "--output", f.path + "/x.model"], ["import", bad, "--output", f.path + "/x.snapshot"]] {
            let r = try CLI.run(arguments)
            #expect(r.refused("not a valid Encore snapshot"), "\(arguments): \(r.stderr)")
        }
        withUnsafeBytes(of: (UInt64(1) << 63).littleEndian) { for (k, b) in $0.enumerated() { bytes[sections + k] = b } }
        Checksums.fix(&bytes)
        FileManager.default.createFile(atPath: bad, contents: Data(bytes))
        let r = try CLI.run(["eda", bad])
        #expect(r.refused("declares"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: f.path + "/x.model"))
    }

    @Test func negativeNumbersAreValuesThatMustBePositive() throws {
        let f = try SafetyFixture()
        var r = try CLI.run(["recommend", "--model", f.artifact, "--user", f.user, "-k", "-1"])
        #expect(r.refused("-k must be positive"), "\(r.stderr)")
        r = try CLI.run(["generate", "--users", "-5", "--output", f.path + "/g"])
        #expect(r.refused("--users must be positive, got -5"), "\(r.stderr)")
        r = try CLI.run(["eda", f.snapshot, "--top", "-3"])
        #expect(r.refused("--top must be positive"), "\(r.stderr)")
    }

    // MARK: silent garbage

    @Test func divergingFitsAreRefusedWithTheCause() throws {
        let f = try SafetyFixture()
        for (model, config) in [("svd", "{\"lr_all\": 1000}"), ("bpr", "{\"learning_rate\": 1e6}")] {
            let r = try CLI.run(["train", "--model", model, "--data", f.snapshot, "--config", config, "--output", f.path + "/nan.model"])
            #expect(r.refused("learning rate"), "\(model): \(r.stderr)")
            #expect(r.refused("NaN or infinite"), "\(model): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: f.path + "/nan.model"))
    }

    @Test func artifactsWithNaNAndTinyPlayCountsAreRefused() throws {
        let f = try SafetyFixture()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: f.artifact)))
        // The popularity array is the artifact's last section: poison its first value.
        let count = try JSONSerialization.jsonObject(with: Data(bytes[16..<(16 + Int(bytes[12]) + Int(bytes[13]) << 8)])) as? [String: Any]
        let items = ((count?["arrays"] as? [[String: Any]])?.first?["count"] as? Int) ?? 0
        let first = bytes.count - 8 - items * 4
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { for (k, b) in $0.enumerated() { bytes[first + k] = b } }
        Checksums.fix(&bytes)
        let bad = f.path + "/nan.model"
        FileManager.default.createFile(atPath: bad, contents: Data(bytes))
        var r = try CLI.run(["recommend", "--model", bad, "--user", f.user])
        #expect(r.refused("NaN or infinite"), "\(r.stderr)")
        let tiny = f.scratch.write("tiny.csv", "u1,s1,1e-50\nu2,s1,3\n")
        r = try CLI.run(["import", tiny, "--input-format", "delimited", "--output", f.path + "/t.snapshot"])
        #expect(r.refused("tiny.csv:1:7: field 'plays': the play count 1e-50 is too small"), "\(r.stderr)")
    }

    @Test func aCatalogueFromOtherDataIsRefused() throws {
        let f = try SafetyFixture()
        let other = try CLI.run(["generate", "--users", "150", "--songs", "120", "--plays", "2000", "--seed", "9", "--output", f.path + "/other"])
        #expect(other.status == 0)
        var r = try CLI.run(["recommend", "--model", f.artifact, "--user", f.user, "--catalog", f.path + "/other"])
        #expect(r.refused("other data"), "\(r.stderr)")
        r = try CLI.run(["recommend", "--model", f.artifact, "--user", f.user, "--catalog", f.path + "/raw"])
        #expect(r.status == 0, "\(r.stderr)")
        // A model trained on a split names its songs with the dataset the split came from.
        let split = try CLI.run(["split", f.snapshot, "--method", "per-user", "--output", f.path + "/split"])
        #expect(split.status == 0)
        r = try CLI.run(["train", "--model", "most-popular", "--train", f.path + "/split/train.tsv", "--output", f.path + "/split.model"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["recommend", "--model", f.path + "/split.model", "--user", f.user, "--catalog", f.snapshot, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    // MARK: clear messages

    @Test func wholeFileProblemsAndConfigurationTypesGetClearMessages() throws {
        let f = try SafetyFixture()
        try FileManager.default.createSymbolicLink(atPath: f.path + "/loop1", withDestinationPath: f.path + "/loop2")
        try FileManager.default.createSymbolicLink(atPath: f.path + "/loop2", withDestinationPath: f.path + "/loop1")
        try FileManager.default.createDirectory(atPath: f.path + "/adir", withIntermediateDirectories: true)
        let tsv = f.scratch.write("p.tsv", "u1\ts1\t3\n")
        let cases: [([String], String)] = [
            (["eda", f.path + "/loop1"], "symlink loop"),
            (["import", tsv, "--input-format", "triplets", "--songs", f.path + "/adir", "--output", f.path + "/o.snapshot"], "is a directory"),
            (["import", f.snapshot, "--input-format", "triplets", "--output", f.path + "/o.snapshot"], "this is an Encore snapshot file"),
            (["eda", f.artifact], "this is an Encore model artifact file"),
            (["import", f.snapshot, "--output", f.path + "/no/such/folder/o.snapshot"], "cannot write"),
            (["train", "--model", "als", "--data", f.snapshot, "--config", "{\"factors\": 2.5}", "--output", f.path + "/o.model"],
             "field 'factors' must be an integer"),
            (["train", "--model", "als", "--data", f.snapshot, "--config", "{\"factors\": 1e30}", "--output", f.path + "/o.model"],
             "field 'factors' must be an integer"),
            (["train", "--model", "als", "--data", f.snapshot, "--config", "{\"factors\": 8, \"factors\": 16}", "--output", f.path + "/o.model"],
             "names the field 'factors' twice"),
            (["train", "--model", "als", "--data", f.snapshot, "--config", "", "--output", f.path + "/o.model"], "is empty"),
            (["recommend", "--model", f.path + "/none.model", "--user", "x"], "no such file"),
        ]
        for (arguments, text) in cases {
            let r = try CLI.run(arguments)
            #expect(r.refused(text), "\(arguments): \(r.stderr)")
            #expect(!r.stderr.contains("Error: ") && !r.stderr.contains("cannot be read (cannot write"), "\(r.stderr)")
        }
        let extra = f.scratch.write("extra.csv", "u1,s1,3,x\nu2,s2,1\n")
        let r = try CLI.run(["import", extra, "--input-format", "delimited", "--output", f.path + "/e.snapshot"])
        #expect(r.status == 0 && r.stderr.contains("warning: \(extra): 1 rows have more than 3 fields"), "\(r.stderr)")
    }

    @Test func tabSeparatedFormatsKeepQuotesAsTheREADMESays() throws {
        let f = try SafetyFixture()
        let tsv = f.scratch.write("q.tsv", "u1\t\"quoted song\"\t3\nu2\ts\"2\t1\n")
        let r = try CLI.run(["import", tsv, "--input-format", "triplets", "--output", f.path + "/q.snapshot"])
        #expect(r.status == 0, "\(r.stderr)")
        let d = try Snapshot.read(path: f.path + "/q.snapshot")
        #expect(d.interactions.items.ids == ["\"quoted song\"", "s\"2"])
    }

    // MARK: fuzzing

    /// Seeded random damage to a snapshot, an artifact and a CSV: every run ends in exit 0, or exit 1
    /// with one `error:` line; never a signal, never more than 2 GiB of address space, and no file
    /// but the named output changes. Bounded to about 40 seconds.
    @Test func fuzzedInputsNeverCrash() throws {
        let f = try SafetyFixture()
        let csv = try Data(contentsOf: URL(fileURLWithPath: f.path + "/raw/count_data.csv")).prefix(6000)
        let knn = try CLI.run(["train", "--model", "item-knn", "--data", f.snapshot, "--output", f.path + "/knn.model"])
        #expect(knn.status == 0, "\(knn.stderr)")
        let originals: [(name: String, bytes: [UInt8], binary: Bool)] = [
            ("fuzz.snapshot", [UInt8](try Data(contentsOf: URL(fileURLWithPath: f.snapshot))), true),
            ("fuzz.model", [UInt8](try Data(contentsOf: URL(fileURLWithPath: f.artifact))), true),
            ("count_data.csv", [UInt8](csv), false),
            ("fuzz-knn.model", [UInt8](try Data(contentsOf: URL(fileURLWithPath: f.path + "/knn.model"))), true),
        ]
        try FileManager.default.createDirectory(atPath: f.path + "/fuzz", withIntermediateDirectories: true)
        var rng = SplitMix(seed: 20261129)
        let start = Date()
        var runs = 0, refusals = 0
        while Date().timeIntervalSince(start) < 40 && runs < 600 {
            let kind = runs % originals.count
            var bytes = originals[kind].bytes
            Mutation.apply(&bytes, binary: originals[kind].binary, rng: &rng)
            let input = f.path + "/fuzz/" + originals[kind].name
            FileManager.default.createFile(atPath: input, contents: Data(bytes))
            let output = f.path + "/fuzz/out.snapshot"
            let arguments: [String]
            switch kind {
            case 0: arguments = ["eda", input, "--format", "json"]
            case 1, 3: arguments = ["recommend", "--model", input, "--user", f.user, "-k", "5"]
            default: arguments = ["import", input, "--input-format", "course", "--output", output]
            }
            let before = f.fileState(excluding: [output])
            let r = try CLI.runLimited(arguments, memoryKiB: 2_000_000)
            #expect(!r.signalled, "\(arguments) died of signal \(r.status); input kept at \(input)")
            #expect(r.status == 0 || (r.status == 1 && r.errorLines.count == 1), "\(arguments): status \(r.status), stderr \(r.stderr.prefix(400))")
            let after = f.fileState(excluding: [output])
            let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
            #expect(changed.isEmpty, "\(arguments) changed files it does not own: \(changed)")
            if r.status != 0 || r.signalled {
                refusals += 1
                if r.signalled || r.status != 1 { break }
            }
            runs += 1
        }
        #expect(runs >= 60, "only \(runs) fuzz runs in the time budget")
        #expect(refusals > 0, "the mutations never produced a bad input")
    }
}

enum Checksums {
    /// Rewrites the trailing 64-bit checksum of an Encore binary file.
    static func fix(_ bytes: inout [UInt8]) {
        var sum = Checksum64()
        bytes.withUnsafeBytes { sum.add(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 8)])) }
        withUnsafeBytes(of: sum.value.littleEndian) { for (k, b) in $0.enumerated() { bytes[bytes.count - 8 + k] = b } }
    }
}

/// A tiny seeded generator for the fuzz test (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}

/// Byte-level damage: truncation, flipped bytes, rewritten lengths and counts (with the checksum
/// fixed, so the structure checks are what stands), and for text, hostile fields.
enum Mutation {
    static func apply(_ bytes: inout [UInt8], binary: Bool, rng: inout SplitMix) {
        switch rng.below(binary ? 5 : 4) {
        case 0:
            bytes = Array(bytes.prefix(rng.below(bytes.count)))
        case 1:
            for _ in 0..<(1 + rng.below(8)) where !bytes.isEmpty { bytes[rng.below(bytes.count)] ^= UInt8(1 + rng.below(255)) }
        case 2:
            guard bytes.count > 16 else { return }
            let at = binary ? 16 + rng.below(bytes.count - 24) : rng.below(bytes.count)
            let values: [UInt64] = [UInt64.max, 1 << 63, UInt64(bytes.count), 0, UInt64(rng.below(1 << 20)), UInt64(bitPattern: -1 << 20)]
            let v = values[rng.below(values.count)]
            withUnsafeBytes(of: v.littleEndian) { for (k, b) in $0.enumerated() where at + k < bytes.count { bytes[at + k] = b } }
        case 3:
            if binary {
                // A 4-byte value: a float that is NaN, negative or zero, or a wild index.
                guard bytes.count > 24 else { return }
                let at = 16 + rng.below(bytes.count - 28)
                let values: [UInt32] = [Float.nan.bitPattern, (-3 as Float).bitPattern, 0, UInt32.max, 1 << 30, Float.infinity.bitPattern]
                withUnsafeBytes(of: values[rng.below(values.count)].littleEndian) { for (k, b) in $0.enumerated() { bytes[at + k] = b } }
            } else {
                let hostile = ["\"", "\u{0}", "\n\n", ",,,,", "-5", "1e-50", "99999999999999999999", "nan", "\"unterminated", "\r", "\u{FEFF}"]
                let text = Array(hostile[rng.below(hostile.count)].utf8)
                bytes.insert(contentsOf: text, at: rng.below(bytes.count + 1))
            }
        default:
            break
        }
        if binary && bytes.count >= 24 && rng.below(4) != 0 { Checksums.fix(&bytes) }
    }
}
