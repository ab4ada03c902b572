"""Side-by-side benchmarks of Encore against its Python peers (run through bench/run.sh).

loader:    parse a 2,000,000-row file in count_data.csv format. Peer: pandas.read_csv (plain and
           index_col=0). Encore: `encore import --format course`, its parse_seconds (read, parse,
           intern ids and build the CSR matrix) and the whole process wall time. Median of 3.
generator: `encore generate` at 10,000,000 plays: rows per second and peak resident memory.
"""
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
ENCORE = os.path.join(ROOT, ".build", "release", "encore")
REPEATS = 3


def run(args):
    start = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"command failed: {' '.join(args)}\n{p.stderr}")
    return p.stdout, wall


def peak_rss_mib(args):
    """Runs a command under GNU time and returns (wall seconds, peak RSS MiB, stdout)."""
    report = os.path.join(OUT, "time.txt")
    out, wall = run(["/usr/bin/time", "-f", "%M", "-o", report] + args)
    with open(report) as f:
        kib = int(f.read().strip().splitlines()[-1])
    return wall, kib / 1024, out


def loader():
    data = os.path.join(OUT, "loader")
    path = os.path.join(data, "count_data.csv")
    if not os.path.exists(path):
        run([ENCORE, "generate", "--users", "76000", "--songs", "10000", "--plays", "2000000",
             "--seed", "1", "--files", "course", "--output", data])
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
        out, w = run([ENCORE, "import", path, "--format", "course", "--output", snapshot, "--output-format", "json"])
        summary = json.loads(out)
        assert summary["interactions"] == 2_000_000, summary["interactions"]
        parse.append(summary["parse_seconds"])
        wall.append(w)
    encore_parse = statistics.median(parse)
    encore_wall = statistics.median(wall)
    _, encore_rss, _ = peak_rss_mib([ENCORE, "import", path, "--format", "course", "--output", snapshot, "--output-format", "json"])
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


def generator():
    data = os.path.join(OUT, "generator")
    wall, rss, out = peak_rss_mib([ENCORE, "generate", "--users", "200000", "--songs", "50000", "--plays", "10000000",
                                   "--seed", "7", "--output", data, "--output-format", "json"])
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


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    print(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}")
    print()
    if which in ("loader", "all"):
        loader()
    if which in ("generator", "all"):
        generator()
