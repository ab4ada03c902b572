// A streaming, byte-level reader of delimited text (RFC 4180): quoted fields with embedded
// delimiters, newlines and doubled quotes; LF, CRLF or CR line ends; a UTF-8 BOM; a missing final
// newline. It reads fixed-size blocks, so memory is bounded by the longest record, never by the
// file, and a record longer than `maxRecordBytes` (1 MiB by default: a stream with no line ends,
// an unclosed quote) is refused with its line number. A bad record (too long, a malformed quote)
// goes to the caller's handler: strict loaders throw it, lenient ones count it and the reader
// resynchronises at the next physical line. Encore's own binary files are recognised and refused
// as text. One pass, O(bytes).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a delimited file is split into fields.
public struct DelimitedFormat: Sendable, Equatable {
    public var delimiter: UInt8
    /// Whether `"` starts a quoted field (RFC 4180). Off for formats that never quote.
    public var quoting: Bool

    public init(delimiter: UInt8, quoting: Bool = true) {
        self.delimiter = delimiter
        self.quoting = quoting
    }

    public static let tab = DelimitedFormat(delimiter: UInt8(ascii: "\t"))
    public static let comma = DelimitedFormat(delimiter: UInt8(ascii: ","))
    public static let semicolon = DelimitedFormat(delimiter: UInt8(ascii: ";"))
    public static let pipe = DelimitedFormat(delimiter: UInt8(ascii: "|"))

    /// Parses `tab`, `comma`, `semicolon`, `pipe`, `\t` or a single ASCII character.
    public static func named(_ name: String) -> DelimitedFormat? {
        switch name.lowercased() {
        case "tab", "\\t", "\t", "tsv": return .tab
        case "comma", ",", "csv": return .comma
        case "semicolon", ";": return .semicolon
        case "pipe", "|": return .pipe
        default:
            guard name.utf8.count == 1, let b = name.utf8.first, b < 128, b != UInt8(ascii: "\""),
                  b != UInt8(ascii: "\n"), b != UInt8(ascii: "\r")
            else { return nil }
            return DelimitedFormat(delimiter: b)
        }
    }
}

/// The location of one field inside the reader's buffer.
public struct FieldSpan: Sendable {
    public var start: Int
    public var end: Int
    /// The field was quoted and contains doubled quotes that must be collapsed.
    public var escaped: Bool
}

/// One record of a delimited file, valid only inside the callback that receives it.
public struct DelimitedRecord {
    public let base: UnsafePointer<UInt8>
    /// Field locations; points into the reader's storage, valid only during the callback.
    public let spans: UnsafeBufferPointer<FieldSpan>
    /// 1-based line where the record starts.
    public let line: Int
    let lineStart: Int

    @inline(__always) public var count: Int { spans.count }

    /// 1-based byte column of field `i` (on the record's first line).
    public func column(_ i: Int) -> Int {
        guard i < spans.count else { return max(1, (spans.last?.end ?? lineStart) - lineStart + 1) }
        return max(1, spans[i].start - lineStart + 1)
    }

    /// The raw bytes of field `i` (doubled quotes of an escaped field are still doubled).
    @inline(__always)
    public func rawBytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let s = spans[i]
        return UnsafeBufferPointer(start: base + s.start, count: s.end - s.start)
    }

    /// Field `i` with doubled quotes collapsed, as bytes.
    public func bytes(_ i: Int) -> [UInt8] {
        let raw = rawBytes(i)
        guard spans[i].escaped else { return Array(raw) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var j = 0
        while j < raw.count {
            let b = raw[j]
            out.append(b)
            if b == UInt8(ascii: "\""), j + 1 < raw.count, raw[j + 1] == UInt8(ascii: "\"") { j += 2 } else { j += 1 }
        }
        return out
    }

    /// Field `i` decoded as UTF-8, falling back to Latin-1 when the bytes are not valid UTF-8.
    public func string(_ i: Int) -> String {
        if spans[i].escaped { return TextDecoding.decode(bytes(i)[...]) }
        return TextDecoding.decode(rawBytes(i))
    }

    /// Field `i` with surrounding spaces removed.
    public func trimmedString(_ i: Int) -> String {
        let s = string(i)
        return String(s.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// Streams the records of one delimited file.
public final class DelimitedReader {
    public let path: String
    public let format: DelimitedFormat
    private let fd: Int32
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var filled = 0
    private var eof = false
    private var atFileStart = true
    /// Bytes read so far (for progress reporting).
    public private(set) var bytesRead: Int = 0
    /// Size of the file in bytes, or nil when it cannot be known (a pipe).
    public let fileSize: Int?
    /// The longest record accepted, in bytes.
    public let maxRecordBytes: Int
    /// The default record limit: generous for any real line, small next to memory.
    public static let defaultMaxRecordBytes = 1 << 20

    /// The magic bytes of Encore's binary files, which are never delimited text.
    static let binaryMagics: [(magic: [UInt8], kind: String)] = [
        (Snapshot.magic, "snapshot"), (Array("ENCMODEL".utf8), "model artifact"), (Array("ENCEMB1".utf8) + [0], "embedding cache"),
    ]

    public init(path: String, format: DelimitedFormat, blockSize: Int = 1 << 22, maxRecordBytes: Int = DelimitedReader.defaultMaxRecordBytes) throws {
        self.path = path
        self.format = format
        self.maxRecordBytes = max(1, maxRecordBytes)
        try InputFile.check(path)
        var st = stat()
        _ = stat(path, &st)
        fileSize = (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw DataError(file: path, problem: .unreadable(String(cString: strerror(errno))))
        }
        self.fd = fd
        capacity = max(blockSize, 64)
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// Reads until the buffer holds more data or the file ends. Keeps bytes from `keepFrom` on.
    private func refill(keepFrom: Int) throws {
        let keep = filled - keepFrom
        if keepFrom > 0 && keep > 0 { memmove(buffer, buffer + keepFrom, keep) }
        filled = keep
        if filled == capacity {
            let newCapacity = capacity * 2
            let newBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newBuffer.update(from: buffer, count: filled)
            buffer.deallocate()
            buffer = newBuffer
            capacity = newCapacity
        }
        while filled < capacity {
            let n = read(fd, buffer + filled, capacity - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError(file: path, problem: .unreadable(String(cString: strerror(errno))))
            }
            if n == 0 { eof = true; break }
            filled += n
            bytesRead += n
            if filled >= capacity / 2 { break }
        }
        if atFileStart && filled >= 2 {
            if (buffer[0] == 0xFF && buffer[1] == 0xFE) || (buffer[0] == 0xFE && buffer[1] == 0xFF) {
                throw DataError(file: path, line: 1, column: 1, problem: .unsupportedEncoding("UTF-16"))
            }
        }
        if atFileStart && (filled >= 8 || eof) {
            for (magic, kind) in Self.binaryMagics where filled >= 8 && (0..<8).allSatisfy({ buffer[$0] == magic[$0] }) {
                throw DataError(file: path, problem: .encoreBinary(kind))
            }
        }
        if atFileStart && (filled >= 8 || eof) {
            atFileStart = false
            if filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF {
                memmove(buffer, buffer + 3, filled - 3)
                filled -= 3
            }
        }
    }

    /// Drops the bytes from `start` through the next line end; returns the position after it
    /// (the buffer may have been refilled), or nil when the file ends first. Memory stays one block.
    private func skipPhysicalLine(from start: Int, line: Int) throws -> Int? {
        var p = start
        // A stream with no line end at all (/dev/zero) would be skipped forever: past this many
        // bytes the line is an error even in lenient mode.
        let budget = max(64 << 20, maxRecordBytes &* 64)
        var skipped = 0
        while true {
            if skipped > budget {
                throw DataError(file: path, line: line, problem: .inconsistent(
                    "no line end within \(budget) bytes; this is not a line-oriented text file"))
            }
            while p < filled {
                let c = buffer[p]
                if c == UInt8(ascii: "\n") { return p + 1 }
                if c == UInt8(ascii: "\r") {
                    if p + 1 < filled { return buffer[p + 1] == UInt8(ascii: "\n") ? p + 2 : p + 1 }
                    if eof { return p + 1 }
                    try refill(keepFrom: p)
                    p = 0
                    continue
                }
                p += 1
            }
            if eof { return nil }
            skipped += filled
            try refill(keepFrom: filled)
            p = 0
            if filled == 0 && eof { return nil }
        }
    }

    /// Calls `body` for every non-empty record of the file, in order. A bad record (too long, a
    /// malformed quote) goes to `onBadRecord`: when it returns instead of throwing, the reader
    /// skips the record's first physical line and carries on from the next one.
    public func forEachRecord(onBadRecord: (DataError) throws -> Void = { throw $0 }, _ body: (DelimitedRecord) throws -> Void) throws {
        let delimiter = format.delimiter
        let quoting = format.quoting
        let quote = UInt8(ascii: "\"")
        let lf = UInt8(ascii: "\n")
        let cr = UInt8(ascii: "\r")
        var line = 1
        var pos = 0
        // Field spans live in a growable raw buffer: no reference counting per record.
        var spanCapacity = 64
        var spanStore = UnsafeMutablePointer<FieldSpan>.allocate(capacity: spanCapacity)
        defer { spanStore.deallocate() }
        var spanCount = 0
        @inline(__always) func push(_ span: FieldSpan) {
            if spanCount == spanCapacity {
                let bigger = UnsafeMutablePointer<FieldSpan>.allocate(capacity: spanCapacity * 2)
                bigger.moveInitialize(from: spanStore, count: spanCount)
                spanStore.deallocate()
                spanStore = bigger
                spanCapacity *= 2
            }
            (spanStore + spanCount).initialize(to: span)
            spanCount += 1
        }
        try refill(keepFrom: 0)

        recordLoop: while true {
            // Parse one record starting at `pos`. On running out of bytes, refill and restart it.
            let recordStart = pos
            var p = pos
            var newlines = 0
            var lineStart = pos
            spanCount = 0
            var needMore = false
            var fieldStart = p
            var recordEnded = false
            var bad: DataError?
            let end = filled
            let buf = buffer

            fieldLoop: while true {
                if p >= end {
                    if !eof { needMore = true; break fieldLoop }
                    // End of file terminates the record (missing final newline).
                    push(FieldSpan(start: fieldStart, end: p, escaped: false))
                    recordEnded = true
                    break fieldLoop
                }
                if quoting && buf[p] == quote && p == fieldStart {
                    // Quoted field.
                    var q = p + 1
                    var escaped = false
                    var closed = false
                    while q < end {
                        let c = buf[q]
                        if c == quote {
                            if q + 1 < end {
                                if buf[q + 1] == quote { escaped = true; q += 2; continue }
                                closed = true
                                break
                            } else if eof {
                                closed = true
                                break
                            } else {
                                break  // cannot tell yet whether the quote is doubled
                            }
                        }
                        if c == lf { newlines += 1 }
                        q += 1
                    }
                    if !closed {
                        if !eof || q < end { needMore = true; break fieldLoop }
                        bad = DataError(file: path, line: line, column: fieldStart - lineStart + 1, problem: .malformedQuote)
                        break fieldLoop
                    }
                    let span = FieldSpan(start: p + 1, end: q, escaped: escaped)
                    p = q + 1
                    if p >= end {
                        if !eof { needMore = true; break fieldLoop }
                        push(span)
                        recordEnded = true
                        break fieldLoop
                    }
                    let c = buf[p]
                    if c == delimiter {
                        push(span)
                        p += 1
                        fieldStart = p
                        continue fieldLoop
                    } else if c == lf {
                        push(span)
                        p += 1
                        recordEnded = true
                        break fieldLoop
                    } else if c == cr {
                        if p + 1 >= end && !eof { needMore = true; break fieldLoop }
                        push(span)
                        p += (p + 1 < end && buf[p + 1] == lf) ? 2 : 1
                        recordEnded = true
                        break fieldLoop
                    } else {
                        bad = DataError(file: path, line: line + newlines, column: p - lineStart + 1, problem: .malformedQuote)
                        break fieldLoop
                    }
                }
                // Unquoted field: scan to the next delimiter or line end.
                var q = p
                while q < end {
                    let c = buf[q]
                    if c == delimiter || c == lf || c == cr { break }
                    q += 1
                }
                if q >= end {
                    if !eof { needMore = true; break fieldLoop }
                    push(FieldSpan(start: fieldStart, end: q, escaped: false))
                    p = q
                    recordEnded = true
                    break fieldLoop
                }
                let c = buf[q]
                push(FieldSpan(start: fieldStart, end: q, escaped: false))
                if c == delimiter {
                    p = q + 1
                    fieldStart = p
                    continue fieldLoop
                }
                if c == cr {
                    if q + 1 >= end && !eof { needMore = true; break fieldLoop }
                    p = q + ((q + 1 < end && buf[q + 1] == lf) ? 2 : 1)
                } else {
                    p = q + 1
                }
                recordEnded = true
                break fieldLoop
            }

            if (needMore && filled - recordStart >= maxRecordBytes) || (recordEnded && p - recordStart > maxRecordBytes) {
                bad = DataError(file: path, line: line, problem: .lineTooLong(limit: maxRecordBytes))
            }
            if let bad {
                try onBadRecord(bad)
                // A whole record that is merely too long is dropped whole; a broken one loses its first line.
                let next = recordEnded ? p : try skipPhysicalLine(from: recordStart, line: line)
                line += recordEnded ? 1 + newlines : 1
                guard let next else { return }
                pos = next
                if pos >= filled {
                    if eof { return }
                    try refill(keepFrom: pos)
                    pos = 0
                    if filled == 0 && eof { return }
                }
                continue recordLoop
            }
            if needMore {
                // Shift the partial record to the front, read more, and parse it again.
                let shift = recordStart
                try refill(keepFrom: recordStart)
                _ = shift
                pos = 0
                lineStart = 0
                continue recordLoop
            }
            _ = lineStart
            if recordEnded {
                let isBlank = spanCount == 1 && spanStore[0].start == spanStore[0].end && !(recordStart < filled && buf[recordStart] == quote)
                if !isBlank {
                    let record = DelimitedRecord(base: UnsafePointer(buf), spans: UnsafeBufferPointer(start: spanStore, count: spanCount),
                                                 line: line, lineStart: recordStart)
                    try body(record)
                }
                line += 1 + newlines
                pos = p
                if pos >= filled {
                    if eof { return }
                    try refill(keepFrom: pos)
                    pos = 0
                    if filled == 0 && eof { return }
                }
            }
        }
    }
}
