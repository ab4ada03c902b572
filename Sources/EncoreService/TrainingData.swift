// Where train and test data come from for the model commands: ready-made train/test files, or a
// dataset (snapshot or any path) split with a seed; and the value scale (log1p for rating models
// by default, as the report; raw plays for ranking models).
import EncoreData
import EncoreMath
import Foundation

/// Train and test data for fitting and evaluating models.
public struct TrainingData: Sendable {
    /// A dataset to split (snapshot or any path); or use `train` and `test`.
    public var data: String?
    public var train: String?
    public var test: String?
    /// ratio or per-user, when a dataset is split.
    public var split: String?
    public var testFraction = 0.2
    public var seed: UInt64 = 42
    /// log1p, none or cap:N; nil: log1p for rating models, raw plays for ranking models.
    public var value: String?
    public var lenient = false
    /// The input format of --data (auto-detected by default).
    public var inputFormat = "auto"
    /// A dataset whose catalogue names the songs of split files (it must contain their training plays).
    public var catalog: String?

    public init() {}

    /// Raw train and test on one id space, the catalogue when the data has one, and the load warnings.
    public struct Loaded: Sendable {
        public var train: InteractionMatrix
        public var test: InteractionMatrix?
        public var catalog: Catalog?
        public var warnings: [String]
    }

    /// The value scale a model of this kind trains on.
    public func transform(forRatingModel rating: Bool) throws -> ValueTransform {
        guard let value else { return rating ? .log1p : .none }
        guard let t = ValueTransform(argument: value) else { throw ParameterError("unknown --value '\(value)'; use log1p, none or cap:N") }
        return t
    }

    /// The files this reads (a directory's files included), which no output may replace.
    public var inputPaths: [String] {
        var paths: [String] = []
        for path in [data, train, test, catalog].compactMap({ $0 }) {
            paths.append(path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
               let names = try? FileManager.default.contentsOfDirectory(atPath: path) {
                paths += names.map { path + "/" + $0 }
            }
        }
        return paths
    }

    /// Raw values; `requireTest` demands a test side (from --test or from the split).
    public func loadRaw(requireTest: Bool) throws -> Loaded {
        var loaded = try loadPlays(requireTest: requireTest)
        if let catalog {
            let d = DatabaseSource.isDatabase(catalog) ? try DatabaseSource.load(catalog) : try DatasetImporter.load(path: catalog, options: LoadOptions(lenient: lenient))
            try CatalogMatch.check(d, describes: loaded.train, source: catalog)
            var metadata: [String: CatalogEntry] = [:]
            for (j, id) in d.interactions.items.ids.enumerated() where j < d.catalog.count { metadata[id] = d.catalog[j] }
            var report = LoadReport(format: "catalogue")
            loaded.catalog = Catalog.aligned(items: loaded.train.items, metadata: metadata, report: &report)
        }
        return loaded
    }

    func loadPlays(requireTest: Bool) throws -> Loaded {
        if let value, ValueTransform(argument: value) == nil { throw ParameterError("unknown --value '\(value)'; use log1p, none or cap:N") }
        let options = LoadOptions(lenient: lenient)
        if let train {
            if let test {
                let files = try SplitFiles.load(train: train, test: test, options: options)
                return Loaded(train: files.train, test: files.test, catalog: nil, warnings: [])
            }
            guard !requireTest else { throw ParameterError("--train needs --test here") }
            let d = try DatasetImporter.load(path: train, format: (try? DatasetImporter.detect(path: train)).flatMap { $0 == .triplets ? nil : $0 } ?? .delimited,
                                             delimited: DelimitedLoadOptions(format: .tab, hasHeader: true), options: options)
            return Loaded(train: d.interactions, test: nil, catalog: nil, warnings: d.report.warnings)
        }
        guard let data else { throw ParameterError("give --data DATASET, or --train FILE and --test FILE") }
        guard test == nil else { throw ParameterError("--test goes with --train, not with --data") }
        let dataset: Dataset
        if DatabaseSource.isDatabase(data) { dataset = try DatabaseSource.load(data) } else {
            var source = DatasetSource()
            source.lenient = lenient
            dataset = try source.load(data, format: inputFormat)
        }
        guard requireTest else { return Loaded(train: dataset.interactions, test: nil, catalog: dataset.catalog, warnings: dataset.report.warnings) }
        let method: SplitMethod
        switch (split ?? "ratio").lowercased() {
        case "ratio": method = .ratio(testFraction: testFraction)
        case "per-user": method = .perUser(testFraction: testFraction)
        default: throw ParameterError("unknown --split '\(split ?? "")'; use ratio or per-user")
        }
        guard let s = try DatasetSplitter.split(dataset.interactions, method: method, seed: seed).first else {
            throw ParameterError("the split produced nothing")
        }
        return Loaded(train: s.train, test: s.test, catalog: dataset.catalog, warnings: dataset.report.warnings)
    }

    /// Train and test with the value scale of one kind of model.
    public func load(requireTest: Bool, ratingModel: Bool = true) throws -> (train: InteractionMatrix, test: InteractionMatrix?, transform: ValueTransform, warnings: [String]) {
        let raw = try loadRaw(requireTest: requireTest)
        let t = try transform(forRatingModel: ratingModel)
        return (raw.train.mapValues(t), raw.test?.mapValues(t), t, raw.warnings)
    }
}
