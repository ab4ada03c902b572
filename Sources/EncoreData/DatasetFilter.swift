// The report's population filters, applied in the report's order, each step on what the
// previous one left: minimum total plays per user (report: 80), minimum unique songs per user
// (3), minimum average plays per song over its listeners (strictly more than 2), minimum
// listeners per song, and an optional cap to the N most played songs. Every step records the
// rows, users and songs it removed. Each step is O(nnz).
import EncoreMath

/// Which filters to apply; nil disables a filter.
public struct FilterConfiguration: Codable, Sendable, Equatable {
    /// Keep users whose total plays are at least this.
    public var minUserPlays: Double?
    /// Keep users with at least this many distinct songs.
    public var minUserSongs: Int?
    /// Keep songs whose plays per listener are strictly more than this.
    public var minSongAveragePlays: Double?
    /// Keep songs with at least this many listeners.
    public var minSongListeners: Int?
    /// Keep only the N songs with the most total plays.
    public var topSongs: Int?

    public init(minUserPlays: Double? = nil, minUserSongs: Int? = nil, minSongAveragePlays: Double? = nil,
                minSongListeners: Int? = nil, topSongs: Int? = nil) {
        self.minUserPlays = minUserPlays
        self.minUserSongs = minUserSongs
        self.minSongAveragePlays = minSongAveragePlays
        self.minSongListeners = minSongListeners
        self.topSongs = topSongs
    }

    /// The report's final population: users with ≥ 80 plays and ≥ 3 songs; songs averaging > 2 plays.
    public static let report = FilterConfiguration(minUserPlays: 80, minUserSongs: 3, minSongAveragePlays: 2)

    public var isEmpty: Bool {
        minUserPlays == nil && minUserSongs == nil && minSongAveragePlays == nil && minSongListeners == nil && topSongs == nil
    }
}

/// What one filter step removed and what remained.
public struct FilterStep: Codable, Sendable, Equatable {
    public var name: String
    public var removedRows: Int
    public var removedUsers: Int
    public var removedSongs: Int
    public var rows: Int
    public var users: Int
    public var songs: Int

    enum CodingKeys: String, CodingKey {
        case name
        case removedRows = "removed_rows"
        case removedUsers = "removed_users"
        case removedSongs = "removed_songs"
        case rows, users, songs
    }
}

/// Applies a FilterConfiguration to a dataset.
public enum DatasetFilter {
    public static func apply(_ configuration: FilterConfiguration, to dataset: Dataset) throws -> (dataset: Dataset, steps: [FilterStep]) {
        if let v = configuration.minUserSongs, v < 0 { throw ParameterError("minimum songs per user must be ≥ 0, got \(v)") }
        if let v = configuration.minSongListeners, v < 0 { throw ParameterError("minimum listeners per song must be ≥ 0, got \(v)") }
        if let v = configuration.topSongs, v <= 0 { throw ParameterError("top songs must be > 0, got \(v)") }
        if let v = configuration.minUserPlays, !v.isFinite { throw ParameterError("minimum plays per user must be a number") }
        if let v = configuration.minSongAveragePlays, !v.isFinite { throw ParameterError("minimum average plays must be a number") }

        let m = dataset.interactions
        var keep = [Bool](repeating: true, count: m.nnz)
        var steps: [FilterStep] = []

        func counts() -> (rows: Int, users: Int, songs: Int) {
            var rows = 0, users = 0
            var songSeen = [Bool](repeating: false, count: m.itemCount)
            for u in 0..<m.userCount {
                var any = false
                for k in m.rowRange(u) where keep[k] {
                    rows += 1
                    any = true
                    songSeen[Int(m.columnIndices[k])] = true
                }
                if any { users += 1 }
            }
            return (rows, users, songSeen.reduce(0) { $0 + ($1 ? 1 : 0) })
        }
        var before = counts()
        func record(_ name: String) {
            let after = counts()
            steps.append(FilterStep(name: name, removedRows: before.rows - after.rows, removedUsers: before.users - after.users,
                                    removedSongs: before.songs - after.songs, rows: after.rows, users: after.users, songs: after.songs))
            before = after
        }
        func userFilter(_ predicate: (_ plays: Double, _ songs: Int) -> Bool) {
            for u in 0..<m.userCount {
                var plays = 0.0, songs = 0
                for k in m.rowRange(u) where keep[k] { plays += Double(m.values[k]); songs += 1 }
                if songs > 0 && !predicate(plays, songs) { for k in m.rowRange(u) { keep[k] = false } }
            }
        }
        func songStats() -> (plays: [Double], listeners: [Int]) {
            var plays = [Double](repeating: 0, count: m.itemCount)
            var listeners = [Int](repeating: 0, count: m.itemCount)
            for k in 0..<m.nnz where keep[k] {
                let i = Int(m.columnIndices[k])
                plays[i] += Double(m.values[k])
                listeners[i] += 1
            }
            return (plays, listeners)
        }
        func songFilter(_ keepSong: [Bool]) {
            for k in 0..<m.nnz where keep[k] && !keepSong[Int(m.columnIndices[k])] { keep[k] = false }
        }

        if let t = configuration.minUserPlays {
            userFilter { plays, _ in plays >= t }
            record("users with at least \(format(t)) total plays")
        }
        if let t = configuration.minUserSongs {
            userFilter { _, songs in songs >= t }
            record("users with at least \(t) unique songs")
        }
        if let t = configuration.minSongAveragePlays {
            let s = songStats()
            songFilter((0..<m.itemCount).map { s.listeners[$0] > 0 && s.plays[$0] / Double(s.listeners[$0]) > t })
            record("songs with more than \(format(t)) average plays per listener")
        }
        if let t = configuration.minSongListeners {
            let s = songStats()
            songFilter(s.listeners.map { $0 >= t })
            record("songs with at least \(t) listeners")
        }
        if let n = configuration.topSongs {
            let s = songStats()
            let ranked = (0..<m.itemCount).filter { s.listeners[$0] > 0 }
                .sorted { s.plays[$0] != s.plays[$1] ? s.plays[$0] > s.plays[$1] : $0 < $1 }
            var keepSong = [Bool](repeating: false, count: m.itemCount)
            for i in ranked.prefix(n) { keepSong[i] = true }
            songFilter(keepSong)
            record("top \(n) songs by total plays")
        }
        guard before.rows > 0 else {
            throw ParameterError("the filters removed every row; loosen them (steps: \(steps.map { "\($0.name): \($0.rows) rows left" }.joined(separator: "; ")))")
        }
        let (matrix, _, keptItems) = m.subset(keep: keep)
        let filtered = Dataset(name: dataset.name, interactions: matrix, catalog: dataset.catalog.subset(keptItems),
                               report: dataset.report, transform: dataset.transform)
        return (filtered, steps)
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
