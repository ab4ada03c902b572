import ArgumentParser
import EncoreCharts
import EncoreData
import EncoreEval
import EncoreMath
import EncoreModels
import EncorePolicy
import EncoreService
import Foundation

extension Encore {
    struct Segments: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Place every user in one segment (cold start, low engagement, low discovery, regular) and print the sizes, thresholds and values.")

        @OptionGroup var data: TrainingDataOptions
        @Option(help: "Take the segment rules of this policy (built-in name or file).") var policy: String?
        @Option(name: .customLong("cold-songs"), parsing: .unconditional, help: "Cold start: fewer songs than this.") var coldSongs: Int?
        @Option(name: .customLong("low-engagement-percentile"), parsing: .unconditional, help: "Low engagement: total plays below this percentile.") var lowEngagement: Double?
        @Option(name: .customLong("low-discovery-percentile"), parsing: .unconditional, help: "Low discovery: mean song popularity percentile at or above this percentile of users.") var lowDiscovery: Double?
        @Option(help: "Also list each user's segment and values (csv file).") var users: String?
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

        struct Output: Encodable {
            var thresholds: [String: Double]
            var sizes: [String: Int]
            var rules: SegmentRules
        }

        func run() throws {
            var rules = try policy.map { try Policy.named($0).segments } ?? SegmentRules()
            if let coldSongs { rules.coldMaxSongs = coldSongs }
            if let lowEngagement { rules.lowEngagementPercentile = lowEngagement }
            if let lowDiscovery { rules.lowDiscoveryPercentile = lowDiscovery }
            if let users { try AtomicFile.checkOutput(users, inputs: data.inputPaths) }
            let loaded = try data.loadRaw(requireTest: false)
            let s = try Segmenter(loaded.train, rules: rules)
            if let users {
                var csv = "user,segment,songs,plays,popularity_percentile,top_share\n"
                for u in 0..<s.segments.count {
                    let v = s.userValues[u]
                    csv += "\(loaded.train.users[u]),\(s.segments[u].rawValue),\(v.songs),\(v.plays),\(String(format: "%.3f", v.popularityPercentile)),\(String(format: "%.4f", v.topShare))\n"
                }
                try writeText(csv, to: users, inputs: data.inputPaths)
                note("wrote \(users)")
            }
            if format == .json {
                print(try jsonString(Output(thresholds: ["low_engagement_plays": s.lowEngagementPlays, "low_discovery_popularity": s.lowDiscoveryPopularity],
                                            sizes: Dictionary(uniqueKeysWithValues: Segment.allCases.map { ($0.rawValue, s.sizes[$0] ?? 0) }), rules: rules)))
                return
            }
            print(SegmentReport.text(s, format: format), terminator: "")
        }
    }

    struct PolicyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy", abstract: "Show, tune and simulate policies (a recipe per user segment, and a bandit over policies).",
            subcommands: [Show.self, List.self, TunePolicy.self, Simulate.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the built-in policies.")
            func run() throws {
                print(TextTable(header: ["policy", "description"], rows: Policy.builtIn.map { [$0.name, $0.description] }).text(), terminator: "")
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print a policy (built-in name or file) as JSON, or its recipes as a table.")
            @Argument(help: "A built-in policy (report, default) or a policy file.") var name: String
            @Option(help: "Output: json (the policy file) or table.") var format: OutputFormat = .json

            func run() throws {
                let p = try Policy.named(name)
                guard format != .json else { print(try p.json()); return }
                let rows = Segment.allCases.map { s -> [String] in
                    guard let r = p.recipes[s] else { return [s.rawValue, "", ""] }
                    let parts = r.sources.map { "\($0.source) " + (r.mode == .slots ? "\($0.slots ?? 0) slots" : "×\(Format.number($0.weight ?? 0, digits: 2))") }
                    return [s.rawValue, r.mode.rawValue + (r.maxPerArtist.map { ", ≤\($0) per artist" } ?? ""), parts.joined(separator: ", ")]
                }
                print("\(p.name): \(p.description)")
                print(TextTable(header: ["segment", "mode", "sources"], rows: rows).render(format), terminator: "")
            }
        }

        struct TunePolicy: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "tune",
                abstract: "Learn per-segment blend weights (and each model's decisive hyper-parameter) on a validation split of the training data; write a policy file.",
                discussion: "With --data the dataset is split as evaluate splits it (--split, --seed) and only the training side is read; with --train only that file is read. The test side is never read.")

            @OptionGroup var data: TrainingDataOptions
            @Option(help: "Policy file to write.") var output: String
            @Option(help: "Name of the new policy.") var name: String = "tuned"
            @Option(help: "Start from this policy's segment rules and fixed model configurations.") var base: String = "report"
            @Option(help: "Sources to blend, comma separated: models and pools (popular, discovery, cluster-mates, content, new-songs).")
            var sources: String = "ease,als,item-knn,popular,discovery,cluster-mates,content,new-songs"
            @Option(help: "Novelty@10 floors, e.g. low_discovery=+30%,regular=4 (absolute, or a rise over the most accurate single source).")
            var floor: String = "low_discovery=+30%"
            @Option(parsing: .unconditional, help: "Seconds for the hyper-parameter search.") var budget: Double = 300
            @Option(name: .customLong("validation-fraction"), parsing: .unconditional, help: "Validation share of each user's training songs.") var validationFraction: Double = 0.2
            @Option(name: .customLong("max-per-artist"), parsing: .unconditional, help: "Artist cap of the tuned recipes.") var maxPerArtist: Int?
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

            func run() throws {
                try AtomicFile.checkOutput(output, inputs: data.inputPaths)
                var o = PolicyTuningOptions()
                o.name = name
                o.seed = data.seed
                o.budgetSeconds = budget
                o.validationFraction = validationFraction
                o.maxPerArtist = maxPerArtist
                o.sources = try sources.split(separator: ",").map { try PolicySource(name: $0.trimmingCharacters(in: .whitespaces)) }
                o.floors = [:]
                for item in floor.split(separator: ",") where !item.isEmpty {
                    let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2, let s = Segment(rawValue: kv[0]) else {
                        throw UsageError("--floor takes segment=value pairs (segments: \(Segment.allCases.map(\.rawValue).joined(separator: ", "))), got '\(item)'")
                    }
                    o.floors[s] = try NoveltyFloor(parsing: kv[1])
                }
                // Only the training side: a split's test part, or --test, is never read.
                var options = data
                options.test = nil
                let train: TrainingData.Loaded
                if options.data != nil {
                    if options.split == nil { options.split = "per-user" }
                    train = try options.loadRaw(requireTest: true)
                } else {
                    train = try options.loadRaw(requireTest: false)
                }
                let basePolicy = try Policy.named(base)
                let quiet = format == .json
                let r = try PolicyTuning.tune(train: train.train, catalog: train.catalog, base: basePolicy, options: o) { if !quiet { note($0) } }
                try writeText(try r.policy.json() + "\n", to: output, inputs: data.inputPaths)
                for n in r.notes { note("note: " + n) }
                if format == .json {
                    struct Row: Encodable { var segment: String; var label: String; var ndcg_at_10: Double; var novelty_at_10: Double }
                    print(try jsonString(r.validation.sorted { $0.key < $1.key }.flatMap { s, rows in rows.map { Row(segment: s.rawValue, label: $0.label, ndcg_at_10: $0.ndcg, novelty_at_10: $0.novelty) } }))
                } else {
                    for (model, trials) in r.trials.sorted(by: { $0.key < $1.key }) {
                        print("\(model) on the validation split")
                        print(TextTable(header: ["configuration", "NDCG@10"], rows: trials.map { [$0.configuration, Format.number($0.ndcg, digits: 4)] }).render(format))
                    }
                    var rows: [[String]] = []
                    for s in Segment.allCases {
                        for v in r.validation[s] ?? [] {
                            rows.append([s.rawValue + " (\(r.validationUsers[s] ?? 0))", v.label, Format.number(v.ndcg, digits: 4), Format.number(v.novelty, digits: 2)])
                        }
                    }
                    print("Validation split: the tuned blend against each single source")
                    print(TextTable(header: ["segment (users)", "list", "NDCG@10", "novelty@10"], rows: rows).render(format), terminator: "")
                }
                note("wrote \(output)")
            }
        }

        struct Simulate: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run the Thompson-sampling bandit on a synthetic population whose best policy per segment is known; print when it reaches 90% of the best reward, and the regret curve.")
            @Option(parsing: .unconditional, help: "Impressions to simulate.") var impressions: Int = 20_000
            @Option(parsing: .unconditional, help: "Seed.") var seed: UInt64 = 42
            @Option(name: .customLong("minimum-share"), parsing: .unconditional, help: "Each arm's least share of traffic.") var minimumShare: Double = 0.05
            @Flag(help: "Freeze the bandit (serve the best posterior mean, learn nothing).") var frozen = false
            @Option(help: "Write the regret curve as SVG here.") var svg: String?
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

            func run() throws {
                guard impressions > 0, impressions <= 10_000_000 else { throw UsageError("--impressions must be between 1 and 10,000,000") }
                var c = BanditConfiguration(arms: BanditSimulation.standardArms)
                c.minimumShare = minimumShare
                c.frozen = frozen
                let r = try BanditSimulation.run(configuration: c, impressions: impressions, seed: seed, checkpointEvery: max(1, impressions / 200))
                if let svg {
                    try writeText(LineChart(title: "Bandit regret (synthetic population, seed \(seed))", xLabel: "impressions", yLabel: "cumulative expected regret",
                                            x: r.checkpoints.map(Double.init), series: [("Thompson sampling", r.regret)]).svg(), to: svg)
                    note("wrote \(svg)")
                }
                struct Out: Encodable {
                    var impressions: Int; var reached_90_percent_at: Int?; var final_regret: Double; var best_reward: Double
                    var late_shares: [String: [String: Double]]
                }
                let out = Out(impressions: impressions, reached_90_percent_at: r.reachedNinetyPercentAt, final_regret: r.regret.last ?? 0, best_reward: r.bestReward,
                              late_shares: Dictionary(uniqueKeysWithValues: r.lateShares.map { ($0.key.rawValue, $0.value) }))
                if format == .json { print(try jsonString(out)); return }
                print("reached 90% of the best arms' reward at: \(r.reachedNinetyPercentAt.map { Format.grouped($0) + " impressions" } ?? "never")")
                print("cumulative expected regret: \(Format.number(r.regret.last ?? 0, digits: 1)) over \(Format.grouped(impressions)) impressions")
                var rows: [[String]] = []
                for t in BanditSimulation.standardPopulation {
                    let best = c.arms[t.rewards.indices.max { t.rewards[$0] < t.rewards[$1] } ?? 0]
                    rows.append([t.segment.rawValue, best] + c.arms.map { Format.number(100 * (r.lateShares[t.segment]?[$0] ?? 0), digits: 1) + "%" })
                }
                print(TextTable(header: ["segment", "best arm"] + c.arms.map { "\($0) share (last half)" }, rows: rows).render(format), terminator: "")
            }
        }
    }

    struct Playlist: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Playlists a policy builds.", subcommands: [NewSongs.self])

        struct NewSongs: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "new-songs",
                abstract: "The report's new-song playlist for a user: songs with few or no listeners, ranked by content similarity and cluster match.")
            @Option(help: "External user id.") var user: String
            @Option(name: .shortAndLong, parsing: .unconditional, help: "How many songs.") var k: Int = 20
            @OptionGroup var data: TrainingDataOptions
            @Option(name: .customLong("fewer-listeners-than"), parsing: .unconditional, help: "A song is new when it has fewer training listeners than this.") var fewerListenersThan: Int = 1
            @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

            func run() throws {
                guard k > 0, k <= 10_000 else { throw UsageError("-k must be between 1 and 10,000") }
                let loaded = try data.loadRaw(requireTest: false)
                guard let catalog = loaded.catalog else { throw UsageError("the new-song playlist reads song text: give a dataset with a catalogue (or --catalog)") }
                guard let u = loaded.train.users.index(of: user) else { throw UsageError("unknown user '\(user)'") }
                var policy = Policy.report
                policy.newSongs.fewerListenersThan = fewerListenersThan
                policy.recipes[.regular] = Recipe(mode: .slots, sources: [RecipePart(.newSongs, slots: 1)])
                var pool = ModelPool(train: loaded.train, catalog: catalog) { if format != .json { note($0) } }
                let engine = try pool.engine(policy)
                for w in engine.warnings { note("warning: " + w) }
                guard let playlist = engine.newSongs else { return }
                let list = playlist.playlist(history: UserHistory(user: u, of: loaded.train), k: k)
                if list.isEmpty { note("no new songs: no song has fewer than \(fewerListenersThan) listeners") }
                try printSongs(list.map { PolicyItem(item: $0.item, score: $0.score, source: "new-songs", explanation: $0.explanation ?? Explanation(kind: .newSong, sentence: "")) },
                               train: loaded.train, catalog: catalog, format: format)
            }
        }
    }
}

/// A list of songs with sources and reasons, as a table or JSON.
func printSongs(_ items: [PolicyItem], train: InteractionMatrix, catalog: Catalog?, format: OutputFormat) throws {
    struct Row: Encodable {
        var rank: Int; var song: String; var title: String; var score: Double; var source: String; var reason: String; var reason_kind: String
    }
    let rows = items.enumerated().map { n, e in
        Row(rank: n + 1, song: train.items[e.item], title: catalog.map { $0.displayName(e.item, fallback: train.items[e.item]) } ?? "",
            score: e.score, source: e.source, reason: e.explanation.sentence, reason_kind: e.explanation.kind.rawValue)
    }
    if format == .json { print(try jsonString(rows)); return }
    print(TextTable(header: ["rank", "song", "title", "score", "source", "reason"],
                    rows: rows.map { [String($0.rank), $0.song, $0.title, String(format: "%.4f", $0.score), $0.source, $0.reason] }).render(format), terminator: "")
}
