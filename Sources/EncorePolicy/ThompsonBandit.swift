// The report's "online system for reinforcement learning": a Bernoulli bandit per segment over
// policy arms (the report's recipe, the tuned one, a discovery-heavy one, …), by Thompson sampling
// with Beta posteriors (Chapelle & Li, "An Empirical Evaluation of Thompson Sampling", NIPS 2011).
// A served list is an impression of its arm; its reward is 1 when a served song is played or liked
// within the reward window, 0 when it is skipped, disliked or ignored. Exploration is bounded
// below: each arm keeps at least `minimum_share` of a segment's traffic. A frozen bandit serves
// the arm with the best posterior mean and learns nothing. The state is a small Codable value the
// store persists; this file only computes. choose: O(arms) Beta draws; update: O(1).
import EncoreMath
import Foundation

/// The bandit's settings.
public struct BanditConfiguration: Codable, Sendable, Equatable {
    /// Policy names the bandit chooses between.
    public var arms: [String]
    /// Each arm's least share of a segment's traffic (0 ≤ share ≤ 1 / arms).
    public var minimumShare: Double = 0.05
    /// Serve the best posterior mean and stop learning.
    public var frozen: Bool = false
    /// How long after an impression a play or like counts, in seconds.
    public var rewardWindowSeconds: Double = 1800
    public var priorAlpha: Double = 1
    public var priorBeta: Double = 1

    public init(arms: [String]) { self.arms = arms }

    enum CodingKeys: String, CodingKey {
        case arms, frozen
        case minimumShare = "minimum_share", rewardWindowSeconds = "reward_window_seconds", priorAlpha = "prior_alpha", priorBeta = "prior_beta"
    }

    public func validate() throws {
        guard !arms.isEmpty, Set(arms).count == arms.count else { throw PolicyError("a bandit needs at least one arm, each named once") }
        guard minimumShare >= 0, minimumShare * Double(arms.count) <= 1 else {
            throw PolicyError("minimum_share must be between 0 and 1/arms (\(1 / Double(arms.count)))")
        }
        guard priorAlpha > 0, priorBeta > 0, priorAlpha.isFinite, priorBeta.isFinite else { throw PolicyError("the Beta prior needs positive alpha and beta") }
        guard rewardWindowSeconds > 0 else { throw PolicyError("reward_window_seconds must be positive") }
    }
}

/// One arm's Beta posterior and counts.
public struct ArmPosterior: Codable, Sendable, Equatable {
    public var alpha: Double
    public var beta: Double
    public var impressions: Int = 0
    public var rewards: Double = 0

    public var mean: Double { alpha / (alpha + beta) }

    /// The central 95% interval of the Beta posterior, by its normal approximation clipped to [0, 1].
    public var interval: (low: Double, high: Double) {
        let n = alpha + beta
        let sd = (alpha * beta / (n * n * (n + 1))).squareRoot()
        return (max(0, mean - 1.96 * sd), min(1, mean + 1.96 * sd))
    }
}

/// What the bandit chose, and with which probability (for replay estimates later).
public struct BanditChoice: Sendable, Equatable, Codable {
    public var arm: String
    public var propensity: Double
}

/// A Thompson-sampling bandit per segment; a value the caller persists.
public struct ThompsonBandit: Codable, Sendable, Equatable {
    public var configuration: BanditConfiguration
    /// Segment → arm → posterior.
    public var posteriors: [String: [String: ArmPosterior]]

    public init(configuration: BanditConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        posteriors = [:]
    }

    public func posterior(segment: Segment, arm: String) -> ArmPosterior {
        posteriors[segment.rawValue]?[arm] ?? ArmPosterior(alpha: configuration.priorAlpha, beta: configuration.priorBeta)
    }

    /// Picks an arm for a segment: with probability minimum_share × arms uniformly, else by Thompson
    /// sampling; frozen, the best posterior mean. The propensity is the exact uniform part plus the
    /// Thompson part estimated from `propensityDraws` extra draws.
    public func choose(segment: Segment, using rng: inout SeededGenerator, propensityDraws: Int = 64) -> BanditChoice {
        let arms = configuration.arms
        let posts = arms.map { posterior(segment: segment, arm: $0) }
        if configuration.frozen {
            let best = posts.indices.max { posts[$0].mean != posts[$1].mean ? posts[$0].mean < posts[$1].mean : $0 > $1 } ?? 0
            return BanditChoice(arm: arms[best], propensity: 1)
        }
        let uniform = configuration.minimumShare * Double(arms.count)
        func thompson(_ rng: inout SeededGenerator) -> Int {
            var best = 0, bestDraw = -1.0
            for (n, p) in posts.enumerated() {
                let d = Self.beta(p.alpha, p.beta, &rng)
                if d > bestDraw { bestDraw = d; best = n }
            }
            return best
        }
        let chosen = rng.nextDouble() < uniform ? rng.nextInt(below: arms.count) : thompson(&rng)
        var wins = 0
        for _ in 0..<max(propensityDraws, 1) where thompson(&rng) == chosen { wins += 1 }
        let p = uniform / Double(arms.count) + (1 - uniform) * Double(wins) / Double(max(propensityDraws, 1))
        return BanditChoice(arm: arms[chosen], propensity: max(p, 1e-6))
    }

    /// Records an impression's reward (0…1); a frozen bandit ignores it; an unknown arm is an error.
    public mutating func update(segment: Segment, arm: String, reward: Double) throws {
        guard configuration.arms.contains(arm) else { throw PolicyError("unknown arm '\(arm)'; the arms are \(configuration.arms.joined(separator: ", "))") }
        guard reward.isFinite, reward >= 0, reward <= 1 else { throw PolicyError("a reward must be between 0 and 1, got \(reward)") }
        guard !configuration.frozen else { return }
        var p = posterior(segment: segment, arm: arm)
        p.alpha += reward
        p.beta += 1 - reward
        p.impressions += 1
        p.rewards += reward
        posteriors[segment.rawValue, default: [:]][arm] = p
    }

    /// A Beta(a, b) draw as X / (X + Y) of two Gamma draws.
    static func beta(_ a: Double, _ b: Double, _ rng: inout SeededGenerator) -> Double {
        let x = gamma(a, &rng), y = gamma(b, &rng)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 through the boost U^(1/shape).
    static func gamma(_ shape: Double, _ rng: inout SeededGenerator) -> Double {
        if shape < 1 {
            let u = max(rng.nextDouble(), Double.leastNonzeroMagnitude)
            return gamma(shape + 1, &rng) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = rng.nextGaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = rng.nextDouble()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(max(u, Double.leastNonzeroMagnitude)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}

/// Listener feedback that turns an impression into a reward.
public enum FeedbackKind: String, Codable, Sendable, CaseIterable {
    case play, like, skip, dislike
}

/// The reward rule: 1 when a served song is played or liked within the window after the
/// impression; 0 when the window has closed (or the served songs were only skipped or disliked).
public enum Reward {
    /// nil while the window is open and nothing positive has happened yet.
    public static func of(servedAt: Double, served: Set<Int>, events: [(song: Int, kind: FeedbackKind, time: Double)], window: Double, now: Double) -> Double? {
        for e in events where served.contains(e.song) && e.time >= servedAt && e.time <= servedAt + window {
            if e.kind == .play || e.kind == .like { return 1 }
        }
        return now > servedAt + window ? 0 : nil
    }
}

/// An off-policy estimate of each arm's reward from logged impressions, by inverse propensity
/// scoring (Horvitz–Thompson), with a 95% normal interval, and the self-normalised variant.
public enum ReplayEstimate {
    public struct Logged: Sendable, Equatable {
        public var arm: String
        public var propensity: Double
        public var reward: Double
        public init(arm: String, propensity: Double, reward: Double) {
            self.arm = arm
            self.propensity = propensity
            self.reward = reward
        }
    }

    public struct Estimate: Sendable, Equatable, Codable {
        public var arm: String
        public var ips: Double
        public var low: Double
        public var high: Double
        public var selfNormalised: Double
        public var impressions: Int
    }

    /// Each arm's estimated reward had it been served to every logged impression.
    public static func estimate(_ log: [Logged], arms: [String]) throws -> [Estimate] {
        guard !log.isEmpty else { throw PolicyError("the replay needs logged impressions") }
        if let bad = log.first(where: { !($0.propensity > 0 && $0.propensity <= 1) }) {
            throw PolicyError("a logged propensity must be in (0, 1], got \(bad.propensity)")
        }
        let n = Double(log.count)
        return arms.map { arm in
            var sum = 0.0, sq = 0.0, weights = 0.0, count = 0
            for l in log {
                let v = l.arm == arm ? l.reward / l.propensity : 0
                sum += v; sq += v * v
                if l.arm == arm { weights += 1 / l.propensity; count += 1 }
            }
            let mean = sum / n
            let se = (max(sq / n - mean * mean, 0) / n).squareRoot()
            let snips = weights > 0 ? log.filter { $0.arm == arm }.reduce(0.0) { $0 + $1.reward / $1.propensity } / weights : 0
            return Estimate(arm: arm, ips: mean, low: mean - 1.96 * se, high: mean + 1.96 * se, selfNormalised: snips, impressions: count)
        }
    }
}
