#!/usr/bin/env bash
# Encore's benchmarks, side by side with their Python peers in the same run.
# Usage: bench/run.sh [loader|generator|rating|ranking|kmeans|encoder|policy|serve|dashboard|graph|knn-memory|store|replicas|spark|scale|scale-serve|als-scale|limits|all]   (default: all; scale, scale-serve, als-scale, limits and spark only by name)
# Installs the peers (pandas, numpy, scikit-surprise, implicit) into the ignored .venv-bench, builds Encore in release mode,
# runs both sides, and prints the figures and ratios. Results go to bench/out/ (ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-bench
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import pandas, numpy, surprise, implicit, threadpoolctl, sklearn, fastapi, uvicorn" 2>/dev/null || "$VENV/bin/pip" install -q pandas numpy scipy scikit-surprise "implicit==0.7.2" threadpoolctl scikit-learn fastapi uvicorn
command -v wrk >/dev/null || { echo "error: wrk is missing (apt-get install wrk)" >&2; exit 1; }
swift build -c release -Xswiftc -enable-testing --product encore >/dev/null   # the build make test uses: one build for both
swift build -c release -Xswiftc -enable-testing --product encore-bench-kmeans >/dev/null
swift build -c release -Xswiftc -enable-testing --product encore-bench-lightgcn >/dev/null
case "${1:-all}" in spark) "$VENV/bin/python" -c "import pyspark" 2>/dev/null || "$VENV/bin/pip" install -q pyspark ;; esac
command -v java >/dev/null || case "${1:-all}" in spark) echo "error: the spark benchmark needs Java 17 (apt-get install openjdk-17-jre-headless)" >&2; exit 1 ;; esac
# The graph peers (PyTorch, torch_geometric) are large; installed only for that benchmark.
case "${1:-all}" in graph|all) "$VENV/bin/python" -c "import torch, torch_geometric" 2>/dev/null || "$VENV/bin/pip" install -q torch torch_geometric ;; esac
make -s models
# The transformer peer is large (PyTorch); install it with: .venv-bench/bin/pip install sentence-transformers
mkdir -p bench/out
# OpenBLAS kernels from the CPU's flags, for Encore and the peers alike (numpy and implicit bundle
# their own OpenBLAS, which reads the same variable); a generic virtual CPU model gets SSE3 kernels.
core=$(scripts/openblas-core.sh)
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -n "$core" ]; then export OPENBLAS_CORETYPE="$core"; fi
case "${1:-all}" in
  store|replicas|scale|all) exec scripts/with-postgres.sh "$VENV/bin/python" bench/bench.py "${1:-all}" ;;
  *) exec "$VENV/bin/python" bench/bench.py "${1:-all}" ;;
esac
