// Why a song is on a list, as data: the kind of reason, the songs behind it and a sentence. An
// API or a dashboard needs the kind and the songs; a terminal needs the sentence.

/// A structured reason for a recommended or similar song.
public struct Explanation: Sendable, Equatable, Codable {
    /// The kinds of reasons Encore gives.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Among the most popular songs.
        case popular
        /// A discovery pick from a popularity-percentile bucket.
        case discovery
        /// Close to songs the listener played (collaborative neighbours or factors).
        case becauseYouPlayed = "because_you_played"
        /// Close in content (shared terms, embeddings) to a song.
        case similarContent = "similar_content"
        /// Often played by the same listeners as a song.
        case listenedTogether = "listened_together"
        /// Played by the listener's cluster mates.
        case clusterMates = "cluster_mates"
        /// New in the catalogue, matched to the listener's taste.
        case newSong = "new_song"
        /// Chosen by a model from the listener's history.
        case model
    }

    public var kind: Kind
    /// Item indices of the songs behind the reason (played songs, the query song), best first.
    public var songs: [Int]
    /// The reason in words.
    public var sentence: String

    public init(kind: Kind, songs: [Int] = [], sentence: String) {
        self.kind = kind
        self.songs = songs
        self.sentence = sentence
    }
}
