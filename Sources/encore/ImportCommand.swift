import ArgumentParser
import EncoreData
import EncoreMath
import EncoreService
import EncoreStore

extension Encore {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a dataset (triplets, course CSVs, Last.fm HetRec, MovieLens, any delimited file) into a snapshot or a database.",
            discussion: "With --database the plays, users and catalogue go into the database in one transaction: all or nothing. A file imported before (same content) is refused in append mode.")

        @Argument(help: "A file or a directory.") var path: String
        @Option(name: .customLong("input-format"), help: "Input format: auto, triplets, course, lastfm, movielens, split, delimited, snapshot.") var inputFormat: String = "auto"
        @OptionGroup var loader: LoaderOptions
        @OptionGroup var filters: FilterOptions
        @Option(help: "Value transform stored in the snapshot: none, log1p, cap:N.") var transform: String = "none"
        @Option(help: "Where to write the snapshot.") var output: String?
        @Option(help: "A database to import into instead: a SQLite file or postgres://user@host:port/db.") var database: String?
        @Option(help: "With --database: append (refuses a file imported before) or replace (every stored play).") var mode: ImportMode = .append
        @Option(help: "Summary: table, markdown or json.") var format: OutputFormat = .table

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
            if let database {
                guard output == nil else { throw UsageError("give --output (a snapshot) or --database, not both") }
                guard t == .none else { throw UsageError("a database keeps raw play counts: --transform applies to snapshots only") }
                return try importIntoDatabase(database)
            }
            guard let output else { throw UsageError("give --output (a snapshot file) or --database (a SQLite file or postgres:// URL)") }
            try AtomicFile.checkOutput(output, inputs: [path] + (loader.songs.map { [$0] } ?? []))
            let start = MonotonicClock.now()
            var dataset = try loader.load(path, format: inputFormat)
            let parsed = MonotonicClock.now()
            var steps: [FilterStep] = []
            (dataset, steps) = try filters.apply(to: dataset, quiet: format == .json)
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
            if format == .json {
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
            print(TextTable(header: ["import", "value"], rows: rows).render(format), terminator: "")
            print("wrote \(output)")
        }

        struct DatabaseSummary: Encodable {
            var database: String
            var rows: Int
            var users: Int
            var songs: Int
            var contentHash: String
            /// Reading, validating and interning the file, before the database is written.
            var parseSeconds: Double
            /// The database write, all in one transaction.
            var seconds: Double
            /// The write's steps: songs, catalogue, users, events, plays, commit.
            var phaseSeconds: [String: Double]
            var status: StoreStatus
            enum CodingKeys: String, CodingKey {
                case database, rows, users, songs, seconds, status
                case contentHash = "content_hash", parseSeconds = "parse_seconds", phaseSeconds = "phase_seconds"
            }
        }

        func importIntoDatabase(_ url: String) throws {
            let store = try waitFor { try await Stores.open(url) }
            let early = StoreWorkflows.EarlyContentHash(startingWith: path)
            // Without filters the loader streams its rows into the transaction while it reads;
            // with them, the filtered dataset is written once loaded.
            let (source, filters, path, inputFormat, mode, quiet) = (loader.source, filters, path, inputFormat, mode, format == .json)
            let result = try waitFor { () async throws -> ((summary: ImportSummary, loadSeconds: Double), StoreStatus) in
                do {
                    let r = try await StoreWorkflows.importWhileLoading(into: store, mode: mode, early: early) { sink in
                        var source = source
                        if filters.configuration.isEmpty { source.rowSink = sink }
                        var dataset = try source.load(path, format: inputFormat)
                        printWarnings(dataset.report.warnings)
                        (dataset, _) = try filters.apply(to: dataset, quiet: quiet)
                        return (dataset, source.inputFiles(path, dataset: dataset))
                    }
                    let s = try await store.status()
                    try await store.close()
                    return (r, s)
                } catch {
                    try? await store.close()
                    throw error
                }
            }
            let parseSeconds = result.0.loadSeconds
            let summary = DatabaseSummary(database: store.location, rows: result.0.summary.rows, users: result.0.summary.users, songs: result.0.summary.songs,
                                          contentHash: result.0.summary.contentHash, parseSeconds: parseSeconds, seconds: result.0.summary.seconds,
                                          phaseSeconds: Dictionary(result.0.summary.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +), status: result.1)
            if format == .json { print(try jsonString(summary)); return }
            print(TextTable(header: ["import", "value"], rows: [
                ["database", summary.database], ["rows imported", Format.grouped(summary.rows)], ["users in the file", Format.grouped(summary.users)],
                ["songs in the file", Format.grouped(summary.songs)], ["rows per second", Format.grouped(Int(Double(summary.rows) / max(summary.seconds, 1e-9)))],
                ["parse seconds", Format.number(summary.parseSeconds, digits: 3)], ["write seconds", Format.number(summary.seconds, digits: 3)],
                ["events stored", Format.grouped(summary.status.events)],
            ]).render(format), terminator: "")
        }
    }
}
