"""The Python side of the ranking benchmark: implicit's ALS, BPR and ItemItem (cosine), a numpy
EASE (dual form) and most-popular, on the shared lastfm-2k split, scored with DESIGN.md's metric
definitions (the same as `encore evaluate --protocol ranking`). Prints one JSON object per model.
Also `als-speed DIR`: implicit ALS seconds per iteration on a generated count_data.csv."""
import json
import math
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

THREADS = 2


def load(split_dir):
    train = pd.read_csv(f"{split_dir}/train.tsv", sep="\t", dtype={"user": str, "item": str})
    test = pd.read_csv(f"{split_dir}/test.tsv", sep="\t", dtype={"user": str, "item": str})
    users = {u: n for n, u in enumerate(pd.unique(pd.concat([train["user"], test["user"]])))}
    items = {i: n for n, i in enumerate(pd.unique(pd.concat([train["item"], test["item"]])))}
    shape = (len(users), len(items))
    def csr(df, values):
        return sp.csr_matrix((values, (df["user"].map(users), df["item"].map(items))), shape=shape, dtype=np.float32)
    return csr(train, train["plays"].to_numpy(np.float32)), csr(test, np.ones(len(test), np.float32))


def metrics(scores_fn, train, test, k_values=(10, 30)):
    n_users_train = int((np.diff(train.indptr) > 0).sum())
    pop = np.diff(train.tocsc().indptr)
    users = [u for u in range(test.shape[0]) if test.indptr[u + 1] > test.indptr[u]]
    start = time.perf_counter()
    lists = {}
    for u in users:
        s = scores_fn(u).astype(np.float64).copy()
        s[train.indices[train.indptr[u]:train.indptr[u + 1]]] = -np.inf
        top = np.argsort(-s, kind="stable")[:max(k_values)]
        lists[u] = [int(i) for i in top if np.isfinite(s[i])]
    seconds = time.perf_counter() - start
    out = {"recommend_seconds": seconds, "users_evaluated": len(users)}
    for k in k_values:
        p = r = ap = nd = h = nov = 0.0
        distinct = set()
        for u in users:
            rel = set(test.indices[test.indptr[u]:test.indptr[u + 1]].tolist())
            top = lists[u][:k]
            hits, dcg, aps = 0, 0.0, 0.0
            for n, i in enumerate(top):
                if i in rel:
                    hits += 1
                    dcg += 1 / math.log2(n + 2)
                    aps += hits / (n + 1)
                nov += 0
            ideal = min(k, len(rel))
            idcg = sum(1 / math.log2(n + 2) for n in range(ideal))
            p += hits / k; r += hits / len(rel); h += hits > 0; ap += aps / ideal; nd += dcg / idcg
            nov += (sum(-math.log2(max(pop[i], 1) / n_users_train) for i in top) / len(top)) if top else 0
            distinct.update(top)
        n = len(users)
        out.update({f"precision_at_{k}": p / n, f"recall_at_{k}": r / n, f"ndcg_at_{k}": nd / n, f"map_at_{k}": ap / n,
                    f"hit_rate_at_{k}": h / n, f"novelty_at_{k}": nov / n, f"coverage_at_{k}": len(distinct) / train.shape[1]})
    return out


def run(split_dir, name):
    import implicit
    train, test = load(split_dir)
    binary = train.copy(); binary.data[:] = 1
    start = time.perf_counter()
    with threadpool_limits(limits=1 if name != "ease" else THREADS):
        if name == "most-popular":
            pop = np.diff(train.tocsc().indptr).astype(np.float32)
            fit = time.perf_counter() - start
            scores = lambda u: pop
        elif name == "item-knn":
            model = implicit.nearest_neighbours.CosineRecommender(K=100, num_threads=THREADS)
            model.fit(binary, show_progress=False)
            fit = time.perf_counter() - start
            scores = lambda u: np.asarray(binary[u].dot(model.similarity).todense()).ravel()
        elif name in ("als", "als-linear"):
            conf = train.copy()
            conf.data = 1 + (np.log1p(conf.data) if name == "als" else conf.data)
            model = implicit.cpu.als.AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15, random_state=42,
                                                             num_threads=THREADS, calculate_training_loss=False)
            model.fit(conf, show_progress=False)
            fit = time.perf_counter() - start
            scores = lambda u: model.item_factors @ model.user_factors[u]
        elif name == "bpr":
            model = implicit.cpu.bpr.BayesianPersonalizedRanking(factors=64, learning_rate=0.01, regularization=0.01, iterations=100,
                                                                 random_state=42, num_threads=THREADS)
            model.fit(binary, show_progress=False)
            fit = time.perf_counter() - start
            scores = lambda u: model.item_factors @ model.user_factors[u]
        elif name == "ease":
            X = binary.toarray()
            K = np.linalg.inv(X @ X.T + 100 * np.eye(X.shape[0], dtype=np.float32))
            KX = K @ X
            diag = (1 - (X * KX).sum(axis=0)) / 100
            S = X - KX / np.where(diag == 0, 1, diag)
            S[:, diag == 0] = -np.inf
            fit = time.perf_counter() - start
            scores = lambda u: S[u]
        else:
            raise SystemExit(f"unknown model {name}")
        result = metrics(scores, train, test)
    result["fit_seconds"] = fit
    print(json.dumps(result))


def als_speed(data_dir, iterations):
    import implicit
    df = pd.read_csv(f"{data_dir}/count_data.csv", index_col=0)
    users = {u: n for n, u in enumerate(pd.unique(df["user_id"]))}
    items = {i: n for n, i in enumerate(pd.unique(df["song_id"]))}
    conf = sp.csr_matrix((1 + np.log1p(df["play_count"].to_numpy(np.float32)), (df["user_id"].map(users), df["song_id"].map(items))),
                         shape=(len(users), len(items)), dtype=np.float32)
    with threadpool_limits(limits=1):
        model = implicit.cpu.als.AlternatingLeastSquares(factors=64, regularization=0.05, iterations=iterations, random_state=42,
                                                         num_threads=THREADS, calculate_training_loss=False)
        start = time.perf_counter()
        model.fit(conf, show_progress=False)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds_per_iteration": seconds / iterations, "nnz": conf.nnz}))


if __name__ == "__main__":
    if sys.argv[1] == "als-speed":
        als_speed(sys.argv[2], int(sys.argv[3]))
    else:
        run(sys.argv[1], sys.argv[2])
