// The single parallel-loop helper of Encore: DispatchQueue.concurrentPerform over contiguous
// chunks. Chunks are fixed by (count, chunks), never by timing, so any per-chunk result that is
// combined in chunk order is deterministic.
import Foundation

/// Deterministic chunked parallel loops over an index range.
public enum ParallelLoop {
    /// Number of worker threads to use by default: the active processor count, or the task's
    /// `workerOverride` (tests use it to show results do not depend on the thread count).
    public static var defaultWorkers: Int { workerOverride ?? max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Replaces the processor count for loops started from the current task; 1 runs every loop
    /// on the calling thread (a background job that must not take the cores from serving).
    @TaskLocal public static var workerOverride: Int?

    static var serial: Bool { workerOverride == 1 }

    /// Calls `body(chunkIndex, range)` for `chunks` contiguous pieces of 0..<count, in parallel.
    public static func forEachChunk(
        count: Int,
        chunks requested: Int = defaultWorkers,
        _ body: @Sendable (Int, Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let chunks = max(1, min(requested, count))
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        // Each chunk touches its own range; callers own the data race freedom of what they write.
        withoutActuallyEscaping(body) { escapable in
            nonisolated(unsafe) let work = escapable
            let run: @Sendable (Int) -> Void = { c in work(c, count * c / chunks..<count * (c + 1) / chunks) }
            if serial { (0..<chunks).forEach(run) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: run) }
        }
    }

    /// Contiguous pieces of 0..<count with about equal total `weight` each (at most `chunks`;
    /// a single heavy index stays whole). For rows of skewed size, where equal-count chunks put
    /// most of the work in one: a Zipf catalogue's first eighth of songs holds half the plays.
    public static func balancedRanges(count: Int, chunks requested: Int, weight: (Int) -> Int) -> [Range<Int>] {
        guard count > 0 else { return [] }
        var total = 0
        for i in 0..<count { total += max(0, weight(i)) }
        let chunks = max(1, min(requested, count))
        let share = max(1, (total + chunks - 1) / chunks)
        var out: [Range<Int>] = []
        var start = 0, work = 0
        for i in 0..<count {
            work += max(0, weight(i))
            if work >= share, out.count < chunks - 1 {
                out.append(start..<(i + 1))
                start = i + 1
                work = 0
            }
        }
        if start < count { out.append(start..<count) }
        return out
    }

    /// Calls `body(index, range)` for each range, in parallel.
    public static func forEach(ranges: [Range<Int>], _ body: @Sendable (Int, Range<Int>) -> Void) {
        guard ranges.count > 1 else {
            if let only = ranges.first { body(0, only) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            nonisolated(unsafe) let work = escapable
            if serial { for c in ranges.indices { work(c, ranges[c]) } } else { DispatchQueue.concurrentPerform(iterations: ranges.count) { c in work(c, ranges[c]) } }
        }
    }

    /// Maps each range to a value, in parallel, and returns the values in range order.
    public static func map<T>(ranges: [Range<Int>], _ body: @Sendable (Range<Int>) -> T) -> [T] {
        let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: ranges.count)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        // Each range writes its own slot.
        nonisolated(unsafe) let slots = results
        forEach(ranges: ranges) { c, range in slots[c] = body(range) }
        return results.compactMap { $0 }
    }

    /// Maps each chunk to a value and returns the values in chunk order.
    public static func mapChunks<T>(
        count: Int,
        chunks requested: Int = defaultWorkers,
        _ body: @Sendable (Range<Int>) -> T
    ) -> [T] {
        guard count > 0 else { return [] }
        let chunks = max(1, min(requested, count))
        return map(ranges: (0..<chunks).map { c in (count * c / chunks)..<(count * (c + 1) / chunks) }, body)
    }
}
