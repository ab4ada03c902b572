"""Side-by-side benchmarks of Encore against its Python peers (run through bench/run.sh).

rating:    the rating models of the report on the shared lastfm-2k split, Surprise (the report's
           library) against `encore evaluate --protocol seed`, configuration by configuration: RMSE,
           MAE, impossible predictions, fit + predict seconds and their ratio.
ranking:   the ranking models on the shared split against implicit 0.7 (ALS, BPR, ItemItem cosine), a
           numpy EASE and most-popular, with the same metric code; ALS seconds per iteration on 1M plays.
kmeans:    scikit-learn's KMeans against Encore's on the lastfm user matrix and a generated 1M × 64 matrix.
encoder:   sentences per second of the Swift transformer on lastfm artist names and song-style strings
           (and sentence-transformers on PyTorch CPU when it is installed in the venv).
policy:    the report's policy and Encore's tuned default, per segment, against every single model in the
           same run (`encore evaluate --policy report,default`): NDCG@10, recall@30, novelty@10 per
           segment, and the issue's targets (default ≥ 98% of the best single model's NDCG@10 on
           regular users, better on low-engagement users, ≥ 25% more novelty@10 on low-discovery users).
serve:     `encore serve` over Last.fm imported into SQLite (the default policy: EASE, ALS, item-KNN,
           content, new songs) against a FastAPI + uvicorn (2 workers) service wrapping implicit's ALS
           (bench/serve_peer.py), both on loopback with wrk on the same 2 cores: p50/p99 at offered
           rates of 200, 500, 1,000 and 2,000 requests per second (paced with wrk's delay()), the
           maximum throughput, event ingestion in batches of 1,000 into SQLite (durable), and a
           30-second load run with an activation every 5 seconds (non-2xx responses counted).
graph:     LightGCN against a faithful PyTorch LightGCN (bench/lightgcn_peer.py, 2 threads,
           OMP_WAIT_POLICY=PASSIVE) and torch_geometric's LightGCN, on the shared split with the same
           metric code: NDCG@10, recall@30 and NDCG@30 at checkpoints of one training run each, wall
           and CPU seconds per epoch, peak memory; the curves as bench/lightgcn-curve.svg. Then the
           report's GCN under the seed protocol (MAE/RMSE on log1p) beside BaselineOnly, with text
           features and with learned ones, and its seconds per epoch.
knn-memory: item-based KNN on a generated catalogue of 100,000 songs: time and peak memory.

loader:    parse a 2,000,000-row file in count_data.csv format. Peer: pandas.read_csv (plain and
           index_col=0). Encore: `encore import --format course`, its parse_seconds (read, parse,
           intern ids and build the CSR matrix) and the whole process wall time. Median of 3.
generator: `encore generate` at 10,000,000 plays: rows per second and peak resident memory.
store:     the 2,000,000-row count_data.csv into SQLite (Encore against the sqlite3 tool's
           `.import --csv` into an equivalent table) and into PostgreSQL (against `psql \\copy`);
           appending events one transaction at a time and in batches of 1,000 (events per second);
           reading the 2M-play matrix back from each store. Needs ENCORE_TEST_POSTGRES (bench/run.sh
           store runs it under scripts/with-postgres.sh). Median of 3 for the imports.
scale:     the Million Song Dataset's size: import into SQLite and into PostgreSQL, `encore retrain` of ALS
           (64 factors, 15 iterations) and item-KNN from each, time and peak memory; then scale-serve;
           under scripts/with-postgres.sh; only by name.
scale-serve: `encore serve` over the MSD-size SQLite database `scale` left (a policy of ALS, item-KNN
           and popular): start-up, memory, p50/p99 at 100-500 requests per second for random listeners.
limits:    the largest dataset of the MSD's shape per model on a 24 GB machine: every model trained at 1/64,
           1/16, 1/4 and all of the MSD's size as far as its cost allows, peak memory and fit time, the
           growth fitted through the two largest sizes and extrapolated; only by name.
spark:     the Spark round trip on the Last.fm split: `encore export --format spark`, MLlib's
           implicit ALS on local[2] (bench/spark_als.py), `encore import-factors`, Encore's served lists
           against Spark's recommendForAllUsers, NDCG@10 beside Encore's own ALS. Installs pyspark into
           the bench venv; only by name.
replicas:  serving throughput and latency (wrk, Last.fm, default policy) of one `encore serve` and
           of two replicas over one PostgreSQL, each given half the load; under
           scripts/with-postgres.sh (bench/run.sh replicas).
als-scale: ALS with 64 factors at the Million Song Dataset's size (`encore generate --users 1000000
           --songs 380000 --plays 48000000`, course files): Encore's seconds per iteration (`encore
           train --model als`, 3 iterations, fit time only) and peak memory, against implicit's ALS on
           the same count_data.csv (pandas read, scipy CSR, 2 threads, BLAS single-threaded, 3
           iterations, fit time only). Not part of `all` (about 10 minutes and 6 GB).
"""
import json
import struct
import shutil
import math
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
ENCORE = os.environ.get("ENCORE_BIN", os.path.join(ROOT, ".build", "release", "encore"))
REPEATS = 3


def run(args, env=None):
    start = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"command failed: {' '.join(args)}\n{p.stderr}")
    return p.stdout, wall


def peak_rss_mib(args, env=None):
    """Runs a command under GNU time and returns (wall seconds, peak RSS MiB, stdout)."""
    report = os.path.join(OUT, "time.txt")
    out, wall = run(["/usr/bin/time", "-f", "%M", "-o", report] + args, env)
    with open(report) as f:
        kib = int(f.read().strip().splitlines()[-1])
    return wall, kib / 1024, out


def loader():
    path = count_data()
    size_mb = os.path.getsize(path) / 1e6
    import pandas as pd

    def pandas_time(**kw):
        times = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            df = pd.read_csv(path, **kw)
            times.append(time.perf_counter() - t)
            assert len(df) == 2_000_000
        return statistics.median(times)

    pandas_plain = pandas_time()
    pandas_index = pandas_time(index_col=0)
    parse, wall = [], []
    snapshot = os.path.join(OUT, "loader.snapshot")
    for _ in range(REPEATS):
        out, w = run([ENCORE, "import", path, "--input-format", "course", "--output", snapshot, "--format", "json"])
        summary = json.loads(out)
        assert summary["interactions"] == 2_000_000, summary["interactions"]
        parse.append(summary["parse_seconds"])
        wall.append(w)
    encore_parse = statistics.median(parse)
    encore_wall = statistics.median(wall)
    _, encore_rss, _ = peak_rss_mib([ENCORE, "import", path, "--input-format", "course", "--output", snapshot, "--format", "json"])
    _, pandas_rss, _ = peak_rss_mib([sys.executable, "-c", f"import pandas as pd; pd.read_csv({path!r})"])
    print(f"## loader: {size_mb:.0f} MB, 2,000,000 rows in count_data.csv format (median of {REPEATS})")
    print()
    print("| side | seconds | MB/s | pandas (plain) / side |")
    print("|---|---:|---:|---:|")
    for name, s in [("pandas.read_csv", pandas_plain), ("pandas.read_csv(index_col=0)", pandas_index),
                    ("encore import: parse + intern + CSR build", encore_parse),
                    ("encore import: whole process (incl. snapshot write)", encore_wall)]:
        print(f"| {name} | {s:.3f} | {size_mb / s:.0f} | {pandas_plain / s:.2f}x |")
    print()
    print(f"Peak resident memory: encore import {encore_rss:.0f} MiB (file, CSR matrix and snapshot); "
          f"python + pandas.read_csv {pandas_rss:.0f} MiB.")
    print()


def count_data():
    data = os.path.join(OUT, "loader")
    path = os.path.join(data, "count_data.csv")
    if not os.path.exists(path):
        run([ENCORE, "generate", "--users", "76000", "--songs", "10000", "--plays", "2000000",
             "--seed", "1", "--files", "course", "--output", data])
    return path


def fresh_postgres(name):
    port = os.environ["ENCORE_TEST_POSTGRES_PORT"]
    psql = ["psql", "-h", "127.0.0.1", "-p", port, "-U", "encore", "-q"]
    run(psql + ["-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {name}"])
    run(psql + ["-d", "postgres", "-c", f"CREATE DATABASE {name}"])
    return os.environ["ENCORE_TEST_POSTGRES"].rsplit("/", 1)[0] + "/" + name, psql + ["-d", name]


def store():
    path = count_data()
    if "ENCORE_TEST_POSTGRES" not in os.environ:
        sys.exit("store: run through bench/run.sh store (it starts a throwaway PostgreSQL server)")
    rows = sum(1 for _ in open(path)) - 1
    db = os.path.join(OUT, "store.db")

    def remove_sqlite():
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)

    phases = {"SQLite": [], "PostgreSQL": []}

    def encore_import(label, url):
        out, wall = run([ENCORE, "import", path, "--input-format", "course", "--database", url, "--format", "json"])
        r = json.loads(out)
        phases[label].append(dict(r["phase_seconds"], parse=r["parse_seconds"]))
        return wall

    def sqlite_encore():
        remove_sqlite()
        run([ENCORE, "db", "init", "--database", db])
        return encore_import("SQLite", db)

    def sqlite_peer():
        remove_sqlite()
        run(["sqlite3", db, "CREATE TABLE plays (idx INTEGER, user_id TEXT, song_id TEXT, play_count INTEGER)"])
        return run(["sqlite3", db, f".import --csv --skip 1 {path} plays"])[1]

    # Each side starts from the same state: a new database with its schema (untimed, like the
    # peer's CREATE TABLE), then a CHECKPOINT, so neither pays for the other's dirty pages; after
    # each run an untimed VACUUM ANALYZE does the work autovacuum would otherwise do during the
    # next run (2M new rows), which slowed whichever side came next.
    def pg_encore():
        url, psql = fresh_postgres("bench_encore")
        run([ENCORE, "db", "init", "--database", url])
        run(psql + ["-c", "CHECKPOINT"])
        wall = encore_import("PostgreSQL", url)
        run(psql + ["-c", "VACUUM ANALYZE"])
        return wall

    def pg_peer():
        _, psql = fresh_postgres("bench_copy")
        run(psql + ["-c", "CREATE TABLE plays (idx BIGINT, user_id TEXT, song_id TEXT, play_count BIGINT)"])
        run(psql + ["-c", "CHECKPOINT"])
        wall = run(psql + ["-c", f"\\copy plays FROM '{path}' WITH (FORMAT csv, HEADER true)"])[1]
        run(psql + ["-c", "VACUUM ANALYZE"])
        return wall

    print(f"## store: {rows:,} rows in count_data.csv format (median of {REPEATS})")
    print()
    print("| store | Encore import s | peer | peer s | Encore / peer |")
    print("|---|---:|---|---:|---:|")
    for label, mine, peer, name in [("SQLite", sqlite_encore, sqlite_peer, "sqlite3 .import --csv"),
                                    ("PostgreSQL", pg_encore, pg_peer, "psql \\copy")]:
        # Interleaved, so a change in the machine's load falls on both sides.
        pairs = [(mine(), peer()) for _ in range(REPEATS)]
        e = statistics.median(m for m, _ in pairs)
        p = statistics.median(q for _, q in pairs)
        print(f"| {label} | {e:.2f} | {name} | {p:.2f} | {e / p:.2f}x |")
    print()
    steps = ["parse", "events", "parse wait", "songs", "catalogue", "users", "plays", "commit"]
    print("Encore's import by step, median seconds. parse: reading, validating and interning the file, which")
    print("overlaps events (the rows are written as they are parsed); parse wait: the part of events spent")
    print("waiting for the parser:")
    print()
    print("| store | " + " | ".join(steps) + " |")
    print("|---|" + "---:|" * len(steps))
    for label, runs in phases.items():
        print(f"| {label} | " + " | ".join(f"{statistics.median(r.get(k, 0) for r in runs):.2f}" for k in steps) + " |")
    print()
    # The read back, from the stores the last Encore imports left.
    sqlite_encore()
    pg_url, _ = fresh_postgres("bench_encore")
    run([ENCORE, "import", path, "--input-format", "course", "--database", pg_url, "--format", "json"])
    print("| store | plays read | read s (training matrix) |")
    print("|---|---:|---:|")
    for label, url in [("SQLite", db), ("PostgreSQL", pg_url)]:
        times = []
        for _ in range(REPEATS):
            out, _ = run([ENCORE, "db", "status", "--database", url, "--read-plays", "--format", "json"])
            r = json.loads(out)
            times.append(r["read_seconds"])
        print(f"| {label} | {r['plays']:,} | {statistics.median(times):.3f} |")
    print()
    print("| store | batch | events | seconds | events per second |")
    print("|---|---:|---:|---:|---:|")
    for label, url in [("SQLite", db), ("PostgreSQL", pg_url)]:
        for batch, n in [(1, 2000), (1000, 200000)]:
            lines = "".join(f"bench{i % 997}\tbenchsong{i}\t1\n" for i in range(n))
            start = time.perf_counter()
            p = subprocess.run([ENCORE, "db", "append", "--database", url, "--batch", str(batch)], input=lines,
                               capture_output=True, text=True)
            wall = time.perf_counter() - start
            if p.returncode != 0:
                sys.exit(p.stderr)
            print(f"| {label} | {batch:,} | {n:,} | {wall:.2f} | {n / wall:,.0f} |")
    print()


def generator():
    data = os.path.join(OUT, "generator")
    wall, rss, out = peak_rss_mib([ENCORE, "generate", "--users", "200000", "--songs", "50000", "--plays", "10000000",
                                   "--seed", "7", "--output", data, "--format", "json"])
    summary = json.loads(out)
    files = sum(os.path.getsize(f) for f in summary["files"])
    print("## generator: 10,000,000 plays (200,000 users, 50,000 songs), course CSVs + triplets")
    print()
    print("| rows | seconds | rows/s | MB written | peak RSS MiB |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {summary['rows']:,} | {wall:.2f} | {summary['rows'] / wall:,.0f} | {files / 1e6:.0f} | {rss:.0f} |")
    print()
    for f in summary["files"]:
        os.remove(f)


SPLIT = os.path.join(os.path.dirname(ROOT), "shared", "data", "lastfm-2k", "splits")
RATING_CONFIGS = [
    ("KNNBasic user, pearson_baseline, k=30, min_k=1", "KNNBasic",
     {"k": 30, "min_k": 1, "sim_options": {"name": "pearson_baseline", "user_based": True}}, "knn-user", None),
    ("KNNBasic item, pearson_baseline, k=30, min_k=1", "KNNBasic",
     {"k": 30, "min_k": 1, "sim_options": {"name": "pearson_baseline", "user_based": False}}, "knn-item", None),
    ("KNNBasic user, msd, k=40", "KNNBasic", {"k": 40, "sim_options": {"name": "msd", "user_based": True}},
     "knn-user", {"similarity": "msd", "k": 40}),
    ("KNNWithMeans user, msd, k=40", "KNNWithMeans", {"k": 40, "sim_options": {"name": "msd", "user_based": True}},
     "knn-user", {"similarity": "msd", "k": 40, "variant": "means"}),
    ("KNNBaseline user, msd, k=40, ALS baselines", "KNNBaseline", {"k": 40, "sim_options": {"name": "msd", "user_based": True}},
     "knn-user", {"similarity": "msd", "k": 40, "variant": "baseline"}),
    ("SVD default", "SVD", {"random_state": 42}, "svd", None),
    ("SVD report-optimised (30 epochs, lr 0.01, reg 0.2)", "SVD",
     {"n_epochs": 30, "lr_all": 0.01, "reg_all": 0.2, "random_state": 42}, "svd", {"n_epochs": 30, "lr_all": 0.01, "reg_all": 0.2}),
    ("BaselineOnly (ALS)", "BaselineOnly", {}, "baseline", None),
    ("SVD++ default (20 factors, 20 epochs, lr 0.007, reg 0.02)", "SVDpp", {"random_state": 42}, "svdpp", None),
]


def rating():
    print("## rating models: Surprise vs encore evaluate --protocol seed, lastfm-2k split, value log1p(plays)")
    print()
    print("| configuration | Surprise RMSE | Encore RMSE | Surprise MAE | Encore MAE | impossible S / E "
          "| Surprise fit+test s | Encore fit+predict s | speed-up | Surprise peak MiB | Encore peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, algo, options, model, config in RATING_CONFIGS:
        s_wall, s_rss, out = peak_rss_mib([sys.executable, os.path.join(ROOT, "bench", "surprise_peer.py"), SPLIT, algo, json.dumps(options)])
        s = json.loads(out.strip().splitlines()[-1])
        spec = model + (json.dumps(config) if config else "")
        e_wall, e_rss, out = peak_rss_mib([ENCORE, "evaluate", "--protocol", "seed", "--train", SPLIT + "/train.tsv",
                                           "--test", SPLIT + "/test.tsv", "--model", spec, "--format", "json"])
        e = json.loads(out)[0]
        s_time = s["fit_seconds"] + s["test_seconds"]
        e_time = e["fit_seconds"] + e["predict_seconds"]
        print(f"| {label} | {s['rmse']:.4f} | {e['rmse']:.4f} | {s['mae']:.4f} | {e['mae']:.4f} | "
              f"{s['impossible']:,} / {e['impossible']:,} | {s_time:.3f} | {e_time:.3f} | {s_time / e_time:.0f}x | "
              f"{s_rss:.0f} | {e_rss:.0f} |")
    print()
    print("Peak memory is the whole process (Python + pandas + Surprise; encore incl. loading the split).")
    print()


RANKING = [
    ("most popular", "most-popular", "most-popular"),
    ("ItemItem cosine, binary, K=100", "item-knn", "item-knn"),
    ("ALS 64 f, reg 0.05, 15 it, conf 1+log1p", "als", "als"),
    ("ALS same, conf 1+plays", "als-linear", 'als{"confidence":"linear"}'),
    ("BPR 64 f, lr 0.01, reg 0.01, 100 it", "bpr", "bpr"),
    ("EASE λ=100 (dual)", "ease", "ease"),
]


def peer_env():
    """numpy/implicit run with OpenBLAS' own kernel choice (see the env notes)."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def run_peer(args):
    start = time.perf_counter()
    p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "implicit_peer.py")] + args, capture_output=True, text=True, env=peer_env())
    if p.returncode != 0:
        sys.exit(f"peer failed: {args}\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def ranking():
    print("## ranking models: implicit / numpy peers vs encore evaluate --protocol ranking, lastfm-2k split, 2 threads")
    print()
    print("| model | peer NDCG@10 | Encore NDCG@10 | Encore / peer | peer R@30 | Encore R@30 | peer fit s | Encore fit s | peer recommend s | Encore recommend s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, peer_name, spec in RANKING:
        p = run_peer([SPLIT, peer_name])
        out, _ = run([ENCORE, "evaluate", "--protocol", "ranking", "--train", SPLIT + "/train.tsv", "--test", SPLIT + "/test.tsv",
                      "--model", spec, "--format", "json"])
        e = json.loads(out)[0]
        print(f"| {label} | {p['ndcg_at_10']:.4f} | {e['ndcg_at_10']:.4f} | {e['ndcg_at_10'] / p['ndcg_at_10']:.3f} | "
              f"{p['recall_at_30']:.4f} | {e['recall_at_30']:.4f} | {p['fit_seconds']:.3f} | {e['fit_seconds']:.3f} | "
              f"{p['recommend_seconds']:.3f} | {e['recommend_seconds']:.3f} |")
    print()
    data = os.path.join(OUT, "als1m")
    if not os.path.exists(os.path.join(data, "count_data.csv")):
        run([ENCORE, "generate", "--users", "20000", "--songs", "20000", "--plays", "1000000", "--seed", "3", "--files", "course", "--output", data])
    p = run_peer(["als-speed", data, "10"])
    out, _ = run([ENCORE, "train", "--model", "als", "--config", '{"iterations": 10}', "--data", data,
                  "--value", "none", "--output", os.path.join(OUT, "als1m.model"), "--format", "json"])
    e = json.loads(out)
    print("## ALS seconds per iteration (64 factors, 2 threads)")
    print()
    print("| data | implicit s/it | Encore s/it | implicit / Encore |")
    print("|---|---:|---:|---:|")
    print(f"| generated, {p['nnz']:,} plays (20,000 users × 20,000 songs) | {p['seconds_per_iteration']:.4f} | {e['fit_seconds'] / 10:.4f} | "
          f"{p['seconds_per_iteration'] / (e['fit_seconds'] / 10):.2f}x |")
    print()


def als_scale():
    data = msd_data()
    iterations = 3
    wall, rss, out = peak_rss_mib([ENCORE, "train", "--model", "als", "--config", json.dumps({"iterations": iterations}), "--data", data,
                                   "--input-format", "course", "--value", "none", "--output", os.path.join(OUT, "msd-als.model"), "--format", "json"])
    e = json.loads(out)
    peer_wall, peer_rss, out = peak_rss_mib([sys.executable, os.path.join(ROOT, "bench", "implicit_peer.py"), "als-speed", data, str(iterations)],
                                            env=peer_env())
    peer = json.loads(out.strip().splitlines()[-1])
    mine = e["fit_seconds"] / iterations
    print(f"## ALS at MSD size: {peer['nnz']:,} plays, 64 factors, {iterations} iterations, 2 threads")
    print()
    print("| side | seconds per iteration | whole process s | peak MiB |")
    print("|---|---:|---:|---:|")
    print(f"| implicit 0.7 (pandas read, scipy CSR) | {peer['seconds_per_iteration']:.2f} | {peer_wall:.0f} | {peer_rss:.0f} |")
    print(f"| Encore (`encore train --model als`) | {mine:.2f} | {wall:.0f} | {rss:.0f} |")
    print()
    print(f"implicit / Encore per iteration: {peer['seconds_per_iteration'] / mine:.2f}x")
    print()


def msd_data():
    """The course files at the Million Song Dataset's size, generated once under bench/out/msd."""
    data = os.path.join(OUT, "msd")
    if not os.path.exists(os.path.join(data, "count_data.csv")):
        wall, rss, _ = peak_rss_mib([ENCORE, "generate", "--users", "1000000", "--songs", "380000", "--plays", "48000000", "--seed", "1",
                                     "--files", "course", "--output", data])
        print(f"generated {data}: {wall:.0f} s, {rss:.0f} MiB peak")
    return data


def scale_policies():
    """The retrain's policy (the default's models at the issue's sizes: ALS 64 factors, 15 iterations;
    item-KNN k 100) and the serving policy at this size: the default's recipes without EASE (refused
    at 380,000 songs) and without the sources that need MiniLM embeddings of the whole catalogue
    (content, new songs) or a user clustering (cluster mates); cold start gets the popular ranking."""
    out, _ = run([ENCORE, "policy", "show", "default", "--format", "json"])
    policy = json.loads(out)
    policy["models"] = {"als": {"factors": 64, "iterations": 15, "regularization": 0.05}, "item-knn": {"k": 100}}
    dropped = {"ease", "content", "new-songs", "cluster-mates"}
    for name, recipe in policy["recipes"].items():
        recipe["sources"] = [s for s in recipe["sources"] if s["source"] not in dropped]
        if not any(s["source"] == "popular" for s in recipe["sources"]):
            recipe["sources"].append({"source": "popular", "weight": 1})
    policy["name"] = "msd"
    policy["description"] = "The default's blends of ALS, item-KNN and the popular ranking, for the MSD-size benchmark"
    path = os.path.join(OUT, "msd-policy.json")
    with open(path, "w") as f:
        json.dump(policy, f, indent=1)
    return path


def scale():
    """The Million Song Dataset's size: import into SQLite and into PostgreSQL; from each, `encore
    retrain` of ALS (64 factors, 15 iterations) and item-KNN (k 100, each listener's 500 most played
    songs) with its time-based holdout and 10,000 sampled listeners ranked; time and peak memory; then
    `scale_serve` over the SQLite database with the retrained models."""
    if "ENCORE_TEST_POSTGRES" not in os.environ:
        sys.exit("scale: run through bench/run.sh scale (it starts a throwaway PostgreSQL server)")
    data = msd_data()
    policy_path = scale_policies()
    db = os.path.join(OUT, "msd.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    pg_url, psql = fresh_postgres("bench_msd")
    steps = []
    retrains = []
    for label, url in [("SQLite", db), ("PostgreSQL", pg_url)]:
        if label == "PostgreSQL":
            run([ENCORE, "db", "init", "--database", url])
            run(psql + ["-c", "CHECKPOINT"])
        wall, rss, _ = peak_rss_mib([ENCORE, "import", data, "--input-format", "course", "--database", url, "--format", "json"])
        steps.append((f"import into {label}", wall, rss))
        wall, rss, out = peak_rss_mib([ENCORE, "retrain", "--database", url, "--policy", policy_path, "--models", "als,item-knn",
                                       "--evaluate-users", "10000", "--format", "json"])
        r = json.loads(out)
        steps.append((f"retrain ALS and item-KNN from {label} (read, holdout, two fits each, ranking {r['users_evaluated']:,} listeners, registering)", wall, rss))
        retrains.append((label, r))
    print("## scale: the Million Song Dataset's size (1,000,000 users, 380,000 songs, 48,000,000 plays), 2 cores")
    print()
    print("| step | seconds | peak MiB |")
    print("|---|---:|---:|")
    for label, wall, rss in steps:
        print(f"| {label} | {wall:.0f} | {rss:,.0f} |")
    print()
    for label, r in retrains:
        for m in r["models"]:
            print(f"- {label}: {m['kind']}: both fits and the ranking {m['fit_seconds']:.0f} s; NDCG@10 of the candidate on the latest discoveries {m['candidate']:.4f}.")
        print(f"- {label}: outcome: {r['status']}.")
    print()
    scale_serve()


def scale_serve():
    """`encore serve` over the MSD-size SQLite database that `scale` left (its retrained ALS and
    item-KNN active): start-up time and memory, then p50/p99 at offered rates for random listeners."""
    import random
    import signal
    import urllib.request
    data = msd_data()
    db = os.path.join(OUT, "msd.db")
    if not os.path.exists(db):
        sys.exit("scale-serve: run bench/run.sh scale first (it leaves bench/out/msd.db with the retrained models)")
    policy_path = scale_policies()
    # Every listener of the 1,000,000 (the ids of the file's user column), shuffled; wrk draws from them at random.
    users = os.path.join(OUT, "msd-users.txt")
    seen = []
    with open(os.path.join(data, "count_data.csv")) as f:
        next(f)
        last = None
        for line in f:
            u = line.split(",", 2)[1]
            if u != last:
                seen.append(u)
                last = u
    random.Random(1).shuffle(seen)
    with open(users, "w") as f:
        f.write("\n".join(seen) + "\n")
    read = api_key(db, "read")
    log = os.path.join(OUT, "msd-serve.log")
    start = time.perf_counter()
    server = subprocess.Popen([ENCORE, "serve", "--database", db, "--port", "18201", "--policy", policy_path],
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    lua = os.path.join(ROOT, "bench", "wrk_rate.lua")
    rows = []
    try:
        wait_ready("http://127.0.0.1:18201/readyz", seconds=1800)
        ready = time.perf_counter() - start
        with open(f"/proc/{server.pid}/status") as f:
            ready_rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
        wrk("http://127.0.0.1:18201", lua, 10, {"USERS": users, "KEY": read, "RATE": "0"})  # warm-up, not recorded
        for label, rate, connections in [("100", "100", 64), ("200", "200", 64), ("300", "300", 64), ("500", "500", 64), ("as fast as it goes", "0", 32)]:
            rows.append((label, wrk("http://127.0.0.1:18201", lua, 30, {"USERS": users, "KEY": read, "RATE": rate}, connections=connections)))
        with urllib.request.urlopen("http://127.0.0.1:18201/metrics", timeout=10) as r:
            metrics = {l.split()[0]: l.split()[1] for l in r.read().decode().splitlines() if l and not l.startswith("#")}
        with open(f"/proc/{server.pid}/status") as f:
            peak_rss = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"## scale: serving at the MSD's size (`encore serve` over the SQLite database, {os.path.basename(policy_path)}: ALS, item-KNN and the popular ranking per segment)")
    print()
    print(f"Start until ready (read the 48M plays, load both models from the registry, build the policy): {ready:.0f} s, {ready_rss:,.0f} MiB resident; "
          f"peak {peak_rss:,.0f} MiB under load.")
    print()
    print("Random listeners of 1,000,000 (nearly every list composed afresh), k 30, wrk on the same 2 cores, 30 s per row:")
    print()
    print("| offered requests/s | served/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for label, (rps, p50, p99, bad, _) in rows:
        print(f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {bad} |")
    print()
    pruned, scored = float(metrics.get("encore_pruned_lists", 0)), float(metrics.get("encore_pruned_songs_scored", 0))
    songs = active_als_songs(db)
    print(f"List cache: {float(metrics.get('encore_list_cache_hits', 0)):,.0f} hits, {float(metrics.get('encore_list_cache_misses', 0)):,.0f} misses. "
          f"ALS by norm bounds: {pruned:,.0f} lists, {scored / max(pruned, 1):,.0f} songs scored per list "
          f"({100 * scored / max(pruned, 1) / songs:.1f}% of {songs:,}); batched: {float(metrics.get(ALS_LISTS, 0)):,.0f} lists in {float(metrics.get(ALS_BATCHES, 0)):,.0f} batches.")
    print()


def active_als_songs(db):
    """The songs of the active ALS artifact in a SQLite database (its item factors over its factors)."""
    import sqlite3
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT a.artifact FROM model_artifacts a JOIN models m ON m.id = a.model_id "
                          "WHERE m.kind = 'als' ORDER BY m.status = 'active' DESC, m.id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    blob = row[0]
    header = json.loads(blob[16:16 + struct.unpack("<I", blob[12:16])[0]])
    factors = json.loads(header["configuration"])["factors"]
    return next(a["count"] for a in header["arrays"] if a["name"] == "item_factors") // factors


# The machine the per-model limits are computed for, and the share of it one plan may take (MemoryBudget.usableShare).
LIMIT_MACHINE_GIB = 24
LIMIT_SHARE = 0.8
MSD = {"plays": 48_000_000, "users": 1_000_000, "songs": 380_000}


def limits():
    """The largest dataset of the Million Song Dataset's shape that each model fits on a 24 GB machine.
    Each model is trained (`encore train --data`, the whole process under GNU time) on generated
    datasets of that shape at 1/64, 1/16, 1/4 and all of the MSD's size, as far as its cost allows;
    the peak memory and the fit time grow as a power of the size, fitted through the two largest
    sizes measured, and the largest size whose peak stays within 80% of 24 GiB is reported."""
    fractions = [1 / 64, 1 / 16, 1 / 4, 1]
    # (model, configuration, the largest fraction measured, how much longer the default fit is than the run's)
    plan = [
        ("most-popular", None, 1, 1), ("popularity", None, 1, 1), ("baseline", None, 1, 1),
        ("svd", None, 1 / 4, 1), ("svdpp", None, 1 / 16, 1),
        ("knn-user", None, 1 / 16, 1), ("knn-item", None, 1 / 16, 1),
        ("item-knn", None, 1, 1), ("als", '{"iterations": 3}', 1, 5), ("bpr", '{"epochs": 10}', 1, 10),
        ("ease", None, 1 / 4, 1), ("clustering", None, 1 / 4, 1),
        ("tfidf", None, 1, 1), ("transformer", None, 1 / 16, 1),
        ("lightgcn", '{"epochs": 1}', 1 / 16, 600), ("gcn", '{"epochs": 5}', 1 / 16, 30),
    ]
    cap = int(os.environ.get("LIMITS_CAP_SECONDS", "900"))
    data = {}
    for f in fractions:
        if f == 1:
            data[f] = msd_data()
            continue
        d = os.path.join(OUT, "limits", f"msd-1-{round(1 / f)}")
        if not os.path.exists(os.path.join(d, "count_data.csv")):
            run([ENCORE, "generate", "--users", str(round(MSD["users"] * f)), "--songs", str(round(MSD["songs"] * f)),
                 "--plays", str(round(MSD["plays"] * f)), "--seed", "1", "--files", "course", "--output", d])
        data[f] = d
    budget = LIMIT_MACHINE_GIB * 1024 * LIMIT_SHARE
    artifact = os.path.join(OUT, "limits", "model.art")
    print(f"## limits: the largest dataset of the MSD's shape per model on a {LIMIT_MACHINE_GIB} GB machine ({LIMIT_SHARE:.0%} of it usable), 2 cores")
    print()
    print("Each fit is the whole `encore train --data` process (reading the course files, fitting, writing the artifact). ")
    print("Sizes: the MSD's shape (1,000,000 users, 380,000 songs, 48,000,000 plays) scaled by the fraction.")
    print()
    print("| model | fraction | plays | fit s (default settings) | peak MiB | result |")
    print("|---|---:|---:|---:|---:|---|")
    results = {}
    for model, config, largest, longer in plan:
        points = []
        results[model] = {"points": points}
        for f in fractions:
            if f > largest:
                break
            args = [ENCORE, "train", "--model", model, "--data", data[f], "--input-format", "course", "--output", artifact, "--format", "json"]
            if config:
                args += ["--config", config]
            report = os.path.join(OUT, "time.txt")
            start = time.perf_counter()
            p = subprocess.run(["timeout", str(cap), "/usr/bin/time", "-f", "%M", "-o", report] + args, capture_output=True, text=True)
            wall = time.perf_counter() - start
            plays = round(MSD["plays"] * f)
            label = "1" if f == 1 else f"1/{round(1 / f)}"
            if p.returncode != 0:
                lines = [l for l in p.stderr.strip().splitlines() if l.strip()]
                reason = f"over {cap} s" if p.returncode == 124 else (lines[-1][:200] if lines else f"exit {p.returncode}")
                print(f"| {model} | {label} | {plays:,} | — | — | {reason} |", flush=True)
                results[model]["stopped"] = reason
                break
            with open(report) as fh:
                rss = int(fh.read().strip().splitlines()[-1]) / 1024
            fit = json.loads(p.stdout)["fit_seconds"] * longer
            points.append((f, fit, rss))
            print(f"| {model} | {label} | {plays:,} | {fit:,.1f} | {rss:,.0f} | {wall:.0f} s whole process |", flush=True)
    print()
    print("| model | measured up to (plays) | peak MiB there | memory grows as size^b | largest on 24 GB: plays | users | songs | fit time there |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for model, *_ in plan:
        r = results[model]
        pts = r["points"]
        if len(pts) < 2:
            print(f"| {model} | — | — | — | {r.get('stopped', 'not measured')} | | | |")
            continue
        (f1, t1, m1), (f2, t2, m2) = pts[-2], pts[-1]
        b = math.log(m2 / m1) / math.log(f2 / f1)
        bt = math.log(max(t2, 1e-3) / max(t1, 1e-3)) / math.log(f2 / f1)
        note = f" (the next size: {r['stopped']})" if "stopped" in r else ""
        if b <= 0.05:
            print(f"| {model} | {round(MSD['plays'] * f2):,} | {m2:,.0f} | {b:.2f} | not bounded by memory | | | {t2:,.0f} s at the largest measured{note} |")
            continue
        top = f2 * (budget / m2) ** (1 / b)
        t = t2 * (top / f2) ** bt
        print(f"| {model} | {round(MSD['plays'] * f2):,} | {m2:,.0f} | {b:.2f} | {MSD['plays'] * top:,.3g} | {MSD['users'] * top:,.3g} | {MSD['songs'] * top:,.3g} | "
              f"{t:,.3g} s (grows as size^{bt:.2f}){note} |")
    print()


def kmeans():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "kmeans_peer.py"), os.path.join(ROOT, ".build", "release", "encore-bench-kmeans"),
                        os.path.join(os.path.dirname(ROOT), "shared"), OUT], capture_output=True, text=True, env=peer_env())
    if p.returncode != 0:
        sys.exit(f"k-means peer failed:\n{p.stderr}")
    rows = json.loads(p.stdout.strip().splitlines()[-1])
    print("## k-means: scikit-learn (Lloyd, k-means++, 2 threads) vs Encore, same Float32 matrices")
    print()
    print("| data | k | n_init | sklearn s | Encore s | speed-up | sklearn inertia | Encore inertia | Encore / sklearn inertia |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['data']} ({r['rows']:,} × {r['columns']}) | {r['k']} | {r['n_init']} | {r['sklearn_seconds']:.2f} | {r['encore_seconds']:.2f} | "
              f"{r['sklearn_seconds'] / r['encore_seconds']:.2f}x | {r['sklearn_inertia']:,.0f} | {r['encore_inertia']:,.0f} | {r['encore_inertia'] / r['sklearn_inertia']:.4f} |")
    print()


def encoder():
    model_dir = os.path.join(ROOT, ".models", "all-MiniLM-L6-v2")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "encoder_bench.py"), ENCORE, model_dir,
                        os.path.join(os.path.dirname(ROOT), "shared"), OUT], capture_output=True, text=True, env=peer_env())
    if p.returncode != 0:
        sys.exit(f"encoder benchmark failed:\n{p.stderr}")
    rows = json.loads(p.stdout.strip().splitlines()[-1])
    print("## transformer encoder: all-MiniLM-L6-v2 in Swift (`encore embed --texts`, whole process incl. loading) vs sentence-transformers on PyTorch CPU (2 threads, batch 64)")
    print()
    print("| texts | count | word pieces each | Encore s | Encore sentences/s | Encore peak MiB | peer s (encode) | peer sentences/s | peer load s | peer peak MiB | Encore / peer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        e, q = r["encore"], r["peer"]
        peer = (f"{q['seconds']:.1f} | {q['per_second']:.0f} | {q['load_seconds']:.1f} | {q['peak_mib']:.0f} | {e['per_second'] / q['per_second']:.2f}x"
                if q else "not installed | | | |")
        print(f"| {r['data']} | {r['count']:,} | {e['pieces']:.1f} | {e['seconds']:.1f} | {e['per_second']:.0f} | {e['peak_mib']:.0f} | {peer} |")
    print()


def knn_memory():
    data = os.path.join(OUT, "knn100k")
    if not os.path.exists(os.path.join(data, "count_data.csv")):
        run([ENCORE, "generate", "--users", "200000", "--songs", "100000", "--plays", "3000000", "--seed", "5",
             "--files", "course", "--output", data])
    print("## item-based KNN at 100,000 songs (generated: 200,000 users, 3,000,000 plays)")
    print()
    print("| model | items | seconds (load + fit + save) | peak RSS MiB | dense n×n float64 would need |")
    print("|---|---:|---:|---:|---:|")
    for sim in ["pearson_baseline", "cosine"]:
        wall, rss, out = peak_rss_mib([ENCORE, "train", "--model", "knn-item", "--config", json.dumps({"similarity": sim}),
                                       "--data", data, "--output", os.path.join(OUT, "knn100k.model"), "--format", "json"])
        summary = json.loads(out)
        n = summary["items"]
        print(f"| knn-item {sim} | {n:,} | {wall:.2f} | {rss:.0f} | {n * n * 8 / 2**30:.0f} GiB |")
    print()


def policy():
    root = os.path.join(os.path.dirname(ROOT), "shared", "data", "lastfm-2k")
    out, wall = run([ENCORE, "evaluate", "--policy", "report,default", "--train", SPLIT + "/train.tsv", "--test", SPLIT + "/test.tsv",
                     "--catalog", root, "--format", "json"])
    results = json.loads(out)
    print(f"## policies per segment on the lastfm-2k split (`encore evaluate --policy report,default`, {wall:.0f} s with every fit)")
    print()
    labels = [r["label"] for r in results]
    print("| segment | metric | " + " | ".join(labels) + " |")
    print("|---|---|" + "---:|" * len(labels))
    segments = ["cold_start", "low_engagement", "low_discovery", "regular"]
    for seg in segments:
        users = results[0]["segments"].get(seg, {}).get("users", 0)
        for key, name, digits in [("ndcg_at_10", "NDCG@10", 4), ("recall_at_30", "recall@30", 4), ("novelty_at_10", "novelty@10", 2)]:
            cells = [f"{r['segments'][seg][key]:.{digits}f}" if seg in r["segments"] else "–" for r in results]
            print(f"| {seg} ({users}) | {name} | " + " | ".join(cells) + " |")
    print()
    single = [r for r in results if not r["label"].startswith("policy ")]
    default = next(r for r in results if r["label"] == "policy default")
    print("| target | best single model | value | default policy | holds |")
    print("|---|---|---:|---:|---|")
    for seg, text in [("regular", "NDCG@10 ≥ 98% of the best single model"), ("low_engagement", "NDCG@10 above the best single model")]:
        best = max(single, key=lambda r: r["segments"][seg]["ndcg_at_10"])
        b, d = best["segments"][seg]["ndcg_at_10"], default["segments"][seg]["ndcg_at_10"]
        ok = d >= 0.98 * b if seg == "regular" else d > b
        print(f"| {seg}: {text} | {best['label']} | {b:.4f} | {d:.4f} ({d / b:.1%}) | {'yes' if ok else 'NO'} |")
    best = max(single, key=lambda r: r["segments"]["low_discovery"]["ndcg_at_10"])
    b, d = best["segments"]["low_discovery"]["novelty_at_10"], default["segments"]["low_discovery"]["novelty_at_10"]
    print(f"| low_discovery: novelty@10 ≥ 1.25 × the best single model's | {best['label']} | {b:.2f} | {d:.2f} ({d / b - 1:+.1%}) | {'yes' if d >= 1.25 * b else 'NO'} |")
    print()


def wrk(url, script, seconds, env, connections=16, threads=2):
    """Runs wrk and returns (requests per second, p50 ms, p99 ms, non-2xx count, total requests)."""
    e = dict(os.environ, CONNECTIONS=str(connections), THREADS=str(threads), **env)
    p = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
                       capture_output=True, text=True, env=e)
    out = p.stdout
    def unit(v):
        v = v.strip()
        if v.endswith("us"): return float(v[:-2]) / 1000
        if v.endswith("ms"): return float(v[:-2])
        if v.endswith("s"): return float(v[:-1]) * 1000
        return float(v)
    rps = float(out.split("Requests/sec:")[1].split()[0])
    p50 = unit(out.split(" 50%")[1].split()[0])
    p99 = unit(out.split(" 99%")[1].split()[0])
    bad = int(out.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in out else 0
    errors = sum(int(x) for x in out.split("Socket errors:")[1].split("\n")[0].replace(",", " ").split() if x.isdigit()) if "Socket errors" in out else 0
    total = int(out.split(" requests in ")[0].split()[-1])
    return rps, p50, p99, bad + errors, total


def api_key(database, role):
    """A new API key of `role` for the service over `database` (`encore keys create` prints it once)."""
    out, _ = run([ENCORE, "keys", "create", "--role", role, "--database", database])
    return [w for w in out.split() if w.startswith("enc_")][0]


def wait_ready(url, seconds=600):
    import urllib.request
    end = time.time() + seconds
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(1)
    sys.exit(f"{url} did not become ready")


def lastfm_database(name):
    """A fresh SQLite database under bench/out holding the shared Last.fm data, imported by Encore."""
    db = os.path.join(OUT, name)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    run([ENCORE, "import", os.path.join(os.path.dirname(ROOT), "shared", "data", "lastfm-2k"), "--database", db])
    return db


def spark():
    """The Spark round trip on the Last.fm split: export, MLlib's implicit ALS on local[2], factors
    imported and served by Encore; Encore's lists against Spark's own, and NDCG@10 against
    Encore's own ALS."""
    import csv
    split = os.path.join(os.path.dirname(ROOT), "shared", "data", "lastfm-2k", "splits")
    d = os.path.join(OUT, "spark")
    if os.path.exists(d):
        shutil.rmtree(d)
    run([ENCORE, "export", "--train", os.path.join(split, "train.tsv"), "--format", "spark", "--output", d])
    job = [sys.executable, os.path.join(ROOT, "bench", "spark_als.py"), d, "--rank", "64", "--max-iter", "15", "--reg", "0.05", "--alpha", "1.0", "--top", "60"]
    try:
        out, _ = run(job)
    except SystemExit:
        out, _ = run(job)  # the JVM gateway sometimes refuses its first connection
    timing = json.loads(out.strip().splitlines()[-1])
    art = os.path.join(OUT, "spark-als.model")
    run([ENCORE, "import-factors", d, "--output", art])
    lists = os.path.join(OUT, "spark-encore-top10.tsv")
    run([ENCORE, "recommend", "--model", art, "--all-users", "-k", "10", "--output", lists])
    def ids(name):
        with open(os.path.join(d, name)) as f:
            return {int(r[0]): r[1] for r in list(csv.reader(f))[1:]}
    users, items = ids("users.csv"), ids("items.csv")
    played = {}
    with open(os.path.join(d, "interactions.csv")) as f:
        for r in list(csv.reader(f))[1:]:
            played.setdefault(users[int(r[0])], set()).add(items[int(r[1])])
    spark_lists = {}
    with open(os.path.join(d, "spark_top.csv")) as f:
        for r in list(csv.reader(f))[1:]:
            u, i = users[int(r[0])], items[int(r[2])]
            if i not in played.get(u, ()):
                spark_lists.setdefault(u, []).append((i, float(r[3])))
    encore_lists = {}
    with open(lists) as f:
        for r in list(csv.reader(f, delimiter="\t"))[1:]:
            encore_lists.setdefault(r[0], []).append((r[2], float(r[4])))
    same = ties = short = 0
    for u, mine in encore_lists.items():
        theirs = spark_lists.get(u, [])[:10]
        if len(theirs) < 10:
            short += 1
            continue
        if [i for i, _ in mine] == [i for i, _ in theirs]:
            same += 1
            continue
        # Equal allowing ties: at each rank the items may differ only where the scores agree.
        if len(mine) == len(theirs) and all(a == b or abs(sa - sb) <= 1e-4 * max(1, abs(sb)) for (a, sa), (b, sb) in zip(mine, theirs)) \
                and sorted(i for i, _ in mine[:-1]) == sorted(i for i, _ in theirs[:-1]):
            ties += 1
    compared = len(encore_lists) - short
    test = {}
    with open(os.path.join(split, "test.tsv")) as f:
        for r in list(csv.reader(f, delimiter="\t"))[1:]:
            test.setdefault(r[0], set()).add(r[1])
    def ndcg(ranked):
        total = n = 0
        for u, relevant in test.items():
            top = [i for i, _ in ranked.get(u, [])][:10]
            dcg = sum(1 / math.log2(k + 2) for k, i in enumerate(top) if i in relevant)
            idcg = sum(1 / math.log2(k + 2) for k in range(min(10, len(relevant))))
            total += dcg / idcg
            n += 1
        return total / n
    out, _ = run([ENCORE, "evaluate", "--model", "als", "--train", os.path.join(split, "train.tsv"), "--test", os.path.join(split, "test.tsv"), "--format", "json"])
    own = json.loads(out)[0]
    print("## spark: MLlib implicit ALS (rank 64, 15 iterations, regParam 0.05, alpha 1 on log1p plays, local[2]) through export and import-factors, Last.fm split")
    print()
    print(f"Encore serving Spark's factors reproduces Spark's own recommendForAllUsers top 10 (played songs left out) for "
          f"{same + ties:,} of {compared:,} users ({same:,} identical, {ties:,} equal up to tied scores; {short} users had fewer than 10 unplayed songs in Spark's top 60).")
    print()
    print("| model | fit s | NDCG@10 on the test split |")
    print("|---|---:|---:|")
    print(f"| Spark MLlib ALS, its own lists | {timing['fit_seconds']:.1f} | {ndcg(spark_lists):.4f} |")
    print(f"| Spark's factors served by Encore | (import) | {ndcg(encore_lists):.4f} |")
    print(f"| Encore ALS (same rank, iterations, λ, α) | {own['fit_seconds']:.1f} | {own['ndcg_at_10']:.4f} |")
    print()
    print(f"Spark's recommendForAllUsers(60) took {timing['recommend_seconds']:.1f} s. MLlib scales λ by each user's and song's plays (ALS-WR); Encore's does not.")
    print()


def replicas():
    """Serving throughput with one and with two `encore serve` replicas over one PostgreSQL."""
    import signal
    import threading
    if "ENCORE_TEST_POSTGRES" not in os.environ:
        sys.exit("replicas: run through bench/run.sh replicas (it starts a throwaway PostgreSQL server)")
    root = os.path.join(os.path.dirname(ROOT), "shared", "data", "lastfm-2k")
    url, _ = fresh_postgres("bench_replicas")
    run([ENCORE, "import", root, "--database", url])
    read = api_key(url, "read")
    users = os.path.join(OUT, "replica-users.txt")
    import csv
    with open(os.path.join(root, "user_artists.dat")) as f:
        rows = list(csv.reader(f, delimiter="\t"))[1:]
    with open(users, "w") as f:
        f.write("\n".join(sorted({r[0] for r in rows})) + "\n")
    cache = os.path.join(OUT, "replicas.embeddings")
    ports = [18191, 18192]
    servers = []
    lua = os.path.join(ROOT, "bench", "wrk_rate.lua")
    try:
        # One after the other: the second reads the catalogue's embeddings the first wrote.
        for p in ports:
            servers.append(subprocess.Popen([ENCORE, "serve", "--database", url, "--port", str(p), "--embedding-cache", cache],
                                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT, f"replica-{p}.log"), "w")))
            wait_ready(f"http://127.0.0.1:{p}/readyz")
        for p in ports:  # warm-up, not recorded
            wrk(f"http://127.0.0.1:{p}", lua, 5, {"USERS": users, "KEY": read, "RATE": "0"})

        def together(rate, connections, seconds=15):
            """wrk on each replica at once, each offered `rate` (0: as fast as it goes)."""
            results = [None, None]
            def one(n):
                results[n] = wrk(f"http://127.0.0.1:{ports[n]}", lua, seconds, {"USERS": users, "KEY": read, "RATE": str(rate)}, connections=connections, threads=1)
            threads = [threading.Thread(target=one, args=(n,)) for n in range(2)]
            for t in threads: t.start()
            for t in threads: t.join()
            return results

        print("## replicas: encore serve (default policy) over one PostgreSQL, one replica against two, Last.fm, wrk on the same 2 cores")
        print()
        print("| offered | replicas | lists/s | p50 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, rate in [("500 lists/s", 500), ("as fast as it goes", 0)]:
            one = wrk(f"http://127.0.0.1:{ports[0]}", lua, 15, {"USERS": users, "KEY": read, "RATE": str(rate)}, connections=32 if rate == 0 else 16)
            print(f"| {label} | 1 | {one[0]:,.0f} | {one[1]:.2f} | {one[2]:.2f} | {one[3]} |")
            a, b = together(rate // 2, 16 if rate == 0 else 8)
            print(f"| {label} | 2 (half each) | {a[0] + b[0]:,.0f} | {max(a[1], b[1]):.2f} | {max(a[2], b[2]):.2f} | {a[3] + b[3]} |")
        print()
        print("Two replicas on the same two cores share them: the figure shows what a second process costs or gains here, "
              "not what a second machine would add.")
        print()
    finally:
        for s in servers:
            s.send_signal(signal.SIGTERM)
        for s in servers:
            try:
                s.wait(timeout=60)
            except subprocess.TimeoutExpired:
                s.kill()


# The service's /metrics names of the content source's scoring batches.
CONTENT_LISTS = 'encore_scoring_batched_lists{source="content"}'
CONTENT_BATCHES = 'encore_scoring_batches{source="content"}'
ALS_LISTS = 'encore_scoring_batched_lists{source="als"}'
ALS_BATCHES = 'encore_scoring_batches{source="als"}'


def serve():
    import signal
    import threading
    import urllib.request
    root = os.path.join(os.path.dirname(ROOT), "shared", "data", "lastfm-2k")
    db = lastfm_database("serve.db")
    read, write, admin = api_key(db, "read"), api_key(db, "write"), api_key(db, "admin")
    # Two registered EASE models to activate in turn during the swap run.
    ids = []
    for config in ('{"lambda": 100}', '{"lambda": 200}'):
        out, _ = run([ENCORE, "train", "--database", db, "--model", "ease", "--config", config, "--format", "json"])
        ids.append(json.loads(out)["id"])
    users = os.path.join(OUT, "serve-users.txt")
    songs = os.path.join(OUT, "serve-songs.txt")
    import csv
    with open(os.path.join(root, "user_artists.dat")) as f:
        rows = list(csv.reader(f, delimiter="\t"))[1:]
    with open(users, "w") as f:
        f.write("\n".join(sorted({r[0] for r in rows})) + "\n")
    with open(songs, "w") as f:
        f.write("\n".join(sorted({r[1] for r in rows})) + "\n")
    encore = subprocess.Popen([ENCORE, "serve", "--database", db, "--port", "18181"], stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT, "serve.log"), "w"))
    # The same service composing every list (no list cache), for the cost of a list itself.
    uncached = subprocess.Popen([ENCORE, "serve", "--database", db, "--port", "18183", "--list-cache", "0"], stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(OUT, "serve-uncached.log"), "w"))
    venv = os.path.dirname(sys.executable)
    peer = subprocess.Popen([os.path.join(venv, "uvicorn"), "serve_peer:app", "--workers", "2", "--port", "18182", "--log-level", "warning"],
                            cwd=os.path.join(ROOT, "bench"), env=dict(os.environ, ENCORE_PEER_DATA=root, OPENBLAS_NUM_THREADS="1"),
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT, "peer.log"), "w"))
    try:
        wait_ready("http://127.0.0.1:18181/readyz")
        wait_ready("http://127.0.0.1:18183/readyz")
        wait_ready("http://127.0.0.1:18182/healthz")
        lua = os.path.join(ROOT, "bench", "wrk_rate.lua")
        # Warm-up (pages of the model matrices, lazy structures; the cached service's first lists), not recorded.
        wrk("http://127.0.0.1:18181", lua, 5, {"USERS": users, "KEY": read, "RATE": "0"})
        wrk("http://127.0.0.1:18183", lua, 5, {"USERS": users, "KEY": read, "RATE": "0"})
        wrk("http://127.0.0.1:18182", lua, 5, {"USERS": users, "KEY": "", "RATE": "0"})
        print("## serving: encore serve (default policy, SQLite; with its list cache and with --list-cache 0) vs FastAPI + implicit ALS (uvicorn, 2 workers), Last.fm, wrk on the same 2 cores")
        print()
        print("| offered rate | Encore req/s | p50 ms | p99 ms | Encore, no list cache, req/s | p50 ms | p99 ms | peer req/s | p50 ms | p99 ms |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        def row(label, rate, connections=16):
            e = wrk("http://127.0.0.1:18181", lua, 15, {"USERS": users, "KEY": read, "RATE": rate}, connections=connections)
            u = wrk("http://127.0.0.1:18183", lua, 15, {"USERS": users, "KEY": read, "RATE": rate}, connections=connections)
            p = wrk("http://127.0.0.1:18182", lua, 15, {"USERS": users, "KEY": "", "RATE": rate}, connections=connections)
            print(f"| {label} | {e[0]:,.0f} | {e[1]:.2f} | {e[2]:.2f} | {u[0]:,.0f} | {u[1]:.2f} | {u[2]:.2f} | {p[0]:,.0f} | {p[1]:.2f} | {p[2]:.2f} |")
            return e, u, p
        for rate in (200, 500, 1000, 2000):
            row(f"{rate:,}", str(rate))
        e, u, p = row("max (32 connections)", "0", connections=32)
        print()
        print(f"Maximum throughput: Encore {e[0]:,.0f} / peer {p[0]:,.0f} = {e[0] / p[0]:.1f}x; without the list cache {u[0]:,.0f} / {p[0]:,.0f} = {u[0] / p[0]:.1f}x "
              f"(errors: Encore {e[3]}, without the cache {u[3]}, peer {p[3]}).")
        print()
        with urllib.request.urlopen("http://127.0.0.1:18181/metrics", timeout=10) as r:
            metrics = {l.split()[0]: l.split()[1] for l in r.read().decode().splitlines() if l and not l.startswith("#")}
        with urllib.request.urlopen("http://127.0.0.1:18183/metrics", timeout=10) as r:
            unmetrics = {l.split()[0]: l.split()[1] for l in r.read().decode().splitlines() if l and not l.startswith("#")}
        print(f"List cache: {float(metrics.get('encore_list_cache_hits', 0)):,.0f} hits, {float(metrics.get('encore_list_cache_misses', 0)):,.0f} misses. "
              f"Content scoring without the cache: {float(unmetrics.get(CONTENT_LISTS, 0)):,.0f} lists in "
              f"{float(unmetrics.get(CONTENT_BATCHES, 0)):,.0f} batches.")
        print()
        uncached.send_signal(signal.SIGTERM)
        uncached.wait(timeout=60)
        ev = wrk("http://127.0.0.1:18181", os.path.join(ROOT, "bench", "wrk_events.lua"), 15,
                 {"USERS": users, "SONGS": songs, "KEY": write, "BATCH": "1000"}, connections=4, threads=1)
        print(f"Event ingestion, batches of 1,000 plays into SQLite (synchronous=FULL), 4 connections: {ev[0] * 1000:,.0f} events per second "
              f"(p50 {ev[1]:.1f} ms, p99 {ev[2]:.1f} ms per batch, {ev[3]} errors).")
        print()
        stop = threading.Event()
        swaps = []
        took = []
        def activate():
            n = 0
            while not stop.wait(5):
                req = urllib.request.Request(f"http://127.0.0.1:18181/v1/models/{ids[n % 2]}/activate", method="POST",
                                             headers={"Authorization": f"Bearer {admin}"})
                start = time.time()
                with urllib.request.urlopen(req, timeout=120) as r:
                    swaps.append(r.status)
                took.append(time.time() - start)
                n += 1
        t = threading.Thread(target=activate)
        t.start()
        sw = wrk("http://127.0.0.1:18181", lua, 30, {"USERS": users, "KEY": read, "RATE": "0"})
        stop.set()
        t.join()
        print(f"30 s of load with an activation every 5 s: {sw[4]:,} requests, {sw[3]} non-2xx or socket errors, "
              f"{len(swaps)} activations (statuses {sorted(set(swaps))}, {', '.join(f'{t:.1f}' for t in took)} s each), p99 {sw[2]:.1f} ms.")
        print()
    finally:
        encore.send_signal(signal.SIGTERM)
        peer.send_signal(signal.SIGTERM)
        if uncached.poll() is None:
            uncached.send_signal(signal.SIGTERM)
            uncached.wait(timeout=60)
        encore.wait(timeout=60)
        peer.wait(timeout=60)


def dashboard():
    """Server-side render time of every dashboard page on Last.fm: p50 and p99 of 100 requests each,
    after one warm-up request (the cluster page computes its analysis on first use: waited for)."""
    import signal
    import urllib.request
    db = lastfm_database("dashboard.db")
    for config in ('{"lambda": 100}', '{"lambda": 200}'):
        run([ENCORE, "train", "--database", db, "--model", "ease", "--config", config, "--format", "json"])
    cache = os.path.join(OUT, "serve.db.embeddings")
    args = [ENCORE, "serve", "--database", db, "--port", "18185", "--no-auth"] + (["--embedding-cache", cache] if os.path.exists(cache) else [])
    encore = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT, "dashboard.log"), "w"))
    try:
        wait_ready("http://127.0.0.1:18185/readyz")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        def get(path):
            start = time.perf_counter()
            with opener.open("http://127.0.0.1:18185" + path, timeout=120) as r:
                body = r.read()
                assert r.status == 200, (path, r.status)
            return (time.perf_counter() - start) * 1000, body
        end = time.time() + 300
        # The cluster analysis and the per-segment offline metrics are computed once per snapshot, on first use.
        while (b"being computed" in get("/clusters")[1] or b"being computed" in get("/segments")[1]) and time.time() < end:
            time.sleep(2)
        pages = ["/", "/data", "/models", "/segments", "/users/2", "/songs/289", "/songs?q=metal", "/onboarding?artists=Madonna&tags=pop",
                 "/new-songs?user=2", "/clusters"]
        print("## dashboard: server-side render time per page (Last.fm, encore serve, 100 sequential requests each after a warm-up)")
        print()
        print("| page | p50 ms | p99 ms | first request ms | bytes |")
        print("|---|---:|---:|---:|---:|")
        for page in pages:
            first, body = get(page)
            times = sorted(get(page)[0] for _ in range(100))
            print(f"| `{page}` | {times[49]:.1f} | {times[98]:.1f} | {first:.1f} | {len(body):,} |")
        print()
    finally:
        encore.send_signal(signal.SIGTERM)
        encore.wait(timeout=60)


SPLIT_DIR = os.path.join(ROOT, "..", "shared", "data", "lastfm-2k", "splits")
LASTFM_DIR = os.path.join(ROOT, "..", "shared", "data", "lastfm-2k")


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def curve_svg(series, path):
    """NDCG@10 against epochs, one line per series {label: [(epoch, ndcg)]}, with a reference line."""
    w, h, left, right, top, bottom = 800, 400, 60, 250, 40, 50
    xmax = max(e for pts in series.values() for e, _ in pts)
    ymax = 0.25
    x = lambda e: left + (w - left - right) * e / xmax
    y = lambda v: h - bottom - (h - top - bottom) * v / ymax
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2 - 60}" y="22" font-size="14">LightGCN on Last.fm: NDCG@10 by epoch</text>',
           f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>',
           f'<text x="{(w - right + left) / 2 - 20}" y="{h - 12}">epochs</text>',
           f'<text x="14" y="{(h) / 2}" transform="rotate(-90 14 {h / 2})">NDCG@10</text>']
    for v in [0, 0.05, 0.10, 0.15, 0.20, 0.25]:
        out.append(f'<line x1="{left - 4}" y1="{y(v):.1f}" x2="{w - right}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 40}" y="{y(v) + 4:.1f}">{v:.2f}</text>')
    for e in sorted({e for pts in series.values() for e, _ in pts}):
        out.append(f'<text x="{x(e) - 8:.1f}" y="{h - bottom + 16}">{e}</text>')
    out.append(f'<line x1="{left}" y1="{y(0.2294):.1f}" x2="{w - right}" y2="{y(0.2294):.1f}" stroke="#888" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{w - right + 8}" y="{y(0.2294) + 4:.1f}" fill="#555">EASE 0.2294</text>')
    for n, (label, pts) in enumerate(series.items()):
        c = colours[n % len(colours)]
        d = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in sorted(pts))
        out.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2"/>')
        for e, v in pts:
            out.append(f'<circle cx="{x(e):.1f}" cy="{y(v):.1f}" r="3" fill="{c}"/>')
        out.append(f'<rect x="{w - right + 8}" y="{top + 20 * n}" width="12" height="12" fill="{c}"/>')
        out.append(f'<text x="{w - right + 26}" y="{top + 20 * n + 10}">{label}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def graph():
    bench_lightgcn = os.path.join(ROOT, ".build", "release", "encore-bench-lightgcn")
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    env.pop("OPENBLAS_CORETYPE", None)
    peer_epochs = os.environ.get("GRAPH_PEER_EPOCHS", "10,50,100,200,400")
    pyg_epochs = os.environ.get("GRAPH_PYG_EPOCHS", "10,50,100")
    encore_epochs = os.environ.get("GRAPH_ENCORE_EPOCHS", "10,50,100,200,400,600")
    if os.environ.get("GRAPH_PART") != "gcn":
        lightgcn(bench_lightgcn, env, peer_epochs, pyg_epochs, encore_epochs)
    gcn()


def lightgcn(bench_lightgcn, env, peer_epochs, pyg_epochs, encore_epochs):
    print("## LightGCN: Encore against PyTorch (faithful reference script) and torch_geometric, lastfm-2k split, 2 threads")
    print()
    rows = {}
    wall, peak, out = peak_rss_mib([bench_lightgcn, SPLIT_DIR, encore_epochs])
    rows["Encore"] = json_lines(out)
    rows["Encore"][-1]["peak_rss_mib"] = peak
    for kind, epochs in (("torch", peer_epochs), ("pyg", pyg_epochs)):
        report = os.path.join(OUT, "time.txt")
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report, sys.executable, os.path.join(ROOT, "bench", "lightgcn_peer.py"), SPLIT_DIR, kind, epochs],
                           capture_output=True, text=True, env=env, cwd=os.path.join(ROOT, "bench"))
        if p.returncode != 0:
            print(f"{kind} peer failed: {p.stderr[-2000:]}")
            continue
        rows[kind] = json_lines(p.stdout)
        with open(report) as f:
            rows[kind][-1]["peak_rss_mib"] = int(f.read().strip().splitlines()[-1]) / 1024
    label = {"Encore": "Encore", "torch": "PyTorch 2.15 (reference script)", "pyg": "torch_geometric LightGCN"}
    print("| implementation | epochs | NDCG@10 | R@30 | NDCG@30 | wall s/epoch | CPU s/epoch | peak RSS MiB (whole run) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind, points in rows.items():
        for r in points:
            peak = f"{r['peak_rss_mib']:.0f}" if r is points[-1] else ""
            print(f"| {label[kind]} | {r['epochs']} | {r['ndcg_at_10']:.4f} | {r['recall_at_30']:.4f} | {r['ndcg_at_30']:.4f} | "
                  f"{r['wall_seconds_per_epoch']:.3f} | {r['cpu_seconds_per_epoch']:.3f} | {peak} |")
    print()
    if "torch" in rows:
        mine = {r["epochs"]: r for r in rows["Encore"]}
        print("| epochs | Encore NDCG@10 | PyTorch NDCG@10 | difference | Encore s/epoch | PyTorch s/epoch | PyTorch / Encore time |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows["torch"]:
            e = mine.get(r["epochs"])
            if e:
                print(f"| {r['epochs']} | {e['ndcg_at_10']:.4f} | {r['ndcg_at_10']:.4f} | {e['ndcg_at_10'] - r['ndcg_at_10']:+.4f} | "
                      f"{e['wall_seconds_per_epoch']:.3f} | {r['wall_seconds_per_epoch']:.3f} | {r['wall_seconds_per_epoch'] / e['wall_seconds_per_epoch']:.2f}x |")
        print()
    curve_svg({label[k]: [(r["epochs"], r["ndcg_at_10"]) for r in v] for k, v in rows.items()}, os.path.join(ROOT, "bench", "lightgcn-curve.svg"))
    print("curves: bench/lightgcn-curve.svg")
    print()


def gcn():
    print("## The report's GCN: seed protocol on the shared split (log1p plays), all 18,569 test pairs")
    print()
    cache = os.path.join(OUT, "lastfm-minilm.cache")
    specs = [("BaselineOnly (ALS baselines)", "baseline", None),
             ("gcn (defaults: text + popularity inputs, 150 epochs)", "gcn", json.dumps({"cache": cache})),
             ("gcn, learned song inputs", "gcn", json.dumps({"song_features": "learned"})),
             ("gcn, text inputs, MLP decoder", "gcn", json.dumps({"cache": cache, "decoder": "mlp"})),
             ("gcn-report (ReLU, lr 1e-4, 30 epochs, no biases)", "gcn-report", json.dumps({"cache": cache})),
             ("gcn, text inputs, 300 epochs", "gcn", json.dumps({"cache": cache, "epochs": 300}))]
    print("| model | RMSE | MAE | RMSE (predictable) | impossible | fit s |")
    print("|---|---:|---:|---:|---:|---:|")
    for label_, model, config in specs:
        args = [ENCORE, "evaluate", "--protocol", "seed", "--train", SPLIT_DIR + "/train.tsv", "--test", SPLIT_DIR + "/test.tsv",
                "--catalog", LASTFM_DIR, "--model", model, "--format", "json"]
        if config:
            args += ["--config", config]
        out, _ = run(args)
        r = json.loads(out)[0]
        print(f"| {label_} | {r['rmse']:.4f} | {r['mae']:.4f} | {r['rmse_predictable']:.4f} | {r['impossible']} | {r['fit_seconds']:.2f} |")
    print()
    times = {}
    for epochs in (0, 150):
        out, _ = run([ENCORE, "evaluate", "--protocol", "seed", "--train", SPLIT_DIR + "/train.tsv", "--test", SPLIT_DIR + "/test.tsv",
                      "--catalog", LASTFM_DIR, "--model", "gcn", "--config", json.dumps({"cache": cache, "epochs": epochs}), "--format", "json"])
        times[epochs] = json.loads(out)[0]["fit_seconds"]
    print(f"GCN seconds per epoch (text inputs: 384-d MiniLM + the popularity score, hidden 64, full graph): "
          f"{(times[150] - times[0]) / 150:.3f} (fit with 150 epochs {times[150]:.2f} s, with 0 epochs {times[0]:.2f} s)")
    print()


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    print(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}")
    print()
    if which in ("loader", "all"):
        loader()
    if which in ("generator", "all"):
        generator()
    if which in ("rating", "all"):
        rating()
    if which in ("ranking", "all"):
        ranking()
    if which in ("kmeans", "all"):
        kmeans()
    if which in ("encoder", "all"):
        encoder()
    if which in ("policy", "all"):
        policy()
    if which in ("serve", "all"):
        serve()
    if which in ("dashboard", "all"):
        dashboard()
    if which in ("graph", "all"):
        graph()
    if which in ("knn-memory", "all"):
        knn_memory()
    if which in ("store", "all"):
        store()
    if which in ("replicas", "all"):
        replicas()
    if which == "spark":
        spark()
    if which == "als-scale":
        als_scale()
    if which == "limits":
        limits()
    if which == "scale":
        scale()
    if which == "scale-serve":
        scale_serve()
