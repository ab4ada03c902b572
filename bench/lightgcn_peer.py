"""The Python side of the LightGCN benchmark: a faithful PyTorch LightGCN (He et al. 2020, as the
reference implementation LightGCN-PyTorch trains it: 64-d embeddings from N(0, 0.1), 3 layers of
D^-1/2 A D^-1/2 without self-loops, mean over layers 0..3, one uniform (user, positive, negative)
triple per training play, batches of 2048, softplus(neg - pos) + 1e-4 * 1/2 ||layer-0 rows||^2 /
batch, Adam 1e-3), and torch_geometric's LightGCN with the same hyper-parameters, on the shared
lastfm-2k split, scored with implicit_peer.metrics (DESIGN.md's definitions).

Usage: lightgcn_peer.py SPLIT_DIR torch|pyg EPOCHS_CSV   (e.g. 10,50,100,200)
Prints one JSON object per checkpoint: epochs, metrics, wall and CPU seconds per epoch, peak RSS."""
import json
import resource
import sys
import time

import numpy as np
import scipy.sparse as sp
import torch

from implicit_peer import load, metrics

torch.set_num_threads(2)
torch.manual_seed(42)
np.random.seed(42)


def normalized_adjacency(train):
    n_users, n_items = train.shape
    binary = train.copy().tocsr()
    binary.data[:] = 1
    a = sp.bmat([[None, binary], [binary.T, None]], format="csr").astype(np.float32)
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.zeros_like(deg)
    inv[deg > 0] = deg[deg > 0] ** -0.5
    d = sp.diags(inv)
    norm = (d @ a @ d).tocoo()
    idx = torch.tensor(np.vstack([norm.row, norm.col]), dtype=torch.long)
    return torch.sparse_coo_tensor(idx, torch.tensor(norm.data), norm.shape).coalesce()


def sample(train, positives, rng):
    n_users, n_items = train.shape
    users = rng.integers(0, n_users, train.nnz)
    out = []
    for u in users:
        pos = positives[u]
        if len(pos) == 0:
            continue
        p = pos[rng.integers(0, len(pos))]
        while True:
            n = rng.integers(0, n_items)
            if n not in pos_sets[u]:
                break
        out.append((u, p, n))
    return np.array(out, dtype=np.int64)


def main():
    global pos_sets
    split, kind, checkpoints = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
    train, test = load(split)
    n_users, n_items = train.shape
    positives = [train.indices[train.indptr[u]:train.indptr[u + 1]] for u in range(n_users)]
    pos_sets = [set(p.tolist()) for p in positives]
    rng = np.random.default_rng(42)
    if kind == "torch":
        graph = normalized_adjacency(train)
        emb = torch.nn.Parameter(torch.randn(n_users + n_items, 64) * 0.1)
        opt = torch.optim.Adam([emb], lr=1e-3)

        def propagate():
            layers = [emb]
            x = emb
            for _ in range(3):
                x = torch.sparse.mm(graph, x)
                layers.append(x)
            return torch.stack(layers, dim=1).mean(dim=1)

        def batch_loss(u, p, n):
            out = propagate()
            eu, ep, en = out[u], out[n_users + p], out[n_users + n]
            pos, neg = (eu * ep).sum(1), (eu * en).sum(1)
            reg = 0.5 * (emb[u].norm(2).pow(2) + emb[n_users + p].norm(2).pow(2) + emb[n_users + n].norm(2).pow(2)) / len(u)
            return torch.nn.functional.softplus(neg - pos).mean() + 1e-4 * reg

        def final_scores():
            with torch.no_grad():
                out = propagate().numpy()
            return out[:n_users], out[n_users:]
    else:
        from torch_geometric.nn import LightGCN
        coo = train.tocoo()
        src = torch.tensor(coo.row, dtype=torch.long)
        dst = torch.tensor(coo.col + n_users, dtype=torch.long)
        edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
        model = LightGCN(n_users + n_items, embedding_dim=64, num_layers=3)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def batch_loss(u, p, n):
            label = torch.stack([torch.cat([u, u]), torch.cat([n_users + p, n_users + n])])
            rank = model(edge_index, label)
            pos, neg = rank.chunk(2)
            return model.recommendation_loss(pos, neg, node_id=torch.cat([u, n_users + p, n_users + n]), lambda_reg=1e-4)

        def final_scores():
            with torch.no_grad():
                out = model.get_embedding(edge_index).numpy()
            return out[:n_users], out[n_users:]

    wall = cpu = 0.0
    done = 0
    for target in checkpoints:
        while done < target:
            w0, c0 = time.perf_counter(), time.process_time()
            triples = torch.tensor(sample(train, positives, rng))
            triples = triples[torch.randperm(len(triples))]
            for start in range(0, len(triples), 2048):
                b = triples[start:start + 2048]
                loss = batch_loss(b[:, 0], b[:, 1], b[:, 2])
                opt.zero_grad()
                loss.backward()
                opt.step()
            wall += time.perf_counter() - w0
            cpu += time.process_time() - c0
            done += 1
        users, items = final_scores()
        m = metrics(lambda u: items @ users[u], train, test)
        m.update({"epochs": done, "wall_seconds_per_epoch": wall / done, "cpu_seconds_per_epoch": cpu / done,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "peer": kind})
        print(json.dumps(m), flush=True)


if __name__ == "__main__":
    main()
