// The one random number generator of Encore: xoshiro256** seeded through SplitMix64
// (Blackman & Vigna 2018). Every command and configuration takes a `seed`, so every result
// that involves chance is reproducible. next() is O(1).

/// A fast, seedable, reproducible random number generator (xoshiro256**).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm)
        s1 = splitMix(&sm)
        s2 = splitMix(&sm)
        s3 = splitMix(&sm)
    }

    /// An independent stream derived from this seed, for parallel work (stream i of seed s).
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ stream)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in 0..<bound (Lemire's nearly divisionless method).
    @inline(__always)
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let t = (0 &- b) % b
            while m.low < t { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Standard normal deviate (Box–Muller; one of the pair is discarded for simplicity).
    public mutating func nextGaussian() -> Double {
        var u = nextDouble()
        while u <= .leastNormalMagnitude { u = nextDouble() }
        let v = nextDouble()
        return (-2 * _log(u)).squareRoot() * _cos(2 * Double.pi * v)
    }

    /// Two independent standard normal deviates (Marsaglia's polar method: no sin or cos).
    @inline(__always)
    public mutating func nextGaussianPair() -> (Double, Double) {
        while true {
            let x = 2 * nextDouble() - 1
            let y = 2 * nextDouble() - 1
            let s = x * x + y * y
            if s > 0 && s < 1 {
                let m = (-2 * _log(s) / s).squareRoot()
                return (x * m, y * m)
            }
        }
    }

    /// Fills `rows` × `width` values with N(mean, std), each row from its own stream of `seed`, in
    /// parallel; the result depends on the seed only, not on the number of threads.
    public static func gaussianMatrix(rows: Int, width: Int, mean: Double, std: Double, seed: UInt64, skipRow: (@Sendable (Int) -> Bool)? = nil) -> [Float] {
        var out = [Float](repeating: 0, count: rows * width)
        out.withUnsafeMutableBufferPointer { buf in
            nonisolated(unsafe) let base = buf.baseAddress
            ParallelLoop.forEachChunk(count: rows) { _, range in
                guard let base else { return }
                for r in range {
                    if let skipRow, skipRow(r) { continue }
                    var g = SeededGenerator(seed: seed, stream: UInt64(r))
                    var j = 0
                    while j < width {
                        let (a, b) = g.nextGaussianPair()
                        base[r * width + j] = Float(mean + std * a)
                        if j + 1 < width { base[r * width + j + 1] = Float(mean + std * b) }
                        j += 2
                    }
                }
            }
        }
        return out
    }

    /// Pareto (power-law) deviate with minimum `scale` and tail index `alpha`.
    public mutating func nextPareto(alpha: Double, scale: Double = 1) -> Double {
        var u = nextDouble()
        while u <= .leastNormalMagnitude { u = nextDouble() }
        return scale * _pow(u, -1 / alpha)
    }

    /// Fisher–Yates shuffle of an array in place, deterministic for the generator state.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Glibc.sin(x) }
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#else
import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
#endif
