// What the CLI and the server do with a store: import a loaded dataset once (a content hash per
// import), train a model on the stored plays and register it as a candidate with its metrics
// (ranking protocol on a per-user holdout of the stored data) and its artifact.
import Crypto
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
import EncoreStore
import Foundation
import Synchronization

public enum StoreWorkflows {
    /// SHA-256 over the bytes of the input files, in order (streamed, 1 MiB at a time).
    public static func contentHash(files: [String]) throws -> String {
        var hasher = SHA256()
        for path in files { try update(&hasher, with: path) }
        return hexString(hasher.finalize())
    }

    static func update(_ hasher: inout SHA256, with path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.badInput("cannot read \(path)") }
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
    }

    /// `contentHash(files:)` started early: the first file (the path the user named, known before
    /// it is parsed) is hashed on a thread of its own while the loader parses it, and the files
    /// the load found follow in order when `hash(files:)` is called. The hash is the same.
    public final class EarlyContentHash: @unchecked Sendable {
        private let first: String
        private let done = DispatchSemaphore(value: 0)
        private var state: Result<SHA256, any Error> = .success(SHA256())

        public init(startingWith first: String) {
            self.first = first
            Thread.detachNewThread { [self] in
                var hasher = SHA256()
                do { try StoreWorkflows.update(&hasher, with: first); state = .success(hasher) } catch { state = .failure(error) }
                done.signal()
            }
        }

        /// The hash of `files`, reusing the early work when `files` starts with the first path.
        public func hash(files: [String]) throws -> String {
            done.wait()
            done.signal()
            guard files.first == first else { return try StoreWorkflows.contentHash(files: files) }
            var hasher = try state.get()
            for path in files.dropFirst() { try StoreWorkflows.update(&hasher, with: path) }
            return hexString(hasher.finalize())
        }
    }

    /// Imports raw plays (a transformed dataset is refused) with the content hash of its files
    /// (from `early` where the caller started it before loading).
    public static func importDataset(_ dataset: Dataset, files: [String], into store: any Store, mode: ImportMode,
                                     early: EarlyContentHash? = nil) async throws -> ImportSummary {
        let hash = try early?.hash(files: files) ?? contentHash(files: files)
        return try await store.importDataset(dataset, contentHash: hash, source: files.joined(separator: ", "), mode: mode)
    }

    /// Loads and imports at once. `load` runs on a thread of its own and gets a row sink for its
    /// `LoadOptions`: each batch of rows it accepts is written as events by the store's
    /// transaction while it parses the next (a first import of 2M plays into PostgreSQL hides
    /// most of the parse behind the server's work). When the load returns its dataset and files
    /// (a loader that streams nothing, or a filtered load, returns the rows that way), the
    /// transaction writes the rest. A failed load rolls everything back and throws the load's
    /// error. Returns the summary and the seconds the load took.
    public static func importWhileLoading(
        into store: any Store, mode: ImportMode, early: EarlyContentHash? = nil,
        load: @escaping @Sendable (_ sink: @escaping @Sendable (AcceptedRows) throws -> Void) throws -> (dataset: Dataset, files: [String])
    ) async throws -> (summary: ImportSummary, loadSeconds: Double) {
        let feed = ImportFeed()
        let start = MonotonicClock.now()
        let loadSeconds = LoadClock()
        Thread.detachNewThread {
            do {
                let (dataset, files) = try load { try feed.send($0) }
                loadSeconds.seconds.withLock { $0 = MonotonicClock.now() - start }
                let hash = try early?.hash(files: files) ?? contentHash(files: files)
                try feed.finish(dataset, contentHash: hash, source: files.joined(separator: ", "))
            } catch is ImportFeed.Stopped {
                // The transaction ended first; it reports why.
            } catch {
                feed.fail(error)
            }
        }
        do {
            let summary = try await store.importFeed(feed, mode: mode)
            return (summary, loadSeconds.seconds.withLock { $0 })
        } catch {
            throw feed.loadError ?? error
        }
    }

    private final class LoadClock: Sendable { let seconds = Mutex(0.0) }

    /// A trained and registered candidate.
    public struct Candidate: Sendable {
        public var record: ModelRecord
        public var metrics: [String: Double]
        public var users: Int
        public var items: Int
        public var interactions: Int
    }

    /// Fits `model` on a per-user holdout of the stored plays to measure it, then on all of them
    /// for the artifact, and registers the result as a candidate.
    public static func train(model name: String, overrides: String?, store: any Store, testFraction: Double = 0.2, seed: UInt64 = 42) async throws -> Candidate {
        let entry = try ModelRegistry.entry(named: name)
        let data = try await store.trainingData()
        let raw = data.interactions
        guard raw.nnz > 0 else { throw StoreError.badInput("the database holds no plays: run `encore import PATH --database …` first") }
        let transform: ValueTransform = entry.predictsValues ? .log1p : .none
        let split = try DatasetSplitter.split(raw, method: .perUser(testFraction: testFraction), seed: seed)[0]
        let evaluation = try RankingProtocol.evaluate(model: entry, overrides: overrides, train: split.train.mapValues(transform), test: split.test,
                                                      catalog: data.catalog, segmentsFrom: split.train)
        let start = MonotonicClock.now()
        let fitted = try entry.fit(raw.mapValues(transform), overrides: overrides, catalog: data.catalog)
        var metrics = evaluation.metrics
        metrics["fit_seconds"] = MonotonicClock.now() - start
        metrics["users_evaluated"] = Double(evaluation.usersEvaluated)
        let artifact = Artifact(model: fitted, transform: transform, metrics: metrics)
        let bytes = [UInt8](try artifact.encode())
        let metricsJSON = String(decoding: try JSONSerialization.data(withJSONObject: metrics, options: [.sortedKeys]), as: UTF8.self)
        let record = try await store.registerModel(NewModel(kind: entry.name, configuration: fitted.configurationJSON,
                                                            dataFingerprint: artifact.header.dataFingerprint, metrics: metricsJSON, artifact: bytes))
        return Candidate(record: record, metrics: metrics, users: raw.userCount, items: raw.itemCount, interactions: raw.nnz)
    }
}
