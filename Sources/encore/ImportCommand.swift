import ArgumentParser
import EncoreData
import EncoreMath
import EncoreService

extension Encore {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a dataset (triplets, course CSVs, Last.fm HetRec, MovieLens, any delimited file) into a snapshot.")

        @Argument(help: "A file or a directory.") var path: String
        @Option(help: "Input format: auto, triplets, course, lastfm, movielens, delimited, snapshot.") var format: String = "auto"
        @OptionGroup var loader: LoaderOptions
        @OptionGroup var filters: FilterOptions
        @Option(help: "Value transform stored in the snapshot: none, log1p, cap:N.") var transform: String = "none"
        @Option(help: "Where to write the snapshot.") var output: String
        @Option(name: .customLong("output-format"), help: "Summary format: table or json.") var outputFormat: OutputFormat = .table

        struct Summary: Encodable {
            var name: String
            var users: Int
            var items: Int
            var interactions: Int
            var report: LoadReport
            var filters: [FilterStep]
            var transform: String
            var snapshot: String
            var parseSeconds: Double
            var writeSeconds: Double
            enum CodingKeys: String, CodingKey {
                case name, users, items, interactions, report, filters, transform, snapshot
                case parseSeconds = "parse_seconds"
                case writeSeconds = "write_seconds"
            }
        }

        func run() throws {
            guard let t = ValueTransform(argument: transform) else {
                throw UsageError("unknown --transform '\(transform)'; use none, log1p or cap:N")
            }
            try AtomicFile.checkOutput(output, inputs: [path] + (loader.songs.map { [$0] } ?? []))
            let start = MonotonicClock.now()
            var dataset = try loader.load(path, format: format)
            let parsed = MonotonicClock.now()
            var steps: [FilterStep] = []
            (dataset, steps) = try filters.apply(to: dataset, quiet: outputFormat == .json)
            if t != .none {
                dataset = Dataset(name: dataset.name, interactions: dataset.interactions.mapValues(t), catalog: dataset.catalog,
                                  report: dataset.report, transform: t)
            }
            try Snapshot.write(dataset, to: output, inputs: loader.inputFiles(path, dataset: dataset))
            let written = MonotonicClock.now()
            let m = dataset.interactions
            let summary = Summary(name: dataset.name, users: m.userCount, items: m.itemCount, interactions: m.nnz, report: dataset.report,
                                  filters: steps, transform: t.description, snapshot: output,
                                  parseSeconds: parsed - start, writeSeconds: written - parsed)
            if outputFormat == .json {
                print(try jsonString(summary))
                return
            }
            let r = dataset.report
            var rows: [[String]] = [
                ["format", r.format], ["rows read", Format.grouped(r.rowsRead)], ["rows accepted", Format.grouped(r.rowsAccepted)],
                ["duplicate rows merged (plays summed)", Format.grouped(r.duplicatesMerged)],
                ["users", Format.grouped(m.userCount)], ["songs", Format.grouped(m.itemCount)], ["interactions", Format.grouped(m.nnz)],
            ]
            if r.catalogRows > 0 {
                rows += [["catalogue rows", Format.grouped(r.catalogRows)], ["catalogue duplicate ids (first kept)", Format.grouped(r.catalogDuplicates)],
                         ["songs without metadata", Format.grouped(r.itemsWithoutMetadata)], ["catalogue songs nobody played", Format.grouped(r.catalogOnlyItems)]]
            }
            for (reason, count) in r.skipped.sorted(by: { $0.key < $1.key }) { rows.append(["skipped: \(reason)", Format.grouped(count)]) }
            rows += [["parse seconds", Format.number(summary.parseSeconds, digits: 3)], ["write seconds", Format.number(summary.writeSeconds, digits: 3)]]
            print(TextTable(header: ["import", "value"], rows: rows).text(), terminator: "")
            print("wrote \(output)")
        }
    }
}
