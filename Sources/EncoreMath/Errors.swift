// The error kinds every module shares. A UserFacingError's description is the whole message a
// person reads after `error:`; modules add their own types (DataError, ModelError) that conform.

/// An error a person can act on: the CLI prints `description` after `error:`, nothing else.
public protocol UserFacingError: Error, CustomStringConvertible {}

/// A parameter of a library call out of its range (a split fraction, a filter threshold, a
/// generator size), as opposed to a problem in the data.
public struct ParameterError: UserFacingError, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
