// Where train and test data come from for the model commands: ready-made --train/--test files,
// or a dataset (snapshot or any path) split with a seed; and the value scale (log1p by default,
// as the report).
import ArgumentParser
import EncoreData

struct TrainingDataOptions: ParsableArguments {
    @Option(help: "Dataset (snapshot or any path) to split; or use --train/--test.") var data: String?
    @Option(help: "Ready-made train file (any format; `user item plays` TSV with header as in the shared splits).") var train: String?
    @Option(help: "Ready-made test file.") var test: String?
    @Option(help: "Split method when a dataset is given: ratio (the report's 80/20; the seed protocol's default) or per-user (the ranking protocol's default).") var split: String?
    @Option(name: .customLong("test-fraction"), parsing: .unconditional, help: "Held-out share for the split.") var testFraction: Double = 0.2
    @Option(parsing: .unconditional, help: "Seed of the split.") var seed: UInt64 = 42
    @Option(help: "Value scale: log1p, none or cap:N. Default: log1p for rating models (the report's), raw plays for ranking models.") var value: String?
    @Flag(help: "Skip bad lines when reading files.") var lenient = false

    /// The files this command reads (a directory's files included), which no output may replace.
    var inputPaths: [String] {
        var paths: [String] = []
        for path in [data, train, test].compactMap({ $0 }) {
            paths.append(path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
               let names = try? FileManager.default.contentsOfDirectory(atPath: path) {
                paths += names.map { path + "/" + $0 }
            }
        }
        return paths
    }

    /// The value scale a model of this kind trains on: --value when given, else log1p for rating models.
    func transform(forRatingModel rating: Bool) throws -> ValueTransform {
        guard let value else { return rating ? .log1p : .none }
        guard let t = ValueTransform(argument: value) else { throw UsageError("unknown --value '\(value)'; use log1p, none or cap:N") }
        return t
    }

    /// Train and test on one id space, raw values, and the catalogue when the data has one.
    func loadRaw(requireTest: Bool) throws -> (train: InteractionMatrix, test: InteractionMatrix?, catalog: Catalog?) {
        if let value, ValueTransform(argument: value) == nil { throw UsageError("unknown --value '\(value)'; use log1p, none or cap:N") }
        let options = LoadOptions(lenient: lenient)
        if let train {
            if let test {
                let files = try SplitFiles.load(train: train, test: test, options: options)
                return (files.train, files.test, nil)
            }
            guard !requireTest else { throw UsageError("--train needs --test here") }
            let d = try DatasetImporter.load(path: train, format: (try? DatasetImporter.detect(path: train)).flatMap { $0 == .triplets ? nil : $0 } ?? .delimited,
                                             delimited: DelimitedLoadOptions(format: .tab, hasHeader: true), options: options)
            printWarnings(d.report)
            return (d.interactions, nil, nil)
        }
        guard let data else { throw UsageError("give --data DATASET, or --train FILE and --test FILE") }
        guard test == nil else { throw UsageError("--test goes with --train, not with --data") }
        let dataset = try DatasetImporter.load(path: data, options: options)
        printWarnings(dataset.report)
        guard requireTest else { return (dataset.interactions, nil, dataset.catalog) }
        let method: SplitMethod
        switch (split ?? "ratio").lowercased() {
        case "ratio": method = .ratio(testFraction: testFraction)
        case "per-user": method = .perUser(testFraction: testFraction)
        default: throw UsageError("unknown --split '\(split ?? "")'; use ratio or per-user")
        }
        guard let s = try DatasetSplitter.split(dataset.interactions, method: method, seed: seed).first else {
            throw UsageError("the split produced nothing")
        }
        return (s.train, s.test, dataset.catalog)
    }

    /// Train and test with the value scale of one kind of model.
    func load(requireTest: Bool, ratingModel: Bool = true) throws -> (train: InteractionMatrix, test: InteractionMatrix?, transform: ValueTransform) {
        let raw = try loadRaw(requireTest: requireTest)
        let t = try transform(forRatingModel: ratingModel)
        return (raw.train.mapValues(t), raw.test?.mapValues(t), t)
    }
}

/// `svd`, `svd{"n_epochs": 30}` or `svd={"n_epochs": 30}`, comma separated (commas inside braces are kept).
struct ModelSpec {
    var name: String
    var overrides: String?
    var label: String

    static func parse(_ text: String, sharedConfig: String?) throws -> [ModelSpec] {
        var specs: [String] = []
        var depth = 0
        var current = ""
        for ch in text {
            if ch == "{" { depth += 1 }
            if ch == "}" { depth -= 1 }
            if ch == "," && depth == 0 { specs.append(current); current = "" } else { current.append(ch) }
        }
        specs.append(current)
        return try specs.map { raw in
            let s = raw.trimmingCharacters(in: .whitespaces)
            guard !s.isEmpty else { throw UsageError("empty model name in --model '\(text)'") }
            if let brace = s.firstIndex(of: "{") {
                var name = String(s[..<brace]).trimmingCharacters(in: .whitespaces)
                while name.hasSuffix("=") || name.hasSuffix(":") { name.removeLast() }
                let json = String(s[brace...])
                return ModelSpec(name: name, overrides: json, label: "\(name) \(json)")
            }
            return ModelSpec(name: s, overrides: sharedConfig, label: sharedConfig.map { "\(s) \($0)" } ?? s)
        }
    }
}

import Foundation
