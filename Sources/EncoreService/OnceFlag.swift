// A boolean that is set once and read from any thread: a cancellation request, a lost lock, the
// first of two racing results.
import Synchronization

public final class OnceFlag: Sendable {
    private let state = Mutex(false)
    public init() {}
    /// Sets the flag; true when this call set it (it was not set before).
    @discardableResult public func set() -> Bool { state.withLock { s in defer { s = true }; return !s } }
    public var isSet: Bool { state.withLock { $0 } }
}
