import EncoreMath
import Foundation
import Testing

@testable import EncoreData

extension TempDirectory {
    var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    func read(_ name: String) -> String? { try? String(contentsOfFile: path + "/" + name, encoding: .utf8) }
}

@Suite struct AtomicFileTests {
    @Test func writesAndReplacesWholeFiles() throws {
        let t = TempDirectory()
        let out = t.path + "/out.txt"
        try AtomicFile.write(text: "first", to: out)
        try AtomicFile.write(text: "second", to: out)
        #expect(t.read("out.txt") == "second")
        #expect(t.names == ["out.txt"], "no temporary file is left")
    }

    @Test func aFailedRenameKeepsTheOldFile() throws {
        let t = TempDirectory()
        let out = t.write("out.txt", "the good old file")
        #expect(throws: FileWriteError.self) {
            try AtomicFile.$injectedFault.withValue(.rename(EIO)) { try AtomicFile.write(text: "new", to: out) }
        }
        #expect(t.read("out.txt") == "the good old file")
        #expect(t.names == ["out.txt"], "the temporary file is removed")
        do {
            try AtomicFile.$injectedFault.withValue(.rename(EIO)) { try AtomicFile.write(text: "new", to: out) }
        } catch {
            #expect("\(error)".hasPrefix("cannot write \(out): "), "\(error)")
        }
    }

    @Test func aFullDiskKeepsTheOldFile() throws {
        let t = TempDirectory()
        let out = t.write("out.txt", "old")
        #expect(throws: FileWriteError.self) {
            try AtomicFile.$injectedFault.withValue(.write(ENOSPC, afterBytes: 3)) {
                try AtomicFile.write(text: String(repeating: "x", count: 100), to: out)
            }
        }
        #expect(t.read("out.txt") == "old")
        #expect(t.names == ["out.txt"])
    }

    @Test func directoriesAndTrailingSlashesAreRefused() throws {
        let t = TempDirectory()
        try FileManager.default.createDirectory(atPath: t.path + "/d/sub", withIntermediateDirectories: true)
        t.write("d/sub/keep", "keep")
        for target in [t.path + "/d", t.path + "/d/", t.path + "/new/"] {
            do {
                try AtomicFile.write(text: "x", to: target)
                Issue.record("writing over \(target) was accepted")
            } catch let e as FileWriteError {
                #expect(e.reason == .isDirectory, "\(e)")
                #expect(e.description.contains("is a directory"))
            }
        }
        #expect(t.read("d/sub/keep") == "keep")
    }

    @Test func inputsAreRefusedByPathAndByInode() throws {
        let t = TempDirectory()
        let input = t.write("plays.tsv", "u\ts\t1\n")
        try FileManager.default.linkItem(atPath: input, toPath: t.path + "/hardlink.tsv")
        try FileManager.default.createSymbolicLink(atPath: t.path + "/symlink.tsv", withDestinationPath: input)
        for output in [input, t.path + "/./plays.tsv", t.path + "/hardlink.tsv", t.path + "/symlink.tsv"] {
            #expect(throws: FileWriteError.self, "\(output)") { try AtomicFile.write(text: "binary", to: output, inputs: [input]) }
        }
        #expect(t.read("plays.tsv") == "u\ts\t1\n")
        try AtomicFile.write(text: "fine", to: t.path + "/other.tsv", inputs: [input])
    }

    @Test func aMissingFolderIsNamed() throws {
        let t = TempDirectory()
        do {
            try AtomicFile.write(text: "x", to: t.path + "/no/such/out.txt")
            Issue.record("accepted")
        } catch let e as FileWriteError {
            #expect(e.description.contains("does not exist"), "\(e)")
            #expect(e.description.hasPrefix("cannot write"))
        }
    }

    @Test func temporaryFilesOfDeadProcessesAreRemoved() throws {
        let t = TempDirectory()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let dead = p.processIdentifier
        t.write("out.bin.tmp-\(dead)-1", "orphan of a killed writer")
        t.write("out.bin.tmp-\(getpid())-999999", "our own, still being written")
        t.write("other.bin.tmp-\(dead)-1", "another target's: not ours to judge")
        try AtomicFile.write(text: "done", to: t.path + "/out.bin")
        #expect(t.names == ["other.bin.tmp-\(dead)-1", "out.bin", "out.bin.tmp-\(getpid())-999999"])
    }

    @Test func concurrentWritersEachReplaceTheFileWhole() throws {
        let t = TempDirectory()
        let out = t.path + "/shared.txt"
        let texts = (0..<8).map { String(repeating: Character(UnicodeScalar(UInt8(65 + $0))), count: 200_000) }
        let errors = ErrorBox()
        DispatchQueue.concurrentPerform(iterations: 8) { n in
            do { try AtomicFile.write(text: texts[n], to: out) } catch { errors.add("\(error)") }
        }
        #expect(errors.all.isEmpty, "\(errors.all)")
        let final = t.read("shared.txt") ?? ""
        #expect(texts.contains(final), "the file is one writer's text, whole")
        #expect(t.names == ["shared.txt"])
    }

    @Test func bufferedWriterLeavesNothingWhenDroppedOrFailing() throws {
        let t = TempDirectory()
        do {
            var w = try BufferedFileWriter(path: t.path + "/a.csv")
            w.write("half a file")
            _ = w
        }
        #expect(t.names.isEmpty, "a writer dropped without close leaves no file")
        #expect(throws: FileWriteError.self) {
            try AtomicFile.$injectedFault.withValue(.write(ENOSPC, afterBytes: 10)) {
                var w = try BufferedFileWriter(path: t.path + "/b.csv")
                w.write(String(repeating: "row\n", count: 1000))
                try w.close()
            }
        }
        #expect(t.names.isEmpty)
    }

    @Test func generateOnAFullDiskLeavesNoTruncatedCSV() throws {
        let t = TempDirectory()
        let c = GeneratorConfiguration(users: 300, songs: 200, plays: 6000, seed: 1)
        do {
            _ = try AtomicFile.$injectedFault.withValue(.write(ENOSPC, afterBytes: 50_000)) {
                try SyntheticGenerator.generate(c, to: t.path + "/raw", progress: false)
            }
            Issue.record("a full disk was not reported")
        } catch {
            #expect("\(error)".contains("cannot write"), "\(error)")
            #expect("\(error)".contains("No space left"), "\(error)")
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: t.path + "/raw")) ?? []).isEmpty, "no file, whole or truncated")
    }
}

/// Errors collected from concurrent work.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
