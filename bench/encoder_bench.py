"""The transformer benchmark: sentences per second of `encore embed --texts` on the 17,632 lastfm
artist names and on 10,000 generated song-style strings, with peak memory; and, when the peer is
installed in the bench venv (sentence-transformers on PyTorch CPU), the same strings through it with
2 threads and batch 64. Prints JSON."""
import json
import os
import random
import subprocess
import sys
import time


def texts(shared):
    names = []
    with open(f"{shared}/data/lastfm-2k/artists.dat", encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) > 1 and parts[0] != "id":
                names.append(parts[1])
    rng = random.Random(7)
    words = ["love", "night", "fire", "heart", "dream", "city", "summer", "rain", "blue", "road", "lights", "wild", "golden", "shadow"]
    songs = [f"{' '.join(rng.choice(words).title() for _ in range(rng.randint(2, 4)))} - {rng.choice(names)} ({rng.choice(['Live', 'Remix', 'Acoustic', 'Album Version'])}) {rng.randint(1960, 2010)}"
             for _ in range(10_000)]
    return {"lastfm artist names": names, "song-style strings": songs}


def encore(binary, model_dir, items, out):
    path = os.path.join(out, "encoder_texts.json")
    with open(path, "w") as f:
        json.dump(items, f)
    report = os.path.join(out, "encoder_time.txt")
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report, binary, "embed", "--texts", path, "--model-dir", model_dir],
                       capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(p.stderr)
    rows = json.loads(p.stdout)
    pieces = sum(len(r["token_ids"]) for r in rows) / len(rows)
    with open(report) as f:
        rss = int(f.read().strip().splitlines()[-1]) / 1024
    return {"seconds": seconds, "per_second": len(items) / seconds, "pieces": pieces, "peak_mib": rss}


def peer(model_dir, items):
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    torch.set_num_threads(2)
    start = time.perf_counter()
    model = SentenceTransformer(model_dir, device="cpu")
    load = time.perf_counter() - start
    start = time.perf_counter()
    model.encode(items, batch_size=64)
    seconds = time.perf_counter() - start
    import resource
    return {"seconds": seconds, "per_second": len(items) / seconds, "load_seconds": load,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(binary, model_dir, shared, out):
    results = []
    for name, items in texts(shared).items():
        results.append({"data": name, "count": len(items), "encore": encore(binary, model_dir, items, out), "peer": peer(model_dir, items)})
    print(json.dumps(results))


if __name__ == "__main__":
    main(*sys.argv[1:5])
