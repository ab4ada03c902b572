"""The k-means benchmark: scikit-learn's KMeans (Lloyd, k-means++, 2 threads) against Encore's
(`encore-bench-kmeans`) on the same Float32 matrices: the lastfm-2k user matrix (log1p plays,
1,892 × 17,632, dense) and a generated 1,000,000 × 64 matrix (12 Gaussian blobs). Prints JSON."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits


def lastfm_matrix(shared):
    df = pd.read_csv(f"{shared}/data/lastfm-2k/user_artists.dat", sep="\t")
    users = {u: n for n, u in enumerate(pd.unique(df["userID"]))}
    items = {i: n for n, i in enumerate(pd.unique(df["artistID"]))}
    x = np.zeros((len(users), len(items)), dtype=np.float32)
    x[df["userID"].map(users), df["artistID"].map(items)] = np.log1p(df["weight"].to_numpy(np.float32))
    return x


def blobs(n=1_000_000, d=64, centres=12, seed=7):
    rng = np.random.default_rng(seed)
    c = rng.normal(0, 5, (centres, d)).astype(np.float32)
    labels = rng.integers(0, centres, n)
    return (c[labels] + rng.normal(0, 1, (n, d)).astype(np.float32)).astype(np.float32)


def main(encore_bin, shared, out):
    from sklearn.cluster import KMeans
    results = []
    for name, x, k, n_init, max_iter in [("lastfm users (log1p, dense)", lastfm_matrix(shared), 8, 3, 300),
                                         ("generated 1M × 64", blobs(), 12, 1, 100)]:
        path = os.path.join(out, "kmeans.f32")
        x.tofile(path)
        with threadpool_limits(limits=2):
            start = time.perf_counter()
            km = KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, init="k-means++", algorithm="lloyd", random_state=42).fit(x)
            sk_seconds = time.perf_counter() - start
        p = subprocess.run([encore_bin, path, str(x.shape[0]), str(x.shape[1]), str(k), str(n_init), str(max_iter)], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(p.stderr)
        e = json.loads(p.stdout)
        results.append({"data": name, "rows": x.shape[0], "columns": x.shape[1], "k": k, "n_init": n_init,
                        "sklearn_seconds": sk_seconds, "sklearn_inertia": float(km.inertia_),
                        "encore_seconds": e["seconds"], "encore_inertia": e["inertia"]})
        os.remove(path)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
