// Typed errors for everything that reads data. A data problem names the file, the 1-based line
// and column, the field and the reason, so a person can open the file at the right place.

/// Why a line or a file was rejected. `key` is the stable snake-case name used in counts and JSON.
public enum DataProblem: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    case missingFile
    case unreadable(String)
    case emptyFile
    case unsupportedEncoding(String)
    case unknownFormat(String)
    case wrongColumnCount(expected: Int, found: Int)
    case missingColumn(String)
    case malformedQuote
    case emptyIdentifier
    case emptyValue
    case notANumber(String)
    case zeroValue
    case negativeValue(String)
    case overflow(String)
    case invalidYear(String)
    case invalidTimestamp(String)
    case inconsistent(String)

    public var key: String {
        switch self {
        case .missingFile: "missing_file"
        case .unreadable: "unreadable"
        case .emptyFile: "empty_file"
        case .unsupportedEncoding: "unsupported_encoding"
        case .unknownFormat: "unknown_format"
        case .wrongColumnCount: "wrong_column_count"
        case .missingColumn: "missing_column"
        case .malformedQuote: "malformed_quote"
        case .emptyIdentifier: "empty_identifier"
        case .emptyValue: "empty_value"
        case .notANumber: "not_a_number"
        case .zeroValue: "zero_value"
        case .negativeValue: "negative_value"
        case .overflow: "overflow"
        case .invalidYear: "invalid_year"
        case .invalidTimestamp: "invalid_timestamp"
        case .inconsistent: "inconsistent"
        }
    }

    public var description: String {
        switch self {
        case .missingFile: "no such file or directory"
        case .unreadable(let why): "cannot be read (\(why))"
        case .emptyFile: "the file is empty (no data rows)"
        case .unsupportedEncoding(let e): "unsupported text encoding \(e); convert the file to UTF-8"
        case .unknownFormat(let why): "unknown format: \(why)"
        case .wrongColumnCount(let e, let f): "expected \(e) fields, found \(f)"
        case .missingColumn(let name): "the header has no column '\(name)'"
        case .malformedQuote: "a quoted field is not closed properly (RFC 4180)"
        case .emptyIdentifier: "the identifier is empty"
        case .emptyValue: "the play count is empty"
        case .notANumber(let v): "'\(v)' is not a number"
        case .zeroValue: "the play count is zero"
        case .negativeValue(let v): "the play count \(v) is negative"
        case .overflow(let v): "the play count \(v) is too large (maximum 2147483647)"
        case .invalidYear(let v): "'\(v)' is not a year"
        case .invalidTimestamp(let v): "'\(v)' is not a Unix timestamp"
        case .inconsistent(let why): why
        }
    }
}

/// A data error located in a file: `file:line:column: field: reason`.
public struct DataError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var field: String?
    public var problem: DataProblem

    public init(file: String, line: Int? = nil, column: Int? = nil, field: String? = nil, problem: DataProblem) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.problem = problem
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        if let field { return "\(location): field '\(field)': \(problem)" }
        return "\(location): \(problem)"
    }
}

/// An error in how a command or a library call was used (not in the data itself).
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Strict or lenient handling of bad lines, and the per-reason counts of what was skipped.
public struct ProblemLog: Sendable {
    public let lenient: Bool
    public private(set) var skipped: [String: Int] = [:]
    public private(set) var firstExamples: [String: String] = [:]

    public init(lenient: Bool) { self.lenient = lenient }

    /// In strict mode throws the error; in lenient mode counts it and lets the caller skip the line.
    public mutating func record(_ error: DataError) throws {
        guard lenient else { throw error }
        let key = error.problem.key
        skipped[key, default: 0] += 1
        if firstExamples[key] == nil { firstExamples[key] = error.description }
    }

    public var totalSkipped: Int { skipped.values.reduce(0, +) }
}
