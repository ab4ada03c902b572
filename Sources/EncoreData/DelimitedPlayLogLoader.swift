// Loader for any delimited play log: the caller names the delimiter and the user, item, value
// (and timestamp) columns by 0-based index, or by header name when the file has a header.
import EncoreMath

/// A column named by index or by header name.
public enum ColumnReference: Sendable, Equatable {
    case index(Int)
    case name(String)

    /// Digits are an index; anything else is a header name.
    public init(_ text: String) {
        if let i = Int(text), i >= 0 { self = .index(i) } else { self = .name(text) }
    }
}

/// Options of the generic delimited loader.
public struct DelimitedLoadOptions: Sendable {
    public var format: DelimitedFormat
    public var hasHeader: Bool
    public var user: ColumnReference
    public var item: ColumnReference
    /// nil: every row is one play.
    public var value: ColumnReference?
    public var timestamp: ColumnReference?

    public init(format: DelimitedFormat = .comma, hasHeader: Bool = false, user: ColumnReference = .index(0),
                item: ColumnReference = .index(1), value: ColumnReference? = .index(2), timestamp: ColumnReference? = nil) {
        self.format = format
        self.hasHeader = hasHeader
        self.user = user
        self.item = item
        self.value = value
        self.timestamp = timestamp
    }
}

/// Reads a generic delimited play log.
public enum DelimitedPlayLogLoader {
    public static func load(path: String, settings: DelimitedLoadOptions, options: LoadOptions = LoadOptions()) throws -> Dataset {
        var header: [String] = []
        if settings.hasHeader {
            guard let h = try firstRecordFields(path: path, format: settings.format) else {
                throw DataError(file: path, problem: .emptyFile)
            }
            header = h.map { $0.trimmingSpaces }
        }
        func resolve(_ ref: ColumnReference, role: String) throws -> Int {
            switch ref {
            case .index(let i): return i
            case .name(let n):
                guard settings.hasHeader else {
                    throw ParameterError("column '\(n)' for \(role) is a name, but the file has no header: pass --header or a 0-based index")
                }
                guard let i = header.firstIndex(where: { $0.lowercased() == n.lowercased() }) else {
                    throw DataError(file: path, line: 1, field: n, problem: .missingColumn(n))
                }
                return i
            }
        }
        var layout = PlayLogLayout(user: try resolve(settings.user, role: "the user"), item: try resolve(settings.item, role: "the item"),
                                   value: try settings.value.map { try resolve($0, role: "the value") },
                                   timestamp: try settings.timestamp.map { try resolve($0, role: "the timestamp") })
        if settings.hasHeader {
            layout.userName = header.indices.contains(layout.user) ? header[layout.user] : "user"
            layout.itemName = header.indices.contains(layout.item) ? header[layout.item] : "item"
            if let v = layout.value, header.indices.contains(v) { layout.valueName = header[v] }
        }
        var acc = PlayLogAccumulator(format: "delimited", options: options, hasTimestamps: layout.timestamp != nil)
        try acc.read(path: path, format: settings.format, layout: layout, options: options, isHeader: { _ in settings.hasHeader })
        let matrix = acc.finish()
        return Dataset(name: lastPathComponent(path), interactions: matrix, catalog: .empty(count: matrix.itemCount), report: acc.report)
    }
}
