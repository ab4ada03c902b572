import ArgumentParser
import EncoreData
import EncoreService

extension Encore {
    struct Split: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split a dataset into train and test files, or check ready-made --train/--test files.")

        @Argument(help: "A snapshot, any dataset path or a database (omit with --train/--test).") var dataset: String?
        @Option(help: "Split the plays stored in a database (SQLite file or postgres:// URL).") var database: String?
        @Option(name: .customLong("input-format"), help: "Input format: auto, triplets, course, lastfm, movielens, delimited, snapshot.") var inputFormat: String = "auto"
        @OptionGroup var loader: LoaderOptions
        @Option(help: "ratio (random rows, the report's 80/20), per-user, kfold, last (leave-last-out by timestamp).") var method: String = "ratio"
        @Option(name: .customLong("test-fraction"), parsing: .unconditional, help: "Share of rows (ratio) or of each user's songs (per-user) held out.") var testFraction: Double = 0.2
        @Option(parsing: .unconditional, help: "Number of folds for kfold.") var folds: Int = 5
        @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 42
        @Option(help: "Output directory for train.tsv and test.tsv (fold-N/ for kfold).") var output: String?
        @Option(help: "Ready-made train file.") var train: String?
        @Option(help: "Ready-made test file.") var test: String?
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

        struct Written: Encodable {
            var directory: String
            var train: Int
            var test: Int
        }

        func run() throws {
            if train != nil || test != nil {
                guard let train, let test else { throw UsageError("--train and --test go together") }
                let files = try SplitFiles.load(train: train, test: test, options: LoadOptions(lenient: loader.lenient))
                let s = files.summary
                if format == .json { print(try jsonString(s)); return }
                print(TextTable(header: ["file", "rows", "users", "items"], rows: [
                    ["train", Format.grouped(s.train.rows), Format.grouped(s.train.users), Format.grouped(s.train.items)],
                    ["test", Format.grouped(s.test.rows), Format.grouped(s.test.users), Format.grouped(s.test.items)],
                ]).render(format), terminator: "")
                print("cold test rows (item not in train): \(Format.grouped(s.coldItemRows)) over \(Format.grouped(s.coldItems)) items; cold test users: \(s.coldUsers)")
                return
            }
            guard dataset == nil || database == nil else { throw UsageError("give a dataset path or --database, not both") }
            guard let path = dataset ?? database else { throw UsageError("give a dataset path or --database, or --train and --test files") }
            guard let output else { throw UsageError("--output DIR is required to write a split") }
            let splitMethod: SplitMethod
            switch method.lowercased() {
            case "ratio": splitMethod = .ratio(testFraction: testFraction)
            case "per-user", "peruser": splitMethod = .perUser(testFraction: testFraction)
            case "kfold", "k-fold": splitMethod = .kFold(folds: folds)
            case "last", "leave-last-out": splitMethod = .leaveLastOut
            default: throw UsageError("unknown --method '\(method)'; use ratio, per-user, kfold or last")
            }
            let dataset = try loader.load(path, format: inputFormat)
            let splits = try DatasetSplitter.split(dataset.interactions, method: splitMethod, seed: seed)
            var written: [Written] = []
            for (k, s) in splits.enumerated() {
                let dir = splits.count > 1 ? output + "/fold-\(k + 1)" : output
                try FileSystem.makeDirectory(dir)
                let inputs = loader.inputFiles(path, dataset: dataset)
                try DatasetSplitter.writeTSV(s.train, to: dir + "/train.tsv", inputs: inputs)
                try DatasetSplitter.writeTSV(s.test, to: dir + "/test.tsv", inputs: inputs)
                written.append(Written(directory: dir, train: s.train.nnz, test: s.test.nnz))
            }
            if format == .json { print(try jsonString(written)); return }
            print(TextTable(header: ["directory", "train rows", "test rows"],
                            rows: written.map { [$0.directory, Format.grouped($0.train), Format.grouped($0.test)] }).render(format), terminator: "")
        }
    }
}
