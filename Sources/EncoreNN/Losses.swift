// The training objectives on the tape, each a 1 × 1 tensor: mean squared error against fixed
// targets, BPR's mean −log σ(x_ui − x_uj) (Rendle et al. 2009), and the squared L2 norm used as
// regularisation. Sums run in Double, in order, so results do not depend on threads. O(size).

import Foundation

extension Tape {
    /// mean((prediction − target)²) over every entry.
    public func meanSquaredError(_ prediction: Tensor, target: [Float]) -> Tensor {
        precondition(target.count == prediction.count, "\(target.count) targets for \(prediction.count) predictions")
        let n = prediction.count
        let P = value(prediction)
        var acc = 0.0
        for i in 0..<n { let e = Double(P[i] - target[i]); acc += e * e }
        let C = buffer(1, zeroed: false)
        C[0] = Float(acc / Double(max(1, n)))
        let out = next(1, 1)
        return append(rows: 1, columns: 1, value: C, inputs: [prediction]) { t in
            let g = t.grad(out)[0] * 2 / Float(max(1, n))
            let dP = t.grad(prediction)
            for i in 0..<n { dP[i] += g * (P[i] - target[i]) }
        }
    }

    /// mean over pairs of −log σ(positive − negative) = softplus(negative − positive); both
    /// tensors hold one score per sampled (user, played song, other song) triple.
    public func bprLoss(positive: Tensor, negative: Tensor) -> Tensor {
        precondition(positive.count == negative.count, "\(positive.count) positive and \(negative.count) negative scores")
        let n = positive.count
        let P = value(positive), N = value(negative)
        var acc = 0.0
        for i in 0..<n {
            let x = Double(N[i] - P[i])
            acc += x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))
        }
        let C = buffer(1, zeroed: false)
        C[0] = Float(acc / Double(max(1, n)))
        let out = next(1, 1)
        return append(rows: 1, columns: 1, value: C, inputs: [positive, negative]) { t in
            let g = t.grad(out)[0] / Float(max(1, n))
            let needP = t.needsGrad(positive), needN = t.needsGrad(negative)
            let dP = needP ? t.grad(positive) : nil, dN = needN ? t.grad(negative) : nil
            for i in 0..<n {
                let s = Float(1 / (1 + exp(-Double(N[i] - P[i]))))  // σ(negative − positive)
                dP?[i] -= g * s
                dN?[i] += g * s
            }
        }
    }

    /// Σ a² (L2 regularisation; scale it by λ / 2 or as the method says).
    public func squaredNorm(_ a: Tensor) -> Tensor {
        let n = a.count
        nonisolated(unsafe) let A = value(a)
        var acc = 0.0
        for i in 0..<n { acc += Double(A[i]) * Double(A[i]) }
        let C = buffer(1, zeroed: false)
        C[0] = Float(acc)
        let out = next(1, 1)
        return append(rows: 1, columns: 1, value: C, inputs: [a]) { t in
            let g = 2 * t.grad(out)[0]
            nonisolated(unsafe) let dA = t.grad(a)
            Blocks.elementwise(n) { r in for i in r { dA[i] += g * A[i] } }
        }
    }
}
