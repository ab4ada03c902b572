// PostgreSQL through PostgresNIO: one connection per store, its transactions serialised on a
// dedicated queue (so the store logic is written once, synchronously, for both databases; the
// queue's thread waits on PostgresNIO's event loop, never on Swift's cooperative pool). Bulk
// inserts stream `COPY … FROM STDIN` in text format; an insert with a conflict clause copies into
// a temporary table first and then runs one INSERT … SELECT … ON CONFLICT. Readers use
// REPEATABLE READ READ ONLY snapshots; PostgreSQL's MVCC keeps them from blocking a writer. A
// connection the server closed (a restart) is opened again by the next transaction; `listen`
// keeps a second connection for LISTEN, reconnecting every half second while the server is away.
import Foundation
import Logging
import NIOCore
import PostgresNIO

final class PostgresSQLConnection: SQLConnection, @unchecked Sendable {
    /// Read and replaced only on `queue`.
    private var connection: PostgresConnection
    private let configuration: PostgresConnection.Configuration
    let location: String
    let logger: Logger
    /// Serialises transactions on the one connection (the only mutable use of this object).
    private let queue = DispatchQueue(label: "encore.store.postgres")
    var dialect: SQLDialect { .postgres }

    private init(connection: PostgresConnection, configuration: PostgresConnection.Configuration, location: String, logger: Logger) {
        self.connection = connection
        self.configuration = configuration
        self.location = location
        self.logger = logger
    }

    static func connect(host: String, port: Int, user: String, password: String?, database: String) async throws -> PostgresSQLConnection {
        var logger = Logger(label: "encore.store")
        logger.logLevel = .critical
        let location = "PostgreSQL \(user)@\(host):\(port)/\(database)"
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        do {
            let c = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            return PostgresSQLConnection(connection: c, configuration: configuration, location: location, logger: logger)
        } catch {
            throw StoreError.cannotOpen("cannot connect to \(location): \(message(error))")
        }
    }

    /// One readable sentence from PostgresNIO's deliberately terse errors.
    static func message(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let server = e.serverInfo?[.message] { return server }
            if e.code == .authMechanismRequiresPassword { return "the server wants a password (set PGPASSWORD or put it in the URL)" }
            if let u = e.underlying {
                let text = "\(u)"
                if text.contains("Connection refused") { return "connection refused (is the server running, and is the port right?)" }
                return text
            }
            return "\(e.code)"
        }
        if let e = error as? StoreError { return e.description }
        return "\(error)"
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await run("BEGIN", body)
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func run<T: Sendable>(_ begin: String, _ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            queue.async {
                do {
                    if self.connection.isClosed {
                        let (configuration, logger) = (self.configuration, self.logger)
                        self.connection = try waitFor { try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger) }
                    }
                    let session = PostgresSession(connection: self.connection, logger: self.logger)
                    try session.execute(begin, [])
                    do {
                        let result = try body(session)
                        try session.execute("COMMIT", [])
                        continuation.resume(returning: result)
                    } catch {
                        try? session.execute("ROLLBACK", [])
                        throw error
                    }
                } catch let e as StoreError {
                    continuation.resume(throwing: e)
                } catch {
                    continuation.resume(throwing: StoreError.cannotOpen("\(self.location) failed: \(Self.message(error))"))
                }
            }
        }
    }

    func databaseBytes() async throws -> Int64 {
        try await read { s in try s.scalar("SELECT pg_database_size(current_database())").int ?? 0 }
    }

    func close() async throws {
        let c = queue.sync { connection }
        try await c.close()
    }

    func listen(_ channels: [String]) -> AsyncStream<SQLNotification> {
        let (stream, continuation) = AsyncStream.makeStream(of: SQLNotification.self)
        let (configuration, logger) = (self.configuration, self.logger)
        let task = Task.detached {
            var first = true
            while !Task.isCancelled {
                do {
                    let c = try await PostgresConnection.connect(configuration: configuration, id: 2, logger: logger)
                    if !first { continuation.yield(.reconnected) }
                    first = false
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for channel in channels {
                            group.addTask {
                                try await c.listen(on: channel) { notifications in
                                    for try await n in notifications { continuation.yield(.message(channel: channel, payload: n.payload)) }
                                }
                            }
                        }
                        // The connection closing (a server restart) ends the listeners; then all stop and reconnect.
                        group.addTask {
                            while !c.isClosed { try await Task.sleep(for: .milliseconds(250)) }
                        }
                        _ = try await group.next()
                        group.cancelAll()
                    }
                    try? await c.close()
                } catch {
                    first = false
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger

    /// `?` placeholders become `$1, $2, …` (no statement here holds a literal question mark).
    static func numbered(_ sql: String) -> String {
        var out = ""
        var n = 0
        for ch in sql {
            if ch == "?" { n += 1; out += "$\(n)" } else { out.append(ch) }
        }
        return out
    }

    static func query(_ sql: String, _ args: [SQLValue]) throws -> PostgresQuery {
        var binds = PostgresBindings(capacity: args.count)
        for a in args {
            switch a {
            case .null: binds.appendNull()
            case .int(let v): try binds.append(v)
            case .double(let v): try binds.append(v)
            case .text(let v): try binds.append(v)
            case .blob(let v): try binds.append(ByteBuffer(bytes: v))
            }
        }
        return PostgresQuery(unsafeSQL: numbered(sql), binds: binds)
    }

    func execute(_ sql: String, _ args: [SQLValue]) throws {
        let q = try Self.query(sql, args)
        let (c, l) = (connection, logger)
        try waitFor { _ = try await c.query(q, logger: l).collect() }
    }

    func query(_ sql: String, _ args: [SQLValue]) throws -> [[SQLValue]] {
        let q = try Self.query(sql, args)
        let (c, l) = (connection, logger)
        return try waitFor {
            var rows: [[SQLValue]] = []
            for try await row in try await c.query(q, logger: l) {
                rows.append(try row.map(Self.value))
            }
            return rows
        }
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2: return .int(Int64(try cell.decode(Int16.self)))
        case .int4: return .int(Int64(try cell.decode(Int32.self)))
        case .int8: return .int(try cell.decode(Int64.self))
        case .float4: return .double(Double(try cell.decode(Float.self)))
        case .float8: return .double(try cell.decode(Double.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            let b = try cell.decode(ByteBuffer.self)
            return .blob(Array(b.readableBytesView))
        default: return .text(try cell.decode(String.self))
        }
    }

    func forEachTriple(_ sql: String, _ body: (Int64, Int64, Double) throws -> Void) throws {
        let q = try Self.query(sql, [])
        let (c, l) = (connection, logger)
        let (a, b, v) = try waitFor { () -> ([Int64], [Int64], [Double]) in
            var a: [Int64] = [], b: [Int64] = [], v: [Double] = []
            for try await (x, y, z) in try await c.query(q, logger: l).decode((Int64, Int64, Double).self) {
                a.append(x); b.append(y); v.append(z)
            }
            return (a, b, v)
        }
        for n in a.indices { try body(a[n], b[n], v[n]) }
    }

    func forEachIDText(_ sql: String, _ body: (Int64, String) throws -> Void) throws {
        let q = try Self.query(sql, [])
        let (c, l) = (connection, logger)
        let rows = try waitFor { () -> [(Int64, String)] in
            var rows: [(Int64, String)] = []
            for try await row in try await c.query(q, logger: l).decode((Int64, String).self) { rows.append(row) }
            return rows
        }
        for (id, text) in rows { try body(id, text) }
    }

    func forEachIDBlob(_ sql: String, _ args: [SQLValue], _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        let q = try Self.query(sql, args)
        let (c, l) = (connection, logger)
        let rows = try waitFor { () -> [(Int64, ByteBuffer)] in
            var rows: [(Int64, ByteBuffer)] = []
            for try await row in try await c.query(q, logger: l).decode((Int64, ByteBuffer).self) { rows.append(row) }
            return rows
        }
        for (id, bytes) in rows { try bytes.withUnsafeReadableBytes { try body(id, $0) } }
    }

    /// The most bytes a value takes in COPY's text format.
    static func maxCopyBytes(_ v: SQLValue) -> Int {
        switch v {
        case .null: 2
        case .int: 20
        case .double: 40
        case .text(let x): 2 * x.utf8.count
        case .blob(let x): 3 + 2 * x.count
        }
    }

    /// Writes a value in COPY's text format (`\N` for NULL, backslash escapes, bytea as `\\x` and
    /// hex digits) at `out`, which has room for `maxCopyBytes`; returns the bytes written.
    static func writeCopyField(_ v: SQLValue, to out: UnsafeMutablePointer<UInt8>) -> Int {
        switch v {
        case .null:
            out[0] = 92; out[1] = 78
            return 2
        case .int(let x): return writeInteger(x, to: out)
        case .double(let x):
            if x == x.rounded(), abs(x) < 1e15 { return writeInteger(Int64(x), to: out) }
            var n = 0
            for b in (x.isFinite ? "\(x)" : (x.isNaN ? "NaN" : (x > 0 ? "Infinity" : "-Infinity"))).utf8 { out[n] = b; n += 1 }
            return n
        case .text(let x):
            var n = 0
            for b in x.utf8 {
                switch b {
                case 92: out[n] = 92; out[n + 1] = 92; n += 2
                case 9: out[n] = 92; out[n + 1] = 116; n += 2
                case 10: out[n] = 92; out[n + 1] = 110; n += 2
                case 13: out[n] = 92; out[n + 1] = 114; n += 2
                default: out[n] = b; n += 1
                }
            }
            return n
        case .blob(let x):
            out[0] = 92; out[1] = 92; out[2] = 120  // \\x: bytea's hex form, its backslash escaped for COPY
            let digits: StaticString = "0123456789abcdef"
            let hex = digits.utf8Start
            x.withUnsafeBufferPointer { bytes in
                for (i, byte) in bytes.enumerated() {
                    out[3 + 2 * i] = hex[Int(byte >> 4)]
                    out[4 + 2 * i] = hex[Int(byte & 15)]
                }
            }
            return 3 + 2 * x.count
        }
    }

    static func writeInteger(_ value: Int64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        if value == 0 { out[0] = 48; return 1 }
        var v = value.magnitude
        var n = 0
        if value < 0 { out[0] = 45; n = 1 }
        let start = n
        while v > 0 { out[n] = UInt8(48 + v % 10); v /= 10; n += 1 }
        var (i, j) = (start, n - 1)
        while i < j { (out[i], out[j]) = (out[j], out[i]); i += 1; j -= 1 }
        return n
    }

    /// COPY … FROM STDIN, streamed: this thread formats rows into 1 MiB chunks (written through a
    /// pointer, each row's room checked once) while a task sends them, so the server ingests
    /// while the client formats.
    func copy(table: String, columns: [String], count: Int, row: (Int, inout [SQLValue]) -> Void) throws {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        let (c, l) = (connection, logger)
        let sent = PendingResult {
            try await c.copyFrom(table: table, columns: columns, format: .text(.init()), logger: l) { writer in
                for await chunk in stream { try await writer.write(chunk) }
            }
        }
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var used = 0
        func flush() {
            guard used > 0 else { return }
            continuation.yield(ByteBuffer(bytes: buffer[0..<used]))
            used = 0
        }
        var values = [SQLValue](repeating: .null, count: columns.count)
        // A column that repeats the previous row's value (an import's kind and timestamp) copies
        // its bytes instead of formatting them again.
        var previous = [SQLValue](repeating: .null, count: columns.count)
        var previousAt = [Int](repeating: -1, count: columns.count), previousLength = [Int](repeating: 0, count: columns.count)
        for n in 0..<count {
            row(n, &values)
            var room = values.count
            for v in values { room += Self.maxCopyBytes(v) }
            if used + room > buffer.count {
                flush()
                for k in previousAt.indices { previousAt[k] = -1 }
                if room > buffer.count { buffer = [UInt8](repeating: 0, count: room) }
            }
            buffer.withUnsafeMutableBufferPointer { b in
                guard let base = b.baseAddress else { return }
                for (k, v) in values.enumerated() {
                    if k > 0 { base[used] = 9; used += 1 }
                    if previousAt[k] >= 0, previous[k] == v {
                        (base + used).update(from: base + previousAt[k], count: previousLength[k])
                    } else {
                        previousLength[k] = Self.writeCopyField(v, to: base + used)
                        previous[k] = v
                    }
                    previousAt[k] = used
                    used += previousLength[k]
                }
                base[used] = 10
                used += 1
            }
            if used >= chunk { flush(); for k in previousAt.indices { previousAt[k] = -1 } }
        }
        flush()
        continuation.finish()
        try sent.wait()
    }

    func insertMany(table: String, columns: [String], count: Int, conflict: String?, row: (Int, inout [SQLValue]) -> Void) throws {
        guard count > 0 else { return }
        // A few rows (an append of live events): one multi-row INSERT with binds, one round trip,
        // instead of COPY's protocol exchange (and a temporary table for the conflict clause).
        if count <= 256 {
            var values = [SQLValue](repeating: .null, count: columns.count)
            var args: [SQLValue] = []
            args.reserveCapacity(count * columns.count)
            for n in 0..<count {
                row(n, &values)
                args += values
            }
            let tuple = "(" + columns.map { _ in "?" }.joined(separator: ", ") + ")"
            try execute("INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES " + Array(repeating: tuple, count: count).joined(separator: ", ")
                        + (conflict.map { " " + $0 } ?? ""), args)
            return
        }
        let target = conflict == nil ? table : "encore_staging"
        if conflict != nil {
            try execute("CREATE TEMP TABLE encore_staging ON COMMIT DROP AS SELECT \(columns.joined(separator: ", ")) FROM \(table) WITH NO DATA", [])
        }
        try copy(table: target, columns: columns, count: count, row: row)
        if let conflict {
            let list = columns.joined(separator: ", ")
            try execute("INSERT INTO \(table) (\(list)) SELECT \(list) FROM encore_staging \(conflict)", [])
            try execute("DROP TABLE encore_staging", [])
        }
    }
}
