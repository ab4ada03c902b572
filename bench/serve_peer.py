"""The serving benchmark's peer: what a Python team would deploy, a FastAPI service on uvicorn
wrapping implicit's ALS (64 factors, 15 iterations, 1 BLAS thread per worker) fitted at start on
Last.fm's user_artists.dat, answering GET /v1/users/{id}/recommendations?k=30 with the top-k
unplayed artists as JSON. Run: ENCORE_PEER_DATA=…/lastfm-2k uvicorn serve_peer:app --workers 2."""
import os

import implicit
import numpy as np
import pandas as pd
import scipy.sparse as sp
from fastapi import FastAPI, HTTPException
from threadpoolctl import threadpool_limits

threadpool_limits(1)
data = pd.read_csv(os.path.join(os.environ["ENCORE_PEER_DATA"], "user_artists.dat"), sep="\t", dtype={"userID": str, "artistID": str})
users = {u: n for n, u in enumerate(pd.unique(data["userID"]))}
item_ids = list(pd.unique(data["artistID"]))
items = {i: n for n, i in enumerate(item_ids)}
matrix = sp.csr_matrix((data["weight"].to_numpy(np.float32), (data["userID"].map(users), data["artistID"].map(items))),
                       shape=(len(users), len(items)))
model = implicit.als.AlternatingLeastSquares(factors=64, iterations=15, regularization=0.05, random_state=42)
model.fit(matrix, show_progress=False)
app = FastAPI()


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/v1/users/{user}/recommendations")
def recommendations(user: str, k: int = 30):
    if k < 1 or k > 500:
        raise HTTPException(status_code=400, detail="k must be between 1 and 500")
    row = users.get(user)
    if row is None:
        raise HTTPException(status_code=404, detail="unknown user")
    ids, scores = model.recommend(row, matrix[row], N=k, filter_already_liked_items=True)
    return {"user": user, "items": [{"song": item_ids[i], "score": float(s)} for i, s in zip(ids, scores)]}
