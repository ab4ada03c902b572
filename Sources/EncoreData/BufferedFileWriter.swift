// Buffered writing of text files in large blocks, for the generator and split writers that
// stream millions of lines. Memory is one block.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends text to a file through a 1 MiB buffer.
public struct BufferedFileWriter {
    public let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    public private(set) var bytesWritten = 0
    /// The first write failure; reported by close(), so a full disk is never silent.
    private var failure: DataError?

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw DataError(file: path, problem: .unreadable("cannot create: \(String(cString: strerror(errno)))"))
        }
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
        do { try flush() } catch let e as DataError { if failure == nil { failure = e } } catch {}
    }

    public mutating func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError(file: path, problem: .unreadable("write failed: \(String(cString: strerror(errno)))"))
            }
            offset += n
        }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    public mutating func close() throws {
        defer { Glibc.close(fd) }
        if let failure { throw failure }
        try flush()
    }
}
