import EncoreMath
import Foundation
import Testing
@testable import EncoreData

/// Every (user, item) pair of a matrix as a set of strings.
func pairs(_ m: InteractionMatrix) -> Set<String> {
    var s = Set<String>()
    for u in 0..<m.userCount { for k in m.rowRange(u) { s.insert("\(m.users[u])|\(m.items[Int(m.columnIndices[k])])") } }
    return s
}

@Suite struct SplitTests {
    let data = try! HetRecLastFMLoader.load(directory: SharedData.lastfm, options: strict).interactions

    @Test func ratioSplitIsDisjointCoveringAndSized() throws {
        let s = try #require(try DatasetSplitter.split(data, method: .ratio(testFraction: 0.2), seed: 1).first)
        let train = pairs(s.train), test = pairs(s.test)
        #expect(train.isDisjoint(with: test))
        #expect(train.union(test) == pairs(data))
        #expect(s.test.nnz == Int((Double(data.nnz) * 0.2).rounded()))
        let again = try #require(try DatasetSplitter.split(data, method: .ratio(testFraction: 0.2), seed: 1).first)
        #expect(again.test.columnIndices == s.test.columnIndices && again.test.rowPointers == s.test.rowPointers)
        let other = try #require(try DatasetSplitter.split(data, method: .ratio(testFraction: 0.2), seed: 2).first)
        #expect(pairs(other.test) != test)
    }

    @Test func perUserSplitHoldsOutAFractionOfEachUser() throws {
        let s = try #require(try DatasetSplitter.split(data, method: .perUser(testFraction: 0.2), seed: 42).first)
        #expect(pairs(s.train).isDisjoint(with: pairs(s.test)))
        #expect(s.train.nnz + s.test.nnz == data.nnz)
        for u in 0..<data.userCount {
            let n = data.rowRange(u).count
            let t = s.test.rowRange(u).count
            if n == 1 { #expect(t == 0) } else { #expect(t == max(1, Int((0.2 * Double(n)).rounded()))) }
            #expect(s.train.rowRange(u).count >= 1)
        }
        // The same totals as the shared split, whose procedure this follows: 18,569 test rows.
        #expect(s.test.nnz == 18_569)
    }

    @Test func kFoldTestsPartitionTheRows() throws {
        let folds = try DatasetSplitter.split(data, method: .kFold(folds: 5), seed: 3)
        #expect(folds.count == 5)
        var union = Set<String>()
        var total = 0
        for f in folds {
            let t = pairs(f.test)
            #expect(union.isDisjoint(with: t))
            union.formUnion(t)
            total += f.test.nnz
            #expect(f.train.nnz + f.test.nnz == data.nnz)
            #expect(abs(f.test.nnz - data.nnz / 5) <= 1)
        }
        #expect(total == data.nnz)
        #expect(throws: ParameterError.self) { try DatasetSplitter.split(data, method: .kFold(folds: 1), seed: 3) }
    }

    @Test func leaveLastOutTakesTheLatestPlay() throws {
        let d = makeDataset([("u1", "a", 1), ("u1", "b", 1), ("u1", "c", 1), ("u2", "a", 1)], timestamps: [30, 10, 20, 5]).interactions
        let s = try #require(try DatasetSplitter.split(d, method: .leaveLastOut, seed: 0).first)
        #expect(pairs(s.test) == ["u1|a"])
        #expect(throws: ParameterError.self) { try DatasetSplitter.split(data, method: .leaveLastOut, seed: 0) }
    }

    @Test func badFractionsAreRefused() {
        #expect(throws: ParameterError.self) { try DatasetSplitter.split(data, method: .ratio(testFraction: 0), seed: 0) }
        #expect(throws: ParameterError.self) { try DatasetSplitter.split(data, method: .perUser(testFraction: 1.5), seed: 0) }
    }

    @Test func writtenSplitReadsBack() throws {
        let dir = TempDirectory()
        let s = try #require(try DatasetSplitter.split(data, method: .perUser(testFraction: 0.2), seed: 9).first)
        try DatasetSplitter.writeTSV(s.train, to: dir.file("train.tsv"))
        try DatasetSplitter.writeTSV(s.test, to: dir.file("test.tsv"))
        let files = try SplitFiles.load(train: dir.file("train.tsv"), test: dir.file("test.tsv"), options: strict)
        #expect(files.summary.train.rows == s.train.nnz)
        #expect(files.summary.test.rows == s.test.nnz)
        #expect(pairs(files.test) == pairs(s.test))
    }

    @Test func sharedSplitFilesLoadWithTheirDocumentedCounts() throws {
        let files = try SplitFiles.load(train: SharedData.lastfm + "/splits/train.tsv", test: SharedData.lastfm + "/splits/test.tsv", options: strict)
        let s = files.summary
        #expect(s.train.rows == 74_265 && s.train.users == 1_892 && s.train.items == 15_350)
        #expect(s.test.rows == 18_569 && s.test.users == 1_884 && s.test.items == 6_429)
        #expect(s.coldItemRows == 2_415)
        #expect(s.coldItems == 2_282)
        #expect(s.coldUsers == 0)
        // One id space: test indices agree with train's.
        #expect(files.train.users == files.test.users && files.train.items == files.test.items)
        #expect(pairs(files.train).isDisjoint(with: pairs(files.test)))
        #expect(pairs(files.train).union(pairs(files.test)) == pairs(data))
    }
}
