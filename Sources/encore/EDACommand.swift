import ArgumentParser
import EncoreCharts
import EncoreData
import EncoreMath
import EncorePolicy
import Foundation
import EncoreService

extension Encore {
    struct EDA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eda",
            abstract: "Explore a dataset: the report's six distributions, sparsity, concentration, top songs, engagement; optional HTML report.")

        @Argument(help: "A snapshot, any dataset path, or a database.") var dataset: String?
        @Option(help: "Read the stored plays and catalogue of a database (SQLite file or postgres:// URL).") var database: String?
        @Option(name: .customLong("input-format"), help: "Input format: auto, triplets, course, lastfm, movielens, delimited, snapshot.") var inputFormat: String = "auto"
        @OptionGroup var loader: LoaderOptions
        @OptionGroup var filters: FilterOptions
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat?
        @Option(help: "Write a self-contained HTML report with SVG histograms here.") var report: String?
        @Option(parsing: .unconditional, help: "How many top songs, artists and tags to list.") var top: Int = 10

        func run() throws {
            guard top > 0 else { throw UsageError("--top must be positive") }
            guard (dataset == nil) != (database == nil) else { throw UsageError("give a dataset path or --database (one of them)") }
            guard let path = dataset ?? database else { return }
            if let report { try AtomicFile.checkOutput(report, inputs: [path]) }
            var dataset = try loader.load(path, format: inputFormat)
            (dataset, _) = try filters.apply(to: dataset, quiet: format == .json)
            let eda = ExploratoryAnalysis(dataset, top: min(top, max(1, dataset.interactions.itemCount)))
            let output = format ?? .table
            let segments = try Segmenter(dataset.interactions)
            if let report {
                try writeText(EDAReport.html(eda, dataset: dataset, segments: segments), to: report, inputs: loader.inputFiles(path, dataset: dataset))
            }
            if output == .json {
                print(try jsonString(eda))
            } else {
                print(EDAReport.text(eda, format: output, segments: segments), terminator: "")
            }
            if let report { note("wrote HTML report \(report)") }
        }
    }
}
