// Whether a dataset can name the songs of a model: it must be the data the model was trained on,
// or the dataset a training split came from. Every training play of the model (user id, song id)
// must be in it; otherwise ids that happen to coincide (Last.fm artist 289 and MovieLens movie
// 289) would put one catalogue's titles on another's songs. O(nnz log row length).

/// Checks a catalogue dataset against a model's training matrix.
public enum CatalogMatch {
    /// Throws when `dataset` does not contain every (user, song) pair of `train`; `source` names it in the message.
    public static func check(_ dataset: Dataset, describes train: InteractionMatrix, source: String) throws {
        let m = dataset.interactions
        var missing = 0
        for u in 0..<train.userCount {
            let row = train.rowRange(u)
            guard let du = m.users.index(of: train.users[u]) else {
                missing += row.count
                continue
            }
            for k in row {
                guard let di = m.items.index(of: train.items[Int(train.columnIndices[k])]), m.value(user: du, item: di) != nil else {
                    missing += 1
                    continue
                }
            }
        }
        guard missing == 0 else {
            throw DataError(file: source, problem: .inconsistent(
                "this dataset comes from other data than the model: \(missing) of the model's \(train.nnz) training plays are not in it; give the dataset the model was trained on (or the one its split came from)"))
        }
    }
}
