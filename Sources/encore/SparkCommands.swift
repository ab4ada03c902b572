import ArgumentParser
import EncoreData
import EncoreMath
import EncoreService
import EncoreStore
import Foundation

extension Encore {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the plays for a distributed engine: --format spark writes CSV with integer ids and their id maps.",
            discussion: """
            The output folder gets interactions.csv (user,item,plays: integer numbers, the plays on the --value scale, log1p by \
            default), users.csv and items.csv (number,id) and manifest.json. bench/spark_als.py trains MLlib's implicit ALS on it \
            and writes the factors beside it; `encore import-factors DIR --output model.art` turns them into a model Encore serves.
            """)
        @OptionGroup var data: TrainingDataOptions
        @Option(help: "The format: spark.") var format: String = "spark"
        @Option(help: "The folder to write.") var output: String

        func run() throws {
            guard format == "spark" else { throw UsageError("--format spark is the one export format") }
            guard data.test == nil else { throw UsageError("export writes one set of plays: leave out --test") }
            let raw = try data.loadRaw(requireTest: false)
            let transform = try data.value.map { v -> ValueTransform in
                guard let t = ValueTransform(argument: v) else { throw UsageError("--value takes log1p, none or cap:N") }
                return t
            } ?? .log1p
            let m = try SparkExchange.export(raw.train, transform: transform, to: output)
            print("wrote \(output): \(Format.grouped(m.interactions)) plays of \(Format.grouped(m.users)) users and \(Format.grouped(m.items)) songs (values \(m.value))")
        }
    }

    struct ImportFactors: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-factors",
            abstract: "Turn the user and item factors a Spark ALS job wrote beside an export into an `als` model artifact.")
        @Argument(help: "The export folder, with user_factors.csv, item_factors.csv and spark_params.json from the job.") var directory: String
        @Option(help: "The artifact to write.") var output: String

        func run() throws {
            let (model, transform) = try SparkExchange.importFactors(from: directory)
            let artifact = Artifact(model: model, transform: transform, metrics: [:])
            try artifact.write(to: output)
            print("wrote \(output): als with \(model.configuration.factors) factors from Spark over \(Format.grouped(model.train.userCount)) users and \(Format.grouped(model.train.itemCount)) songs")
        }
    }
}
