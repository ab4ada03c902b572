import ArgumentParser
import EncoreCharts
import EncoreData
import EncoreMath
import Foundation
import EncoreService

extension Encore {
    struct EDA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eda",
            abstract: "Explore a dataset: the report's six distributions, sparsity, concentration, top songs, engagement; optional HTML report.")

        @Argument(help: "A snapshot or any dataset path.") var path: String
        @Option(name: .customLong("input-format"), help: "Input format: auto, triplets, course, lastfm, movielens, delimited, snapshot.") var inputFormat: String = "auto"
        @OptionGroup var loader: LoaderOptions
        @OptionGroup var filters: FilterOptions
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat?
        @Option(help: "Write a self-contained HTML report with SVG histograms here.") var report: String?
        @Option(parsing: .unconditional, help: "How many top songs, artists and tags to list.") var top: Int = 10

        func run() throws {
            guard top > 0 else { throw UsageError("--top must be positive") }
            if let report { try AtomicFile.checkOutput(report, inputs: [path]) }
            var dataset = try loader.load(path, format: inputFormat)
            (dataset, _) = try filters.apply(to: dataset, quiet: format == .json)
            let eda = ExploratoryAnalysis(dataset, top: min(top, max(1, dataset.interactions.itemCount)))
            let output = format ?? .table
            if let report {
                try writeText(EDAReport.html(eda, dataset: dataset), to: report, inputs: loader.inputFiles(path, dataset: dataset))
            }
            if output == .json {
                print(try jsonString(eda))
            } else {
                print(EDAReport.text(eda, format: output), terminator: "")
            }
            if let report { note("wrote HTML report \(report)") }
        }
    }
}
