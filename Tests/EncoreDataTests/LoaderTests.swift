import EncoreMath
import Testing
@testable import EncoreData

let strict = LoadOptions(lenient: false, progress: false)
let lenient = LoadOptions(lenient: true, progress: false)

@Suite struct TasteProfileLoaderTests {
    @Test func tripletsSumDuplicatesAndCountThem() throws {
        let dir = TempDirectory()
        let p = dir.write("train_triplets.txt", "u1\tS1\t3\nu1\tS2\t1\nu2\tS1\t5\nu1\tS1\t2")
        let d = try TasteProfileLoader.load(path: p, options: strict)
        let m = d.interactions
        #expect(m.userCount == 2 && m.itemCount == 2 && m.nnz == 3)
        #expect(d.report.duplicatesMerged == 1)
        #expect(m.value(user: m.users.index(of: "u1")!, item: m.items.index(of: "S1")!) == 5)
        #expect(m.value(user: m.users.index(of: "u2")!, item: m.items.index(of: "S2")!) == nil)
        #expect(m.columns.columnPointers == [0, 2, 3])
    }

    @Test func strictStopsAtTheFirstBadLineWithItsLocation() throws {
        let dir = TempDirectory()
        let p = dir.write("t.txt", "u1\tS1\t3\nu2\tS2\tzero\n")
        do {
            _ = try TasteProfileLoader.load(path: p, options: strict)
            Issue.record("expected an error")
        } catch let e as DataError {
            #expect(e.line == 2)
            #expect(e.column == 7)
            #expect(e.field == "count")
            #expect(e.description == "\(p):2:7: field 'count': 'zero' is not a number")
        }
    }

    @Test func lenientSkipsAndCountsEachReason() throws {
        let dir = TempDirectory()
        let p = dir.write("t.txt", """
            u1\tS1\t3
            u1\tS2\t0
            u2\tS1\t-4
            u2\tS2\t
            u3\tS3\tabc
            u3\tS4\t99999999999
            u4\tS1
            u5\tS1\t1\textra
            \tS1\t2
            u6\tS1\t2
            """)
        let d = try TasteProfileLoader.load(path: p, options: lenient)
        #expect(d.interactions.nnz == 2)
        #expect(d.report.rowsRead == 10)
        #expect(d.report.skipped == ["zero_value": 1, "negative_value": 1, "empty_value": 1, "not_a_number": 1,
                                     "overflow": 1, "wrong_column_count": 2, "empty_identifier": 1])
    }

    @Test func emptyFileIsAnError() throws {
        let dir = TempDirectory()
        let p = dir.write("t.txt", "")
        #expect(throws: DataError(file: p, problem: .emptyFile)) { try TasteProfileLoader.load(path: p, options: strict) }
        let q = dir.write("blank.txt", "\n\n")
        #expect(throws: DataError.self) { try TasteProfileLoader.load(path: q, options: strict) }
    }

    @Test func allLinesBadInLenientModeIsStillAnError() throws {
        let dir = TempDirectory()
        let p = dir.write("t.txt", "u\ts\tx\n")
        #expect(throws: DataError.self) { try TasteProfileLoader.load(path: p, options: lenient) }
    }
}

@Suite struct CourseFilesLoaderTests {
    @Test func countDataWithIndexColumnAndQuirkySongData() throws {
        let dir = TempDirectory()
        let counts = dir.write("count_data.csv", ",user_id,song_id,play_count\r\n0,ua,SA,1\r\n1,ua,SB,6\r\n2,ub,SA,2\r\n3,ub,SA,1\r\n")
        let songs = dir.write("song_data.csv", """
            song_id,title,release,artist_name,year
            SA,"Somebody to Love","My World 2.0",Justin Bieber,2010
            SB,"Hello, ""Goodbye""\",Single,"Beatles, The",0
            SB,Duplicate,X,Y,1999
            SC,Unplayed,Z,W,2001

            """)
        let d = try CourseFilesLoader.load(counts: counts, songs: songs, options: strict)
        let m = d.interactions
        #expect(m.userCount == 2 && m.itemCount == 2 && m.nnz == 3)
        #expect(d.report.duplicatesMerged == 1)
        #expect(m.value(user: m.users.index(of: "ub")!, item: m.items.index(of: "SA")!) == 3)
        let sb = d.catalog[m.items.index(of: "SB")!]
        #expect(sb.title == "Hello, \"Goodbye\"")
        #expect(sb.artist == "Beatles, The")
        #expect(sb.year == 0)
        #expect(d.catalog[m.items.index(of: "SA")!].year == 2010)
        #expect(d.report.catalogRows == 4)
        #expect(d.report.catalogDuplicates == 1)
        #expect(d.report.catalogOnlyItems == 1)
        #expect(d.report.itemsWithoutMetadata == 0)
    }

    @Test func countDataWithoutHeaderOrIndex() throws {
        let dir = TempDirectory()
        let p = dir.write("count_data.csv", "ua,SA,2\nub,SA,1\n")
        let d = try CourseFilesLoader.load(counts: p, songs: nil, options: strict)
        #expect(d.interactions.nnz == 2)
    }

    @Test func missingPlayCountColumnAndBadYear() throws {
        let dir = TempDirectory()
        let p = dir.write("count_data.csv", ",user_id,song_id,plays\n0,a,b,1\n")
        #expect(throws: DataError.self) { try CourseFilesLoader.load(counts: p, songs: nil, options: strict) }
        let c = dir.write("c.csv", ",user_id,song_id,play_count\n0,a,S,1\n")
        let s = dir.write("s.csv", "song_id,title,release,artist_name,year\nS,t,r,a,nineteen\n")
        do {
            _ = try CourseFilesLoader.load(counts: c, songs: s, options: strict)
            Issue.record("expected an error")
        } catch let e as DataError {
            #expect(e.problem == .invalidYear("nineteen"))
            #expect(e.line == 2)
        }
        let lenientResult = try CourseFilesLoader.load(counts: c, songs: s, options: lenient)
        #expect(lenientResult.report.skipped["catalog_invalid_year"] == 1)
    }
}

@Suite struct HetRecLastFMTests {
    @Test func realFilesHaveTheDocumentedCounts() throws {
        let d = try HetRecLastFMLoader.load(directory: SharedData.lastfm, options: strict)
        #expect(d.report.rowsRead == 92_834)
        #expect(d.interactions.nnz == 92_834)
        #expect(d.interactions.userCount == 1_892)
        #expect(d.interactions.itemCount == 17_632)
        #expect(d.report.duplicatesMerged == 0)
        #expect(d.report.itemsWithoutMetadata == 0)
        #expect(try HetRecLastFMLoader.tagCount(directory: SharedData.lastfm) == 11_946)
        // user 2 played artist 51 (Duran Duran) 13,883 times (first line of user_artists.dat).
        let m = d.interactions
        #expect(m.value(user: m.users.index(of: "2")!, item: m.items.index(of: "51")!) == 13_883)
        let britney = try #require(m.items.index(of: "289"))
        #expect(d.catalog[britney].title == "Britney Spears")
        #expect(d.catalog[britney].tags.contains("pop"))
        // tags.dat is Latin-1: its accented tags must decode, not turn into replacement characters.
        let allTags = Set(d.catalog.entries.flatMap(\.tags))
        #expect(!allTags.contains { $0.contains("\u{FFFD}") })
    }
}

@Suite struct MovieLensLoaderTests {
    @Test func hundredKLayoutWithLatin1Items() throws {
        let dir = TempDirectory()
        dir.write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t5\t881250950\n")
        var item = Array("242|Kolya (1996)|24-Jan-1997||http://x|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n".utf8)
        item += Array("302|L.A. Confidential (1997)|01-Jan-1997||http://y|0|0|0|0|0|0|1|0|0|0|0|0|0|1|0|0|1|0|0\n".utf8)
        item += Array("999|Caf".utf8) + [0xE9] + Array(" (1995)|01-Jan-1995||u|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n".utf8)
        dir.write("u.item", bytes: item)
        let d = try MovieLensLoader.load(path: dir.path, options: strict)
        let m = d.interactions
        #expect(m.nnz == 3 && m.userCount == 2 && m.itemCount == 2)
        #expect(m.timestamps != nil)
        let la = d.catalog[m.items.index(of: "302")!]
        #expect(la.title == "L.A. Confidential (1997)")
        #expect(la.year == 1997)
        #expect(la.tags == ["Crime", "Mystery", "Thriller"])
        #expect(d.catalog[m.items.index(of: "242")!].tags == ["Comedy"])
        #expect(d.report.catalogOnlyItems == 1)
    }

    @Test func latestLayoutWithQuotedTitles() throws {
        let dir = TempDirectory()
        dir.write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n2,1,0.5,964982224\n")
        dir.write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,\"American President, The (1995)\",Comedy|Drama|Romance\n")
        let d = try DatasetImporter.load(path: dir.path, options: strict)
        let m = d.interactions
        #expect(d.report.format == "movielens")
        #expect(m.value(user: m.users.index(of: "1")!, item: m.items.index(of: "3")!) == 4.5)
        #expect(m.value(user: m.users.index(of: "2")!, item: m.items.index(of: "1")!) == 0.5)
        let ap = d.catalog[m.items.index(of: "3")!]
        #expect(ap.title == "American President, The (1995)")
        #expect(ap.year == 1995)
        #expect(ap.tags == ["Comedy", "Drama", "Romance"])
    }
}

@Suite struct DelimitedPlayLogLoaderTests {
    @Test func columnsByHeaderNameWithSemicolons() throws {
        let dir = TempDirectory()
        let p = dir.write("plays.txt", "when;listener;track;n\n100;alice;t1;4\n101;bob;t1;1\n102;alice;t2;2\n")
        let settings = DelimitedLoadOptions(format: .semicolon, hasHeader: true, user: ColumnReference("listener"),
                                            item: ColumnReference("track"), value: ColumnReference("n"), timestamp: ColumnReference("when"))
        let d = try DelimitedPlayLogLoader.load(path: p, settings: settings, options: strict)
        let m = d.interactions
        #expect(m.nnz == 3)
        #expect(m.value(user: m.users.index(of: "alice")!, item: m.items.index(of: "t2")!) == 2)
        #expect(m.timestamps != nil)
    }

    @Test func implicitRowsAndBadColumns() throws {
        let dir = TempDirectory()
        let p = dir.write("plays.csv", "a,x\na,x\nb,y\n")
        let d = try DelimitedPlayLogLoader.load(path: p, settings: DelimitedLoadOptions(value: nil), options: strict)
        #expect(d.interactions.value(user: 0, item: 0) == 2)
        #expect(throws: ParameterError.self) {
            try DelimitedPlayLogLoader.load(path: p, settings: DelimitedLoadOptions(user: .name("user")), options: strict)
        }
        let h = dir.write("h.csv", "u,i,v\na,b,1\n")
        #expect(throws: DataError.self) {
            try DelimitedPlayLogLoader.load(path: h, settings: DelimitedLoadOptions(hasHeader: true, user: .name("nope")), options: strict)
        }
        // Too few fields for the value column.
        #expect(throws: DataError.self) {
            try DelimitedPlayLogLoader.load(path: p, settings: DelimitedLoadOptions(value: .index(5)), options: strict)
        }
    }
}

@Suite struct DatasetImporterTests {
    @Test func detectsFormatsFromNamesAndContent() throws {
        let dir = TempDirectory()
        #expect(try DatasetImporter.detect(path: SharedData.lastfm) == .lastfm)
        #expect(try DatasetImporter.detect(path: dir.write("count_data.csv", ",user_id,song_id,play_count\n0,a,b,1\n")) == .course)
        #expect(try DatasetImporter.detect(path: dir.write("plays.tsv", "u\ts\t3\n")) == .triplets)
        #expect(try DatasetImporter.detect(path: dir.write("other.csv", "x,user_id,song_id,play_count\n")) == .course)
        #expect(throws: DataError.self) { try DatasetImporter.detect(path: dir.write("weird.txt", "hello world\n")) }
        #expect(throws: DataError.self) { try DatasetImporter.detect(path: dir.write("empty.txt", "")) }
        #expect(throws: DataError.self) { try DatasetImporter.detect(path: dir.file("missing.csv")) }
    }

    @Test func courseDirectoryPicksUpItsSongData() throws {
        let dir = TempDirectory()
        dir.write("count_data.csv", ",user_id,song_id,play_count\n0,a,S,1\n")
        dir.write("song_data.csv", "song_id,title,release,artist_name,year\nS,Title,Rel,Art,2001\n")
        let d = try DatasetImporter.load(path: dir.path, options: strict)
        #expect(d.catalog[0].title == "Title")
    }
}
