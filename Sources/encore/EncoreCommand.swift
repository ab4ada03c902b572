// The `encore` command-line tool: parses arguments, calls library code, prints results. Every
// failure prints one clear `error:` line and exits with status 1.
import ArgumentParser
import Foundation
import EncoreData
import EncoreMath
import EncoreService

@main
struct Encore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encore",
        abstract: "Encore: a music recommendation engine. Load play logs, explore them, split them.",
        discussion: "Start with `encore generate` or `encore import`, then `encore eda`.",
        version: "0.1.0",
        subcommands: [Generate.self, Import.self, EDA.self, Split.self, Train.self, Evaluate.self, Recommend.self, Explain.self, Neighbours.self, Models.self, Tune.self, Clusters.self, Embed.self, Similar.self, Audience.self, Segments.self, PolicyCommand.self, Playlist.self, Serve.self, Retrain.self, Export.self, ImportFactors.self, Db.self, Registry.self, Keys.self]
    )

    static func main() {
        singleThreadedBLAS()
        BLAS.setThreads(1)
        do {
            // Every option takes one value: a second one would silently replace the first.
            if let repeated = repeatedOption(in: Array(CommandLine.arguments.dropFirst())) {
                throw UsageError("\(repeated) is given more than once; give it once")
            }
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help and --version.
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message: String
            if let e = error as? any UserFacingError { message = e.description } else {
                // ArgumentParser prefixes its own "Error: "; the line already starts with "error:".
                // One line: ArgumentParser's message without its usage block and "Error: " prefix.
                let text = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
                message = text.hasPrefix("Error: ") ? String(text.dropFirst("Error: ".count)) : text
            }
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// The first option (long `--name` or `--name=value`, or short `-k`) that appears twice before a
/// `--` terminator; negative numbers are values, not options.
func repeatedOption(in arguments: [String]) -> String? {
    var seen = Set<String>()
    for a in arguments {
        if a == "--" { break }
        let name: String
        if a.hasPrefix("--") { name = String(a.split(separator: "=", maxSplits: 1).first ?? Substring(a)) }
        else if a.hasPrefix("-"), a.count == 2, let c = a.last, c.isLetter { name = a }
        else { continue }
        if !seen.insert(name).inserted { return name }
    }
    return nil
}

/// OpenBLAS starts its thread pool when the library loads, and idle pool threads spin on
/// sched_yield, taking cores from Encore's own parallel loops (which call BLAS single-threaded,
/// as DESIGN.md asks). The pool size is read from the environment at load time, so when the user
/// has not chosen one, the process sets OPENBLAS_NUM_THREADS=1 and re-executes itself once.
/// The kernels are chosen at load time too, from the CPU model; a virtual CPU that reports a generic
/// model ("Intel Xeon Processor") gets Prescott's SSE3 kernels, 2-3 times slower than its AVX-512
/// ones. Unless the user has chosen, OPENBLAS_CORETYPE is set from the CPU's instruction-set flags.
func singleThreadedBLAS() {
    guard getenv("ENCORE_NO_REEXEC") == nil else { return }
    let core = getenv("OPENBLAS_CORETYPE") == nil ? blasCoreType() : nil
    guard getenv("OPENBLAS_NUM_THREADS") == nil || core != nil else { return }
    if getenv("OPENBLAS_NUM_THREADS") == nil { setenv("OPENBLAS_NUM_THREADS", "1", 1) }
    if let core { setenv("OPENBLAS_CORETYPE", core, 1) }
    setenv("ENCORE_NO_REEXEC", "1", 1)
    var argv = CommandLine.arguments.map { strdup($0) }
    argv.append(nil)
    execv("/proc/self/exe", &argv)
    // exec failed (no /proc): carry on with the pool as it is.
}

/// OpenBLAS's name for the best kernels this CPU's flags allow (nil: leave OpenBLAS's own choice).
func blasCoreType() -> String? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(line.split(separator: " ").map(String.init))
    if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(flags.contains) {
        return "SkylakeX"
    }
    if flags.contains("avx2"), flags.contains("fma") { return "Haswell" }
    return nil
}

/// An error in how a command was used (an option out of range, a missing argument).
struct UsageError: UserFacingError, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension OutputFormat: ExpressibleByArgument {}

/// Prints to stderr (progress notes and summaries that are not the result).
func note(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Prints a load's warnings to stderr, one `warning:` line each.
func printWarnings(_ warnings: [String]) {
    for w in warnings { note("warning: " + w) }
}

/// The input format of a command's dataset argument.
struct InputFormatOption: ParsableArguments {
    @Option(name: .customLong("input-format"), help: "Input format: auto, triplets, course, lastfm, movielens, split, delimited, snapshot.")
    var inputFormat: String = "auto"
}

/// Loads any dataset path with the default options, printing its warnings.
func loadDataset(_ path: String, format: String = "auto") throws -> Dataset {
    let dataset = try DatasetSource().load(path, format: format)
    printWarnings(dataset.report.warnings)
    return dataset
}

/// Pretty, stable JSON (slashes as they are: paths and URLs stay readable).
func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// One-line JSON with sorted keys, for large exports (embeddings).
func compactJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Writes text to a file atomically; refuses directories and the command's `inputs`.
func writeText(_ text: String, to path: String, inputs: [String] = []) throws {
    try AtomicFile.write(text: text, to: path, inputs: inputs)
}

/// Where the transformer's embeddings of a dataset are cached: beside a snapshot file
/// (`PATH.embeddings`), else in the user's cache folder ($XDG_CACHE_HOME or ~/.cache, under
/// encore/), named by a hash of the dataset's absolute path with symbolic links resolved (a linked
/// dataset shares its target's cache). Entries are keyed by each text's hash
/// and the encoder, so a changed catalogue re-encodes only its changed songs.
func embeddingCachePath(for path: String) -> String {
    if path.hasSuffix(".snapshot") { return path + ".embeddings" }
    let env = ProcessInfo.processInfo.environment
    let base = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? NSTemporaryDirectory()) + "/.cache")
    let folder = base + "/encore"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let absolute = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
    let hash = absolute.utf8.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }
    return folder + "/embeddings-" + String(hash, radix: 16) + ".bin"
}
