// Sizes that come from input or configuration are checked against the machine before anything
// is allocated, so `{"factors": 1000000000}` is a one-line refusal with the figure, not a trap
// after minutes. Estimates use Double arithmetic so absurd sizes cannot overflow.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A refusal to allocate more than the machine can hold.
public struct ResourceError: UserFacingError, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The machine's memory and the checks against it.
public enum MemoryBudget {
    /// Physical memory in bytes (or the cgroup limit when it is lower).
    public static let physicalBytes: Double = {
        let pages = Double(sysconf(Int32(_SC_PHYS_PAGES)))
        let size = Double(sysconf(Int32(_SC_PAGESIZE)))
        var total = pages > 0 && size > 0 ? pages * size : 8 * 1_073_741_824
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let limit = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)),
               limit > 0, limit < total {
                total = limit
            }
        }
        return total
    }()

    /// The share of physical memory one allocation plan may take.
    public static let usableShare = 0.8

    /// Throws when `bytes` exceed the usable memory; `what` says what needs it ("als with 1,000,000,000
    /// factors"), `advice` what to do instead.
    public static func check(_ bytes: Double, for what: String, advice: String = "lower the size") throws {
        guard bytes.isFinite, bytes <= physicalBytes * usableShare else {
            throw ResourceError("\(what) needs about \(format(bytes)) of memory; this machine has \(format(physicalBytes)): \(advice)")
        }
    }

    /// Keeps freed blocks of up to 32 MiB in the allocator instead of returning them to the system.
    /// A long-running service allocates score arrays of a few MiB per request (1.5 MiB per source at
    /// 380,000 songs); by default glibc serves each from fresh pages (mmap, or a heap trimmed after
    /// every free), and faulting those pages in cost more than scoring them. The price is that the
    /// process keeps its peak of such blocks. No effect on other C libraries.
    public static func keepFreedMemory() {
        #if canImport(Glibc)
        // <malloc.h>'s M_MMAP_THRESHOLD (-3) and M_TRIM_THRESHOLD (-1); Swift's Glibc module does not import that header.
        _ = glibcMallopt(-3, 32 << 20)
        _ = glibcMallopt(-1, 1 << 30)
        #endif
    }

    /// "3.4 GiB", "512 MiB".
    public static func format(_ bytes: Double) -> String {
        guard bytes.isFinite else { return "an unbounded amount" }
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = bytes
        var u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(Int(v)) bytes" }
        let rounded = (v * 10).rounded() / 10
        return "\(rounded) \(units[u])"
    }
}

#if canImport(Glibc)
/// glibc's `int mallopt(int param, int value)`.
@_silgen_name("mallopt") private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif
