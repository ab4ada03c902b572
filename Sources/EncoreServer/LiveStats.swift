// The dashboard's live figures: requests per second over the last 10 seconds, the p99 latency over
// the last 60, events ingested per second, and each bandit arm's lists and rewards sampled every
// 10 seconds for the last hour (the reward-over-time chart). Kept in bounded rings: recording a
// request is O(1), reading the figures O(ring).
import EncoreService
import Foundation
import Synchronization

final class LiveStats: Sendable {
    struct Sample: Sendable {
        var time: Double
        var events: Int
        var served: [String: Int]
        var rewards: [String: Double]
    }

    struct State: Sendable {
        /// (time, milliseconds) of the latest requests.
        var latencies: [(time: Double, ms: Double)] = []
        var next = 0
        var samples: [Sample] = []
        var lastSample = 0.0
    }

    static let ring = 8_192
    static let sampleEvery = 10.0
    static let samplesKept = 360
    let state = Mutex(State())
    let counters: @Sendable () -> RecommendationService.Counters

    init(counters: @escaping @Sendable () -> RecommendationService.Counters) { self.counters = counters }

    func record(milliseconds: Double, now: Double = Date().timeIntervalSince1970) {
        let due = state.withLock { s -> Bool in
            if s.latencies.count < Self.ring { s.latencies.append((now, milliseconds)) } else { s.latencies[s.next] = (now, milliseconds) }
            s.next = (s.next + 1) % Self.ring
            return now - s.lastSample >= Self.sampleEvery || s.samples.isEmpty
        }
        if due { sample(now: now) }
    }

    func sample(now: Double) {
        let c = counters()
        state.withLock { s in
            s.samples.append(Sample(time: now, events: c.eventsIngested, served: c.served, rewards: c.rewards))
            if s.samples.count > Self.samplesKept { s.samples.removeFirst(s.samples.count - Self.samplesKept) }
            s.lastSample = now
        }
    }

    /// Requests per second (last 10 s), p99 in ms (last 60 s; nil without requests), events per second (since the oldest sample within a minute).
    func figures(now: Double = Date().timeIntervalSince1970) -> (requestsPerSecond: Double, p99: Double?, eventsPerSecond: Double) {
        let (latencies, samples) = state.withLock { ($0.latencies, $0.samples) }
        let recent = latencies.filter { now - $0.time <= 10 }.count
        let minute = latencies.filter { now - $0.time <= 60 }.map(\.ms).sorted()
        let p99 = minute.isEmpty ? nil : minute[min(minute.count - 1, Int((Double(minute.count) * 0.99).rounded(.up)) - 1)]
        let events = counters().eventsIngested
        var perSecond = 0.0
        if let first = samples.last(where: { now - $0.time >= 1 && now - $0.time <= 70 }) ?? samples.first, now - first.time > 0 {
            perSecond = Double(events - first.events) / (now - first.time)
        }
        return (Double(recent) / 10, p99, max(0, perSecond))
    }

    var history: [Sample] { state.withLock { $0.samples } }
}
