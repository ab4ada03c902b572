// The hand-over between a loader that is still reading a file and the store transaction that
// writes it: the loader's thread sends batches of accepted rows (`AcceptedRows`), then the loaded
// dataset with its content hash; the transaction takes them in order, writing each batch of events
// while the next is parsed (two cores: parsing and the database's ingest overlap). Bounded: the
// loader waits when `capacity` batches are queued, so memory stays a few batches. Either side can
// stop the other: a failed load ends the transaction with the load's error (nothing is committed),
// and a failed transaction makes the loader's next send throw.
import EncoreData
import Foundation

public final class ImportFeed: @unchecked Sendable {
    /// What the transaction takes next.
    public enum Item: Sendable {
        case rows(AcceptedRows)
        /// The load finished: the dataset built from every row sent, the content hash of its
        /// files, and the files' names.
        case done(Dataset, contentHash: String, source: String)
    }

    /// Thrown to the loader when the transaction has stopped.
    public struct Stopped: Error, CustomStringConvertible {
        public var description: String { "the import stopped" }
    }

    private let condition = NSCondition()
    private var queue: [Item] = []
    private var failure: (any Error)?
    private var stopped = false
    private let capacity: Int

    public init(capacity: Int = 4) { self.capacity = max(1, capacity) }

    /// A feed that holds one loaded dataset and nothing else (an import of a dataset in memory).
    public convenience init(dataset: Dataset, contentHash: String, source: String) {
        self.init()
        queue = [.done(dataset, contentHash: contentHash, source: source)]
    }

    /// The loader's side: queues a batch, waiting while the queue is full.
    public func send(_ rows: AcceptedRows) throws { try put(.rows(rows)) }

    /// The loader's side: the load finished.
    public func finish(_ dataset: Dataset, contentHash: String, source: String) throws {
        try put(.done(dataset, contentHash: contentHash, source: source))
    }

    /// The loader's side: the load failed; the transaction ends with this error.
    public func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// The load's error, when it failed.
    public var loadError: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    private func put(_ item: Item) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !stopped { condition.wait() }
        if stopped { throw Stopped() }
        queue.append(item)
        condition.broadcast()
    }

    /// The transaction's side: the next item, waiting for it; throws the load's error.
    public func next() throws -> Item {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && failure == nil { condition.wait() }
        if let failure { throw failure }
        let item = queue.removeFirst()
        condition.broadcast()
        return item
    }

    /// The transaction's side: it ended (committed or not); a loader still sending stops.
    public func stop() {
        condition.lock()
        stopped = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
