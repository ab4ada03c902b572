// The arrays that make up a trained model, named, for the artifact file. A model turns itself
// into a ModelState and back; the store writes and reads ModelStates without knowing the model.

/// One named numeric array of a model.
public enum StateArray: Sendable, Equatable {
    case float([Float])
    case double([Double])
    case int32([Int32])
    case int64([Int64])

    public var count: Int {
        switch self {
        case .float(let a): a.count
        case .double(let a): a.count
        case .int32(let a): a.count
        case .int64(let a): a.count
        }
    }
}

/// Named arrays plus small scalar settings of a trained model.
public struct ModelState: Sendable, Equatable {
    public var arrays: [String: StateArray]

    public init(arrays: [String: StateArray] = [:]) { self.arrays = arrays }

    /// The name of the first floating-point array (by name) holding NaN or an infinity, or nil.
    public var firstNonFinite: String? {
        for (name, array) in arrays.sorted(by: { $0.key < $1.key }) {
            switch array {
            case .float(let a): if !a.allSatisfy({ $0.isFinite }) { return name }
            case .double(let a): if !a.allSatisfy({ $0.isFinite }) { return name }
            case .int32, .int64: continue
            }
        }
        return nil
    }

    public func floats(_ name: String) throws -> [Float] {
        guard case .float(let a)? = arrays[name] else { throw ModelError("the model state has no float array '\(name)'") }
        return a
    }
    public func doubles(_ name: String) throws -> [Double] {
        guard case .double(let a)? = arrays[name] else { throw ModelError("the model state has no double array '\(name)'") }
        return a
    }
    public func int32s(_ name: String) throws -> [Int32] {
        guard case .int32(let a)? = arrays[name] else { throw ModelError("the model state has no int32 array '\(name)'") }
        return a
    }
    public func int64s(_ name: String) throws -> [Int64] {
        guard case .int64(let a)? = arrays[name] else { throw ModelError("the model state has no int64 array '\(name)'") }
        return a
    }

    /// Checks an array's length, so a damaged artifact fails with a message, not a crash.
    public static func require(_ count: Int, _ expected: Int, _ name: String) throws {
        guard count == expected else { throw ModelError("the model array '\(name)' has \(count) entries, expected \(expected)") }
    }
}
