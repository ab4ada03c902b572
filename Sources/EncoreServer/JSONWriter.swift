// The hot responses (lists of songs) written straight into bytes: Foundation's JSONEncoder took a
// fifth of a recommendation request's time on Linux. Strings are escaped per RFC 8259; numbers that
// are not finite are written as 0.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 4_096) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: StaticString) { s.withUTF8Buffer { bytes.append(contentsOf: $0) } }

    mutating func string(_ s: String) {
        bytes.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)
            case 0x09: bytes.append(0x5C); bytes.append(0x74)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
    }

    mutating func number(_ v: Double) { bytes.append(contentsOf: (v.isFinite ? "\(v)" : "0").utf8) }
    mutating func number(_ v: Int) { bytes.append(contentsOf: String(v).utf8) }
    mutating func bool(_ v: Bool) { v ? raw("true") : raw("false") }

    /// `"key":` (keys are ASCII literals).
    mutating func key(_ k: StaticString) {
        bytes.append(0x22)
        raw(k)
        bytes.append(0x22)
        bytes.append(0x3A)
    }

    mutating func comma() { bytes.append(0x2C) }
}

extension Routes.ItemBody {
    func write(to w: inout JSONWriter) {
        w.raw("{"); w.key("song"); w.string(song); w.comma(); w.key("title"); w.string(title); w.comma(); w.key("artist"); w.string(artist)
        w.comma(); w.key("score"); w.number(score); w.comma(); w.key("source"); w.string(source); w.comma(); w.key("reason")
        w.raw("{"); w.key("kind"); w.string(reason.kind); w.comma(); w.key("sentence"); w.string(reason.sentence); w.comma(); w.key("songs"); w.raw("[")
        for (n, s) in reason.songs.enumerated() {
            if n > 0 { w.comma() }
            w.string(s)
        }
        w.raw("]}}")
    }
}

extension Routes.RecommendationsBody {
    func json() -> [UInt8] {
        var w = JSONWriter(capacity: 256 + items.count * 256)
        w.raw("{"); w.key("request_id"); w.string(request_id); w.comma(); w.key("user"); w.string(user); w.comma()
        w.key("known_user"); w.bool(known_user); w.comma(); w.key("segment"); w.raw("{"); w.key("name"); w.string(segment.name); w.comma()
        w.key("reason"); w.string(segment.reason); w.comma(); w.key("values"); w.raw("{"); w.key("songs"); w.number(segment.values.songs); w.comma()
        w.key("plays"); w.number(segment.values.plays); w.comma(); w.key("popularity_percentile"); w.number(segment.values.popularity_percentile); w.comma()
        w.key("top_share"); w.number(segment.values.top_share); w.raw("}}"); w.comma()
        w.key("policy"); w.string(policy); w.comma(); w.key("arm"); w.string(arm); w.comma(); w.key("folded_in_songs"); w.number(folded_in_songs); w.comma()
        w.key("items"); w.raw("[")
        for (n, i) in items.enumerated() {
            if n > 0 { w.comma() }
            i.write(to: &w)
        }
        w.raw("]}")
        return w.bytes
    }
}
