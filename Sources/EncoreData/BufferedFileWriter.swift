// Buffered writing of text files in large blocks, for the generator and split writers that
// stream millions of lines. Memory is one block. The text goes to a temporary file beside the
// target (EncoreMath's PendingFile); `close` renames it into place, and a writer dropped without
// `close` (an error on the way) removes its temporary file, so a full disk never leaves half a file.
import EncoreMath

/// Appends text to a file through a 1 MiB buffer; the file appears whole at `close()`, or not at all.
public struct BufferedFileWriter {
    public let path: String
    private let file: PendingFile
    private var buffer: [UInt8] = []
    public private(set) var bytesWritten = 0
    /// The first write failure; reported by close(), so a full disk is never silent.
    private var failure: Error?

    /// Checks the output (not a directory, not one of `inputs`) and opens its temporary file.
    public init(path: String, inputs: [String] = []) throws {
        try AtomicFile.checkOutput(path, inputs: inputs)
        self.path = path
        file = try PendingFile(path: path)
        buffer.reserveCapacity(1 << 20)
    }

    public mutating func write(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= 1 << 20 { flushRemembering() }
    }

    public mutating func write(bytes: UnsafeBufferPointer<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { flushRemembering() }
    }

    private mutating func flushRemembering() {
        do { try flush() } catch { if failure == nil { failure = error } }
        buffer.removeAll(keepingCapacity: true)
    }

    public mutating func flush() throws {
        if let failure { throw failure }
        try buffer.withUnsafeBytes { try file.write($0) }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Renames the finished file over the target.
    public mutating func commit() throws {
        try flush()
        try file.commit()
    }

    /// `finish` and `commit` in one step.
    public mutating func close() throws {
        try commit()
    }
}
