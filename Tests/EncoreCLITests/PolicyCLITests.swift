import Foundation
import Testing

/// The policy commands on a small generated dataset (with its catalogue): segments, policies,
/// recommendations per segment and for onboarding answers, the new-song playlist, evaluation,
/// tuning and the bandit simulation; and their bad input.
@Suite(.serialized) struct PolicyCLITests {
    let s = Scratch()
    var data: String { s.path + "/raw" }

    init() throws {
        let r = try CLI.run(["generate", "--users", "300", "--songs", "200", "--plays", "9000", "--seed", "7", "--output", s.path + "/raw"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    /// An artist of the generated catalogue, and the first user id.
    func anArtistAndUser() throws -> (artist: String, user: String) {
        let songs = try String(contentsOfFile: data + "/song_data.csv", encoding: .utf8).split(separator: "\n")
        let fields = songs[1].split(separator: ",", omittingEmptySubsequences: false)
        let plays = try String(contentsOfFile: data + "/count_data.csv", encoding: .utf8).split(separator: "\n")
        let user = plays[1].split(separator: ",")[1]
        return (String(fields[3]).trimmingCharacters(in: CharacterSet(charactersIn: "\"")), String(user))
    }

    @Test func segmentsCoverEveryUserOnce() throws {
        let r = try CLI.run(["segments", "--data", data, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let sizes = try #require(json["sizes"] as? [String: Int])
        #expect(Set(sizes.keys) == ["cold_start", "low_engagement", "low_discovery", "regular"])
        #expect(sizes.values.reduce(0, +) == 300)
        let table = try CLI.run(["segments", "--data", data, "--users", s.path + "/users.csv"])
        #expect(table.status == 0 && table.stdout.contains("low_discovery") && table.stdout.contains("popularity percentile"))
        let csv = try String(contentsOfFile: s.path + "/users.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 301)
        let eda = try CLI.run(["eda", data])
        #expect(eda.status == 0 && eda.stdout.contains("Segments"))
        let bad = try CLI.run(["segments", "--data", data, "--low-engagement-percentile", "140"])
        #expect(bad.status == 1 && bad.stderr.contains("low_engagement_percentile"))
    }

    @Test func policiesAreShownAndBadOnesRefused() throws {
        let r = try CLI.run(["policy", "show", "report"])
        #expect(r.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["name"] as? String == "report")
        let table = try CLI.run(["policy", "show", "default", "--format", "table"])
        #expect(table.status == 0 && table.stdout.contains("low_discovery"))
        let missing = try CLI.run(["policy", "show", "nope"])
        #expect(missing.status == 1 && missing.stderr.contains("no policy 'nope'"))
        let file = s.write("bad.json", #"{"name": "bad", "recipes": {"regular": {"sources": [{"source": "popularr", "slots": 3}]}}}"#)
        let bad = try CLI.run(["policy", "show", file])
        #expect(bad.status == 1 && bad.stderr.contains("bad.json") && bad.stderr.contains("popularr"))
    }

    @Test func aPolicyServesAUserAndAnOnboardingListener() throws {
        let (artist, user) = try anArtistAndUser()
        let r = try CLI.run(["recommend", "--policy", "report", "--data", data, "--user", user, "-k", "10", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 10)
        #expect(rows.allSatisfy { ($0["source"] as? String).map { !$0.isEmpty } == true && ($0["reason"] as? String).map { !$0.isEmpty } == true })
        #expect(r.stderr.isEmpty || !r.stderr.contains("error"))
        let o = try CLI.run(["recommend", "--policy", "report", "--data", data, "-k", "5",
                             "--onboarding", #"{"artists": ["\#(artist)", "Nobody At All"]}"#])
        #expect(o.status == 0, "\(o.stderr)")
        #expect(o.stderr.contains("no match for artist: Nobody At All"))
        #expect(o.stdout.contains(artist))
        let none = try CLI.run(["recommend", "--policy", "report", "--data", data, "--onboarding", #"{"artists": ["Nobody At All"]}"#])
        #expect(none.status == 1 && none.stderr.contains("no preference matched"))
        let notJSON = try CLI.run(["recommend", "--policy", "report", "--data", data, "--onboarding", "artists=x"])
        #expect(notJSON.status == 1 && notJSON.stderr.contains("--onboarding"))
        let unknown = try CLI.run(["recommend", "--policy", "report", "--data", data, "--user", "no-such-user"])
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown user"))
        let both = try CLI.run(["recommend", "--policy", "report", "--model", "x.encore", "--user", user])
        #expect(both.status == 1 && both.stderr.contains("one of them"))
    }

    @Test func theNewSongPlaylistAndItsBadInput() throws {
        let (_, user) = try anArtistAndUser()
        let r = try CLI.run(["playlist", "new-songs", "--data", data, "--user", user, "--fewer-listeners-than", "4", "-k", "5", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(rows.allSatisfy { $0["source"] as? String == "new-songs" && $0["reason_kind"] as? String == "new_song" })
        let bad = try CLI.run(["playlist", "new-songs", "--data", data, "--user", user, "-k", "0"])
        #expect(bad.status == 1)
    }

    @Test func policiesAreEvaluatedTunedAndSimulated() throws {
        let tuned = s.path + "/tuned.json"
        let t = try CLI.run(["policy", "tune", "--data", data, "--output", tuned, "--sources", "item-knn,popular,discovery,cluster-mates", "--budget", "20"])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(t.stdout.contains("Validation split") && FileManager.default.fileExists(atPath: tuned))
        let e = try CLI.run(["evaluate", "--policy", "report," + tuned, "--data", data, "--model", "most-popular,item-knn", "--format", "json"])
        #expect(e.status == 0, "\(e.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [[String: Any]])
        #expect(results.count == 4)
        #expect(results.allSatisfy { ($0["segments"] as? [String: Any])?.isEmpty == false })
        let badFloor = try CLI.run(["policy", "tune", "--data", data, "--output", s.path + "/x.json", "--floor", "sleepy=3"])
        #expect(badFloor.status == 1 && badFloor.stderr.contains("--floor"))
        let sim = try CLI.run(["policy", "simulate", "--impressions", "20000", "--svg", s.path + "/regret.svg"])
        #expect(sim.status == 0 && sim.stdout.contains("reached 90%"))
        #expect(try String(contentsOfFile: s.path + "/regret.svg", encoding: .utf8).contains("<svg"))
        let badSim = try CLI.run(["policy", "simulate", "--minimum-share", "0.9"])
        #expect(badSim.status == 1 && badSim.stderr.contains("minimum_share"))
    }
}
