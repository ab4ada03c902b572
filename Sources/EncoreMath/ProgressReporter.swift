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
    let counter = ProgressCounter()

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

    /// Draws `done` of `total`; the rate counts `counted` when given (rows while the bar measures bytes).
    public func update(_ done: Double, counted: Double? = nil) {
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
            if seconds > 0 { line += "  \(Int((counted ?? done) / seconds)) \(rateUnit)/s" }
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

extension ProgressReporter {
    /// Adds `count` to the work done so far (parallel chunks report their own share) and redraws.
    public func advance(by count: Double) {
        counter.lock.lock()
        counter.done += count
        let done = counter.done
        counter.lock.unlock()
        update(done)
    }
}

/// The running total behind `advance(by:)`.
final class ProgressCounter: @unchecked Sendable {
    let lock = NSLock()
    var done = 0.0
}

/// Work of unknown length (a model's fit, k-means restarts): on a terminal, one stderr line with
/// the seconds elapsed, redrawn every half second until `stop()` clears it; nothing otherwise.
public final class ElapsedTicker: @unchecked Sendable {
    private let label: String
    private let sink: @Sendable (String) -> Void
    private let started = Date()
    private let lock = NSLock()
    private var running: Bool
    private var drew = false

    public init(label: String, enabled: Bool = ProgressReporter.stderrIsTerminal,
                sink: @escaping @Sendable (String) -> Void = ProgressReporter.standardError) {
        self.label = label
        self.sink = sink
        running = enabled
        guard enabled else { return }
        Thread.detachNewThread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.5)
                lock.lock()
                defer { lock.unlock() }
                guard running else { return }
                sink("\r\(label) … \(String(format: "%.0f", Date().timeIntervalSince(started))) s")
                drew = true
            }
        }
    }

    /// Runs `work` with a ticker labelled `label`.
    public static func run<T>(_ label: String, enabled: Bool = ProgressReporter.stderrIsTerminal, _ work: () throws -> T) rethrows -> T {
        let ticker = ElapsedTicker(label: label, enabled: enabled)
        defer { ticker.stop() }
        return try work()
    }

    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard running else { return }
        running = false
        if drew { sink("\r\u{1B}[K") }
    }
}
