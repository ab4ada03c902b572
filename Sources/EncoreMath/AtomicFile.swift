// The one way Encore writes a file. Bytes go to a temporary file in the target's folder
// (`NAME.tmp-PID-N`, created exclusively), which is fsynced and then renamed over the target with
// rename(2), atomic on POSIX; the folder is fsynced after. The target is never unlinked first, so
// a failure at any step (full disk, I/O error, kill -9) leaves the previous file whole, and
// concurrent writers to one path each replace it whole. Before anything is written the output is
// checked: a directory, a path ending in "/", a missing folder, or a path that is one of the
// command's own inputs (same resolved path or same device and inode) is refused. Temporary files
// of dead processes next to the target are removed on the next write. Lives in EncoreMath, the
// lowest module, so every module (EncoreText's embedding cache too) shares it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why an output file was not written.
public struct FileWriteError: UserFacingError, Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        case isDirectory
        case isInput(String)
        case missingFolder(String)
        case failed(String)
    }

    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .isDirectory: "\(path) is a directory; give the path of a file to write"
        case .isInput(let input):
            input == path ? "\(path) is also an input of this command; writing it would destroy the input, choose another output path"
                : "\(path) is the same file as the input \(input); writing it would destroy the input, choose another output path"
        case .missingFolder(let folder): "cannot write \(path): the folder \(folder) does not exist"
        case .failed(let why): "cannot write \(path): \(why)"
        }
    }
}

/// A fault to inject into the next file operations of the current task (tests only).
public enum InjectedFileFault: Sendable, Equatable {
    /// rename(2) fails with this errno.
    case rename(Int32)
    /// write(2) fails with this errno once this many bytes have been written to the temporary file.
    case write(Int32, afterBytes: Int)
}

/// Atomic replacement of output files.
public enum AtomicFile {
    @TaskLocal public static var injectedFault: InjectedFileFault?

    /// Refuses outputs that are directories, lie in a missing folder, or are one of `inputs`.
    public static func checkOutput(_ path: String, inputs: [String] = []) throws {
        guard !path.isEmpty else { throw FileWriteError(path: path, reason: .failed("the output path is empty")) }
        if path.hasSuffix("/") { throw FileWriteError(path: path, reason: .isDirectory) }
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { throw FileWriteError(path: path, reason: .isDirectory) }
        let folder = parentFolder(of: path)
        var fst = stat()
        guard stat(folder, &fst) == 0, (fst.st_mode & S_IFMT) == S_IFDIR else {
            throw FileWriteError(path: path, reason: .missingFolder(folder))
        }
        let outputExists = stat(path, &st) == 0
        let resolvedOutput = resolvedPath(path)
        for input in inputs {
            var ist = stat()
            guard stat(input, &ist) == 0 else { continue }
            if outputExists && ist.st_dev == st.st_dev && ist.st_ino == st.st_ino {
                throw FileWriteError(path: path, reason: .isInput(input))
            }
            if let resolvedOutput, let resolvedInput = resolvedPath(input), resolvedInput == resolvedOutput {
                throw FileWriteError(path: path, reason: .isInput(input))
            }
        }
    }

    /// Writes `bytes` to `path` atomically after `checkOutput`.
    public static func write(_ bytes: some ContiguousBytes, to path: String, inputs: [String] = []) throws {
        try checkOutput(path, inputs: inputs)
        let file = try PendingFile(path: path)
        try bytes.withUnsafeBytes { try file.write($0) }
        try file.commit()
    }

    /// Writes UTF-8 text to `path` atomically after `checkOutput`.
    public static func write(text: String, to path: String, inputs: [String] = []) throws {
        try write(Array(text.utf8), to: path, inputs: inputs)
    }

    static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = String(path[..<slash])
        return head.isEmpty ? "/" : head
    }

    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The canonical path: realpath of the file, or of its folder plus its name when it does not exist yet.
    static func resolvedPath(_ path: String) -> String? {
        if let r = realpath(path, nil) {
            defer { free(r) }
            return String(cString: r)
        }
        guard let r = realpath(parentFolder(of: path), nil) else { return nil }
        defer { free(r) }
        let folder = String(cString: r)
        return (folder == "/" ? "" : folder) + "/" + baseName(of: path)
    }

    /// Removes `NAME.tmp-PID-N` files next to `path` whose process no longer runs.
    static func removeStaleTemporaries(of path: String) {
        let folder = parentFolder(of: path)
        let prefix = baseName(of: path) + ".tmp-"
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        var stale: [String] = []
        while let entry = readdir(dir) {
            // Read the name in place: a dirent can be shorter than sizeof(dirent), so copying the
            // whole d_name array can run past the end of readdir's buffer.
            let name = withUnsafePointer(to: &entry.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 1) { String(cString: $0) }
            }
            guard name.hasPrefix(prefix) else { continue }
            let rest = name.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { stale.append(name) }
        }
        for name in stale { unlink(folder + "/" + name) }
    }
}

/// A file being written under a temporary name; `commit` renames it over the target, and
/// dropping it uncommitted removes the temporary file.
public final class PendingFile {
    public let path: String
    public let temporaryPath: String
    private var fd: Int32
    private var committed = false
    private var written = 0
    private let fault = AtomicFile.injectedFault
    private static let counter = Counter()

    /// Opens a new temporary file beside `path` (the caller has checked the output).
    public init(path: String) throws {
        self.path = path
        AtomicFile.removeStaleTemporaries(of: path)
        let folder = AtomicFile.parentFolder(of: path)
        var attempt = 0
        while true {
            let candidate = folder + "/" + AtomicFile.baseName(of: path) + ".tmp-\(getpid())-\(Self.counter.next())"
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                self.fd = fd
                temporaryPath = candidate
                return
            }
            attempt += 1
            guard errno == EEXIST, attempt < 100 else {
                throw FileWriteError(path: path, reason: .failed(String(cString: strerror(errno))))
            }
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(temporaryPath) }
    }

    /// Appends bytes; a failure (full disk) throws, and the target is untouched.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0, !committed else { throw FileWriteError(path: path, reason: .failed("the file is already closed")) }
        var offset = 0
        while offset < bytes.count {
            var n: Int
            if case .write(let code, let after)? = fault, written + (bytes.count - offset) > after {
                errno = code
                n = -1
            } else {
                n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileWriteError(path: path, reason: .failed(String(cString: strerror(errno))))
            }
            offset += n
            written += n
        }
    }

    /// Flushes to disk and renames over the target, then syncs the folder.
    public func commit() throws {
        guard !committed else { return }
        if fsync(fd) != 0 {
            throw FileWriteError(path: path, reason: .failed("fsync: " + String(cString: strerror(errno))))
        }
        close(fd)
        fd = -1
        var result: Int32
        if case .rename(let code)? = fault {
            errno = code
            result = -1
        } else {
            result = rename(temporaryPath, path)
        }
        guard result == 0 else {
            throw FileWriteError(path: path, reason: .failed(String(cString: strerror(errno))))
        }
        committed = true
        let dfd = open(AtomicFile.parentFolder(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}

/// A process-wide counter for unique temporary names.
private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
