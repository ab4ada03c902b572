// Opportunistic micro-batching for the service's memory-bound scoring: requests that need the same
// large matrix at the same time share one pass over it (one sgemm instead of one sgemv each). The
// first caller with no batch under way computes its own input at once, so an idle service adds no
// wait; callers that arrive while a batch runs queue, and when it ends the first of them computes
// everything queued (up to `maxBatch`) in one call and hands the results out. No timer, no
// thread of its own: a caller waits at most for the batch under way and its own.
import Foundation
import Synchronization

/// Gathers concurrent inputs into batches for one batch function.
public final class MicroBatcher<Input: Sendable, Output: Sendable>: Sendable {
    typealias Waiter = (input: Input, continuation: CheckedContinuation<Turn, Never>)

    enum Turn: Sendable {
        case done(Output)
        /// The caller computes the next batch (its own input first).
        case lead
    }

    let maxBatch: Int
    let compute: @Sendable ([Input]) -> [Output]
    let state = Mutex<(queue: [Waiter], busy: Bool, batches: Int, inputs: Int)>(([], false, 0, 0))

    /// `compute` returns one output per input, in order.
    public init(maxBatch: Int = 32, compute: @escaping @Sendable ([Input]) -> [Output]) {
        self.maxBatch = max(1, maxBatch)
        self.compute = compute
    }

    /// Batches run and inputs computed so far (their ratio is the mean batch size).
    public var counts: (batches: Int, inputs: Int) { state.withLock { ($0.batches, $0.inputs) } }

    /// The output for one input, computed alone or in a batch with the inputs of concurrent callers.
    public func run(_ input: Input) async -> Output {
        let turn = await withCheckedContinuation { (c: CheckedContinuation<Turn, Never>) in
            let lead = state.withLock { s -> Bool in
                if s.busy {
                    s.queue.append((input, c))
                    return false
                }
                s.busy = true
                return true
            }
            if lead { c.resume(returning: .lead) }
        }
        switch turn {
        case .done(let output):
            return output
        case .lead:
            return lead(with: input)
        }
    }

    /// Computes the caller's input with what has queued, hands the others their outputs, and
    /// passes the lead to the first caller still queued (or ends the busy state).
    func lead(with input: Input) -> Output {
        let batch = state.withLock { s -> [Waiter] in
            let taken = Array(s.queue.prefix(maxBatch - 1))
            s.queue.removeFirst(taken.count)
            s.batches += 1
            s.inputs += taken.count + 1
            return taken
        }
        let outputs = compute([input] + batch.map(\.input))
        precondition(outputs.count == batch.count + 1, "a batch function returns one output per input")
        for (n, w) in batch.enumerated() { w.continuation.resume(returning: .done(outputs[n + 1])) }
        let next = state.withLock { s -> Waiter? in
            guard !s.queue.isEmpty else {
                s.busy = false
                return nil
            }
            return s.queue.removeFirst()
        }
        // The next leader's own input goes first in its batch: it was queued before it led.
        if let next { next.continuation.resume(returning: .lead) }
        return outputs[0]
    }
}
