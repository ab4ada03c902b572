// The report's new-song playlist: "cluster those songs and explicitly create a new song playlist".
// A song is new when it was added to the catalogue within `added_within_days` (when the caller
// knows added dates) or has fewer than `fewer_listeners_than` training listeners. New songs have no
// plays, so they are clustered by content: each song cluster of the clustering hybrid gets the
// content direction of its most played songs, and a new song joins the cluster it is closest to.
// For a listener, a new song scores
//   content_weight · cos(song, play-weighted content profile) + cluster_weight · (share of the
//   listener's songs in the new song's cluster).
// Build: O(clusters · content scoring); per listener: one content scoring, O(new songs).
import EncoreData
import EncoreMath
import EncoreModels

/// When a song is new and how the playlist weighs content against cluster match.
public struct NewSongRules: Codable, Sendable, Equatable {
    public var fewerListenersThan: Int = 1
    public var addedWithinDays: Double = 30
    public var contentWeight: Double = 0.7
    public var clusterWeight: Double = 0.3

    public init() {}

    enum CodingKeys: String, CodingKey {
        case fewerListenersThan = "fewer_listeners_than", addedWithinDays = "added_within_days"
        case contentWeight = "content_weight", clusterWeight = "cluster_weight"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = NewSongRules()
        fewerListenersThan = try c.decodeIfPresent(Int.self, forKey: .fewerListenersThan) ?? d.fewerListenersThan
        addedWithinDays = try c.decodeIfPresent(Double.self, forKey: .addedWithinDays) ?? d.addedWithinDays
        contentWeight = try c.decodeIfPresent(Double.self, forKey: .contentWeight) ?? d.contentWeight
        clusterWeight = try c.decodeIfPresent(Double.self, forKey: .clusterWeight) ?? d.clusterWeight
    }

    public func validate() throws {
        guard fewerListenersThan >= 0 else { throw PolicyError("new_songs.fewer_listeners_than must be ≥ 0") }
        guard addedWithinDays.isFinite, addedWithinDays >= 0 else { throw PolicyError("new_songs.added_within_days must be ≥ 0") }
        guard contentWeight.isFinite, clusterWeight.isFinite, contentWeight >= 0, clusterWeight >= 0, contentWeight + clusterWeight > 0 else {
            throw PolicyError("new_songs: content_weight and cluster_weight must be ≥ 0 and not both 0")
        }
    }
}

/// New songs, their content clusters, and the ranking for a listener.
public struct NewSongPlaylist: Sendable {
    public let rules: NewSongRules
    /// Item indices of the new songs.
    public let songs: [Int]
    /// The song cluster of every item: the clustering hybrid's label for played songs, the nearest
    /// cluster by content for new ones; -1 when there is none.
    public let cluster: [Int]
    let content: any HistoryRecommender
    let listeners: [Int]

    /// `addedDays[i]`: days since song i was added (nil when unknown); `clustering` gives the clusters of played songs.
    public init(train: InteractionMatrix, content: any HistoryRecommender, clustering: ClusteringHybrid?, rules: NewSongRules = NewSongRules(),
                addedDays: [Double?]? = nil) throws {
        try rules.validate()
        self.rules = rules
        self.content = content
        let degrees = train.itemDegrees()
        listeners = degrees
        songs = (0..<train.itemCount).filter { i in
            if degrees[i] < rules.fewerListenersThan { return true }
            if let addedDays, i < addedDays.count, let d = addedDays[i], d <= rules.addedWithinDays { return true }
            return false
        }
        var cluster = [Int](repeating: -1, count: train.itemCount)
        if let clustering {
            for i in 0..<train.itemCount where degrees[i] > 0 { cluster[i] = Int(clustering.itemLabels[i]) }
            // Each cluster's content direction: its 200 most played songs as a history.
            let clusters = clustering.configuration.itemClusters
            var members = [[Int]](repeating: [], count: clusters)
            for i in 0..<train.itemCount where cluster[i] >= 0 && cluster[i] < clusters { members[cluster[i]].append(i) }
            var best = [Float](repeating: -.infinity, count: train.itemCount)
            var label = [Int](repeating: -1, count: train.itemCount)
            for (c, m) in members.enumerated() where !m.isEmpty {
                let top = m.sorted { degrees[$0] != degrees[$1] ? degrees[$0] > degrees[$1] : $0 < $1 }.prefix(200)
                guard let h = try? UserHistory(items: Array(top), itemCount: train.itemCount) else { continue }
                let s = content.scoreAll(history: h)
                for i in songs where i < s.count && s[i].isFinite && s[i] > best[i] { best[i] = s[i]; label[i] = c }
            }
            for i in songs where degrees[i] == 0 { cluster[i] = label[i] }
        }
        self.cluster = cluster
    }

    /// Scores of every item for a listener: the playlist's formula for new songs not in the history, -infinity elsewhere.
    public func scoreAll(history: UserHistory) -> [Float] {
        var out = [Float](repeating: -.infinity, count: cluster.count)
        guard !songs.isEmpty else { return out }
        // Only the new songs' similarities are needed; the transformer computes just those.
        var sim = [Float](repeating: 0, count: cluster.count)
        if !history.isEmpty {
            if let t = content as? TransformerRecommender {
                for (i, v) in zip(songs, t.scores(history: history, items: songs)) { sim[i] = v }
            } else {
                sim = content.scoreAll(history: history)
            }
        }
        var share: [Int: Double] = [:]
        for i in history.items where i < cluster.count && cluster[i] >= 0 { share[cluster[i], default: 0] += 1 }
        let n = Double(max(history.count, 1))
        let played = Set(history.items)
        for i in songs where !played.contains(i) {
            let c = i < sim.count && sim[i].isFinite ? Double(sim[i]) : 0
            let m = cluster[i] >= 0 ? (share[cluster[i]] ?? 0) / n : 0
            out[i] = Float(rules.contentWeight * c + rules.clusterWeight * m)
        }
        return out
    }

    /// The playlist for a listener, best first, with reasons.
    public func playlist(history: UserHistory, k: Int, excluding: Set<Int> = []) -> [ScoredItem] {
        var s = scoreAll(history: history)
        for e in excluding where e >= 0 && e < s.count { s[e] = -.infinity }
        return TopScores.select(s, k: k).map { ScoredItem(item: $0.index, score: Double($0.score), explanation: explanation($0.index)) }
    }

    /// The sentence-encoder folder of the content model, when it embeds songs (songs that arrive
    /// after the snapshot are embedded with it).
    public var contentModelDirectory: String? {
        guard let t = content as? TransformerRecommender, t.dimension > 0 else { return nil }
        return t.configuration.modelDirectory
    }

    /// The playlist's content term for a song that arrived after the snapshot (no listeners, no
    /// cluster yet): content weight × cosine of its unit embedding with the history's profile.
    public func arrivalScore(embedding: [Float], history: UserHistory) -> Float {
        guard let t = content as? TransformerRecommender, t.dimension > 0, t.dimension == embedding.count, !history.isEmpty else { return 0 }
        let p = t.profile(history)
        let dot = p.withUnsafeBufferPointer { a in embedding.withUnsafeBufferPointer { b in VectorKernels.dot(a.baseAddress!, b.baseAddress!, p.count) } }
        return Float(rules.contentWeight) * dot
    }

    /// Why a new song is on the list.
    public func explanation(_ i: Int) -> Explanation {
        let who = listeners[i] == 0 ? "no listeners yet" : "\(listeners[i]) listener\(listeners[i] == 1 ? "" : "s")"
        let c = cluster[i] >= 0 ? ", song cluster \(cluster[i])" : ""
        return Explanation(kind: .newSong, sentence: "new song (\(who)\(c)), close to your taste in content and cluster")
    }
}
