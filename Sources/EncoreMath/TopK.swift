// Top-k selection with a bounded heap: O(n log k) time, O(k) memory. One generic core serves
// every ranking in Encore (scores of items, neighbours by similarity); callers give a total order,
// and ties break towards the lower index so rankings are deterministic.

/// Selects the k best elements of a collection, best first.
public enum TopK {
    /// The k best elements under `isBetter` (a strict total order), best first.
    @inlinable
    public static func best<S: Sequence>(_ elements: S, k: Int, isBetter: (S.Element, S.Element) -> Bool) -> [S.Element] {
        guard k > 0 else { return [] }
        // The root holds the worst of the kept elements.
        var heap: [S.Element] = []
        // k may come from a user (`-k 1000000000000`): grow with the elements, never reserve k up front.
        heap.reserveCapacity(Swift.min(k, 4096))
        @inline(__always) func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && isBetter(heap[m], heap[l]) { m = l }
                if r < heap.count && isBetter(heap[m], heap[r]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for e in elements {
            if heap.count < k {
                heap.append(e)
                var c = heap.count - 1
                while c > 0 {
                    let p = (c - 1) / 2
                    if isBetter(heap[p], heap[c]) { heap.swapAt(c, p); c = p } else { break }
                }
            } else if isBetter(e, heap[0]) {
                heap[0] = e
                siftDown(0)
            }
        }
        return heap.sorted(by: isBetter)
    }

    /// Indices of the k largest values, ordered by value descending then index ascending; NaN is skipped.
    public static func select(_ values: UnsafeBufferPointer<Double>, k: Int) -> [(index: Int, value: Double)] {
        best(values.enumerated().lazy.filter { !$0.element.isNaN }.map { (index: $0.offset, value: $0.element) }, k: k) { a, b in
            a.value != b.value ? a.value > b.value : a.index < b.index
        }
    }

    public static func select(_ values: [Double], k: Int) -> [(index: Int, value: Double)] {
        values.withUnsafeBufferPointer { select($0, k: k) }
    }
}
