// Progress for long work (import, generate, fit): a one-line bar, drawn at most ten times a
// second into a sink — by default stderr, and only when stderr is a terminal, so logs and pipes
// stay clean. A server or a library user passes its own sink (a logger, a callback) instead.
import Foundation

/// A throttled progress line on stderr, silent when stderr is not a terminal.
public final class ProgressReporter: @unchecked Sendable {
    private let label: String
    private let total: Double
    private let enabled: Bool
    private let sink: @Sendable (String) -> Void
    /// When set ("rows"), the line also shows the rate: "12,345 rows/s".
    private let rateUnit: String?
    private let started = Date()
    // Parallel chunks report into one bar: the lock guards the two fields below.
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drewSomething = false

    public init(label: String, total: Double, enabled: Bool = ProgressReporter.stderrIsTerminal, rateUnit: String? = nil,
                sink: @escaping @Sendable (String) -> Void = ProgressReporter.standardError) {
        self.rateUnit = rateUnit
        self.label = label
        self.total = max(total, 1)
        self.enabled = enabled
        self.sink = sink
    }

    /// Writes to stderr as it is (the default sink).
    public static let standardError: @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }

    public static var stderrIsTerminal: Bool { isatty(2) == 1 }

    public func update(_ done: Double) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let fraction = min(1, max(0, done / total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        var line = "\r\(label) [\(bar)] \(Int(fraction * 100))%"
        if let rateUnit {
            let seconds = now.timeIntervalSince(started)
            if seconds > 0 { line += "  \(Int(done / seconds)) \(rateUnit)/s" }
        }
        sink(line)
        drewSomething = true
    }

    public func finish() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        guard drewSomething else { return }
        sink("\r\u{1B}[K")
    }
}
