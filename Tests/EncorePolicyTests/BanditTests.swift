import Foundation
import Testing
import EncoreCharts
import EncoreMath
@testable import EncorePolicy

@Suite struct BanditTests {
    @Test func betaDrawsHaveTheRightMean() {
        var rng = SeededGenerator(seed: 7)
        var sum = 0.0
        for _ in 0..<20_000 { sum += ThompsonBandit.beta(2, 5, &rng) }
        #expect(abs(sum / 20_000 - 2.0 / 7) < 0.01)
        var small = 0.0
        for _ in 0..<20_000 { small += ThompsonBandit.beta(0.5, 0.5, &rng) }
        #expect(abs(small / 20_000 - 0.5) < 0.02)
    }

    /// The stated bound: on the standard population (best arm differs by segment), the bandit's
    /// trailing 1,000-impression reward reaches 90% of the best arms' within 10,000 impressions
    /// and stays there, and the best arm takes most of each segment's late traffic.
    @Test func theBanditConvergesInSimulation() throws {
        let c = BanditConfiguration(arms: BanditSimulation.standardArms)
        let r = try BanditSimulation.run(configuration: c, impressions: 30_000, seed: 42)
        let reached = try #require(r.reachedNinetyPercentAt)
        #expect(reached <= 10_000, "reached 90% only at \(reached)")
        for t in BanditSimulation.standardPopulation {
            let best = c.arms[t.rewards.indices.max { t.rewards[$0] < t.rewards[$1] }!]
            #expect((r.lateShares[t.segment]?[best] ?? 0) >= 0.6, "\(t.segment): \(r.lateShares[t.segment] ?? [:])")
        }
        // Regret grows ever more slowly: the last third adds less than the first third.
        let n = r.regret.count
        #expect(r.regret[n - 1] - r.regret[2 * n / 3] < r.regret[n / 3])
        #expect(LineChart(title: "regret", xLabel: "impressions", yLabel: "regret", x: r.checkpoints.map(Double.init), series: [("ts", r.regret)]).svg().contains("<svg"))
    }

    @Test func aSeedGivesTheSameRun() throws {
        let c = BanditConfiguration(arms: ["a", "b"])
        let pop = [BanditSimulation.SegmentTruth(segment: .regular, share: 1, rewards: [0.2, 0.3])]
        let a = try BanditSimulation.run(population: pop, configuration: c, impressions: 3_000, seed: 9)
        let b = try BanditSimulation.run(population: pop, configuration: c, impressions: 3_000, seed: 9)
        #expect(a.regret == b.regret && a.bandit == b.bandit)
        let other = try BanditSimulation.run(population: pop, configuration: c, impressions: 3_000, seed: 10)
        #expect(other.regret != a.regret)
    }

    @Test func explorationKeepsItsMinimumShare() throws {
        var c = BanditConfiguration(arms: ["a", "b", "c"])
        c.minimumShare = 0.1
        let pop = [BanditSimulation.SegmentTruth(segment: .regular, share: 1, rewards: [0.05, 0.5, 0.05])]
        let r = try BanditSimulation.run(population: pop, configuration: c, impressions: 20_000, seed: 3)
        let shares = try #require(r.lateShares[.regular])
        #expect((shares["a"] ?? 0) >= 0.09 && (shares["c"] ?? 0) >= 0.09, "\(shares)")
        #expect((shares["b"] ?? 0) >= 0.75)
    }

    @Test func aFrozenBanditServesTheBestMeanAndLearnsNothing() throws {
        var c = BanditConfiguration(arms: ["a", "b"])
        var bandit = try ThompsonBandit(configuration: c)
        for _ in 0..<30 { try bandit.update(segment: .regular, arm: "b", reward: 1) }
        try bandit.update(segment: .regular, arm: "a", reward: 0)
        c.frozen = true
        bandit.configuration = c
        let before = bandit
        try bandit.update(segment: .regular, arm: "a", reward: 1)
        #expect(bandit == before)
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<20 { #expect(bandit.choose(segment: .regular, using: &rng) == BanditChoice(arm: "b", propensity: 1)) }
    }

    @Test func updatesAreChecked() throws {
        var bandit = try ThompsonBandit(configuration: BanditConfiguration(arms: ["a"]))
        #expect(throws: PolicyError.self) { try bandit.update(segment: .regular, arm: "zzz", reward: 1) }
        #expect(throws: PolicyError.self) { try bandit.update(segment: .regular, arm: "a", reward: 2) }
        var bad = BanditConfiguration(arms: ["a", "b"])
        bad.minimumShare = 0.6
        #expect(throws: PolicyError.self) { try ThompsonBandit(configuration: bad) }
        try bandit.update(segment: .lowDiscovery, arm: "a", reward: 1)
        let p = bandit.posterior(segment: .lowDiscovery, arm: "a")
        #expect(p.alpha == 2 && p.beta == 1 && p.impressions == 1 && p.mean == 2.0 / 3)
        #expect(bandit.posterior(segment: .regular, arm: "a").impressions == 0)
        let state = try JSONEncoder().encode(bandit)
        #expect(try JSONDecoder().decode(ThompsonBandit.self, from: state) == bandit)
    }

    @Test func propensitiesAreProbabilities() throws {
        var c = BanditConfiguration(arms: ["a", "b"])
        c.minimumShare = 0.25
        var bandit = try ThompsonBandit(configuration: c)
        for _ in 0..<200 { try bandit.update(segment: .regular, arm: "a", reward: 1); try bandit.update(segment: .regular, arm: "b", reward: 0) }
        var rng = SeededGenerator(seed: 5)
        let choice = bandit.choose(segment: .regular, using: &rng, propensityDraws: 200)
        // "a" wins every Thompson draw; the uniform half gives each arm 0.25.
        if choice.arm == "a" { #expect(abs(choice.propensity - 0.75) < 1e-9) } else { #expect(abs(choice.propensity - 0.25) < 1e-9) }
    }

    @Test func theReplayEstimateIsInversePropensityScoring() throws {
        let log = [ReplayEstimate.Logged(arm: "a", propensity: 0.5, reward: 1), ReplayEstimate.Logged(arm: "b", propensity: 0.5, reward: 0),
                   ReplayEstimate.Logged(arm: "a", propensity: 0.25, reward: 1), ReplayEstimate.Logged(arm: "b", propensity: 0.75, reward: 1)]
        let e = try ReplayEstimate.estimate(log, arms: ["a", "b"])
        // a: (1/0.5 + 1/0.25) / 4 = 1.5; self-normalised (2 + 4) / (2 + 4) = 1.
        #expect(abs(e[0].ips - 1.5) < 1e-12 && abs(e[0].selfNormalised - 1) < 1e-12 && e[0].impressions == 2)
        // b: (1/0.75) / 4 = 0.3333; self-normalised 1.3333 / (2 + 1.3333) = 0.4.
        #expect(abs(e[1].ips - 1.0 / 3) < 1e-12 && abs(e[1].selfNormalised - 0.4) < 1e-12)
        #expect(e[0].low < e[0].ips && e[0].ips < e[0].high)
        #expect(throws: PolicyError.self) { try ReplayEstimate.estimate([], arms: ["a"]) }
        #expect(throws: PolicyError.self) { try ReplayEstimate.estimate([ReplayEstimate.Logged(arm: "a", propensity: 0, reward: 1)], arms: ["a"]) }
    }

    /// Logged by the bandit itself, the replay recovers each arm's true reward within its interval.
    @Test func theReplayRecoversTrueRewardsFromBanditLogs() throws {
        var c = BanditConfiguration(arms: ["a", "b"])
        c.minimumShare = 0.2
        var bandit = try ThompsonBandit(configuration: c)
        var rng = SeededGenerator(seed: 11)
        let truth = ["a": 0.1, "b": 0.3]
        var log: [ReplayEstimate.Logged] = []
        for _ in 0..<20_000 {
            let choice = bandit.choose(segment: .regular, using: &rng, propensityDraws: 32)
            let reward: Double = rng.nextDouble() < truth[choice.arm]! ? 1 : 0
            log.append(ReplayEstimate.Logged(arm: choice.arm, propensity: choice.propensity, reward: reward))
            try bandit.update(segment: .regular, arm: choice.arm, reward: reward)
        }
        for e in try ReplayEstimate.estimate(log, arms: ["a", "b"]) {
            #expect(abs(e.selfNormalised - truth[e.arm]!) < 0.03, "\(e)")
        }
    }

    @Test func theRewardRuleUsesTheWindow() {
        let events: [(song: Int, kind: FeedbackKind, time: Double)] = [(3, .skip, 10), (4, .play, 50)]
        #expect(Reward.of(servedAt: 0, served: [3, 4], events: events, window: 100, now: 60) == 1)
        #expect(Reward.of(servedAt: 0, served: [3], events: events, window: 100, now: 60) == nil)      // window still open
        #expect(Reward.of(servedAt: 0, served: [3], events: events, window: 100, now: 200) == 0)
        #expect(Reward.of(servedAt: 0, served: [4], events: events, window: 40, now: 200) == 0)        // played too late
    }
}
