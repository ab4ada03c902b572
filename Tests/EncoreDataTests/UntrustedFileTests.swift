import EncoreMath
import Foundation
import Testing

@testable import EncoreData

/// Crafted files that pass the checksum but lie, and text inputs that never end.
@Suite struct UntrustedFileTests {
    static func dataset() -> Dataset {
        let users = IDMap(["u1", "u2", "u3"]), items = IDMap(["a", "b", "c"])
        let m = InteractionMatrix(users: users, items: items, rowPointers: [0, 2, 3, 5], columnIndices: [0, 2, 1, 0, 1],
                                  values: [3, 1, 4, 1, 5])
        return Dataset(name: "tiny", interactions: m, catalog: .empty(count: 3), report: LoadReport(format: "test"))
    }

    /// The offset of the first section (the row pointers' 8-byte length).
    static func sectionStart(_ bytes: [UInt8]) -> Int {
        16 + Int(bytes[12]) + Int(bytes[13]) << 8 + Int(bytes[14]) << 16 + Int(bytes[15]) << 24
    }

    /// Recomputes the trailing checksum so only the structure checks can catch the lie.
    static func rechecksum(_ bytes: inout [UInt8]) {
        var sum = Checksum64()
        bytes.withUnsafeBytes { sum.add(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 8)])) }
        withUnsafeBytes(of: sum.value.littleEndian) { for (k, b) in $0.enumerated() { bytes[bytes.count - 8 + k] = b } }
    }

    static func put<T: FixedWidthInteger>(_ v: T, into bytes: inout [UInt8], at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for (k, b) in $0.enumerated() { bytes[offset + k] = b } }
    }

    static func decodeError(_ bytes: [UInt8]) -> String? {
        do {
            _ = try Snapshot.decode(Data(bytes), source: "crafted.snapshot")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func goodSnapshotRoundTripsThroughBytes() throws {
        let d = try Snapshot.decode(try Snapshot.encode(Self.dataset()), source: "bytes")
        #expect(d.interactions.values == [3, 1, 4, 1, 5])
    }

    @Test func aHugeSectionLengthIsRefusedNotTrapped() throws {
        var bytes = [UInt8](try Snapshot.encode(Self.dataset()))
        for length: UInt64 in [1 << 63, UInt64.max, UInt64(bytes.count)] {
            Self.put(length, into: &bytes, at: Self.sectionStart(bytes))
            Self.rechecksum(&bytes)
            let message = Self.decodeError(bytes)
            #expect(message?.contains("not a valid Encore snapshot") == true, "\(message ?? "accepted")")
        }
    }

    @Test func nonMonotonicRowPointersAreRefused() throws {
        var bytes = [UInt8](try Snapshot.encode(Self.dataset()))
        let first = Self.sectionStart(bytes) + 8
        Self.put(Int64(4), into: &bytes, at: first + 8)       // 0, 4, 3, 5
        Self.rechecksum(&bytes)
        #expect(Self.decodeError(bytes)?.contains("monotonic") == true)
    }

    @Test func outOfRangeAndUnsortedItemsAreRefused() throws {
        var bytes = [UInt8](try Snapshot.encode(Self.dataset()))
        let cols = Self.sectionStart(bytes) + 8 + 4 * 8 + 8
        var wild = bytes
        Self.put(Int32(99), into: &wild, at: cols)
        Self.rechecksum(&wild)
        #expect(Self.decodeError(wild)?.contains("out of range") == true)
        Self.put(Int32(2), into: &bytes, at: cols)             // user u1: 2, 2
        Self.rechecksum(&bytes)
        #expect(Self.decodeError(bytes)?.contains("not sorted or repeat") == true)
    }

    @Test func nonFiniteNegativeAndZeroPlaysAreRefused() throws {
        let original = [UInt8](try Snapshot.encode(Self.dataset()))
        let values = Self.sectionStart(original) + 8 + 4 * 8 + 8 + 5 * 4 + 8
        for bad: Float in [.nan, .infinity, -3, 0] {
            var bytes = original
            Self.put(bad.bitPattern, into: &bytes, at: values)
            Self.rechecksum(&bytes)
            #expect(Self.decodeError(bytes)?.contains("finite and positive") == true, "\(bad)")
        }
    }

    @Test func truncatedAndTrailingBytesAreRefused() throws {
        let original = [UInt8](try Snapshot.encode(Self.dataset()))
        for cut in [0, 7, 8, 23, original.count / 2, original.count - 1] {
            var bytes = Array(original.prefix(cut))
            if bytes.count >= 24 { Self.rechecksum(&bytes) }
            #expect(Self.decodeError(bytes) != nil, "cut at \(cut)")
        }
    }

    @Test func aStreamWithNoLineEndIsRefusedWithItsLine() throws {
        let t = TempDirectory()
        let link = t.file("zero.tsv")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/zero")
        for lenient in [false, true] {
            do {
                _ = try TasteProfileLoader.load(path: link, options: LoadOptions(lenient: lenient, progress: false, maxLineBytes: 1 << 16))
                Issue.record("an endless line was accepted")
            } catch let e as DataError {
                #expect(e.line == 1, "\(e)")
                #expect(e.description.contains(lenient ? "no line end" : "longer than 65536 bytes"), "\(e)")
            }
        }
    }

    @Test func aLongLineIsSkippedInLenientModeAndTheRestLoads() throws {
        let t = TempDirectory()
        let long = String(repeating: "x", count: 5000)
        let path = t.write("plays.tsv", "u1\ts1\t3\nu2\t\(long)\t4\nu3\ts3\t5\n")
        #expect(throws: DataError.self) { try TasteProfileLoader.load(path: path, options: LoadOptions(progress: false, maxLineBytes: 1000)) }
        let d = try TasteProfileLoader.load(path: path, options: LoadOptions(lenient: true, progress: false, maxLineBytes: 1000))
        #expect(d.interactions.nnz == 2)
        #expect(d.report.skipped["line_too_long"] == 1)
    }

    @Test func anUnterminatedQuoteSkipsOneLineInLenientMode() throws {
        let t = TempDirectory()
        let path = t.write("plays.csv", "u1,s1,3\nu2,\"s2,4\nu3,s3,5\nu4,s4,6\n")
        let settings = DelimitedLoadOptions(format: .comma)
        do {
            _ = try DelimitedPlayLogLoader.load(path: path, settings: settings, options: LoadOptions(progress: false))
            Issue.record("accepted")
        } catch let e as DataError {
            #expect(e.line == 2 && e.problem == .malformedQuote, "\(e)")
        }
        let d = try DelimitedPlayLogLoader.load(path: path, settings: settings, options: LoadOptions(lenient: true, progress: false))
        #expect(d.interactions.users.ids == ["u1", "u3", "u4"])
        #expect(d.report.skipped["malformed_quote"] == 1)
    }

    @Test func encoreBinariesAreNotReadAsText() throws {
        let t = TempDirectory()
        let snap = t.file("d.snapshot")
        try Snapshot.write(Self.dataset(), to: snap)
        do {
            _ = try DelimitedPlayLogLoader.load(path: snap, settings: DelimitedLoadOptions(), options: LoadOptions(progress: false))
            Issue.record("accepted")
        } catch let e as DataError {
            #expect(e.description.contains("this is an Encore snapshot file"), "\(e)")
        }
    }

    @Test func tinyValuesNulBytesAndExtraColumns() throws {
        let t = TempDirectory()
        #expect(Array("1e-50".utf8).withUnsafeBufferPointer { PlayCountParser.parse($0) } == .failure(.valueTooSmall("1e-50")))
        #expect(Array("1e-30".utf8).withUnsafeBufferPointer { PlayCountParser.parse($0) } == .success(1e-30))
        let nul = t.write("nul.tsv", bytes: Array("u1\ts1\t3\nu\u{0}2\ts1\t3\n".utf8))
        do {
            _ = try TasteProfileLoader.load(path: nul, options: LoadOptions(progress: false))
            Issue.record("accepted")
        } catch let e as DataError {
            #expect(e.line == 2 && e.problem == .nulInIdentifier, "\(e)")
        }
        let extra = t.write("extra.csv", "u1,s1,3,x\nu2,s2,1\nu3,s3,2,y,z\n")
        let d = try DelimitedPlayLogLoader.load(path: extra, settings: DelimitedLoadOptions(), options: LoadOptions(progress: false))
        #expect(d.interactions.nnz == 3)
        #expect(d.report.warnings.count == 1)
        #expect(d.report.warnings.first?.contains("2 rows have more than 3 fields (first at line 1)") == true, "\(d.report.warnings)")
    }

    @Test func wholeFileProblemsGetWholeFileMessages() throws {
        let t = TempDirectory()
        try FileManager.default.createSymbolicLink(atPath: t.file("a"), withDestinationPath: t.file("b"))
        try FileManager.default.createSymbolicLink(atPath: t.file("b"), withDestinationPath: t.file("a"))
        #expect(throws: DataError(file: t.file("a"), problem: .symlinkLoop)) { try DatasetImporter.load(path: t.file("a")) }
        try FileManager.default.createDirectory(atPath: t.file("dir"), withIntermediateDirectories: true)
        #expect(throws: DataError(file: t.file("dir"), problem: .isDirectory)) {
            try TasteProfileLoader.load(path: t.file("dir"), options: LoadOptions(progress: false))
        }
        let plays = t.write("plays.tsv", "u1\ts1\t3\n")
        #expect(throws: DataError(file: t.file("dir"), problem: .isDirectory)) {
            try TasteProfileLoader.load(path: plays, songs: t.file("dir"), options: LoadOptions(progress: false))
        }
    }

    @Test func catalogueFilesMissingEmptyOrRenamedAreHandledAlike() throws {
        let t = TempDirectory()
        // MovieLens 100K without u.item, then with an empty one.
        try FileManager.default.createDirectory(atPath: t.file("ml"), withIntermediateDirectories: true)
        t.write("ml/u.data", "1\t10\t5\t881250949\n2\t10\t3\t881250950\n")
        var d = try MovieLensLoader.load(path: t.file("ml"), options: LoadOptions(progress: false))
        #expect(d.report.warnings == ["\(t.file("ml/u.item")) is missing: loading the MovieLens ratings without a catalogue"])
        t.write("ml/u.item", "")
        d = try MovieLensLoader.load(path: t.file("ml"), options: LoadOptions(progress: false))
        #expect(d.report.warnings == ["\(t.file("ml/u.item")) has no rows: loading the MovieLens ratings without a catalogue"])
        // Both layouts: u.data wins, and it is said.
        t.write("ml/ratings.csv", "userId,movieId,rating,timestamp\n1,10,4,1\n")
        d = try MovieLensLoader.load(path: t.file("ml"), options: LoadOptions(progress: false))
        #expect(d.report.warnings.first?.contains("holds both MovieLens layouts") == true)
        #expect(d.interactions.nnz == 2)
        // The latest layout with a renamed header, a directory, nothing.
        try FileManager.default.removeItem(atPath: t.file("ml/u.data"))
        t.write("ml/movies.csv", "id,name,genre\n10,Toy Story (1995),Comedy\n")
        do {
            _ = try MovieLensLoader.load(path: t.file("ml"), options: LoadOptions(progress: false))
            Issue.record("a renamed header became a movie")
        } catch let e as DataError {
            #expect(e.line == 1 && e.problem.key == "header_not_recognised", "\(e)")
        }
        try FileManager.default.removeItem(atPath: t.file("ml/movies.csv"))
        d = try MovieLensLoader.load(path: t.file("ml"), options: LoadOptions(progress: false))
        #expect(d.report.warnings == ["\(t.file("ml/movies.csv")) is missing: loading the MovieLens ratings without a catalogue"])
        try FileManager.default.createDirectory(atPath: t.file("ml/movies.csv"), withIntermediateDirectories: true)
        #expect(throws: DataError(file: t.file("ml/movies.csv"), problem: .isDirectory)) {
            try MovieLensLoader.load(path: t.file("ml"), options: LoadOptions(progress: false))
        }
        // Last.fm without artists.dat loads the plays with a warning, as MovieLens does.
        try FileManager.default.createDirectory(atPath: t.file("fm"), withIntermediateDirectories: true)
        t.write("fm/user_artists.dat", "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n")
        d = try HetRecLastFMLoader.load(directory: t.file("fm"), options: LoadOptions(progress: false))
        #expect(d.interactions.nnz == 2)
        #expect(d.report.warnings == ["\(t.file("fm/artists.dat")) is missing: loading the Last.fm plays without a catalogue"])
    }
}
