import ArgumentParser
import EncoreCharts
import EncoreData
import EncoreMath
import EncoreEval
import EncoreModels
import EncorePolicy
import EncoreStore
import Foundation
import EncoreService

extension Encore {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fit a model and save it as a checksummed artifact file.")

        @Option(help: "Model name (see `encore models`).") var model: String
        @Option(help: "Configuration overrides: a JSON object, or @FILE.json.") var config: String?
        @OptionGroup var data: TrainingDataOptions
        @Option(help: "Artifact file to write (or use --database to train on the stored plays and register a candidate).") var output: String?
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

        struct Summary: Encodable {
            var model: String
            var configuration: String
            var users: Int
            var items: Int
            var interactions: Int
            var fitSeconds: Double
            var artifact: String
            var fingerprint: String
            var trainedOn: String
            enum CodingKeys: String, CodingKey {
                case model, configuration, users, items, interactions
                case fitSeconds = "fit_seconds"
                case artifact, fingerprint
                case trainedOn = "trained_on"
            }
        }

        func run() throws {
            let entry = try ModelRegistry.entry(named: model)
            if let database = data.database {
                guard output == nil else { throw UsageError("--database trains on the stored plays and registers the model there: leave out --output") }
                return try trainOnDatabase(database, entry: entry)
            }
            guard let output else { throw UsageError("give --output (an artifact file) or --database") }
            try AtomicFile.checkOutput(output, inputs: data.inputPaths)
            // --split or --test-fraction: the train part of that split (the same one `evaluate` makes
            // with the same seed), so the artifact can be scored on the part it never saw.
            let splits = data.split != nil || data.testFraction != nil
            if splits, data.data == nil { throw UsageError("--split and --test-fraction split --data; --train is used whole") }
            let raw = try data.loadRaw(requireTest: splits)
            let trainedOn: String
            if splits, let path = data.data {
                trainedOn = "the train part of a \(data.split ?? "ratio") split of \(path) (test fraction \(data.testFraction ?? 0.2), seed \(data.seed))"
            } else {
                trainedOn = "all of \(data.data ?? data.train ?? "")"
            }
            let transform = try data.transform(forRatingModel: entry.predictsValues)
            let train = raw.train.mapValues(transform)
            let start = MonotonicClock.now()
            let fitted = try ElapsedTicker.run("fitting \(entry.name)") { try entry.fit(train, overrides: config, catalog: raw.catalog) }
            for w in fitted.warnings { note("warning: " + w) }
            let seconds = MonotonicClock.now() - start
            let artifact = Artifact(model: fitted, transform: transform, metrics: ["fit_seconds": seconds], catalog: raw.catalog)
            try artifact.write(to: output, inputs: data.inputPaths)
            let s = Summary(model: entry.name, configuration: fitted.configurationJSON, users: train.userCount, items: train.itemCount,
                            interactions: train.nnz, fitSeconds: seconds, artifact: output, fingerprint: artifact.header.dataFingerprint, trainedOn: trainedOn)
            if format == .json { print(try jsonString(s)); return }
            print(TextTable(header: ["train", "value"], rows: [
                ["model", s.model], ["trained on", s.trainedOn], ["configuration", s.configuration], ["users", Format.grouped(s.users)], ["items", Format.grouped(s.items)],
                ["interactions", Format.grouped(s.interactions)], ["fit seconds", Format.number(seconds, digits: 3)], ["artifact", output],
            ]).render(format), terminator: "")
        }

        func trainOnDatabase(_ url: String, entry: ModelEntry) throws {
            let store = try waitFor { try await Stores.open(url) }
            let (name, overrides, fraction, seed) = (entry.name, config, data.testFraction ?? 0.2, data.seed)
            let c = try waitFor { () async throws -> StoreWorkflows.Candidate in
                do {
                    let c = try await StoreWorkflows.train(model: name, overrides: overrides, store: store, testFraction: fraction, seed: seed)
                    try await store.close()
                    return c
                } catch {
                    try? await store.close()
                    throw error
                }
            }
            if format == .json { print(try jsonString(c.record)); return }
            print(TextTable(header: ["train", "value"], rows: [
                ["model", "\(c.record.kind) v\(c.record.version) (id \(c.record.id))"], ["status", c.record.status.rawValue],
                ["configuration", c.record.configuration], ["users", Format.grouped(c.users)], ["songs", Format.grouped(c.items)],
                ["plays", Format.grouped(c.interactions)],
            ] + ["ndcg_at_10", "recall_at_30", "precision_at_10", "fit_seconds"].compactMap { k in c.metrics[k].map { [k, Format.number($0, digits: 4)] } }).render(format), terminator: "")
        }
    }

    struct Recommend: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A user's top-k songs (played songs excluded): from a model artifact (--model), or from a policy fitted on the data (--policy), also for onboarding answers.")

        @Option(help: "Artifact file written by `encore train`.") var model: String?
        @Option(help: "A policy (report, default, or a policy file): the user's segment picks the recipe.") var policy: String?
        @Option(help: "External user id.") var user: String?
        @Option(help: "Onboarding answers for a new listener (with --policy): JSON {\"artists\": [...], \"tags\": [...], \"songs\": [...]}.") var onboarding: String?
        @Option(name: .shortAndLong, parsing: .unconditional, help: "How many songs.") var k: Int = 30
        @Option(help: "A dataset whose catalogue names the songs.") var catalog: String?
        @Option(help: "With --model: refuse the artifact unless it was trained on exactly this dataset. With --policy: the training data.") var data: String?
        @Option(help: "With --policy: a training file instead of --data.") var train: String?
        @OptionGroup var input: InputFormatOption
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
        @Option(help: "With --model: a listener outside the training data, as comma-separated song ids, song titles or artist names (names need --catalog); each may end with :PLAYS.") var history: String?
        @Option(name: .customLong("history-file"), help: "With --model: the new listener's history from a file, one song id, title or artist per line (commas kept: a title may hold one), each may end with :PLAYS.") var historyFile: String?
        @Flag(name: .customLong("all-users"), help: "With --model: every user's top k in one pass, written to --output.") var allUsers = false
        @Option(help: "With --model: a file of external user ids (one per line) whose top k go to --output.") var users: String?
        @Option(help: "With --all-users or --users: the TSV to write (user, rank, item, title, score, reason).") var output: String?

        struct Row: Encodable {
            var rank: Int
            var item: String
            var title: String
            var score: Double
            var reason: String?
        }

        func run() throws {
            guard (model == nil) != (policy == nil) else { throw UsageError("give --model (an artifact) or --policy (one of them)") }
            if let policy { return try recommendWithPolicy(policy) }
            guard onboarding == nil else { throw UsageError("--onboarding goes with --policy") }
            if allUsers || users != nil || output != nil { return try writeAll() }
            if history != nil || historyFile != nil {
                guard history == nil || historyFile == nil else { throw UsageError("give --history or --history-file, not both") }
                guard user == nil else { throw UsageError("give --user (a training user) or --history (a new listener), not both") }
                var entries = (history ?? "").split(separator: ",").map(String.init)
                if let historyFile {
                    try InputFile.check(historyFile)
                    guard let data = FileManager.default.contents(atPath: historyFile) else { throw DataError(file: historyFile, problem: .missingFile) }
                    entries = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
                }
                return try recommendForHistory(entries)
            }
            guard let model, let user else { throw UsageError("give --user") }
            guard k > 0 else { throw UsageError("-k must be positive, got \(k)") }
            var expected: String? = nil
            var artifact = try Artifact.read(path: model)
            let k = min(self.k, artifact.train.itemCount)
            if let data {
                let d = try loadDataset(data, format: input.inputFormat)
                expected = Snapshot.fingerprint(d.interactions.mapValues(artifact.transform))
                artifact = try Artifact.read(path: model, expectedFingerprint: expected)
            }
            let recommender = try artifact.model()
            guard let u = recommender.train.users.index(of: user) else {
                throw UsageError("unknown user '\(user)': the model was trained on \(recommender.train.userCount) users and this is not one of them")
            }
            let names = try catalogue(for: artifact).map(SongNames.init)
            let list = recommender.recommend(user: u, k: k)
            let rows = list.enumerated().map { n, s -> Row in
                let id = recommender.train.items[s.item]
                // Reasons name played songs by id; with a catalogue, by title.
                let reason = s.explanation.map { e in
                    names.map { names in e.naming(ids: recommender.train.items) { names.title(of: recommender.train.items[$0]) } } ?? e
                }?.sentence
                return Row(rank: n + 1, item: id, title: names?.title(of: id) ?? "", score: s.score, reason: reason)
            }
            if format == .json { print(try jsonString(rows)); return }
            print(TextTable(header: ["rank", "item", "title", "score", "reason"],
                            rows: rows.map { [String($0.rank), $0.item, $0.title, String(format: "%.4f", $0.score), $0.reason ?? ""] }).render(format), terminator: "")
        }

        /// The --catalog dataset, checked to hold the artifact's training plays and, when the
        /// artifact recorded one, the same catalogue; nil without --catalog.
        func catalogue(for artifact: Artifact) throws -> Dataset? {
            guard let catalog else { return nil }
            let d = try loadDataset(catalog)
            try CatalogMatch.check(d, describes: artifact.train, source: catalog)
            try checkCatalogFingerprint(d, artifact: artifact, source: catalog)
            return d
        }

        /// A new listener's list from an artifact: the history matched to songs (ids, titles, artists'
        /// most played songs), scored by the model's history scoring (ALS folds it in; EASE,
        /// item-KNN and the content models score it directly), with the played songs behind each.
        func recommendForHistory(_ entries: [String]) throws {
            guard let model else { throw UsageError("--history goes with --model") }
            guard k > 0 else { throw UsageError("-k must be positive, got \(k)") }
            let artifact = try Artifact.read(path: model)
            let recommender = try artifact.model()
            guard let scorer = recommender as? any HistoryRecommender else {
                throw UsageError("\(recommender.name) cannot score a listening history outside its training data; use ease, als, item-knn, bpr, tfidf or transformer")
            }
            let train = recommender.train
            let catalogData = try catalogue(for: artifact)
            let names = catalogData.map(SongNames.init)
            var plays: [Int: Float] = [:]
            var unmatched: [String] = []
            for part in entries {
                var entry = part.trimmingCharacters(in: .whitespaces)
                var count: Float = 1
                if let colon = entry.lastIndex(of: ":"), let n = Float(entry[entry.index(after: colon)...]), n > 0, n.isFinite {
                    count = n
                    entry = String(entry[..<colon]).trimmingCharacters(in: .whitespaces)
                }
                guard !entry.isEmpty else { continue }
                if let i = train.items.index(of: entry) { plays[i, default: 0] += count; continue }
                let key = entry.lowercased()
                if let d = catalogData {
                    // The catalogue's own order, mapped to the model's songs by id.
                    let entries = d.catalog.entries
                    let known = (0..<min(entries.count, d.interactions.itemCount)).compactMap { j -> (entry: CatalogEntry, item: Int)? in
                        train.items.index(of: d.interactions.items[j]).map { (entries[j], $0) }
                    }
                    if let hit = known.first(where: { $0.entry.title.lowercased() == key }) {
                        plays[hit.item, default: 0] += count
                        continue
                    }
                    // An artist: their three most played songs.
                    let degrees = train.itemDegrees()
                    let songs = known.filter { $0.entry.artist.lowercased() == key }.map(\.item).sorted { degrees[$0] != degrees[$1] ? degrees[$0] > degrees[$1] : $0 < $1 }
                    if !songs.isEmpty { for i in songs.prefix(3) { plays[i, default: 0] += count }; continue }
                }
                unmatched.append(entry)
            }
            guard !plays.isEmpty else {
                throw UsageError("nothing in --history matched a song\(catalog == nil ? " id (give --catalog to match titles and artists)" : ", title or artist"): \(unmatched.joined(separator: ", "))")
            }
            if !unmatched.isEmpty { printWarnings(["matched nothing in --history: \(unmatched.joined(separator: ", "))"]) }
            let sorted = plays.sorted { $0.key < $1.key }
            let h = try UserHistory(items: sorted.map(\.key), weights: sorted.map { artifact.transform.apply($0.value) }, itemCount: train.itemCount)
            let list = scorer.recommend(history: h, k: min(k, train.itemCount))
            let explaining = recommender as? any ContributionExplaining
            let rows = list.enumerated().map { n, s -> Row in
                let id = train.items[s.item]
                let e = explaining?.explanation(for: s.item, items: h.items, weights: h.weights) ?? s.explanation
                let reason = e.map { e in names.map { names in e.naming(ids: train.items) { names.title(of: train.items[$0]) } } ?? e }?.sentence
                return Row(rank: n + 1, item: id, title: names?.title(of: id) ?? "", score: s.score, reason: reason)
            }
            if format == .json { print(try jsonString(rows)); return }
            print(TextTable(header: ["rank", "item", "title", "score", "reason"],
                            rows: rows.map { [String($0.rank), $0.item, $0.title, String(format: "%.4f", $0.score), $0.reason ?? ""] }).render(format), terminator: "")
        }

        /// Many users' lists from an artifact in one parallel pass, streamed to a TSV (atomically).
        func writeAll() throws {
            guard let model else { throw UsageError("--all-users and --users go with --model") }
            guard allUsers != (users != nil) else { throw UsageError("give --all-users or --users FILE (one of them)") }
            guard user == nil else { throw UsageError("--user lists one user; --all-users and --users write many to --output") }
            guard let output else { throw UsageError("--all-users and --users write to --output FILE") }
            guard k > 0 else { throw UsageError("-k must be positive, got \(k)") }
            var inputs = [model] + (users.map { [$0] } ?? []) + (catalog.map { [$0] } ?? []) + (data.map { [$0] } ?? [])
            inputs = inputs.filter { !$0.isEmpty }
            try AtomicFile.checkOutput(output, inputs: inputs)
            var artifact = try Artifact.read(path: model)
            if let data {
                let d = try loadDataset(data, format: input.inputFormat)
                artifact = try Artifact.read(path: model, expectedFingerprint: Snapshot.fingerprint(d.interactions.mapValues(artifact.transform)))
            }
            let recommender = try artifact.model()
            let train = recommender.train
            var indices: [Int]
            var unknown: [String] = []
            if let users {
                guard let text = try? String(contentsOfFile: users, encoding: .utf8) else { throw UsageError("cannot read --users \(users)") }
                indices = []
                for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let id = line.trimmingCharacters(in: .whitespacesAndNewlines)
                    guard !id.isEmpty else { continue }
                    if let u = train.users.index(of: id) { indices.append(u) } else { unknown.append("\(id) (line \(n + 1))") }
                }
                guard !indices.isEmpty else { throw UsageError("no user of \(users) is in the model's training data") }
            } else {
                indices = Array(0..<train.userCount)
            }
            let names = try catalogue(for: artifact).map(SongNames.init)
            let k = min(self.k, train.itemCount)
            var writer = try BufferedFileWriter(path: output, inputs: inputs)
            writer.write("user\trank\titem\ttitle\tscore\treason\n")
            func clean(_ s: String) -> String { s.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ") }
            let bar = ProgressReporter(label: "recommending", total: Double(indices.count))
            var done = 0
            for start in stride(from: 0, to: indices.count, by: 1_024) {
                let chunk = Array(indices[start..<min(start + 1_024, indices.count)])
                for (u, list) in zip(chunk, recommender.recommend(users: chunk, k: k)) {
                    for (n, s) in list.enumerated() {
                        let id = train.items[s.item]
                        let reason = s.explanation.map { e in
                            names.map { names in e.naming(ids: train.items) { names.title(of: train.items[$0]) } } ?? e
                        }?.sentence ?? ""
                        writer.write("\(clean(train.users[u]))\t\(n + 1)\t\(clean(id))\t\(clean(names?.title(of: id) ?? ""))\t\(String(format: "%.6f", s.score))\t\(clean(reason))\n")
                    }
                }
                done += chunk.count
                bar.update(Double(done))
            }
            bar.finish()
            try writer.close()
            if !unknown.isEmpty { printWarnings(["\(unknown.count) users of \(users ?? "") are not in the model's training data, skipped: \(unknown.prefix(5).joined(separator: ", "))\(unknown.count > 5 ? ", …" : "")"]) }
            note("wrote \(output): top \(k) of \(indices.count) users")
        }

        func recommendWithPolicy(_ name: String) throws {
            guard (user == nil) != (onboarding == nil) else { throw UsageError("give --user or --onboarding (one of them)") }
            guard k > 0, k <= 10_000 else { throw UsageError("-k must be between 1 and 10,000") }
            let p = try Policy.named(name)
            var t = TrainingData()
            t.data = data
            t.train = train
            t.catalog = catalog
            guard data != nil || train != nil else { throw UsageError("--policy fits its models on the data: give --data or --train") }
            let preferences: Preferences? = try onboarding.map { text in
                do { return try JSONDecoder().decode(Preferences.self, from: Data(text.utf8)) } catch {
                    throw UsageError("--onboarding must be a JSON object {\"artists\": [...], \"tags\": [...], \"songs\": [...]}: \(error.localizedDescription)")
                }
            }
            if let preferences, preferences.isEmpty { throw UsageError("--onboarding names no artist, tag or song") }
            let loaded = try t.loadRaw(requireTest: false)
            printWarnings(loaded.warnings)
            let u = try user.map { id in
                guard let u = loaded.train.users.index(of: id) else { throw UsageError("unknown user '\(id)': for a new listener use --onboarding") }
                return u
            }
            var pool = ModelPool(train: loaded.train, catalog: loaded.catalog) { if format != .json { note($0) } }
            let engine = try pool.engine(p)
            for w in Set(engine.warnings).sorted() { note("warning: " + w) }
            let r: PolicyRecommendation
            if let preferences {
                r = try engine.recommend(onboarding: preferences, k: k)
                if r.unmatched.count == preferences.artists.count + preferences.tags.count + preferences.songs.count {
                    throw UsageError("no preference matched the catalogue (\(r.unmatched.joined(separator: "; ")))")
                }
                for u in r.unmatched { note("warning: no match for \(u)") }
            } else if let u {
                r = engine.recommend(engine.listener(user: u), k: k)
            } else { return }
            if format != .json { note("policy \(r.policy), segment \(r.segment.rawValue): \(r.segmentReason)") }
            try printSongs(r.items, train: loaded.train, catalog: loaded.catalog, format: format)
        }
    }

    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every model with its configuration fields and defaults.")
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table
        @Option(parsing: .unconditional, help: "Width of the table output in columns.") var width: Int = 100

        struct Row: Encodable {
            var model: String
            var summary: String
            var configuration: JSONValue
        }

        func run() throws {
            guard width >= 40 else { throw UsageError("--width must be at least 40") }
            let rows = try ModelRegistry.all.map { entry in
                Row(model: entry.name, summary: entry.summary, configuration: try ConfigurationDisplay.snakeCased(entry.defaults, fields: entry.fieldNames))
            }
            switch format {
            case .json: print(try jsonString(rows))
            case .markdown:
                print(TextTable(header: ["model", "what it is", "configuration (defaults)"],
                                rows: rows.map { [$0.model, $0.summary, ConfigurationDisplay.fields($0.configuration).joined(separator: ", ")] }).markdown(), terminator: "")
            case .table:
                // One block per model, wrapped to the width: the name and what it is, then every
                // field with its default, in snake_case as the README and --config write them.
                let indent = String(repeating: " ", count: 4)
                for r in rows {
                    print(ConfigurationDisplay.wrap([r.model + ":"] + r.summary.split(separator: " ").map(String.init), width: width, indent: indent))
                    let fields = ConfigurationDisplay.fields(r.configuration)
                    // Fields separated by " · ", each kept whole on a line.
                    // A field's name stays with the start of its value; a long nested value wraps inside.
                    var words: [String] = []
                    for (n, field) in fields.enumerated() {
                        var parts = field.split(separator: " ").map(String.init)
                        if parts.count > 1 { parts[1] = parts[0] + "\u{00A0}" + parts[1]; parts.removeFirst() }
                        if n < fields.count - 1 { parts[parts.count - 1] += " ·" }
                        words += parts
                    }
                    print(ConfigurationDisplay.wrap(words, width: width, indent: indent, first: indent).replacingOccurrences(of: "\u{00A0}", with: " "))
                }
            }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "For one user and song: each model's prediction or score, its rank among the user's unplayed songs, and what is behind it (KNN neighbours, played songs).")

        @Option(help: "External user id.") var user: String
        @Option(help: "External item (song) id.") var item: String
        @Option(help: "Models, comma separated (JSON overrides allowed as in evaluate); rating and ranking models alike.") var model: String = "baseline,knn-user,knn-item,svd"
        @OptionGroup var data: TrainingDataOptions
        @Option(parsing: .unconditional, help: "How many KNN neighbours or played songs to list.") var neighbours: Int = 10
        @Option(help: "Output: table, markdown or json.") var format: OutputFormat = .table

        struct Behind: Encodable {
            var id: String
            var title: String
            var weight: Double
            var value: Double?
        }

        struct ModelRow: Encodable {
            var model: String
            var kind: String
            var value: Double
            var rank: Int?
            var impossible: Bool
            var reason: String?
            /// What `behind` lists: "neighbour user", "neighbour item" or "played song".
            var behindKind: String
            var behind: [Behind]
        }

        struct Output: Encodable {
            var user: String
            var item: String
            var title: String
            var actual: Double?
            var actualFrom: String?
            var scale: String
            var models: [ModelRow]
        }

        func run() throws {
            guard neighbours > 0 else { throw UsageError("--neighbours must be positive, got \(neighbours)") }
            let specs = try ModelSpec.parse(model, sharedConfig: nil)
            let raw = try data.loadRaw(requireTest: data.train != nil ? data.test != nil : true)
            guard let u = raw.train.users.index(of: user) else { throw UsageError("unknown user '\(user)'") }
            guard let i = raw.train.items.index(of: item) else { throw UsageError("unknown item '\(item)'") }
            let catalog = raw.catalog
            func title(_ j: Int) -> String { catalog.map { j < $0.count ? $0.displayName(j, fallback: "") : "" } ?? "" }
            var rows: [ModelRow] = []
            var scales = Set<String>()
            for spec in specs {
                let entry = try ModelRegistry.entry(named: spec.name)
                let transform = try data.transform(forRatingModel: entry.predictsValues)
                let train = raw.train.mapValues(transform)
                scales.insert("\(spec.label): \(transform)")
                let fitted = try entry.fit(train, overrides: spec.overrides, catalog: catalog)
                if let p = fitted as? any RatingPredictor {
                    let pred = p.predict(user: u, item: i)
                    var behind: [Behind] = []
                    var behindKind = ""
                    if let knn = fitted as? NeighbourhoodModel {
                        behindKind = knn.userBased ? "neighbour user" : "neighbour item"
                        let ids = knn.userBased ? train.users : train.items
                        behind = pred.contributors.prefix(neighbours).map {
                            Behind(id: ids[$0.index], title: knn.userBased ? "" : title($0.index), weight: $0.similarity, value: $0.value)
                        }
                    }
                    rows.append(ModelRow(model: spec.label, kind: "prediction (\(transform))", value: pred.value, rank: nil, impossible: pred.impossible,
                                         reason: pred.reason, behindKind: behindKind, behind: behind))
                    continue
                }
                // A ranking model: the score, the rank among the user's unplayed songs, the played songs behind it.
                let scores = fitted.scoreAll(user: u)
                let played = Set(train.row(u).items.map(Int.init))
                let value = scores[i]
                let rankable = value.isFinite
                let rank = rankable && !played.contains(i) ? 1 + scores.indices.filter { !played.contains($0) && $0 != i && scores[$0].isFinite && (scores[$0] > value || (scores[$0] == value && $0 < i)) }.count : nil
                var behind: [Behind] = []
                var reason: String?
                if let explaining = fitted as? any ContributionExplaining {
                    let r = train.rowRange(u)
                    let songs: [Int] = train.columnIndices[r].map { Int($0) }
                    let weights: [Float] = Array(train.values[r])
                    var pairs: [(song: Int, share: Float)] = []
                    for (j, w) in zip(songs, weights) {
                        let c: Float = explaining.contribution(of: j, weight: w, to: i)
                        if c > 0, c.isFinite { pairs.append((j, c)) }
                    }
                    pairs.sort { $0.share != $1.share ? $0.share > $1.share : $0.song < $1.song }
                    behind = pairs.prefix(neighbours).map { Behind(id: train.items[$0.song], title: title($0.song), weight: Double($0.share), value: nil) }
                    let e: Explanation? = explaining.explanation(for: i, items: songs, weights: weights)
                    reason = e?.naming(ids: train.items) { j -> String? in
                        let t = title(j)
                        return t.isEmpty ? nil : t
                    }.sentence
                } else if let list = Optional(fitted.recommend(user: u, k: min(train.itemCount, (rank ?? 0) + 1))), let hit = list.first(where: { $0.item == i }) {
                    reason = hit.reason
                }
                rows.append(ModelRow(model: spec.label, kind: "ranking score", value: Double(value), rank: rank, impossible: !rankable,
                                     reason: played.contains(i) ? "the user played it (never recommended to them)" : reason, behindKind: "played song", behind: behind))
            }
            var actual: Double?, from: String?
            if let v = raw.test?.value(user: u, item: i) { actual = Double(v); from = "test" } else if let v = raw.train.value(user: u, item: i) { actual = Double(v); from = "train" }
            let output = Output(user: user, item: item, title: title(i), actual: actual, actualFrom: from, scale: scales.sorted().joined(separator: "; "), models: rows)
            if format == .json { print(try jsonString(output)); return }
            let name = output.title.isEmpty ? "" : " (\(output.title))"
            print("user \(user), item \(item)\(name): actual \(actual.map { String(format: "%.0f plays", $0) } ?? "unknown")\(from.map { " (\($0))" } ?? "")")
            let table: [[String]] = rows.map { r -> [String] in
                let rank: String = r.rank.map { Format.grouped($0) } ?? "–"
                return [r.model, r.kind, describe(r.value, r.kind), rank, r.impossible ? "yes" : "no", r.reason ?? ""]
            }
            print(TextTable(header: ["model", "kind", "value", "rank", "impossible", "reason"], rows: table).render(format), terminator: "")
            for r in rows where !r.behind.isEmpty {
                let isKNN = r.behindKind != "played song"
                print("\n\(r.model): \(isKNN ? "neighbours with positive similarity" : "played songs behind it") (top \(r.behind.count))")
                let header: [String] = isKNN ? [r.behindKind, "title", "similarity", "their value"] : ["played song", "title", "contribution"]
                let lines: [[String]] = r.behind.map { b -> [String] in
                    var line: [String] = [b.id, b.title, String(format: "%.4f", b.weight)]
                    if isKNN { line.append(b.value.map { String(format: "%.4f", $0) } ?? "") }
                    return line
                }
                print(TextTable(header: header, rows: lines).render(format), terminator: "")
            }
        }

        func describe(_ v: Double, _ kind: String) -> String {
            kind.contains("log1p") ? String(format: "%.4f (≈ %.1f plays)", v, Foundation.expm1(v)) : String(format: "%.4f", v)
        }
    }

    struct Neighbours: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The report's neighbour network: a user (or item), its top neighbours and theirs, as SVG/HTML and a table.")

        @Option(help: "External user id (user-based network).") var user: String?
        @Option(help: "External item id (item-based network).") var item: String?
        @OptionGroup var data: TrainingDataOptions
        @Option(help: "Similarity: cosine, msd, pearson, pearson_baseline.") var similarity: String = "pearson_baseline"
        @Option(parsing: .unconditional, help: "First-ring neighbours.") var first: Int = 10
        @Option(parsing: .unconditional, help: "Neighbours of each neighbour.") var second: Int = 5
        @Option(help: "Write the figure as SVG here.") var svg: String?
        @Option(help: "Write an HTML report with the figure here.") var report: String?
        @Option(help: "Output: table or markdown.") var format: OutputFormat = .table

        func run() throws {
            guard format != .json else { throw UsageError("neighbours writes a table or markdown (and --svg or --report); JSON is not available") }
            guard (user == nil) != (item == nil) else { throw UsageError("give exactly one of --user and --item") }
            guard let measure = SimilarityMeasure(rawValue: similarity) else {
                throw UsageError("unknown --similarity '\(similarity)'; use \(SimilarityMeasure.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard first > 0, second >= 0 else { throw UsageError("--first must be positive and --second ≥ 0") }
            let (train, _, _) = try data.load(requireTest: false)
            var c = KNNConfiguration(userBased: user != nil)
            c.similarity = measure
            let knn = try NeighbourhoodModel(train: train, configuration: c)
            let ids = knn.userBased ? train.users : train.items
            let focusID = user ?? item!
            guard let focus = ids.index(of: focusID) else { throw UsageError("unknown \(user != nil ? "user" : "item") '\(focusID)'") }
            var names: SongNames? = nil
            if let catalog = data.catalog, item != nil { names = SongNames(try loadDataset(catalog)) }
            func node(_ index: Int) -> NetworkNode {
                let id = ids[index]
                let title = names?.title(of: id) ?? ""
                return NetworkNode(id: id, label: title.isEmpty ? id : title)
            }
            let ring = knn.neighbours(of: focus, k: first)
            let graph = NetworkGraph(
                title: "Neighbours of \(node(focus).label == focusID ? "\(user != nil ? "user" : "item") \(focusID)" : "\(node(focus).label) (\(user != nil ? "user" : "item") \(focusID))") by \(measure.rawValue)", focus: node(focus),
                neighbours: ring.map { n in (node(n.index), n.similarity, knn.neighbours(of: n.index, k: second + 1).filter { $0.index != focus }.prefix(second).map { (node($0.index), $0.similarity) }) })
            var rows: [[String]] = []
            for n in graph.neighbours {
                rows.append([n.node.label, String(format: "%.4f", n.similarity), n.children.map(\.node.label).joined(separator: ", ")])
            }
            print(TextTable(header: ["neighbour", "similarity", "its neighbours"], rows: rows).render(format), terminator: "")
            if ring.isEmpty { note("\(focusID) has no neighbour with a positive similarity") }
            let shared = graph.sharedIDs
            if !shared.isEmpty { print("shared neighbours (grey in the figure): \(shared.sorted().map { id in ids.index(of: id).map { node($0).label } ?? id }.joined(separator: ", "))") }
            if let svg { try writeText(graph.svg(), to: svg, inputs: data.inputPaths); note("wrote \(svg)") }
            if let report {
                try writeText(HTMLReport(title: graph.title, sections: [ReportSection(title: "Neighbour network", blocks: [.svg(graph.svg()),
                    .table(header: ["neighbour", "similarity", "its neighbours"], rows: rows)])]).html(), to: report, inputs: data.inputPaths)
                note("wrote \(report)")
            }
        }
    }
}

/// Refuses a catalogue whose metadata for the model's songs differs from the one the model was
/// trained with (artifacts from before catalogue fingerprints, or trained without one, pass).
func checkCatalogFingerprint(_ d: Dataset, artifact: Artifact, source: String) throws {
    guard let expected = artifact.header.catalogFingerprint else { return }
    var metadata: [String: CatalogEntry] = [:]
    for (j, id) in d.interactions.items.ids.enumerated() where j < d.catalog.count { metadata[id] = d.catalog[j] }
    var report = LoadReport(format: "catalogue")
    let aligned = Catalog.aligned(items: artifact.train.items, metadata: metadata, report: &report)
    guard aligned.fingerprint == expected else {
        throw DataError(file: source, problem: .inconsistent(
            "this catalogue differs from the one the model was trained with (titles, artists, years or tags of its songs changed); give that catalogue, or train the model again"))
    }
}
