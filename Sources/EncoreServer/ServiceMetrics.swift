// Prometheus metrics (swift-prometheus): requests and latency histograms per route, method and
// status; and, read at scrape time, events ingested, fold-ins, the snapshot (model) version and the
// lists each bandit arm served.
import EncoreService
import Foundation
import Prometheus

final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    static let buckets: [Duration] = [250, 500, 1_000, 2_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 5_000_000].map { Duration.microseconds($0) }

    func record(route: String, method: String, status: Int, seconds: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(name: "encore_http_requests_total", labels: labels).increment()
        registry.makeDurationHistogram(name: "encore_http_request_duration_seconds", labels: [("route", route), ("method", method)], buckets: Self.buckets)
            .record(seconds)
    }

    /// The exposition text, with the service's own figures.
    func render(service: RecommendationService) -> String {
        let c = service.counterValues
        registry.makeGauge(name: "encore_events_ingested").set(Double(c.eventsIngested))
        registry.makeGauge(name: "encore_fold_ins").set(Double(c.foldIns))
        registry.makeGauge(name: "encore_events_from_replicas").set(Double(c.eventsFromReplicas))
        registry.makeGauge(name: "encore_model_snapshot_version").set(Double(service.snapshot.version))
        registry.makeGauge(name: "encore_served_list_log_failures").set(Double(c.servedLogFailures))
        registry.makeGauge(name: "encore_bandit_state_write_failures").set(Double(c.banditStateFailures))
        for status in ["promoted", "kept", "failed", "cancelled"] {
            registry.makeGauge(name: "encore_background_retrains", labels: [("status", status)]).set(Double(c.retrains[status] ?? 0))
        }
        // Scoring batches per source (content, als, …): lists per batch is their ratio (the current snapshot's).
        var batches: [String: (batches: Int, inputs: Int)] = [:]
        for perSource in service.snapshot.batchers.values {
            for (source, batcher) in perSource {
                let c = batcher.counts
                batches[source.description, default: (0, 0)].batches += c.batches
                batches[source.description, default: (0, 0)].inputs += c.inputs
            }
        }
        for (source, c) in batches {
            registry.makeGauge(name: "encore_scoring_batches", labels: [("source", source)]).set(Double(c.batches))
            registry.makeGauge(name: "encore_scoring_batched_lists", labels: [("source", source)]).set(Double(c.inputs))
        }
        registry.makeGauge(name: "encore_pruned_lists").set(Double(c.prunedLists))
        registry.makeGauge(name: "encore_pruned_songs_scored").set(Double(c.prunedSongsScored))
        let lists = service.snapshot.lists.counts
        registry.makeGauge(name: "encore_list_cache_lists").set(Double(lists.lists))
        registry.makeGauge(name: "encore_list_cache_hits").set(Double(lists.hits))
        registry.makeGauge(name: "encore_list_cache_misses").set(Double(lists.misses))
        for arm in service.policyNames {
            registry.makeGauge(name: "encore_bandit_served_lists", labels: [("arm", arm)]).set(Double(c.served[arm] ?? 0))
            registry.makeGauge(name: "encore_bandit_rewards", labels: [("arm", arm)]).set(c.rewards[arm] ?? 0)
        }
        return registry.emitToString()
    }
}
