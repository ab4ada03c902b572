import Foundation
import Testing

@Suite(.serialized) struct ModelCLITests {
    var split: String { CLI.shared + "/lastfm-2k/splits" }

    @Test func evaluateSeedProtocolPrintsTheComparisonTable() throws {
        let r = try CLI.run(["evaluate", "--protocol", "seed", "--train", split + "/train.tsv", "--test", split + "/test.tsv",
                             "--model", #"baseline,knn-user,svd{"n_epochs":30,"lr_all":0.01,"reg_all":0.2}"#, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 3)
        #expect(rows.map { $0["model"] as? String } == ["baseline", "knn-user", "svd"])
        #expect(rows[1]["impossible"] as? Int == 4_079)
        let configuration = rows[2]["configuration"] as? [String: Any]
        #expect(configuration?["nEpochs"] as? Int == 30, "the configuration is a JSON object: \(rows[2]["configuration"] ?? "none")")
        for key in ["rmse", "mae", "within_test_precision_at_30", "within_test_recall_at_30", "within_test_f1_at_30", "users_evaluated", "fit_seconds", "configuration"] {
            #expect(rows[0][key] != nil, "missing \(key)")
        }
        let md = try CLI.run(["evaluate", "--protocol", "seed", "--train", split + "/train.tsv", "--test", split + "/test.tsv", "--model", "baseline", "--format", "markdown"])
        #expect(md.stdout.contains("\n| metric | baseline |"))
    }

    @Test func evaluateOnADatasetWithARandomSplit() throws {
        let s = Scratch()
        let r = try CLI.run(["evaluate", "--protocol", "seed", "--data", CLI.shared + "/lastfm-2k", "--split", "ratio", "--test-fraction", "0.2", "--seed", "1",
                             "--model", "baseline", "--format", "json", "--report", s.path + "/eval.html"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"test_pairs\" : 18567"))
        #expect(FileManager.default.fileExists(atPath: s.path + "/eval.html"))
    }

    @Test func trainRecommendAndRefuseBadArtifacts() throws {
        let s = Scratch()
        var r = try CLI.run(["train", "--model", "knn-item", "--config", #"{"similarity":"msd"}"#, "--train", split + "/train.tsv", "--output", s.path + "/m.model"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["recommend", "--model", s.path + "/m.model", "--user", "2", "-k", "5", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 5)
        // Played artists are excluded: user 2 played 51 in train.
        #expect(!list.contains { $0["item"] as? String == "51" })
        r = try CLI.run(["recommend", "--model", s.path + "/m.model", "--user", "no-such-user"])
        #expect(r.status == 1 && r.stderr.contains("unknown user 'no-such-user'"))
        r = try CLI.run(["recommend", "--model", s.path + "/m.model", "--user", "2", "--data", CLI.shared + "/lastfm-2k"])
        #expect(r.status == 1 && r.stderr.contains("trained on other data"), "\(r.stderr)")
        // Truncated and damaged artifacts.
        let good = try Data(contentsOf: URL(fileURLWithPath: s.path + "/m.model"))
        _ = FileManager.default.createFile(atPath: s.path + "/cut.model", contents: good.prefix(good.count / 2))
        r = try CLI.run(["recommend", "--model", s.path + "/cut.model", "--user", "2"])
        #expect(r.status == 1 && r.stderr.hasPrefix("error: ") && r.stderr.contains("not a valid Encore model artifact"))
        r = try CLI.run(["recommend", "--model", split + "/train.tsv", "--user", "2"])
        #expect(r.status == 1 && r.stderr.contains("wrong magic"))
    }

    /// The graph models from the command line: a LightGCN artifact recommends with reasons, and
    /// the GCN predicts play values under the seed protocol and saves and reloads.
    @Test func graphModelsTrainRecommendAndEvaluate() throws {
        let s = Scratch()
        var r = try CLI.run(["train", "--model", "lightgcn", "--config", #"{"epochs": 2}"#, "--data", CLI.shared + "/lastfm-2k", "--output", s.path + "/l.model"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["recommend", "--model", s.path + "/l.model", "--user", "2", "-k", "3", "--catalog", CLI.shared + "/lastfm-2k"])
        #expect(r.status == 0 && r.stdout.contains("LightGCN's embedding space"), "\(r.stdout)\(r.stderr)")
        r = try CLI.run(["evaluate", "--protocol", "seed", "--train", split + "/train.tsv", "--test", split + "/test.tsv",
                         "--model", #"gcn{"song_features": "learned", "epochs": 5}"#, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let rmse = try #require(rows.first?["rmse"] as? Double)
        #expect(rmse > 0.5 && rmse < 1.2, "RMSE \(rmse)")
        r = try CLI.run(["train", "--model", "gcn", "--config", #"{"song_features": "learned", "epochs": 2}"#, "--data", CLI.shared + "/lastfm-2k", "--output", s.path + "/g.model"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["recommend", "--model", s.path + "/g.model", "--user", "2", "-k", "3"])
        #expect(r.status == 0 && r.stdout.split(separator: "\n").count == 5, "\(r.stdout)\(r.stderr)")
        r = try CLI.run(["train", "--model", "gcn", "--config", #"{"activation": "sigmoid"}"#, "--data", CLI.shared + "/lastfm-2k", "--output", s.path + "/bad.model"])
        #expect(r.status == 1 && r.stderr.contains("leaky_relu"), "\(r.stderr)")
    }

    @Test func rankingProtocolBothProtocolsAndTune() throws {
        let s = Scratch()
        var r = try CLI.run(["evaluate", "--protocol", "ranking", "--train", split + "/train.tsv", "--test", split + "/test.tsv",
                             "--model", "most-popular,ease", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        for key in ["precision_at_10", "recall_at_30", "ndcg_at_10", "map_at_10", "hit_rate_at_10", "coverage_at_30", "novelty_at_30",
                    "f1_at_30", "users_evaluated", "fit_seconds", "recommend_seconds", "segments"] {
            #expect(rows[1][key] != nil, "missing \(key)")
        }
        #expect(rows[1]["users_evaluated"] as? Int == 1_884)
        let segments = rows[1]["segments"] as? [String: [String: Any]]
        for k in [10, 30] { #expect(segments?["regular"]?["ndcg_at_\(k)"] != nil, "segment NDCG@\(k)") }
        r = try CLI.run(["evaluate", "--protocol", "both", "--train", split + "/train.tsv", "--test", split + "/test.tsv",
                         "--model", "baseline,most-popular", "--format", "markdown", "--report", s.path + "/both.html"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Seed protocol") && r.stdout.contains("Ranking protocol"))
        r = try CLI.run(["evaluate", "--protocol", "seed", "--train", split + "/train.tsv", "--test", split + "/test.tsv", "--model", "ease"])
        #expect(r.status == 1 && r.stderr.contains("does not predict play counts"))
        r = try CLI.run(["tune", "--model", "ease", "--train", split + "/train.tsv", "--grid", #"{"lambda": [50, 100]}"#, "--output", s.path + "/best.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let best = try String(contentsOfFile: s.path + "/best.json", encoding: .utf8)
        #expect(best.contains("\"lambda\":100"))
        r = try CLI.run(["tune", "--model", "ease", "--train", split + "/train.tsv", "--test", split + "/test.tsv", "--grid", #"{"lambda": [50]}"#])
        #expect(r.status == 1 && r.stderr.contains("never looks at the test split"))
        r = try CLI.run(["tune", "--model", "knn-user", "--protocol", "seed", "--metric", "rmse", "--folds", "2", "--train", split + "/train.tsv",
                         "--random", "2", "--space", #"{"k": {"min": 5, "max": 40, "integer": true}}"#, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"fold_values\""))
        r = try CLI.run(["train", "--model", "popularity", "--data", CLI.shared + "/lastfm-2k", "--config", #"{"tags": ["metal"]}"#, "--output", s.path + "/p.model"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["recommend", "--model", s.path + "/p.model", "--user", "2", "-k", "5", "--catalog", CLI.shared + "/lastfm-2k"])
        #expect(r.status == 0 && r.stdout.split(separator: "\n").count == 7, "\(r.stdout)")
    }

    @Test func clustersJSONAndReport() throws {
        let s = Scratch()
        var r = try CLI.run(["clusters", "--train", split + "/train.tsv", "--user-clusters", "4", "--item-clusters", "3", "--n-init", "2",
                             "--sweep", "2..3", "--no-tsne", "--report", s.path + "/c.html", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        for side in ["users", "items"] {
            let o = try #require(json[side] as? [String: Any])
            for key in ["silhouette", "davies_bouldin", "inertia", "sizes"] { #expect(o[key] != nil, "\(side) lacks \(key)") }
        }
        #expect((json["users"] as? [String: Any])?["sizes"] as? [Int] != nil)
        let html = try String(contentsOfFile: s.path + "/c.html", encoding: .utf8)
        #expect(html.contains("PCA of a 20% sample") && html.contains("Elbow"))
        r = try CLI.run(["clusters", CLI.shared + "/lastfm-2k", "--user-clusters", "3", "--item-clusters", "3", "--n-init", "1", "--no-tsne"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("silhouette") && r.stdout.contains("rock"))
    }

    @Test func embedTextsAndSimilar() throws {
        let s = Scratch()
        let texts = s.write("texts.json", #"["Metallica", "Café del Mar", ""]"#)
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".models/all-MiniLM-L6-v2").path
        var r = try CLI.run(["embed", "--texts", texts, "--model-dir", model, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 3)
        #expect((rows[0]["token_ids"] as? [Int])?.first == 101 && (rows[0]["token_ids"] as? [Int])?.last == 102)
        #expect((rows[2]["token_ids"] as? [Int]) == [101, 102])
        #expect((rows[1]["embedding"] as? [Double])?.count == 384)
        r = try CLI.run(["embed", "--texts", texts, "--model-dir", s.path + "/none"])
        #expect(r.status == 1 && r.stderr.contains("make models"))
        r = try CLI.run(["embed", "--texts", s.write("bad.json", #"{"not": "a list"}"#), "--model-dir", model])
        #expect(r.status == 1 && r.stderr.contains("JSON array of strings"))
        r = try CLI.run(["similar", CLI.shared + "/lastfm-2k", "--song", "707", "--by", "tfidf", "-k", "5", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"reason\""))
        r = try CLI.run(["similar", CLI.shared + "/lastfm-2k", "--song", "nope"])
        #expect(r.status == 1 && r.stderr.contains("unknown song"))
        r = try CLI.run(["similar", CLI.shared + "/lastfm-2k", "--song", "707", "--by", "vibes"])
        #expect(r.status == 1)
    }

    /// Everyone's top k in one pass to a TSV, or the users of a file (unknown ones warned about);
    /// with a catalogue, titles and reasons by name. Refused without --output, or with --user.
    @Test func recommendForAllUsersWritesOneTSV() throws {
        let s = Scratch()
        var r = try CLI.run(["train", "--model", "ease", "--train", split + "/train.tsv", "--output", s.path + "/e.model"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try CLI.run(["recommend", "--model", s.path + "/e.model", "--all-users", "-k", "5", "--output", s.path + "/all.tsv", "--catalog", CLI.shared + "/lastfm-2k"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOfFile: s.path + "/all.tsv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "user\trank\titem\ttitle\tscore\treason")
        #expect(lines.count == 1 + 1_892 * 5, "\(lines.count)")
        let first = lines[1].split(separator: "\t", omittingEmptySubsequences: false)
        #expect(first.count == 6 && first[1] == "1" && !first[3].isEmpty && first[5].contains("because you played “"))
        try "2\nnobody\n3\n".write(toFile: s.path + "/users.txt", atomically: true, encoding: .utf8)
        r = try CLI.run(["recommend", "--model", s.path + "/e.model", "--users", s.path + "/users.txt", "-k", "3", "--output", s.path + "/some.tsv"])
        #expect(r.status == 0 && r.stderr.contains("nobody (line 2)"), "\(r.stderr)")
        #expect(try String(contentsOfFile: s.path + "/some.tsv", encoding: .utf8).split(separator: "\n").count == 1 + 2 * 3)
        r = try CLI.run(["recommend", "--model", s.path + "/e.model", "--all-users"])
        #expect(r.status == 1 && r.stderr.contains("--output"))
        r = try CLI.run(["recommend", "--model", s.path + "/e.model", "--all-users", "--user", "2", "--output", s.path + "/x.tsv"])
        #expect(r.status == 1 && !FileManager.default.fileExists(atPath: s.path + "/x.tsv"))
    }

    /// A listener outside the training data: names matched through the catalogue (an artist to
    /// their most played songs, a count after a colon), scored by history (ALS folds it in), with
    /// reasons; what matches nothing is a warning, nothing matching at all an error.
    @Test func recommendForANewListenersHistory() throws {
        let s = Scratch()
        for model in ["ease", "als"] {
            var r = try CLI.run(["train", "--model", model, "--train", split + "/train.tsv", "--output", s.path + "/\(model).model"])
            #expect(r.status == 0, "\(r.stderr)")
            r = try CLI.run(["recommend", "--model", s.path + "/\(model).model", "--history", "Madonna, Britney Spears:10, Nobody Here", "-k", "10",
                             "--catalog", CLI.shared + "/lastfm-2k", "--format", "json"])
            #expect(r.status == 0 && r.stderr.contains("matched nothing in --history: Nobody Here"), "\(r.stderr)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
            let titles = rows.compactMap { $0["title"] as? String }
            #expect(rows.count == 10 && !titles.contains("Madonna") && !titles.contains("Britney Spears"))
            #expect(titles.contains("Lady Gaga") || titles.contains("Christina Aguilera") || titles.contains("Rihanna"), "\(model): \(titles)")
            #expect(rows.allSatisfy { ($0["reason"] as? String ?? "").hasPrefix("because you played “") })
        }
        var r = try CLI.run(["recommend", "--model", s.path + "/ease.model", "--history", "Madonna"])
        #expect(r.status == 1 && r.stderr.contains("give --catalog"))
        // From a file, one per line: a name with commas stays whole.
        let file = s.path + "/history.txt"
        try "Crosby, Stills, Nash & Young:5\nEarth, Wind & Fire\nNobody Here\n".write(toFile: file, atomically: true, encoding: .utf8)
        r = try CLI.run(["recommend", "--model", s.path + "/ease.model", "--history-file", file, "-k", "5", "--catalog", CLI.shared + "/lastfm-2k", "--format", "json"])
        #expect(r.status == 0 && r.stderr.contains("matched nothing in --history: Nobody Here") && !r.stderr.contains("Crosby"), "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 5 && !rows.contains { ($0["title"] as? String) == "Earth, Wind & Fire" })
        r = try CLI.run(["recommend", "--model", s.path + "/ease.model", "--history-file", file, "--history", "Madonna", "--catalog", CLI.shared + "/lastfm-2k"])
        #expect(r.status == 1 && r.stderr.contains("not both"))
    }

    /// A new listener names artists to the popularity ranker on Last.fm: the artist's own song
    /// first, then the popular songs sharing two of its five most used tags (metal around
    /// Metallica, not every "rock" artist), each reason saying so; a name that matches nothing is
    /// a warning, nothing matching at all an error.
    @Test func popularByAndAroundNamedArtists() throws {
        let s = Scratch()
        var r = try CLI.run(["train", "--model", "popularity", "--data", CLI.shared + "/lastfm-2k", "--config", #"{"artists": ["Metallica", "Nobody Here"]}"#,
                             "--output", s.path + "/p.model"])
        #expect(r.status == 0 && r.stderr.contains("no song in the catalogue matches 'Nobody Here'"), "\(r.stderr)")
        r = try CLI.run(["recommend", "--model", s.path + "/p.model", "--user", "2", "-k", "10", "--catalog", CLI.shared + "/lastfm-2k", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let titles = rows.compactMap { $0["title"] as? String }
        #expect(rows.count == 10 && titles.first == "Metallica", "\(titles)")
        #expect(rows.dropFirst().allSatisfy { ($0["reason"] as? String ?? "").hasPrefix("around Metallica: ") })
        #expect(titles.contains("Iron Maiden") && titles.contains("Megadeth") && !titles.contains("Shakira") && !titles.contains("U2"), "\(titles)")
        r = try CLI.run(["train", "--model", "popularity", "--data", CLI.shared + "/lastfm-2k", "--config", #"{"artists": ["Nobody Here"]}"#,
                         "--output", s.path + "/none.model"])
        #expect(r.status == 1 && r.stderr.hasPrefix("error: no song in the catalogue matches 'Nobody Here'") && !FileManager.default.fileExists(atPath: s.path + "/none.model"))
    }

    /// A song not in the catalogue, by its text: embedded and matched by content, best first; the
    /// catalogue's embeddings are cached for a directory too (here under XDG_CACHE_HOME).
    @Test func similarToATextNotInTheCatalogue() throws {
        let s = Scratch()
        var r = try CLI.run(["generate", "--users", "100", "--songs", "120", "--plays", "2000", "--seed", "3", "--output", s.path + "/raw"])
        #expect(r.status == 0, "\(r.stderr)")
        let env = ["XDG_CACHE_HOME": s.path + "/cache"]
        r = try CLI.run(["similar", s.path + "/raw", "--text", "Wild Ocean / DJ Echo / rock", "--by", "content", "-k", "5", "--format", "json"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let scores = rows.compactMap { $0["score"] as? Double }
        #expect(rows.count == 5 && scores == scores.sorted(by: >) && scores.allSatisfy { $0 > 0 && $0 <= 1.0001 })
        let cached = try FileManager.default.contentsOfDirectory(atPath: s.path + "/cache/encore")
        #expect(cached.count == 1 && cached[0].hasPrefix("embeddings-"))
        r = try CLI.run(["similar", s.path + "/raw", "--text", "x", "--by", "tfidf"])
        #expect(r.status == 1 && r.stderr.contains("--by content"))
        r = try CLI.run(["similar", s.path + "/raw", "--text", "x", "--song", "y"])
        #expect(r.status == 1 && r.stderr.contains("one of them"))
    }

    @Test func explainAndNeighbours() throws {
        let s = Scratch()
        var r = try CLI.run(["explain", "--user", "2", "--item", "89", "--train", split + "/train.tsv", "--test", split + "/test.tsv", "--model", "knn-user,svd"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("knn-user") && r.stdout.contains("neighbour user"))
        // Ranking models too: their score, rank among the unplayed songs and the played songs behind it, named from the catalogue.
        r = try CLI.run(["explain", "--user", "2", "--item", "238", "--train", split + "/train.tsv", "--test", split + "/test.tsv",
                         "--catalog", CLI.shared + "/lastfm-2k", "--model", "ease,als,svd", "--format", "json", "--neighbours", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(out["title"] as? String == "Massive Attack")
        let models = try #require(out["models"] as? [[String: Any]])
        #expect(models.map { $0["model"] as? String } == ["ease", "als", "svd"])
        let ease = models[0]
        #expect((ease["rank"] as? Int ?? 0) >= 1 && ease["kind"] as? String == "ranking score")
        #expect((ease["reason"] as? String ?? "").contains("because you played “"))
        let behind = try #require(ease["behind"] as? [[String: Any]])
        #expect(behind.count == 3 && behind.allSatisfy { !($0["title"] as? String ?? "").isEmpty })
        #expect(models[2]["rank"] == nil && (models[2]["kind"] as? String ?? "").hasPrefix("prediction"))
        r = try CLI.run(["explain", "--user", "2", "--item", "238", "--train", split + "/train.tsv", "--test", split + "/test.tsv", "--model", "ease", "--format", "markdown"])
        #expect(r.status == 0 && r.stdout.contains("| model | kind |"), "markdown is respected")
        r = try CLI.run(["neighbours", "--user", "2", "--train", split + "/train.tsv", "--svg", s.path + "/n.svg"])
        #expect(r.status == 0, "\(r.stderr)")
        let svg = try String(contentsOfFile: s.path + "/n.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<circle").count >= 12)
        r = try CLI.run(["neighbours", "--user", "nobody", "--train", split + "/train.tsv"])
        #expect(r.status == 1 && r.stderr.contains("unknown user"))
        r = try CLI.run(["models", "--format", "json"])
        #expect(r.status == 0 && r.stdout.contains("knn-item") && r.stdout.contains("\"n_factors\"") && !r.stdout.contains("nFactors"))
        // The table fits 100 columns, names fields in snake_case and lists them all, those chosen
        // at fit time ("auto": BaselineOnly's n_epochs) included.
        r = try CLI.run(["models"])
        #expect(r.status == 0 && r.stdout.split(separator: "\n").allSatisfy { $0.count <= 100 })
        #expect(r.stdout.contains("n_epochs auto") && r.stdout.contains("fallback_to_tfidf true") && r.stdout.contains("bm25_k1 100"))
        #expect(!r.stdout.contains("nEpochs") && !r.stdout.contains("\\/"))
        // The names shown are the names --config takes.
        r = try CLI.run(["train", "--train", split + "/train.tsv", "--model", "item-knn", "--config", "{\"bm25_k1\": 50, \"weighting\": \"bm25\"}", "--output", s.path + "/k.model"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test(arguments: [
        ["evaluate", "--model", "svd"],
        ["evaluate", "--model", "no-such-model", "--train", "SPLIT/train.tsv", "--test", "SPLIT/test.tsv"],
        ["evaluate", "--model", #"svd{"n_factorz":3}"#, "--train", "SPLIT/train.tsv", "--test", "SPLIT/test.tsv"],
        ["evaluate", "--model", "svd", "--protocol", "magic", "--train", "SPLIT/train.tsv", "--test", "SPLIT/test.tsv"],
        ["evaluate", "--model", "svd", "--train", "SPLIT/train.tsv"],
        ["evaluate", "--model", "svd", "--train", "/nonexistent/t.tsv", "--test", "SPLIT/test.tsv"],
        ["evaluate", "--model", "svd", "--train", "SPLIT/train.tsv", "--test", "SPLIT/test.tsv", "--value", "sqrt"],
        ["train", "--model", "svd", "--output", "/tmp/x.model"],
        ["train", "--model", "knn-user", "--config", #"{"k": 0}"#, "--train", "SPLIT/train.tsv", "--output", "/tmp/x.model"],
        ["recommend", "--model", "/nonexistent.model", "--user", "2"],
        ["explain", "--user", "2", "--item", "nope", "--train", "SPLIT/train.tsv", "--test", "SPLIT/test.tsv"],
        ["neighbours", "--train", "SPLIT/train.tsv"],
        ["neighbours", "--user", "2", "--train", "SPLIT/train.tsv", "--similarity", "jaccard"],
        ["evaluate", "--model", "ease", "--protocol", "ranking", "--train", "SPLIT/train.tsv", "--test", "SPLIT/test.tsv", "--config", #"{"lambda": -1}"#],
        ["recommend", "--model", "SPLIT/train.tsv", "--user", "2", "-k", "0"],
        ["tune", "--model", "als", "--train", "SPLIT/train.tsv"],
        ["tune", "--model", "als", "--train", "SPLIT/train.tsv", "--grid", "[1, 2]"],
        ["tune", "--model", "als", "--train", "SPLIT/train.tsv", "--grid", #"{"factors": [8]}"#, "--metric", "happiness"],
        ["train", "--model", "popularity", "--train", "SPLIT/train.tsv", "--config", #"{"artists": ["Madonna"]}"#, "--output", "/tmp/x.model"],
        ["clusters", "--train", "SPLIT/train.tsv", "--user-clusters", "0"],
        ["clusters", "--train", "SPLIT/train.tsv", "--user-clusters", "5000"],
        ["clusters", "--train", "SPLIT/train.tsv", "--sweep", "1..4"],
        ["clusters", "--train", "SPLIT/train.tsv", "--sweep", "banana"],
        ["clusters"],
    ])
    func badModelCommandInput(_ arguments: [String]) throws {
        let r = try CLI.run(arguments.map { $0.replacingOccurrences(of: "SPLIT", with: split) })
        #expect(r.status == 1, "\(arguments): status \(r.status), stderr \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: "), "\(arguments): \(r.stderr)")
    }
}
