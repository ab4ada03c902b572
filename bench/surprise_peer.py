"""The Surprise side of the rating-model benchmark: fits and tests one configuration on the shared
lastfm-2k split (value = natural log1p(plays)) and prints one JSON line with RMSE, MAE, the count of
impossible predictions and the fit and test seconds. Run by bench/bench.py."""
import json
import sys
import time

import numpy as np
import pandas as pd
from surprise import SVD, SVDpp, BaselineOnly, Dataset, KNNBaseline, KNNBasic, KNNWithMeans, Reader, accuracy


def main(split_dir, name, options):
    train = pd.read_csv(f"{split_dir}/train.tsv", sep="\t", dtype={"user": str, "item": str})
    test = pd.read_csv(f"{split_dir}/test.tsv", sep="\t", dtype={"user": str, "item": str})
    train["value"] = np.log1p(train["plays"])
    test["value"] = np.log1p(test["plays"])
    reader = Reader(rating_scale=(train["value"].min(), train["value"].max()))
    trainset = Dataset.load_from_df(train[["user", "item", "value"]], reader).build_full_trainset()
    testset = list(zip(test["user"], test["item"], test["value"]))
    algo = {"KNNBasic": KNNBasic, "KNNWithMeans": KNNWithMeans, "KNNBaseline": KNNBaseline,
            "SVD": SVD, "SVDpp": SVDpp, "BaselineOnly": BaselineOnly}[name](**options)
    start = time.perf_counter()
    algo.fit(trainset)
    fit = time.perf_counter() - start
    start = time.perf_counter()
    predictions = algo.test(testset)
    test_seconds = time.perf_counter() - start
    print(json.dumps({
        "rmse": accuracy.rmse(predictions, verbose=False),
        "mae": accuracy.mae(predictions, verbose=False),
        "impossible": sum(1 for p in predictions if p.details.get("was_impossible")),
        "fit_seconds": fit,
        "test_seconds": test_seconds,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
