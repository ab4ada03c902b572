// Reverse-mode automatic differentiation over Float32 matrices (Wengert list). Each operation
// appends a node holding its value and a closure that pushes the node's gradient to its inputs;
// `backward` runs the closures in reverse order. A tape is reset between training steps and
// keeps its buffers in a pool keyed by size, so a loop of equal steps allocates nothing after
// the first (only the node list and the closures, per operation, never per element).
// Parallel work is split into blocks of a fixed size, never by the thread count, so every
// result is the same whatever the number of threads. Cost: each operation's own (a matmul
// O(m·n·k), a sparse product O(nnz·d), elementwise O(size)), the backward pass about twice that.

import EncoreMath

/// A handle to a value on a tape: an index and a shape.
public struct Tensor: Sendable, Hashable {
    public let id: Int
    public let rows: Int
    public let columns: Int
    public var count: Int { rows * columns }
}

/// A recording of operations for one forward and one backward pass. Not thread-safe; its
/// operations use parallel loops internally.
public final class Tape {
    struct Node {
        var rows: Int
        var columns: Int
        var value: UnsafeMutablePointer<Float>
        var grad: UnsafeMutablePointer<Float>?
        var parameter: Parameter?
        var needsGrad: Bool
        var backward: ((Tape) -> Void)?
    }

    var nodes: [Node] = []
    private var pool: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var live: [(UnsafeMutablePointer<Float>, Int)] = []
    /// Dropout is active only while training.
    public var training: Bool

    public init(training: Bool = true) { self.training = training }

    deinit {
        for (p, _) in live { p.deallocate() }
        for list in pool.values { for p in list { p.deallocate() } }
    }

    /// Forgets every node and returns their buffers to the pool (parameters are untouched).
    public func reset() {
        for (p, n) in live { pool[n, default: []].append(p) }
        live.removeAll(keepingCapacity: true)
        nodes.removeAll(keepingCapacity: true)
    }

    // MARK: buffers and nodes

    /// Buffers the tape holds, in use or pooled (a repeated step must not add any).
    var bufferCount: Int { live.count + pool.values.reduce(0) { $0 + $1.count } }

    func buffer(_ count: Int, zeroed: Bool) -> UnsafeMutablePointer<Float> {
        let n = max(1, count)
        let p: UnsafeMutablePointer<Float>
        if let reused = pool[n]?.popLast() { p = reused } else { p = .allocate(capacity: n) }
        live.append((p, n))
        if zeroed { p.update(repeating: 0, count: n) }
        return p
    }

    func append(rows: Int, columns: Int, value: UnsafeMutablePointer<Float>, inputs: [Tensor], backward: ((Tape) -> Void)?) -> Tensor {
        let needs = inputs.contains { nodes[$0.id].needsGrad }
        nodes.append(Node(rows: rows, columns: columns, value: value, grad: nil, parameter: nil, needsGrad: needs, backward: needs ? backward : nil))
        return Tensor(id: nodes.count - 1, rows: rows, columns: columns)
    }

    /// The value buffer of a tensor (read it; write only what an operation just created).
    public func value(_ t: Tensor) -> UnsafeMutablePointer<Float> { nodes[t.id].value }

    /// A copy of a tensor's values.
    public func values(_ t: Tensor) -> [Float] { Array(UnsafeBufferPointer(start: nodes[t.id].value, count: t.count)) }

    /// The gradient of the last `backward` with respect to a tensor (zeros when nothing reached it).
    public func gradient(_ t: Tensor) -> [Float] {
        guard let g = nodes[t.id].grad else { return [Float](repeating: 0, count: t.count) }
        return Array(UnsafeBufferPointer(start: g, count: t.count))
    }

    /// Whether gradient flows to the tensor.
    func needsGrad(_ t: Tensor) -> Bool { nodes[t.id].needsGrad }

    /// The gradient buffer of a tensor, zeroed on first use (a parameter's own `grad`).
    func grad(_ t: Tensor) -> UnsafeMutablePointer<Float> {
        if let g = nodes[t.id].grad { return g }
        let g = buffer(t.count, zeroed: true)
        nodes[t.id].grad = g
        return g
    }

    // MARK: leaves

    /// A trainable leaf: its value is the parameter's buffer and its gradient accumulates into
    /// the parameter's `grad`.
    public func parameter(_ p: Parameter) -> Tensor {
        nodes.append(Node(rows: p.rows, columns: p.columns, value: p.value.baseAddress!, grad: p.grad.baseAddress!, parameter: p, needsGrad: true, backward: nil))
        return Tensor(id: nodes.count - 1, rows: p.rows, columns: p.columns)
    }

    /// A constant leaf (copied onto the tape).
    public func constant(_ values: [Float], rows: Int, columns: Int) -> Tensor {
        precondition(values.count == rows * columns, "\(values.count) values for \(rows) × \(columns)")
        let v = buffer(values.count, zeroed: false)
        values.withUnsafeBufferPointer { if let b = $0.baseAddress { v.update(from: b, count: values.count) } }
        nodes.append(Node(rows: rows, columns: columns, value: v, grad: nil, parameter: nil, needsGrad: false, backward: nil))
        return Tensor(id: nodes.count - 1, rows: rows, columns: columns)
    }

    public func constant(_ m: DenseMatrix) -> Tensor { constant(m.values, rows: m.rows, columns: m.columns) }

    // MARK: backward

    /// Fills the gradients of every tensor that `loss` (1 × 1) depends on, parameters included
    /// (added to their `grad`).
    public func backward(_ loss: Tensor) {
        precondition(loss.count == 1, "backward needs a scalar loss, got \(loss.rows) × \(loss.columns)")
        guard nodes[loss.id].needsGrad else { return }
        grad(loss)[0] += 1
        for i in stride(from: loss.id, through: 0, by: -1) {
            guard nodes[i].grad != nil, let step = nodes[i].backward else { continue }
            step(self)
        }
    }
}

/// Fixed-size blocks for parallel loops: the split depends on the size only.
enum Blocks {
    /// Runs body over `count` indices in blocks of `size`, in parallel when there are several.
    static func forEach(_ count: Int, size: Int, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let blocks = (count + size - 1) / size
        if blocks == 1 { body(0..<count); return }
        // Several blocks per worker, so the pool balances uneven blocks.
        ParallelLoop.forEachChunk(count: blocks, chunks: ParallelLoop.defaultWorkers * 4) { _, range in
            for b in range { body((b * size)..<min(count, (b + 1) * size)) }
        }
    }

    /// Elementwise loops: 16,384 entries per block.
    static func elementwise(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) { forEach(count, size: 1 << 14, body) }
}
