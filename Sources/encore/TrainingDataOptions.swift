// Where train and test data come from for the model commands: ready-made --train/--test files,
// or a dataset (snapshot or any path) split with a seed; and the value scale (log1p by default,
// as the report).
import ArgumentParser
import EncoreData
import EncoreService

struct TrainingDataOptions: ParsableArguments {
    @Option(help: "Dataset (snapshot or any path) to split; or use --train/--test.") var data: String?
    @Option(name: .customLong("input-format"), help: "Input format of --data: auto, triplets, course, lastfm, movielens, split, delimited, snapshot.") var inputFormat: String = "auto"
    @Option(help: "Ready-made train file (any format; `user item plays` TSV with header as in the shared splits).") var train: String?
    @Option(help: "Ready-made test file.") var test: String?
    @Option(help: "Split method when a dataset is given: ratio (the report's 80/20; the seed protocol's default) or per-user (the ranking protocol's default).") var split: String?
    @Option(name: .customLong("test-fraction"), parsing: .unconditional, help: "Held-out share for the split (default 0.2).") var testFraction: Double?
    @Option(parsing: .unconditional, help: "Seed of the split.") var seed: UInt64 = 42
    @Option(help: "Value scale: log1p, none or cap:N. Default: log1p for rating models (the report's), raw plays for ranking models.") var value: String?
    @Flag(help: "Skip bad lines when reading files.") var lenient = false
    @Option(help: "A dataset whose catalogue names the songs of --train/--test files (titles, artists, tags for content models and policies).") var catalog: String?
    @Option(help: "Read the plays from a database (SQLite file or postgres://user@host:port/db) instead of --data; `train` registers the model there.") var database: String?

    func validate() throws {
        if let f = testFraction, !(f > 0 && f < 1) { throw ValidationError("--test-fraction must be between 0 and 1 (exclusive), got \(f)") }
        if database != nil, data != nil || train != nil { throw ValidationError("give --database or --data/--train, not both") }
    }

    /// The library's description of this data.
    var service: TrainingData {
        var t = TrainingData()
        t.data = data ?? database
        t.train = train
        t.test = test
        t.split = split
        t.testFraction = testFraction ?? 0.2
        t.seed = seed
        t.value = value
        t.lenient = lenient
        t.inputFormat = inputFormat
        t.catalog = catalog
        return t
    }

    /// The files this command reads (a directory's files included), which no output may replace.
    var inputPaths: [String] { service.inputPaths }

    func transform(forRatingModel rating: Bool) throws -> ValueTransform { try service.transform(forRatingModel: rating) }

    /// Train and test on one id space, raw values, and the catalogue when the data has one.
    func loadRaw(requireTest: Bool) throws -> TrainingData.Loaded {
        let loaded = try service.loadRaw(requireTest: requireTest)
        printWarnings(loaded.warnings)
        return loaded
    }

    /// Train and test with the value scale of one kind of model.
    func load(requireTest: Bool, ratingModel: Bool = true) throws -> (train: InteractionMatrix, test: InteractionMatrix?, transform: ValueTransform) {
        let loaded = try service.load(requireTest: requireTest, ratingModel: ratingModel)
        printWarnings(loaded.warnings)
        return (loaded.train, loaded.test, loaded.transform)
    }
}
