// Async work started from a synchronous thread and waited for there: the command line's main
// thread, and the PostgreSQL connection's own queue (never a thread of Swift's cooperative pool,
// which the waiting would starve).
import Foundation

/// A task's result, handed to the thread that waits for it (written once, before the signal).
final class PendingResult<T: Sendable>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    /// Starts `operation` now; `wait()` returns its value or throws its error.
    init(_ operation: @escaping @Sendable () async throws -> T) {
        Task.detached {
            do { self.result = .success(try await operation()) } catch { self.result = .failure(error) }
            self.done.signal()
        }
    }

    func wait() throws -> T {
        done.wait()
        guard let result else { throw StoreError.cannotOpen("an operation ended without a result") }
        return try result.get()
    }
}

/// Runs async store work from synchronous code and waits for it.
public func waitFor<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    try PendingResult(operation).wait()
}

/// Lower-case hexadecimal digits of bytes (digests, random ids).
public func hexString<S: Sequence<UInt8>>(_ bytes: S) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

extension Stores {
    /// A postgres:// URL, or a file that starts with SQLite's header.
    public static func isDatabase(_ path: String) -> Bool {
        path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") || hasSQLiteHeader(path)
    }

    /// Whether the file's first 16 bytes are SQLite's ("SQLite format 3\0").
    static func hasSQLiteHeader(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return ((try? handle.read(upToCount: 16)) ?? Data()).elementsEqual("SQLite format 3\0".utf8)
    }
}
