// Offline check of the bandit on a synthetic population whose best arm per segment is known:
// each impression draws a segment by its share, the bandit picks an arm, and the reward is a
// Bernoulli draw with that segment's arm probability. The result is the cumulative regret (the
// expected reward of always serving each segment's best arm, minus the expected reward of the
// arms served) and the first impression after which the served arms' expected reward, over a
// trailing window, stays at 90% of the best. O(impressions · arms · propensity draws).
import EncoreMath

/// A synthetic population and the bandit run on it.
public enum BanditSimulation {
    /// A segment's share of traffic and each arm's true reward probability.
    public struct SegmentTruth: Sendable {
        public var segment: Segment
        public var share: Double
        public var rewards: [Double]
        public init(segment: Segment, share: Double, rewards: [Double]) {
            self.segment = segment
            self.share = share
            self.rewards = rewards
        }
    }

    /// Three arms whose best differs by segment: the report's recipe wins cold start, the tuned
    /// default low engagement and regular users, the discovery-heavy arm low discovery.
    public static let standardArms = ["report", "default", "discovery"]
    public static let standardPopulation: [SegmentTruth] = [
        SegmentTruth(segment: .coldStart, share: 0.10, rewards: [0.10, 0.06, 0.08]),
        SegmentTruth(segment: .lowEngagement, share: 0.25, rewards: [0.05, 0.12, 0.08]),
        SegmentTruth(segment: .lowDiscovery, share: 0.20, rewards: [0.04, 0.07, 0.11]),
        SegmentTruth(segment: .regular, share: 0.45, rewards: [0.06, 0.15, 0.07]),
    ]

    public struct Result: Sendable {
        /// Impression counts at which the curves are sampled.
        public var checkpoints: [Int]
        /// Cumulative expected regret at each checkpoint.
        public var regret: [Double]
        /// Trailing-window expected reward as a share of the best, at each checkpoint.
        public var rewardRatio: [Double]
        /// The first impression from which the trailing ratio stays at or above 0.9 (nil: never).
        public var reachedNinetyPercentAt: Int?
        /// Expected reward per impression of the best arms.
        public var bestReward: Double
        /// Share of each segment's traffic each arm got over the last half of the run.
        public var lateShares: [Segment: [String: Double]]
        public var bandit: ThompsonBandit
    }

    public static func run(population: [SegmentTruth] = standardPopulation, configuration: BanditConfiguration, impressions: Int,
                           seed: UInt64, window: Int = 1000, checkpointEvery: Int = 100) throws -> Result {
        var bandit = try ThompsonBandit(configuration: configuration)
        guard impressions > 0, window > 0, checkpointEvery > 0 else { throw PolicyError("the simulation needs positive impressions, window and checkpoint step") }
        for t in population where t.rewards.count != configuration.arms.count || t.rewards.contains(where: { !($0 >= 0 && $0 <= 1) }) {
            throw PolicyError("\(t.segment.rawValue): give one reward probability in [0, 1] per arm")
        }
        let total = population.reduce(0) { $0 + $1.share }
        guard total > 0 else { throw PolicyError("the segment shares add up to 0") }
        var rng = SeededGenerator(seed: seed)
        let best = population.reduce(0.0) { $0 + $1.share / total * ($1.rewards.max() ?? 0) }
        var regret = 0.0
        var trailing = [Double](repeating: 0, count: window)
        var trailingSum = 0.0
        var result = Result(checkpoints: [], regret: [], rewardRatio: [], reachedNinetyPercentAt: nil, bestReward: best, lateShares: [:], bandit: bandit)
        var late: [Segment: [String: Double]] = [:]
        var lateCount: [Segment: Double] = [:]
        var bestTrailing = [Double](repeating: 0, count: window)
        var bestTrailingSum = 0.0
        for n in 0..<impressions {
            var r = rng.nextDouble() * total
            var truth = population[population.count - 1]
            for t in population { if r < t.share { truth = t; break }; r -= t.share }
            let choice = bandit.choose(segment: truth.segment, using: &rng, propensityDraws: 1)
            let arm = configuration.arms.firstIndex(of: choice.arm) ?? 0
            let expected = truth.rewards[arm]
            let reward: Double = rng.nextDouble() < expected ? 1 : 0
            try bandit.update(segment: truth.segment, arm: choice.arm, reward: reward)
            let segmentBest = truth.rewards.max() ?? 0
            regret += segmentBest - expected
            trailingSum += expected - trailing[n % window]
            trailing[n % window] = expected
            bestTrailingSum += segmentBest - bestTrailing[n % window]
            bestTrailing[n % window] = segmentBest
            let ratio = n + 1 >= window && bestTrailingSum > 0 ? trailingSum / bestTrailingSum : 0
            if ratio >= 0.9 { if result.reachedNinetyPercentAt == nil { result.reachedNinetyPercentAt = n + 1 } } else if n + 1 >= window {
                result.reachedNinetyPercentAt = nil
            }
            if n >= impressions / 2 {
                late[truth.segment, default: [:]][choice.arm, default: 0] += 1
                lateCount[truth.segment, default: 0] += 1
            }
            if (n + 1) % checkpointEvery == 0 || n + 1 == impressions {
                result.checkpoints.append(n + 1)
                result.regret.append(regret)
                result.rewardRatio.append(ratio)
            }
        }
        for (s, counts) in late { result.lateShares[s] = counts.mapValues { $0 / (lateCount[s] ?? 1) } }
        result.bandit = bandit
        return result
    }
}
