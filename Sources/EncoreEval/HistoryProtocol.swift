// The history protocol: ranking metrics for a model that may have been trained on other plays
// (a registry's active version against a retrain's candidate). Each test user's training row is
// handed to the model as a listening history (fold-in, `HistoryRecommender`), its songs mapped to
// the model's own song numbers by id and its plays put on the model's value scale; the model's
// top-k, mapped back, is scored against the user's held-out songs with the ranking protocol's
// metrics (precision, recall, F1, hit rate, MAP, NDCG, novelty, coverage at 10 and 30). A song
// the model never saw cannot be in its list, and a history of songs it never saw gets an empty
// list: that is what an old model costs. For a model fitted on `train` itself, a training user's
// row as a history gives the trained scores, so candidate and active version are measured alike.
// O(test users · (history + model's scoring)).
import EncoreData
import EncoreMath
import EncoreModels

public enum HistoryProtocol {
    /// Metrics of `model` (its plays transformed by `transform`) on `test`, with `train`'s rows as
    /// the histories; `users` is how many test users were ranked.
    public static func evaluate(model: any HistoryRecommender, transform: ValueTransform, train: InteractionMatrix,
                                test: InteractionMatrix) -> (metrics: [String: Double], users: Int) {
        let kMax = RankingProtocol.cutoffs.max() ?? 10
        let known = model.train
        // The model's song number of each of our songs, and ours of each of the model's.
        let toModel = (0..<train.itemCount).map { known.items.index(of: train.items[$0]) ?? -1 }
        let toOurs = (0..<known.itemCount).map { train.items.index(of: known.items[$0]) ?? -1 }
        let evaluated = (0..<test.userCount).filter { !test.rowRange($0).isEmpty && $0 < train.userCount && !train.rowRange($0).isEmpty }
        let lists: [[Int]] = ParallelLoop.mapChunks(count: evaluated.count, chunks: ParallelLoop.defaultWorkers * 4) { range in
            range.map { n -> [Int] in
                let u = evaluated[n]
                var items: [Int] = [], weights: [Float] = []
                for k in train.rowRange(u) {
                    let i = toModel[Int(train.columnIndices[k])]
                    let w = transform.apply(train.values[k])
                    if i >= 0, w.isFinite, w > 0 { items.append(i); weights.append(w) }
                }
                guard let history = try? UserHistory(items: items, weights: weights, itemCount: known.itemCount), !history.isEmpty else { return [] }
                return model.recommend(history: history, k: kMax).map { toOurs[$0.item] }.filter { $0 >= 0 }
            }
        }.flatMap { $0 }
        let metrics = RankingMetrics.summarise(lists: lists, relevant: evaluated.map { Set(test.row($0).items.map { Int($0) }) },
                                               popularity: train.itemDegrees(), users: (0..<train.userCount).filter { !train.rowRange($0).isEmpty }.count,
                                               itemCount: train.itemCount)
        return (metrics, evaluated.count)
    }
}
