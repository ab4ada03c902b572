// The `encore` command-line tool: parses arguments, calls library code, prints results. Every
// failure prints one clear `error:` line and exits with status 1.
import ArgumentParser
import Foundation
import EncoreData

@main
struct Encore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encore",
        abstract: "Encore: a music recommendation engine. Load play logs, explore them, split them.",
        discussion: "Start with `encore generate` or `encore import`, then `encore eda`.",
        version: "0.1.0",
        subcommands: [Generate.self, Import.self, EDA.self, Split.self, Train.self, Evaluate.self, Recommend.self, Explain.self, Neighbours.self, Models.self]
    )

    static func main() {
        do {
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
            if let e = error as? DataError { message = e.description } else if let e = error as? UsageError { message = e.message } else {
                message = fullMessage(for: error)
            }
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// How a command prints its results.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, markdown, json
}

/// Prints to stderr (progress notes and summaries that are not the result).
func note(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Pretty, stable JSON.
func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Writes text to a file, with a clear error when it cannot.
func writeText(_ text: String, to path: String) throws {
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
        throw UsageError("cannot write \(path): \(error.localizedDescription)")
    }
}
