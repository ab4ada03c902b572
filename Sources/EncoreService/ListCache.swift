// The service's cache of composed lists, as recommendation services keep one (Gorse serves from
// its cache of each user's list): a known listener whose history has not changed since the serving
// snapshot was built gets the same list from the same policy every time, so it is composed once
// and kept. Correctness comes from what may be cached, not from expiry:
// - the cache belongs to one snapshot, so an activation or reload starts an empty one;
// - only lists of listeners with no play accepted since the snapshot are stored or read (a play
//   folds into the next list at once: such a listener is always composed afresh);
// - each request still gets its own request id, impression and served-list log entry.
// Bounded: at most `capacity` lists, the oldest evicted first (FIFO, O(1) per operation).
import EncorePolicy
import Synchronization

/// A bounded map from (user, policy, k) to a composed list.
public final class ListCache: Sendable {
    struct Key: Hashable, Sendable {
        var user: String
        var policy: String
        var k: Int
    }

    struct Entries: Sendable {
        var lists: [Key: PolicyRecommendation] = [:]
        var order: [Key] = []
        var head = 0
        var hits = 0
        var misses = 0
    }

    public let capacity: Int
    let entries = Mutex(Entries())

    /// `capacity` 0 caches nothing.
    public init(capacity: Int) { self.capacity = max(0, capacity) }

    func list(user: String, policy: String, k: Int) -> PolicyRecommendation? {
        guard capacity > 0 else { return nil }
        return entries.withLock { e in
            let hit = e.lists[Key(user: user, policy: policy, k: k)]
            if hit == nil { e.misses += 1 } else { e.hits += 1 }
            return hit
        }
    }

    func store(_ list: PolicyRecommendation, user: String, policy: String, k: Int) {
        guard capacity > 0 else { return }
        let key = Key(user: user, policy: policy, k: k)
        entries.withLock { e in
            guard e.lists.updateValue(list, forKey: key) == nil else { return }
            e.order.append(key)
            while e.lists.count > capacity, e.head < e.order.count {
                e.lists[e.order[e.head]] = nil
                e.head += 1
            }
            if e.head > 4_096, e.head * 2 > e.order.count {
                e.order.removeFirst(e.head)
                e.head = 0
            }
        }
    }

    /// Lists held, and lookups that found or missed one.
    public var counts: (lists: Int, hits: Int, misses: Int) { entries.withLock { ($0.lists.count, $0.hits, $0.misses) } }
}
