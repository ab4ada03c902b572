// Top-k selection with a bounded min-heap: O(n log k) time, O(k) memory. Ties break towards the
// lower index so rankings are deterministic.

/// Selects the k largest scores of a collection, best first.
public enum TopK {
    /// Indices of the k largest values, ordered by value descending then index ascending.
    public static func select(_ values: UnsafeBufferPointer<Double>, k: Int) -> [(index: Int, value: Double)] {
        guard k > 0, !values.isEmpty else { return [] }
        var heap: [(index: Int, value: Double)] = []
        heap.reserveCapacity(min(k, values.count))
        // "worse" = smaller value, or equal value with larger index.
        @inline(__always) func worse(_ a: (index: Int, value: Double), _ b: (index: Int, value: Double)) -> Bool {
            a.value < b.value || (a.value == b.value && a.index > b.index)
        }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && worse(heap[l], heap[m]) { m = l }
                if r < heap.count && worse(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        func siftUp(_ start: Int) {
            var i = start
            while i > 0 {
                let p = (i - 1) / 2
                if worse(heap[i], heap[p]) { heap.swapAt(i, p); i = p } else { return }
            }
        }
        for (i, v) in values.enumerated() where !v.isNaN {
            let e = (index: i, value: v)
            if heap.count < k {
                heap.append(e)
                siftUp(heap.count - 1)
            } else if worse(heap[0], e) {
                heap[0] = e
                siftDown(0)
            }
        }
        return heap.sorted { worse($1, $0) }
    }

    public static func select(_ values: [Double], k: Int) -> [(index: Int, value: Double)] {
        values.withUnsafeBufferPointer { select($0, k: k) }
    }
}
