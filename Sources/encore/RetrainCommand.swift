import ArgumentParser
import EncorePolicy
import EncoreService
import EncoreStore
import Foundation

extension Encore {
    struct Retrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retrain the models a policy uses on the stored plays, and promote each candidate that beats its active version.",
            discussion: """
            Holds out each user's most recently discovered songs (the latest first plays), fits a candidate of every model on the rest, \
            and ranks the held-out songs from each user's other plays with the candidate and with the model's active version alike. \
            A candidate better by more than --margin on --metric is activated; every candidate is fitted on all the plays and registered \
            with both scores, and the registry keeps the newest --keep versions of each model. One retrain runs at a time (a lock in the \
            database). SIGINT or SIGTERM cancels it; a cancelled or failed retrain registers nothing. `encore registry rollback --model NAME` \
            restores the version active before.
            """)

        @OptionGroup var db: DatabaseOption
        @Option(help: "The policy whose models are retrained (a built-in name or a policy file).") var policy: String = "default"
        @Option(help: "Only these of the policy's models, comma separated (default: all of them).") var models: String?
        @Option(help: "The metric that decides: \(RetrainConfiguration.metrics.joined(separator: ", ")).") var metric: String = "ndcg_at_10"
        @Option(parsing: .unconditional, help: "How much better than the active version a candidate must be, in the metric's units.") var margin: Double = 0.001
        @Option(parsing: .unconditional, help: "Versions of each model kept in the registry (the active one always stays).") var keep: Int = 5
        @Option(parsing: .unconditional, help: "The share of each user's songs held out: the most recently discovered.") var holdout: Double = 0.2
        @Option(name: .customLong("minimum-songs"), parsing: .unconditional, help: "Users with fewer played songs are not held out.") var minimumSongs: Int = 5
        @Option(name: .customLong("evaluate-users"), parsing: .unconditional, help: "Rank at most this many held-out listeners, a seeded sample (0: all).") var evaluateUsers: Int = 10_000
        @Option(parsing: .unconditional, help: "Seed for ties in time (an import stamps its rows alike) and the sample.") var seed: UInt64 = 42
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

        func run() throws {
            var c = RetrainConfiguration(policy: try Policy.named(policy))
            c.models = models.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            (c.metric, c.margin, c.keep, c.holdoutFraction, c.minimumSongs, c.seed) = (metric, margin, keep, holdout, minimumSongs, seed)
            guard evaluateUsers >= 0 else { throw UsageError("--evaluate-users must be 0 or more") }
            c.evaluateUsers = evaluateUsers
            let configuration = c
            let cancel = CancelFlag.onSignals()
            let quiet = format == .json
            let outcome = try db.use { store in
                try await Retraining.run(store: store, configuration: configuration, isCancelled: { cancel.isSet }) { if !quiet { note($0) } }
            }
            if format == .json { print(try jsonString(outcome)); return }
            if let reason = outcome.note { print(reason) }
            if !outcome.models.isEmpty { print(TextTable(header: ["model", "candidate", metric, "active", "active \(metric)", "decision"], rows: outcome.models.map { m in
                [m.kind, m.candidateID.map { "model \($0)" } ?? "", Format.number(m.candidate, digits: 4), m.activeID.map { "model \($0)" } ?? "none",
                 m.active.map { Format.number($0, digits: 4) } ?? "", m.promoted ? "promoted" : "kept the active version"]
            }).render(format), terminator: "") }
            print("retrain \(outcome.id): \(outcome.status.rawValue) (\(Format.number(outcome.seconds, digits: 1)) s, \(outcome.heldOut) held-out plays of \(outcome.usersEvaluated) users)")
        }
    }
}

/// Set by SIGINT or SIGTERM, for work that stops between steps instead of dying mid-write.
enum CancelFlag {
    /// The signal sources stay alive for the process.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func onSignals() -> OnceFlag {
        let flag = OnceFlag()
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                flag.set()
                note("cancelling: the retrain stops at its next step and registers nothing")
            }
            source.resume()
            sources.append(source)
        }
        return flag
    }
}
