// Encore's default policy: the output of `encore policy tune` on the training side of the shared
// Last.fm split (a 20% per-user validation split of it, seed 42; the test side is never read),
// with the default floor: low-discovery users get at least 30% more novelty@10 than the most
// accurate single source. The models' decisive hyper-parameters were chosen by the same run.
// On other data, tune your own: `encore policy tune --data DATA --output my-policy.json`.
import EncoreModels

extension Policy {
    public static let tuned = Policy(
        name: "default",
        description: "Encore's default: per-segment blends of EASE, ALS, item-KNN, content neighbours and the new-song playlist, tuned on the Last.fm training split; low-discovery users get ≥ 30% more novelty than the most accurate single model.",
        models: ["ease": #"{"lambda": 100}"#, "als": #"{"factors": 32, "regularization": 0.05}"#, "item-knn": #"{"k": 800}"#],
        recipes: [
            .coldStart: Recipe(mode: .blend, sources: [
                RecipePart(.model("ease"), weight: 0.5), RecipePart(.model("als"), weight: 1), RecipePart(.model("item-knn"), weight: 0.75),
                RecipePart(.content, weight: 2), RecipePart(.newSongs, weight: 2)]),
            .lowEngagement: Recipe(mode: .blend, sources: [
                RecipePart(.model("ease"), weight: 0.1), RecipePart(.model("als"), weight: 1.5), RecipePart(.model("item-knn"), weight: 2),
                RecipePart(.popular, weight: 0.05), RecipePart(.content, weight: 4), RecipePart(.newSongs, weight: 4)]),
            .lowDiscovery: Recipe(mode: .blend, sources: [
                RecipePart(.model("ease"), weight: 0.05), RecipePart(.model("als"), weight: 1), RecipePart(.model("item-knn"), weight: 0.75),
                RecipePart(.popular, weight: 0.1), RecipePart(.content, weight: 0.25), RecipePart(.newSongs, weight: 4)]),
            .regular: Recipe(mode: .blend, sources: [
                RecipePart(.model("ease"), weight: 1), RecipePart(.model("als"), weight: 2), RecipePart(.model("item-knn"), weight: 2),
                RecipePart(.popular, weight: 0.05), RecipePart(.clusterMates, weight: 0.05), RecipePart(.content, weight: 4), RecipePart(.newSongs, weight: 4)]),
        ])
}
