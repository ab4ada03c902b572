// A value computed on first use and then shared: a lock makes the first use from several threads
// safe, so value types that hold one (a matrix's column twin, a model's Gram matrix) stay Sendable.
import Foundation

/// Holds a lazily built value; `get` builds it once.
public final class LazyBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var cached: T?

    public init() {}

    public func get(_ build: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let built = build()
        cached = built
        return built
    }
}
