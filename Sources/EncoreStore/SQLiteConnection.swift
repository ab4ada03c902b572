// SQLite through GRDB: one file in WAL mode (readers see a snapshot and never block the single
// writer), synchronous=FULL so a committed transaction survives a crash, foreign keys on, and a
// busy timeout so a second process waits instead of failing. Bulk inserts reuse one prepared
// statement with raw binds; the training read steps one statement without building rows.
import Foundation
import GRDB
import GRDBSQLite

struct SQLiteConnection: SQLConnection {
    let pool: DatabasePool
    let path: String
    var dialect: SQLDialect { .sqlite }
    var location: String { "SQLite \(path)" }

    init(path: String) throws {
        self.path = path
        if FileManager.default.fileExists(atPath: path) {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            guard !isDirectory.boolValue else { throw StoreError.cannotOpen("cannot open the database \(path): it is a directory") }
            // Refuse a file that is not SQLite before GRDB turns on WAL (which would write to it).
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
            guard size == 0 || Stores.hasSQLiteHeader(path) else {
                throw StoreError.cannotOpen("\(path) is not a SQLite database (its first bytes are not SQLite's); it was left untouched")
            }
        } else {
            let folder = (path as NSString).deletingLastPathComponent
            guard folder.isEmpty || FileManager.default.fileExists(atPath: folder) else {
                throw StoreError.cannotOpen("cannot create the database \(path): the folder \(folder) does not exist")
            }
        }
        var c = Configuration()
        c.busyMode = .timeout(30)
        c.foreignKeysEnabled = true
        c.label = "encore"
        c.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -262144")
        }
        do {
            pool = try DatabasePool(path: path, configuration: c)
        } catch {
            throw StoreError.cannotOpen("cannot open the database \(path): \(Self.message(error))")
        }
    }

    static func message(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return e.message ?? "\(e.resultCode)" }
        return "\(error)"
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do {
            return try await pool.write { db in try body(SQLiteSession(db: db)) }
        } catch let e as DatabaseError {
            throw StoreError.cannotOpen("the database \(path) failed: \(Self.message(e))")
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do {
            return try await pool.read { db in try body(SQLiteSession(db: db)) }
        } catch let e as DatabaseError {
            throw StoreError.cannotOpen("the database \(path) failed: \(Self.message(e))")
        }
    }

    func listen(_ channels: [String]) -> AsyncStream<SQLNotification> { AsyncStream { $0.finish() } }

    func databaseBytes() async throws -> Int64 {
        var total: Int64 = 0
        for suffix in ["", "-wal"] {
            if let size = (try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? NSNumber { total += size.int64Value }
        }
        return total
    }

    func close() async throws { try pool.close() }
}

struct SQLiteSession: SQLSession {
    let db: Database

    func execute(_ sql: String, _ args: [SQLValue]) throws {
        try db.execute(sql: sql, arguments: StatementArguments(args.map(Self.value)))
    }

    func query(_ sql: String, _ args: [SQLValue]) throws -> [[SQLValue]] {
        let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args.map(Self.value)))
        return rows.map { row in
            (0..<row.count).map { i -> SQLValue in
                switch row[i] as DatabaseValue? {
                case .none: return .null
                case .some(let v):
                    switch v.storage {
                    case .null: return .null
                    case .int64(let x): return .int(x)
                    case .double(let x): return .double(x)
                    case .string(let x): return .text(x)
                    case .blob(let x): return .blob([UInt8](x))
                    }
                }
            }
        }
    }

    /// Steps a statement through its rows, calling `body` with the statement at each row.
    func forEachRow(_ sql: String, _ args: [SQLValue] = [], _ body: (OpaquePointer) throws -> Void) throws {
        let statement = try db.makeStatement(sql: sql)
        if !args.isEmpty { try statement.setArguments(StatementArguments(args.map(Self.value))) }
        let s = statement.sqliteStatement
        defer { sqlite3_reset(s) }
        while true {
            let code = sqlite3_step(s)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection))) }
            try body(s)
        }
    }

    func forEachTriple(_ sql: String, _ body: (Int64, Int64, Double) throws -> Void) throws {
        try forEachRow(sql) { s in try body(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_double(s, 2)) }
    }

    func forEachIDText(_ sql: String, _ body: (Int64, String) throws -> Void) throws {
        try forEachRow(sql) { s in
            guard let text = sqlite3_column_text(s, 1) else { return }
            try body(sqlite3_column_int64(s, 0), String(cString: text))
        }
    }

    func forEachIDBlob(_ sql: String, _ args: [SQLValue], _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        try forEachRow(sql, args) { s in
            let count = Int(sqlite3_column_bytes(s, 1))
            try body(sqlite3_column_int64(s, 0), UnsafeRawBufferPointer(start: count > 0 ? sqlite3_column_blob(s, 1) : nil, count: count))
        }
    }

    /// Multi-row INSERT statements (up to 1,024 rows each, one prepared statement reused): far fewer
    /// VDBE starts and library calls than a statement per row.
    func insertMany(table: String, columns: [String], count: Int, conflict: String?, row: (Int, inout [SQLValue]) -> Void) throws {
        guard count > 0 else { return }
        let perStatement = max(1, min(1024, 30_000 / max(columns.count, 1)))
        func prepare(_ rows: Int) throws -> Statement {
            let tuple = "(" + columns.map { _ in "?" }.joined(separator: ", ") + ")"
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES " + Array(repeating: tuple, count: rows).joined(separator: ", ")
                + (conflict.map { " " + $0 } ?? "")
            return try db.makeStatement(sql: sql)
        }
        let full = count >= perStatement ? try prepare(perStatement) : nil
        var values = [SQLValue](repeating: .null, count: columns.count)
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var n = 0
        while n < count {
            let rows = min(perStatement, count - n)
            guard let statement = rows == perStatement ? full : try prepare(rows) else { break }
            let s = statement.sqliteStatement
            var p: Int32 = 1
            for r in n..<(n + rows) {
                row(r, &values)
                for v in values {
                    switch v {
                    case .null: sqlite3_bind_null(s, p)
                    case .int(let x): sqlite3_bind_int64(s, p, x)
                    case .double(let x): sqlite3_bind_double(s, p, x)
                    case .text(let x): sqlite3_bind_text(s, p, x, -1, transient)
                    case .blob(let x): x.withUnsafeBytes { _ = sqlite3_bind_blob(s, p, $0.baseAddress, Int32($0.count), transient) }
                    }
                    p += 1
                }
            }
            let code = sqlite3_step(s)
            sqlite3_reset(s)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            n += rows
        }
    }

    static func value(_ v: SQLValue) -> (any DatabaseValueConvertible)? {
        switch v {
        case .null: nil
        case .int(let x): x
        case .double(let x): x
        case .text(let x): x
        case .blob(let x): Data(x)
        }
    }
}
