import Testing
@testable import EncoreData

func records(_ path: String, _ format: DelimitedFormat = .comma, blockSize: Int = 1 << 22) throws -> [[String]] {
    var out: [[String]] = []
    try DelimitedReader(path: path, format: format, blockSize: blockSize).forEachRecord { r in
        out.append((0..<r.count).map { r.string($0) })
    }
    return out
}

@Suite struct DelimitedReaderTests {
    @Test func rfc4180QuotingWithEmbeddedNewlinesAndDoubledQuotes() throws {
        let dir = TempDirectory()
        let p = dir.write("a.csv", "id,title\r\n1,\"Hello, \"\"World\"\"\"\r\n2,\"two\nlines\"\r\n3,plain")
        let r = try records(p)
        #expect(r == [["id", "title"], ["1", "Hello, \"World\""], ["2", "two\nlines"], ["3", "plain"]])
    }

    @Test func lineNumbersCountEmbeddedNewlines() throws {
        let dir = TempDirectory()
        let p = dir.write("a.csv", "a,\"x\ny\"\nb,c\n")
        var lines: [Int] = []
        try DelimitedReader(path: p, format: .comma).forEachRecord { lines.append($0.line) }
        #expect(lines == [1, 3])
    }

    @Test func bomCRLFBlankLinesAndNoFinalNewline() throws {
        let dir = TempDirectory()
        let p = dir.write("a.tsv", bytes: [0xEF, 0xBB, 0xBF] + Array("u\ti\t3\r\n\r\nv\tj\t4".utf8))
        #expect(try records(p, .tab) == [["u", "i", "3"], ["v", "j", "4"]])
    }

    @Test func latin1FallbackAndUTF8() throws {
        let dir = TempDirectory()
        // "café" in Latin-1 (0xE9) and "Björk" in UTF-8.
        let p = dir.write("a.tsv", bytes: Array("1\tcaf".utf8) + [0xE9] + Array("\n2\tBj".utf8) + [0xC3, 0xB6] + Array("rk\n".utf8))
        #expect(try records(p, .tab) == [["1", "café"], ["2", "Björk"]])
    }

    @Test func unclosedQuoteIsAnErrorWithItsLocation() throws {
        let dir = TempDirectory()
        let p = dir.write("a.csv", "a,b\nc,\"open\n")
        #expect(throws: DataError.self) { try records(p) }
        let q = dir.write("b.csv", "a,b\nc,\"x\"y\n")
        do {
            _ = try records(q)
            Issue.record("expected an error")
        } catch let e as DataError {
            #expect(e.problem == .malformedQuote)
            #expect(e.line == 2)
            #expect(e.column == 6)
        }
    }

    @Test func recordsSpanningBlocksParseLikeOneBlock() throws {
        let dir = TempDirectory()
        var text = ""
        for i in 0..<500 {
            text += "\(i),\"field with, comma and \"\"quotes\"\" number \(i)\nsecond line\",\(String(repeating: "x", count: i % 97))\r\n"
        }
        let p = dir.write("big.csv", text)
        let small = try records(p, blockSize: 64)
        let large = try records(p)
        #expect(small.count == 500)
        #expect(small == large)
        #expect(small[499][1] == "field with, comma and \"quotes\" number 499\nsecond line")
    }

    @Test func utf16IsRefused() throws {
        let dir = TempDirectory()
        let p = dir.write("u16.csv", bytes: [0xFF, 0xFE, 0x61, 0x00])
        #expect(throws: DataError.self) { try records(p) }
    }

    @Test func missingFileAndDirectory() {
        #expect(throws: DataError(file: "/nonexistent/x.csv", problem: .missingFile)) {
            try records("/nonexistent/x.csv")
        }
        #expect(throws: DataError.self) { try records("/tmp") }
    }

    @Test func delimiterNames() {
        #expect(DelimitedFormat.named("tab") == .tab)
        #expect(DelimitedFormat.named(";") == .semicolon)
        #expect(DelimitedFormat.named("comma") == .comma)
        #expect(DelimitedFormat.named("ab") == nil)
        #expect(DelimitedFormat.named("\"") == nil)
    }
}

@Suite struct PlayCountParserTests {
    func parse(_ s: String) -> Result<Double, DataProblem> {
        Array(s.utf8).withUnsafeBufferPointer { PlayCountParser.parse($0) }
    }

    @Test func validCounts() {
        #expect(parse("12") == .success(12))
        #expect(parse(" 7 ") == .success(7))
        #expect(parse("3.5") == .success(3.5))
        #expect(parse("1e3") == .success(1000))
        #expect(parse("2147483647") == .success(2_147_483_647))
    }

    @Test func invalidCounts() {
        #expect(parse("") == .failure(.emptyValue))
        #expect(parse("  ") == .failure(.emptyValue))
        #expect(parse("0") == .failure(.zeroValue))
        #expect(parse("0.0") == .failure(.zeroValue))
        #expect(parse("-3") == .failure(.negativeValue("-3")))
        #expect(parse("abc") == .failure(.notANumber("abc")))
        #expect(parse("1.2.3") == .failure(.notANumber("1.2.3")))
        #expect(parse("2147483648") == .failure(.overflow("2147483648")))
        #expect(parse("99999999999999999999999") == .failure(.overflow("99999999999999999999999")))
        #expect(parse("1e400") == .failure(.overflow("1e400")))
        #expect(parse("nan") == .failure(.notANumber("nan")))
    }
}

@Suite struct ByteInternerTests {
    @Test func internsInFirstSeenOrderAcrossGrowth() {
        var interner = ByteInterner(expected: 2)
        var ids: [Int32] = []
        for i in 0..<5_000 {
            let key = Array("id-\(i % 1_000)-suffix".utf8)
            ids.append(key.withUnsafeBufferPointer { interner.intern($0) })
        }
        #expect(interner.count == 1_000)
        #expect(ids[0] == 0 && ids[1] == 1 && ids[1_000] == 0 && ids[4_999] == 999)
        #expect(interner.strings()[42] == "id-42-suffix")
        let missing = Array("nope".utf8).withUnsafeBufferPointer { interner.lookup($0) }
        #expect(missing == nil)
    }
}
