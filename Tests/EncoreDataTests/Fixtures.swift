import Foundation

/// A temporary directory for files a test writes; removed when the test ends.
final class TempDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "encore-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) -> String {
        let p = path + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    func file(_ name: String) -> String { path + "/" + name }
}

/// The shared data folder (../shared/data from the package root); tests fail loudly without it.
enum SharedData {
    static var root: String {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data").path
    }
    static var lastfm: String { root + "/lastfm-2k" }
}
