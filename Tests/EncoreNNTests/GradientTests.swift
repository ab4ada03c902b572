// Every tape operation's gradient against central finite differences on small random inputs,
// the optimisers' updates by hand, determinism over thread counts and buffer reuse.
import EncoreMath
import Foundation
import Testing

@testable import EncoreNN

/// Checks d loss / d inputs from `backward` against central differences of `build`.
/// `build` maps the input tensors to a tensor; a non-scalar output is reduced to Σ output ⊙ R for
/// a fixed random R, so every entry of the gradient is exercised.
func gradientCheck(_ shapes: [(Int, Int)], seed: UInt64 = 7, awayFromZero: Bool = false, step h: Float = 1e-2,
                   _ build: @escaping (Tape, [Tensor]) -> Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
    var g = SeededGenerator(seed: seed)
    let params = shapes.enumerated().map { n, s in
        Parameter(name: "x\(n)", rows: s.0, columns: s.1, values: (0..<(s.0 * s.1)).map { _ in
            var v = Float(g.nextDouble() * 2 - 1)
            if awayFromZero { v = (v < 0 ? -1 : 1) * (0.1 + abs(v)) }
            return v
        })
    }
    var weights: [Float] = []
    func loss(_ t: Tape) -> Tensor {
        let out = build(t, params.map { t.parameter($0) })
        if out.count == 1 { return out }
        if weights.count != out.count {
            var r = SeededGenerator(seed: seed + 1)
            weights = (0..<out.count).map { _ in Float(r.nextDouble() * 2 - 1) }
        }
        return t.sum(t.multiply(out, t.constant(weights, rows: out.rows, columns: out.columns)))
    }
    let tape = Tape()
    for p in params { p.zeroGrad() }
    tape.backward(loss(tape))
    let analytic = params.map { Array($0.grad.prefix($0.count)) }
    for (pi, p) in params.enumerated() {
        for k in 0..<p.count {
            let original = p.value[k]
            p.value[k] = original + h
            let t1 = Tape(); let up = Double(t1.values(loss(t1))[0])
            p.value[k] = original - h
            let t2 = Tape(); let down = Double(t2.values(loss(t2))[0])
            p.value[k] = original
            let numeric = (up - down) / Double(2 * h)
            let a = Double(analytic[pi][k])
            #expect(abs(a - numeric) <= 2e-2 * max(1, abs(numeric)), "input \(pi) entry \(k): backward \(a), finite differences \(numeric)", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct GradientCheckTests {
    @Test func matmul() { gradientCheck([(3, 4), (4, 5)]) { t, x in t.matmul(x[0], x[1]) } }

    @Test func matmulOverSeveralBlocks() { gradientCheck([(300, 2), (2, 3)], step: 5e-2) { t, x in t.matmul(x[0], x[1]) } }

    @Test func sparseMultiply() throws {
        let s = try SparseMatrix(rows: 3, columns: 4, triples: [(0, 1, 0.5), (0, 3, -1), (1, 0, 2), (2, 2, 0.25), (2, 1, 1)])
        let op = SparseOperator(s)
        gradientCheck([(4, 3)]) { t, x in t.sparseMultiply(op, x[0]) }
        // A symmetric operator reuses itself as its transpose.
        let sym = try SparseMatrix(rows: 3, columns: 3, triples: [(0, 1, 0.5), (1, 0, 0.5), (2, 2, 1), (1, 2, -2), (2, 1, -2)])
        gradientCheck([(3, 2)]) { t, x in t.sparseMultiply(SparseOperator(sym, symmetric: true), x[0]) }
    }

    @Test(arguments: [0, 1, 3])
    func propagationMean(_ layers: Int) throws {
        let s = try SparseMatrix(rows: 4, columns: 4, triples: [(0, 1, 0.5), (1, 0, 0.3), (1, 2, -1), (2, 3, 0.7), (3, 3, 0.2), (3, 0, 1.5)])
        let op = SparseOperator(s)
        gradientCheck([(4, 3)]) { t, x in t.propagationMean(op, x[0], layers: layers) }
        // The fused operation equals the mean of repeated products.
        let t = Tape()
        let x = t.parameter(Parameter(name: "x", rows: 4, columns: 3, std: 1, seed: 3))
        var layer = x, all = [x]
        for _ in 0..<layers { layer = t.sparseMultiply(op, layer); all.append(layer) }
        let a = t.values(t.propagationMean(op, x, layers: layers)), b = t.values(t.average(all))
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func propagationMeanOverWideRows() throws {
        let s = try SparseMatrix(rows: 3, columns: 3, triples: [(0, 1, 0.5), (1, 0, 0.5), (1, 2, -1), (2, 1, -1), (2, 2, 0.3)])
        gradientCheck([(3, 40)], step: 5e-2) { t, x in t.propagationMean(SparseOperator(s, symmetric: true), x[0], layers: 2) }
    }

    @Test func addAndBroadcastBias() {
        gradientCheck([(3, 4), (3, 4)]) { t, x in t.add(x[0], x[1]) }
        gradientCheck([(5, 3), (1, 3)]) { t, x in t.add(x[0], x[1]) }
    }

    @Test func multiplyAndScale() {
        gradientCheck([(3, 4), (3, 4)]) { t, x in t.multiply(x[0], x[1]) }
        gradientCheck([(3, 4)]) { t, x in t.scale(x[0], -2.5) }
    }

    @Test func activations() {
        gradientCheck([(4, 5)], awayFromZero: true) { t, x in t.relu(x[0]) }
        gradientCheck([(4, 5)], awayFromZero: true) { t, x in t.leakyReLU(x[0], slope: 0.2) }
    }

    @Test func dropoutKeepsItsMaskThroughTheStep() {
        gradientCheck([(6, 5)]) { t, x in t.dropout(x[0], p: 0.5, seed: 3) }
        let tape = Tape(training: false)
        let p = Parameter(name: "x", rows: 1, columns: 3, values: [1, 2, 3])
        #expect(tape.values(tape.dropout(tape.parameter(p), p: 0.5, seed: 3)) == [1, 2, 3])
        let train = Tape()
        let v = train.values(train.dropout(train.parameter(Parameter(name: "y", rows: 100, columns: 100, values: .init(repeating: 1, count: 10_000))), p: 0.25, seed: 9))
        #expect(Set(v) == [0, Float(1 / 0.75)])
        let zeros = Double(v.filter { $0 == 0 }.count) / 10_000
        #expect(abs(zeros - 0.25) < 0.02)
    }

    @Test func gatherWithRepeatedRows() {
        gradientCheck([(5, 3)]) { t, x in t.gather(x[0], rows: [4, 0, 4, 2, 4]) }
    }

    @Test func concatenation() {
        gradientCheck([(3, 2), (3, 4)]) { t, x in t.concatenateColumns(x[0], x[1]) }
        gradientCheck([(2, 3), (4, 3)]) { t, x in t.concatenateRows(x[0], x[1]) }
    }

    @Test func averageSumMeanRowSumRowDot() {
        gradientCheck([(3, 4), (3, 4), (3, 4)]) { t, x in t.average(x) }
        gradientCheck([(3, 4)]) { t, x in t.sum(x[0]) }
        gradientCheck([(3, 4)]) { t, x in t.mean(x[0]) }
        gradientCheck([(3, 4)]) { t, x in t.rowSum(x[0]) }
        gradientCheck([(5, 3), (5, 3)]) { t, x in t.rowDot(x[0], x[1]) }
    }

    @Test func losses() {
        gradientCheck([(4, 2)]) { t, x in t.meanSquaredError(x[0], target: [0.5, -1, 2, 0, 1, 1, -0.5, 3]) }
        gradientCheck([(6, 1), (6, 1)]) { t, x in t.bprLoss(positive: x[0], negative: x[1]) }
        gradientCheck([(3, 4)]) { t, x in t.squaredNorm(x[0]) }
        // A small composed network: two layers, a bias, a decoder and an L2 term.
        gradientCheck([(4, 3), (3, 2), (1, 2), (4, 2)], awayFromZero: true) { t, x in
            let h = t.leakyReLU(t.add(t.matmul(x[0], x[1]), x[2]), slope: 0.1)
            return t.add(t.meanSquaredError(t.rowDot(h, x[3]), target: [1, 0, -1, 2]), t.scale(t.squaredNorm(x[1]), 0.01))
        }
    }

    @Test func lossValuesByHand() {
        let t = Tape()
        let p = t.constant([2, 0], rows: 2, columns: 1), n = t.constant([1, 0], rows: 2, columns: 1)
        // (softplus(−1) + softplus(0)) / 2
        let expected = (log1p(exp(-1.0)) + log(2.0)) / 2
        #expect(abs(Double(t.values(t.bprLoss(positive: p, negative: n))[0]) - expected) < 1e-6)
        #expect(t.values(t.meanSquaredError(p, target: [1, 2])) == [2.5])
        #expect(t.values(t.squaredNorm(p)) == [4])
    }
}

@Suite struct OptimizerTests {
    @Test func adamFirstStepsByHand() {
        let p = Parameter(name: "w", rows: 1, columns: 2, values: [1, -1])
        let adam = Adam(parameters: [p], learningRate: 0.1)
        p.grad[0] = 0.5; p.grad[1] = -2
        adam.step()
        // First step: m̂ = g, v̂ = g², so θ −= lr · g / (|g| + ε) = lr · sign(g).
        #expect(abs(p.value[0] - 0.9) < 1e-6 && abs(p.value[1] - -0.9) < 1e-6)
        p.grad[0] = 0.5; p.grad[1] = 0
        adam.step()
        // Second step, entry 1: m = 0.9·0.1·(−2)·… computed in Double.
        let m1 = 0.9 * (0.1 * -2.0), v1 = 0.999 * (0.001 * 4.0)
        let step1 = 0.1 * (m1 / (1 - 0.81)) / ((v1 / (1 - 0.998001)).squareRoot() + 1e-8)
        #expect(abs(Double(p.value[1]) - (-0.9 - step1)) < 1e-5)
        adam.zeroGrad()
        #expect(p.grad[0] == 0 && p.grad[1] == 0)
    }

    @Test func sgdWithMomentumByHand() {
        let p = Parameter(name: "w", rows: 1, columns: 1, values: [1])
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.5)
        p.grad[0] = 2
        sgd.step()  // v = 2, w = 0.8
        sgd.step()  // v = 3, w = 0.5
        #expect(abs(p.value[0] - 0.5) < 1e-6)
    }

    @Test func adamMinimisesAQuadraticDeterministically() {
        func run() -> [Float] {
            let w = Parameter(name: "w", rows: 20, columns: 3, std: 1, seed: 4)
            let adam = Adam(parameters: [w], learningRate: 0.05)
            let tape = Tape()
            let target = (0..<60).map { Float($0 % 7) / 7 }
            for _ in 0..<300 {
                tape.reset()
                adam.zeroGrad()
                tape.backward(tape.meanSquaredError(tape.parameter(w), target: target))
                adam.step()
            }
            return w.values
        }
        let a = run()
        #expect(a == run())
        #expect(zip(a, (0..<60).map { Float($0 % 7) / 7 }).allSatisfy { abs($0 - $1) < 1e-2 })
    }
}

@Suite struct TapeTests {
    /// A step over large tensors gives the same floats with 1 and 3 threads, and a repeated step
    /// takes every buffer from the pool.
    @Test func deterministicOverThreadsAndReusesBuffers() throws {
        var triples: [(row: Int, column: Int, value: Float)] = []
        var g = SeededGenerator(seed: 5)
        for _ in 0..<20_000 { triples.append((g.nextInt(below: 3000), g.nextInt(below: 3000), Float(g.nextDouble()))) }
        let op = SparseOperator(try SparseMatrix(rows: 3000, columns: 3000, triples: triples))
        func step(_ workers: Int, tape: Tape = Tape()) -> [Float] {
            ParallelLoop.$workerOverride.withValue(workers) {
                let x = Parameter(name: "x", rows: 3000, columns: 16, std: 0.1, seed: 1)
                let w = Parameter(name: "w", rows: 16, columns: 8, std: 0.1, seed: 2)
                tape.reset()
                let h = tape.relu(tape.sparseMultiply(op, tape.matmul(tape.parameter(x), tape.parameter(w))))
                tape.backward(tape.sum(tape.multiply(h, h)))
                return Array(x.grad.prefix(x.count)) + Array(w.grad.prefix(w.count))
            }
        }
        let one = step(1)
        #expect(one == step(3))
        #expect(one.contains { $0 != 0 })
        let tape = Tape()
        _ = step(2, tape: tape)
        let held = tape.bufferCount
        _ = step(2, tape: tape)
        #expect(tape.bufferCount == held, "a repeated step allocated new buffers")
    }
}
