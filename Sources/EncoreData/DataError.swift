// Typed errors for everything that reads data. A data problem names the file, the 1-based line
// and column, the field and the reason, so a person can open the file at the right place.
import EncoreMath

/// Why a line or a file was rejected. `key` is the stable snake-case name used in counts and JSON.
public enum DataProblem: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    case missingFile
    case isDirectory
    case symlinkLoop
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
    case lineTooLong(limit: Int)
    case encoreBinary(String)
    case nulInIdentifier
    case headerNotRecognised(found: String, expected: String)
    case valueTooSmall(String)

    public var key: String {
        switch self {
        case .missingFile: "missing_file"
        case .isDirectory: "is_directory"
        case .symlinkLoop: "symlink_loop"
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
        case .lineTooLong: "line_too_long"
        case .encoreBinary: "encore_binary"
        case .nulInIdentifier: "nul_in_identifier"
        case .headerNotRecognised: "header_not_recognised"
        case .valueTooSmall: "value_too_small"
        }
    }

    public var description: String {
        switch self {
        case .missingFile: "no such file or directory"
        case .isDirectory: "is a directory, not a file"
        case .symlinkLoop: "too many levels of symbolic links (a symlink loop)"
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
        case .lineTooLong(let limit):
            "the line is longer than \(limit) bytes (a file with no line ends, or an unclosed quote?); raise --max-line-bytes if it is real"
        case .encoreBinary(let kind): "this is an Encore \(kind) file, not delimited text; pass it where a \(kind) is expected"
        case .nulInIdentifier: "the identifier contains a NUL byte"
        case .headerNotRecognised(let found, let expected): "the header '\(found)' is not recognised; expected \(expected)"
        case .valueTooSmall(let v): "the play count \(v) is too small: it rounds to zero in 32-bit floating point"
        }
    }
}

/// A data error located in a file: `file:line:column: field: reason`.
public struct DataError: UserFacingError, Sendable, Equatable {
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file checks before reading, so a missing file, a directory or a symlink loop gets its own message.
public enum InputFile {
    /// Throws unless `path` can be opened as a file (regular, or a device or pipe when `streams` is true).
    public static func check(_ path: String, streams: Bool = true) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            switch errno {
            case ELOOP: throw DataError(file: path, problem: .symlinkLoop)
            case ENOENT: throw DataError(file: path, problem: .missingFile)
            default: throw DataError(file: path, problem: .unreadable(String(cString: strerror(errno))))
            }
        }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR { throw DataError(file: path, problem: .isDirectory) }
        if type != S_IFREG && !streams { throw DataError(file: path, problem: .unreadable("not a regular file")) }
    }

    /// Whether `path` exists at all (as anything), following symlinks; a symlink loop counts as existing.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 || errno == ELOOP
    }
}
