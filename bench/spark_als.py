"""MLlib's implicit ALS on an `encore export --format spark` folder.

Usage: python bench/spark_als.py DIR [--rank 64] [--max-iter 15] [--reg 0.05] [--alpha 1.0] [--top 60] [--master local[2]]

Reads DIR/interactions.csv (user,item,plays: integer ids), fits
`ALS(implicitPrefs=True, rank, maxIter, regParam, alpha)` on local[2] (or --master), and writes
beside the export:
  user_factors.csv, item_factors.csv   number,f0,...,f(rank-1)   (what `encore import-factors` reads)
  spark_params.json                    rank, regParam, alpha, maxIter, fit_seconds
  spark_top.csv                        user,rank,item,score: recommendForAllUsers(--top), Spark's own lists
It is a benchmark and an example, not part of Encore's runtime: pyspark lives in the bench venv.
"""
import argparse
import csv
import json
import os
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("directory")
    ap.add_argument("--rank", type=int, default=64)
    ap.add_argument("--max-iter", type=int, default=15)
    ap.add_argument("--reg", type=float, default=0.05)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--top", type=int, default=60)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--master", default="local[2]")
    a = ap.parse_args()

    from pyspark.sql import SparkSession
    from pyspark.ml.recommendation import ALS

    spark = (SparkSession.builder.master(a.master).appName("encore-als")
             .config("spark.driver.memory", "4g").config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    plays = (spark.read.csv(os.path.join(a.directory, "interactions.csv"), header=True, schema="user INT, item INT, plays FLOAT")
             .repartition(4).cache())
    plays.count()
    als = ALS(implicitPrefs=True, rank=a.rank, maxIter=a.max_iter, regParam=a.reg, alpha=a.alpha, userCol="user", itemCol="item",
              ratingCol="plays", seed=a.seed, coldStartStrategy="drop")
    start = time.time()
    model = als.fit(plays)
    model.userFactors.count()
    fit_seconds = time.time() - start

    for name, frame in (("user_factors.csv", model.userFactors), ("item_factors.csv", model.itemFactors)):
        with open(os.path.join(a.directory, name), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["number"] + [f"f{j}" for j in range(a.rank)])
            for row in frame.orderBy("id").collect():
                w.writerow([row["id"]] + [repr(float(x)) for x in row["features"]])
    start = time.time()
    top = model.recommendForAllUsers(a.top).collect()
    recommend_seconds = time.time() - start
    with open(os.path.join(a.directory, "spark_top.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "rank", "item", "score"])
        for row in top:
            for r, rec in enumerate(row["recommendations"], start=1):
                w.writerow([row["user"], r, rec["item"], repr(float(rec["rating"]))])
    with open(os.path.join(a.directory, "spark_params.json"), "w") as f:
        json.dump({"rank": a.rank, "regParam": a.reg, "alpha": a.alpha, "maxIter": a.max_iter, "fit_seconds": fit_seconds,
                   "recommend_seconds": recommend_seconds, "master": a.master}, f, indent=2)
    spark.stop()
    print(json.dumps({"fit_seconds": fit_seconds, "recommend_seconds": recommend_seconds}))


if __name__ == "__main__":
    main()
