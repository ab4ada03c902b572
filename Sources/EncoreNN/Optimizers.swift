// Gradient-descent optimisers over Parameters: Adam (Kingma & Ba 2015, with PyTorch's coupled
// weight decay and bias correction) and SGD with optional momentum. Updates are elementwise over
// fixed blocks, so they are deterministic; state buffers are allocated once. O(parameters) a step.

import Foundation

/// An optimiser that owns its parameters' update rule.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    /// Applies one update from the parameters' gradients.
    func step()
}

extension Optimizer {
    /// Zeroes every parameter's gradient (before the next backward pass).
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr · m̂ / (√v̂ + ε).
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public private(set) var steps = 0
    private let moments: [UnsafeMutableBufferPointer<Float>]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        moments = parameters.map { p in
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, 2 * p.count))
            b.initialize(repeating: 0)
            return b
        }
    }

    deinit { for m in moments { m.deallocate() } }

    public func step() {
        steps += 1
        let b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay
        let c1 = 1 - Float(pow(Double(beta1), Double(steps)))
        let c2 = Float((1 - pow(Double(beta2), Double(steps))).squareRoot())
        let lr = learningRate
        for (p, mv) in zip(parameters, moments) {
            let n = p.count
            nonisolated(unsafe) let w = p.value.baseAddress!, g = p.grad.baseAddress!, m = mv.baseAddress!, v = mv.baseAddress! + n
            Blocks.elementwise(n) { r in
                for i in r {
                    let gi = g[i] + wd * w[i]
                    m[i] = b1 * m[i] + (1 - b1) * gi
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                    // PyTorch's form: θ −= (lr / c1) · m / (√v / c2 + ε)
                    w[i] -= (lr / c1) * m[i] / (v[i].squareRoot() / c2 + eps)
                }
            }
        }
    }
}

/// Stochastic gradient descent: v ← μv + g, θ ← θ − lr · v (plain descent when μ = 0).
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float
    private let velocity: [UnsafeMutableBufferPointer<Float>]

    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        velocity = parameters.map { p in
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, p.count))
            b.initialize(repeating: 0)
            return b
        }
    }

    deinit { for v in velocity { v.deallocate() } }

    public func step() {
        let lr = learningRate, mu = momentum
        for (p, vb) in zip(parameters, velocity) {
            nonisolated(unsafe) let w = p.value.baseAddress!, g = p.grad.baseAddress!, v = vb.baseAddress!
            Blocks.elementwise(p.count) { r in
                for i in r {
                    v[i] = mu * v[i] + g[i]
                    w[i] -= lr * v[i]
                }
            }
        }
    }
}
