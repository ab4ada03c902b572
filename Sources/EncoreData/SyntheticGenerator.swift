// A deterministic generator of MSD-like play logs. Users have power-law (Pareto) activity and
// songs power-law popularity; every artist belongs to one of a few genres ("taste
// communities"), and every user draws most songs from a primary and a secondary genre, so
// collaborative filtering has real signal. Songs carry plausible titles, releases, artists,
// years (some unknown) and their genre as a tag. Plays are heavy-tailed and higher inside the
// user's primary genre. Rows stream to disk user by user: memory is O(users + songs), never
// O(plays). Time O(plays) with O(1) alias-table draws.
import EncoreMath

/// Parameters of `encore generate`.
public struct GeneratorConfiguration: Codable, Sendable, Equatable {
    public var users: Int
    public var songs: Int
    /// Number of (user, song) rows to write.
    public var plays: Int
    public var seed: UInt64
    /// Tail index of user activity (smaller = heavier tail).
    public var userActivityAlpha: Double = 1.2
    /// Tail index of song popularity.
    public var songPopularityAlpha: Double = 1.0
    /// Share of a user's songs drawn from the primary genre, the secondary genre, and anywhere.
    public var primaryShare: Double = 0.65
    public var secondaryShare: Double = 0.2
    /// The most songs one user plays (the Taste Profile's heaviest users have about 4,400).
    public var maxSongsPerUser: Int = 5_000
    /// Share of users who just signed up: 1–4 songs each (the report's cold-start segment).
    public var newUserShare: Double = 0.03
    /// Write `count_data.csv` + `song_data.csv`, and `train_triplets.txt`.
    public var writeCourseFiles = true
    public var writeTriplets = true

    public init(users: Int, songs: Int, plays: Int, seed: UInt64) {
        self.users = users
        self.songs = songs
        self.plays = plays
        self.seed = seed
    }
}

/// What the generator wrote.
public struct GeneratorSummary: Codable, Sendable {
    public var users: Int
    public var songs: Int
    public var artists: Int
    public var rows: Int
    public var totalPlays: Int
    public var files: [String]
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case users, songs, artists, rows
        case totalPlays = "total_plays"
        case files, seconds
    }
}

/// Writes synthetic MSD-like datasets.
public enum SyntheticGenerator {
    public static let genres = ["rock", "pop", "hip hop", "electronic", "jazz", "classical", "metal", "country",
                                "folk", "r&b", "indie", "punk", "blues", "reggae", "soul", "latin"]

    public static func generate(_ c: GeneratorConfiguration, to directory: String, progress: Bool = ProgressReporter.stderrIsTerminal) throws -> GeneratorSummary {
        guard c.users > 0 else { throw ParameterError("--users must be positive, got \(c.users)") }
        guard c.songs > 0 else { throw ParameterError("--songs must be positive, got \(c.songs)") }
        guard c.plays >= c.users else { throw ParameterError("--plays (\(c.plays)) must be at least --users (\(c.users)): every user plays at least one song") }
        guard c.users < Int(Int32.max), c.songs < Int(Int32.max) else { throw ParameterError("at most 2^31 users and songs") }
        let maxPerUser = max(1, min(c.songs / 2, c.maxSongsPerUser))
        guard c.plays <= c.users * maxPerUser else {
            throw ParameterError("--plays (\(c.plays)) is more than users × min(songs/2, \(c.maxSongsPerUser)) (\(c.users * maxPerUser)); add songs or users")
        }
        guard c.primaryShare >= 0, c.secondaryShare >= 0, c.primaryShare + c.secondaryShare <= 1 else {
            throw ParameterError("genre shares must be non-negative and sum to at most 1")
        }
        try makeDirectory(directory)
        let start = MonotonicClock.now()
        var rng = SeededGenerator(seed: c.seed)
        let g = genres.count

        // Artists: genre, popularity, debut year, name, releases.
        let artistCount = max(min(g, c.songs), c.songs / 8)
        var artistGenre = [Int](repeating: 0, count: artistCount)
        var artistWeight = [Double](repeating: 0, count: artistCount)
        var artistYear = [Int](repeating: 0, count: artistCount)
        var artistName = [String](repeating: "", count: artistCount)
        for a in 0..<artistCount {
            artistGenre[a] = a < g ? a : rng.nextInt(below: g)
            artistWeight[a] = rng.nextPareto(alpha: 1.3)
            artistYear[a] = max(1954, 2010 - Int(-12 * _log(max(rng.nextDouble(), 1e-12))))
            artistName[a] = Words.artistName(&rng)
        }
        guard let artistTable = AliasTable(weights: artistWeight) else { throw ParameterError("cannot build the artist table") }

        // Songs: artist (so artists have several songs), popularity, id, title, release, year.
        var songArtist = [Int32](repeating: 0, count: c.songs)
        var songWeight = [Double](repeating: 0, count: c.songs)
        var songIDs = [UInt8](repeating: 0, count: c.songs * 18)
        for s in 0..<c.songs {
            let a = s < artistCount ? s : artistTable.sample(using: &rng)
            songArtist[s] = Int32(a)
            songWeight[s] = rng.nextPareto(alpha: c.songPopularityAlpha) * artistWeight[a].squareRoot()
            Words.songID(seed: c.seed, index: s, into: &songIDs, at: s * 18)
        }
        var files: [String] = []
        // Every file goes to a temporary name and all are renamed into place at the end, so a full
        // disk or any other failure leaves no truncated CSV behind (the writers remove their
        // temporary files when dropped).
        var songData: BufferedFileWriter? = nil
        if c.writeCourseFiles {
            let path = joinPath(directory, "song_data.csv")
            var w = try BufferedFileWriter(path: path)
            w.write("song_id,title,release,artist_name,year,tags\n")
            var releaseOf: [Int: [String]] = [:]
            for s in 0..<c.songs {
                let a = Int(songArtist[s])
                if releaseOf[a] == nil { releaseOf[a] = (0..<(1 + rng.nextInt(below: 3))).map { _ in Words.release(&rng) } }
                let releases = releaseOf[a]!
                let year = rng.nextDouble() < 0.12 ? 0 : min(2010, artistYear[a] + rng.nextInt(below: 6))
                songIDs.withUnsafeBufferPointer { w.write(bytes: UnsafeBufferPointer(rebasing: $0[(s * 18)..<(s * 18 + 18)])) }
                w.write(",")
                w.write(csvQuoted(Words.title(&rng)))
                w.write(",")
                w.write(csvQuoted(releases[rng.nextInt(below: releases.count)]))
                w.write(",")
                w.write(csvQuoted(artistName[a]))
                w.write(",\(year),")
                w.write(csvQuoted(genres[artistGenre[a]]))
                w.write("\n")
            }
            try w.flush()
            songData = w
            files.append(path)
        }

        // Per-genre song tables and a global one.
        var genreSongs = [[Int32]](repeating: [], count: g)
        for s in 0..<c.songs { genreSongs[artistGenre[Int(songArtist[s])]].append(Int32(s)) }
        let genreTables = genreSongs.map { list in AliasTable(weights: list.map { songWeight[Int($0)] }) }
        guard let globalTable = AliasTable(weights: songWeight) else { throw ParameterError("cannot build the song table") }
        let genreMass = genreSongs.map { $0.reduce(0.0) { $0 + songWeight[Int($1)] } }
        guard let genreTable = AliasTable(weights: genreMass) else { throw ParameterError("cannot build the genre table") }

        // Rows per user: Pareto activity scaled so the capped total equals the requested plays.
        // New users (activity < 0 marks them) get a fixed 1–4 songs; the rest share the remainder.
        var activity = [Double](repeating: 0, count: c.users)
        for u in 0..<c.users {
            activity[u] = rng.nextPareto(alpha: c.userActivityAlpha)
            if c.plays >= 8 * c.users && rng.nextDouble() < c.newUserShare {
                activity[u] = -Double(1 + rng.nextInt(below: min(4, maxPerUser)))
            }
        }
        let cap = Double(maxPerUser)
        @inline(__always) func rows(_ a: Double, _ scale: Double) -> Double { a < 0 ? -a : min(cap, max(1, a * scale)) }
        func total(_ scale: Double) -> Double { activity.reduce(0) { $0 + rows($1, scale) } }
        var lo = 0.0, hi = 1.0
        while total(hi) < Double(c.plays) && hi < 1e18 { hi *= 2 }
        for _ in 0..<100 {
            let mid = (lo + hi) / 2
            if total(mid) < Double(c.plays) { lo = mid } else { hi = mid }
        }
        let scale = hi

        var course: BufferedFileWriter? = nil
        var triplets: BufferedFileWriter? = nil
        if c.writeCourseFiles {
            course = try BufferedFileWriter(path: joinPath(directory, "count_data.csv"))
            course?.write(",user_id,song_id,play_count\n")
        }
        if c.writeTriplets { triplets = try BufferedFileWriter(path: joinPath(directory, "train_triplets.txt")) }
        let bar = ProgressReporter(label: "generating", total: Double(c.plays), enabled: progress)
        var stamp = [Int32](repeating: -1, count: c.songs)
        var cumulative = 0.0
        var written = 0
        var totalPlays = 0
        var line = [UInt8]()
        line.reserveCapacity(128)
        var userID = [UInt8](repeating: 0, count: 40)
        for u in 0..<c.users {
            let target = rows(activity[u], scale)
            let before = Int(cumulative.rounded())
            cumulative += target
            var n = max(1, Int(cumulative.rounded()) - before)
            if u == c.users - 1 { n = max(1, c.plays - written) }
            n = min(n, maxPerUser)
            Words.userID(seed: c.seed, index: u, into: &userID)
            let primary = genreTable.sample(using: &rng)
            var secondary = rng.nextInt(below: g)
            if secondary == primary { secondary = (secondary + 1) % g }
            let intensity = _exp(0.6 * rng.nextGaussian())
            var chosen = 0
            var attempts = 0
            while chosen < n {
                attempts += 1
                let r = rng.nextDouble()
                var song: Int
                var fromPrimary = false
                if r < c.primaryShare, let t = genreTables[primary] {
                    song = Int(genreSongs[primary][t.sample(using: &rng)])
                    fromPrimary = true
                } else if r < c.primaryShare + c.secondaryShare, let t = genreTables[secondary] {
                    song = Int(genreSongs[secondary][t.sample(using: &rng)])
                } else {
                    song = globalTable.sample(using: &rng)
                }
                if stamp[song] == Int32(u) {
                    // Saturated popular songs: fall back to a uniform draw to finish the user.
                    guard attempts > 20 * n else { continue }
                    song = rng.nextInt(below: c.songs)
                    if stamp[song] == Int32(u) { continue }
                }
                stamp[song] = Int32(u)
                var count = rng.nextPareto(alpha: 1.7) * intensity * (fromPrimary ? 1.6 : 1)
                count = min(count, 9_667)
                let plays = max(1, Int(count))
                totalPlays += plays
                // count_data.csv: index,user,song,plays
                if course != nil {
                    line.removeAll(keepingCapacity: true)
                    appendDecimal(&line, written)
                    line.append(UInt8(ascii: ","))
                    line.append(contentsOf: userID)
                    line.append(UInt8(ascii: ","))
                    line.append(contentsOf: songIDs[(song * 18)..<(song * 18 + 18)])
                    line.append(UInt8(ascii: ","))
                    appendDecimal(&line, plays)
                    line.append(UInt8(ascii: "\n"))
                    line.withUnsafeBufferPointer { course?.write(bytes: $0) }
                }
                if triplets != nil {
                    line.removeAll(keepingCapacity: true)
                    line.append(contentsOf: userID)
                    line.append(9)
                    line.append(contentsOf: songIDs[(song * 18)..<(song * 18 + 18)])
                    line.append(9)
                    appendDecimal(&line, plays)
                    line.append(UInt8(ascii: "\n"))
                    line.withUnsafeBufferPointer { triplets?.write(bytes: $0) }
                }
                chosen += 1
                written += 1
            }
            if u & 0x3FF == 0 { bar.update(Double(written)) }
        }
        bar.finish()
        try course?.flush()
        try triplets?.flush()
        if var w = course { try w.close(); files.insert(joinPath(directory, "count_data.csv"), at: 0) }
        if var w = songData { try w.close() }
        if var w = triplets { try w.close(); files.append(joinPath(directory, "train_triplets.txt")) }
        let usedArtists = Set(songArtist).count
        return GeneratorSummary(users: c.users, songs: c.songs, artists: usedArtists, rows: written, totalPlays: totalPlays,
                                files: files, seconds: MonotonicClock.now() - start)
    }

    @inline(__always)
    static func appendDecimal(_ out: inout [UInt8], _ value: Int) {
        if value == 0 { out.append(48); return }
        var v = value
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 {
                d[n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            }
            for k in stride(from: n - 1, through: 0, by: -1) { out.append(d[k]) }
        }
    }

    /// RFC 4180 quoting when the text holds a comma, a quote or a line break.
    public static func csvQuoted(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Word lists and id formats for plausible synthetic metadata.
enum Words {
    static let adjectives = ["Blue", "Electric", "Silent", "Golden", "Broken", "Wild", "Midnight", "Crimson", "Lonely", "Neon",
                             "Frozen", "Burning", "Sweet", "Dark", "Velvet", "Hollow", "Bright", "Secret", "Lost", "Radiant"]
    static let nouns = ["Heart", "River", "Dream", "Fire", "Road", "Sky", "Ocean", "Shadow", "City", "Light",
                        "Rain", "Echo", "Garden", "Mirror", "Storm", "Horizon", "Machine", "Letter", "Window", "Summer"]
    static let first = ["Anna", "Marco", "Lena", "Omar", "Sofia", "Kenji", "Maya", "Lucas", "Ines", "Tomas", "Zoë", "Björn", "Chloé", "José"]
    static let last = ["Rivers", "Novak", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Costa", "Haddad", "Kowalski", "Duarte"]

    static func pick(_ list: [String], _ rng: inout SeededGenerator) -> String { list[rng.nextInt(below: list.count)] }

    static func artistName(_ rng: inout SeededGenerator) -> String {
        switch rng.nextInt(below: 5) {
        case 0: "The \(pick(adjectives, &rng)) \(pick(nouns, &rng))s"
        case 1: "\(pick(first, &rng)) \(pick(last, &rng))"
        case 2: "DJ \(pick(nouns, &rng))"
        case 3: "\(pick(first, &rng)) & the \(pick(nouns, &rng))s"
        default: "\(pick(adjectives, &rng)) \(pick(nouns, &rng))"
        }
    }

    static func title(_ rng: inout SeededGenerator) -> String {
        switch rng.nextInt(below: 8) {
        case 0: "\(pick(adjectives, &rng)) \(pick(nouns, &rng))"
        case 1: "\(pick(nouns, &rng)) of the \(pick(nouns, &rng))"
        case 2: "The \(pick(nouns, &rng))"
        case 3: "Love, \(pick(nouns, &rng))"
        case 4: "\"\(pick(nouns, &rng))\" (Live)"
        case 5: "\(pick(adjectives, &rng)) \(pick(nouns, &rng)) (Remix)"
        case 6: "Hold On, \(pick(adjectives, &rng)) \(pick(nouns, &rng))"
        default: "\(pick(nouns, &rng)) \(pick(nouns, &rng))"
        }
    }

    static func release(_ rng: inout SeededGenerator) -> String {
        switch rng.nextInt(below: 4) {
        case 0: "\(pick(adjectives, &rng)) \(pick(nouns, &rng))s"
        case 1: "Songs from the \(pick(nouns, &rng))"
        case 2: "\(pick(nouns, &rng)), \(pick(nouns, &rng)) & \(pick(nouns, &rng))"
        default: "\(pick(nouns, &rng))"
        }
    }

    static let hex = Array("0123456789abcdef".utf8)
    static let base36 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    /// A 40-hex-digit user id like the Taste Profile's, unique per (seed, index).
    static func userID(seed: UInt64, index: Int, into out: inout [UInt8]) {
        var rng = SeededGenerator(seed: seed, stream: 0x5553_4552 &+ UInt64(index) &* 0x100000001B3)
        // The index goes in the first 8 digits so ids never collide.
        var v = UInt64(index)
        for k in 0..<8 { out[7 - k] = hex[Int(v & 15)]; v >>= 4 }
        var r = rng.next()
        for k in 8..<40 {
            if k == 24 { r = rng.next() }
            out[k] = hex[Int(r & 15)]
            r >>= 4
        }
    }

    /// An MSD-style song id "SO" + 16 base-36 characters; the last 6 encode the index, so ids are unique.
    static func songID(seed: UInt64, index: Int, into out: inout [UInt8], at offset: Int) {
        var rng = SeededGenerator(seed: seed, stream: 0x534F_4E47 &+ UInt64(index))
        out[offset] = UInt8(ascii: "S")
        out[offset + 1] = UInt8(ascii: "O")
        var r = rng.next()
        for k in 0..<10 {
            out[offset + 2 + k] = base36[Int(r % 26)]
            r /= 26
        }
        var v = UInt64(index)
        for k in 0..<6 {
            out[offset + 17 - k] = base36[Int(v % 36)]
            v /= 36
        }
    }
}

/// Seconds on a monotonic clock.
public enum MonotonicClock {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

func makeDirectory(_ path: String) throws {
    if directoryExists(path) { return }
    if InputFile.exists(path) { throw FileWriteError(path: path, reason: .failed("it exists and is not a directory")) }
    var partial = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        partial += "/" + component
        if !directoryExists(partial) && mkdir(partial, 0o755) != 0 && errno != EEXIST {
            throw FileWriteError(path: path, reason: .failed("cannot create the directory \(partial): \(String(cString: strerror(errno)))"))
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#endif

/// File-system helpers the commands share.
public enum FileSystem {
    /// Creates a directory and its parents; fine when it exists.
    public static func makeDirectory(_ path: String) throws { try EncoreData.makeDirectory(path) }
}
