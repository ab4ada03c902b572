// The shared core of every play-log loader: stream a delimited file, pick the user, item,
// value and timestamp columns, intern ids, parse counts, and report bad lines strictly or
// leniently. O(bytes) time; memory O(rows + distinct ids).
import EncoreMath

/// Options every loader takes.
public struct LoadOptions: Sendable {
    /// Skip bad lines (and count them per reason) instead of stopping at the first one.
    public var lenient: Bool
    /// Draw a progress bar on stderr when it is a terminal.
    public var progress: Bool
    /// The longest line (record) accepted, in bytes.
    public var maxLineBytes: Int
    /// Keep the catalogue's entries for songs nobody played (`Catalog.unplayed`): content
    /// similarity can place a song that has metadata and no plays. Off by default (memory).
    public var keepUnplayedCatalog = false
    /// Receives the accepted rows in file order while the file is read, a batch at a time (a store
    /// import writes them while the rest is parsed). The dataset the load returns is built from
    /// exactly these rows. A throw stops the load with that error.
    public var rowSink: (@Sendable (AcceptedRows) throws -> Void)?
    /// Rows per batch handed to `rowSink`.
    public var rowBatchSize = 1 << 17

    public init(lenient: Bool = false, progress: Bool = ProgressReporter.stderrIsTerminal,
                maxLineBytes: Int = DelimitedReader.defaultMaxRecordBytes) {
        self.lenient = lenient
        self.progress = progress
        self.maxLineBytes = maxLineBytes
    }
}

/// Which fields of a play-log record hold what, and how they are named in messages.
public struct PlayLogLayout: Sendable {
    public var user: Int
    public var item: Int
    /// nil: every row counts as one play (implicit data).
    public var value: Int?
    public var timestamp: Int?
    /// Exact number of fields each line must have, or nil for "at least enough".
    public var exactFields: Int?
    public var userName = "user"
    public var itemName = "item"
    public var valueName = "plays"
    public var timestampName = "timestamp"

    public init(user: Int, item: Int, value: Int?, timestamp: Int? = nil, exactFields: Int? = nil) {
        self.user = user
        self.item = item
        self.value = value
        self.timestamp = timestamp
        self.exactFields = exactFields
    }

    var minimumFields: Int { [user, item, value ?? 0, timestamp ?? 0].max()! + 1 }
}

/// A batch of accepted play-log rows, for `LoadOptions.rowSink`: the ids interned since the
/// previous batch (users and items number from 0 in the order they first appear, across batches,
/// as in the loaded matrix) and the rows, which refer to them by those numbers.
public struct AcceptedRows: Sendable {
    public var newUsers: [String]
    public var newItems: [String]
    public var users: [Int32]
    public var items: [Int32]
    public var plays: [Float]
    /// Unix seconds per row, when the input has a timestamp column.
    public var timestamps: [Int64]?
    public var count: Int { users.count }

    public init(newUsers: [String], newItems: [String], users: [Int32], items: [Int32], plays: [Float], timestamps: [Int64]?) {
        (self.newUsers, self.newItems, self.users, self.items, self.plays, self.timestamps) = (newUsers, newItems, users, items, plays, timestamps)
    }
}

/// Interned ids and rows accumulated over one or more play-log files.
public struct PlayLogAccumulator {
    public var users = ByteInterner(expected: 1 << 12)
    public var items = ByteInterner(expected: 1 << 12)
    public var builder: InteractionBuilder
    public var problems: ProblemLog
    public var report: LoadReport
    private let sink: (@Sendable (AcceptedRows) throws -> Void)?
    /// What the sink has been given: rows, users and items.
    private var sent = (rows: 0, users: 0, items: 0)
    private let batchRows: Int

    public init(format: String, options: LoadOptions, hasTimestamps: Bool = false) {
        builder = InteractionBuilder(hasTimestamps: hasTimestamps)
        problems = ProblemLog(lenient: options.lenient)
        report = LoadReport(format: format)
        sink = options.rowSink
        batchRows = max(1, options.rowBatchSize)
    }

    /// Hands the rows accepted since the last batch to the sink.
    private mutating func flush() throws {
        guard let sink, builder.count > sent.rows else { return }
        let range = sent.rows..<builder.count
        let batch = AcceptedRows(newUsers: users.strings(from: sent.users), newItems: items.strings(from: sent.items),
                                 users: Array(builder.users[range]), items: Array(builder.items[range]), plays: Array(builder.plays[range]),
                                 timestamps: builder.hasTimestamps ? Array(builder.times[range]) : nil)
        sent = (builder.count, users.count, items.count)
        try sink(batch)
    }

    /// Reads one play-log file. `isHeader` decides whether the first record is a header.
    public mutating func read(
        path: String, format: DelimitedFormat, layout: PlayLogLayout, options: LoadOptions,
        isHeader: (DelimitedRecord) -> Bool = { _ in false }
    ) throws {
        let reader = try DelimitedReader(path: path, format: format, maxRecordBytes: options.maxLineBytes)
        report.files.append(path)
        let progress = ProgressReporter(label: "reading \(lastPathComponent(path))", total: Double(reader.fileSize ?? 0),
                                        enabled: options.progress && reader.fileSize != nil, rateUnit: "rows")
        defer { progress.finish() }
        var first = true
        var dataRows = 0
        var reserved = false
        let minimum = layout.minimumFields
        // Rows with more fields than the header (or, without one, than the columns used) are read
        // and counted, and the count becomes a warning.
        var expectedFields: Int? = layout.exactFields ?? minimum
        var extraColumnRows = 0
        var firstExtraLine = 0
        var problems = self.problems
        defer { self.problems = problems }
        try reader.forEachRecord(onBadRecord: { try problems.record($0) }) { record in
            if first {
                first = false
                if isHeader(record) {
                    expectedFields = max(record.count, minimum)
                    return
                }
            }
            if let expected = expectedFields, record.count > expected {
                extraColumnRows += 1
                if firstExtraLine == 0 { firstExtraLine = record.line }
            }
            dataRows += 1
            report.rowsRead += 1
            if !reserved, let size = reader.fileSize {
                // Estimate the row count from the first line so the arrays grow once.
                reserved = true
                let lineLength = max(8, (record.spans[record.count - 1].end - record.spans[0].start) + 1)
                builder.reserve(builder.count + min(size / lineLength + 1024, 1 << 28))
            }
            if dataRows & 0xFFFF == 0 { progress.update(Double(reader.bytesRead), counted: Double(dataRows)) }
            if let exact = layout.exactFields, record.count != exact {
                try problems.record(DataError(file: path, line: record.line, column: record.column(min(record.count, exact)),
                                              problem: .wrongColumnCount(expected: exact, found: record.count)))
                return
            }
            if record.count < minimum {
                try problems.record(DataError(file: path, line: record.line, column: record.column(record.count),
                                              problem: .wrongColumnCount(expected: minimum, found: record.count)))
                return
            }
            let value: Double
            if let vc = layout.value {
                switch PlayCountParser.parse(record.rawBytes(vc)) {
                case .success(let v): value = v
                case .failure(let problem):
                    try problems.record(DataError(file: path, line: record.line, column: record.column(vc), field: layout.valueName, problem: problem))
                    return
                }
            } else {
                value = 1
            }
            var timestamp: Int64 = 0
            if let tc = layout.timestamp {
                guard let t = PlayCountParser.parseInteger(record.rawBytes(tc)) else {
                    try problems.record(DataError(file: path, line: record.line, column: record.column(tc), field: layout.timestampName,
                                                  problem: .invalidTimestamp(record.string(tc))))
                    return
                }
                timestamp = t
            }
            let userBytes = record.rawBytes(layout.user)
            let itemBytes = record.rawBytes(layout.item)
            if userBytes.contains(0) {
                try problems.record(DataError(file: path, line: record.line, column: record.column(layout.user), field: layout.userName, problem: .nulInIdentifier))
                return
            }
            if itemBytes.contains(0) {
                try problems.record(DataError(file: path, line: record.line, column: record.column(layout.item), field: layout.itemName, problem: .nulInIdentifier))
                return
            }
            if isBlank(userBytes) {
                try problems.record(DataError(file: path, line: record.line, column: record.column(layout.user), field: layout.userName, problem: .emptyIdentifier))
                return
            }
            if isBlank(itemBytes) {
                try problems.record(DataError(file: path, line: record.line, column: record.column(layout.item), field: layout.itemName, problem: .emptyIdentifier))
                return
            }
            let u: Int32
            let i: Int32
            if record.spans[layout.user].escaped {
                let b = record.bytes(layout.user)
                u = b.withUnsafeBufferPointer { users.intern($0) }
            } else {
                u = users.intern(userBytes)
            }
            if record.spans[layout.item].escaped {
                let b = record.bytes(layout.item)
                i = b.withUnsafeBufferPointer { items.intern($0) }
            } else {
                i = items.intern(itemBytes)
            }
            guard builder.count < InteractionBuilder.maximumRows else {
                throw DataError(file: path, line: record.line, problem: .inconsistent("more than \(InteractionBuilder.maximumRows) rows in one dataset"))
            }
            builder.append(user: u, item: i, plays: value, timestamp: timestamp)
            report.rowsAccepted += 1
            if sink != nil, builder.count - sent.rows >= batchRows { try flush() }
        }
        try flush()
        if extraColumnRows > 0, layout.exactFields == nil {
            report.warnings.append("\(path): \(extraColumnRows) rows have more than \(expectedFields ?? minimum) fields (first at line \(firstExtraLine)); the extra fields were ignored")
        }
        if dataRows == 0 {
            throw DataError(file: path, problem: .emptyFile)
        }
        if report.rowsAccepted == 0 {
            throw DataError(file: path, problem: .inconsistent("no valid rows: every line was skipped (\(problems.skipped.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")))"))
        }
    }

    /// Builds the matrix with the interned ids.
    public mutating func finish() -> InteractionMatrix {
        let (matrix, duplicates) = builder.build(users: IDMap(users.strings()), items: IDMap(items.strings()))
        report.duplicatesMerged = duplicates
        report.skipped = problems.skipped
        return matrix
    }
}

@inline(__always) func isBlank(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    for c in b where c != 0x20 && c != 0x09 { return false }
    return true
}

func lastPathComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}

/// Joins a directory and a file name.
func joinPath(_ dir: String, _ name: String) -> String {
    dir.hasSuffix("/") ? dir + name : dir + "/" + name
}
