# Fashion Trend Intelligence — every target creates the virtualenv when it is missing.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.fti-installed
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: venv demo test test-fast lint format bench-embed bench-search bench-crawl bench-rank bench-quality clean
.PHONY: bench-forecast bench-parse-pages bench-bot-wall bench-projection bench-street
.PHONY: airflow up down test-faults

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)  ## create .venv and install the project (editable) with its dev tools

demo: $(STAMP)  ## run the nightly pipeline through Airflow on the embedded demo web
	$(BIN)/fti demo

test: $(STAMP)  ## the whole test suite but the fault suite (CI runs this, then make test-faults)
	$(BIN)/python -m pytest -q -ra -m "not faults"

test-fast: $(STAMP)  ## tests without the slow end-to-end ones
	$(BIN)/python -m pytest -q -m "not slow and not faults"

BENCH_EMBED_FLAGS ?= --batch-size 32
BENCH_SEARCH_FLAGS ?= --sizes 10000,100000 --queries 1000 --dim 1344 --ef 32,64,128 --server-config dataCoord.segment.maxSize=1024 --server-config dataCoord.segment.sealProportion=1

bench-embed: $(STAMP)  ## embedding: files->vectors stored vs raw timm forward vs one-at-a-time (CUDA when present)
	$(BIN)/python -m benchmarks.embed $(BENCH_EMBED_FLAGS)  # + --memory-images 10000 --out f.json

bench-search: $(STAMP)  ## 10k and 100k vectors, 1k queries: embedded default (in memory), Milvus Lite, Milvus server QPS/recall@10 vs exact top-k
	$(BIN)/python -m benchmarks.search $(BENCH_SEARCH_FLAGS)

bench-crawl: $(STAMP)  ## crawl throughput: our full pipeline vs a fetch-only Scrapy spider, loopback shop
	$(BIN)/python -m benchmarks.crawl --pages 300

FTI_REAL_PAGES ?= ../shared/data/real-pages

bench-parse-pages: $(STAMP)  ## fti parse-page on the real saved retailer pages and the Instagram API sample
	$(BIN)/python -m benchmarks.parse_pages --pages $(FTI_REAL_PAGES)

bench-bot-wall: $(STAMP)  ## how soon a bot-walled loopback shop is stopped at production politeness (goal <= 60 s)
	$(BIN)/python -m benchmarks.bot_wall --pages 2000

FTI_REAL_IMAGES ?= ../shared/data/fashion-product-images
BENCH_QUALITY_FLAGS ?= --subset 400 --size 128 --epochs 2 --out .fti/bench-quality.json

bench-quality: $(STAMP)  ## triplet model quality: random-init vs pretrained vs trained R@1/R@20/category R@1 + Lightning loop overhead
	$(BIN)/python -m benchmarks.quality --images $(FTI_REAL_IMAGES) $(BENCH_QUALITY_FLAGS)

bench-projection: $(STAMP)  ## served width 1344 vs 512 vs 256 vs 128 (catalog PCA): category and street R@1 on real photos, two splits
	$(BIN)/python -m benchmarks.projection --images $(FTI_REAL_IMAGES) --dims 512,256,128 --whiten

BENCH_STREET_FLAGS ?= --scenes 300 --out .fti/bench-street.json

bench-street: $(STAMP)  ## street scenes of real product cut-outs: whole-photo vs localised R@1/R@20, box AP/recall, img/s
	$(BIN)/python -m benchmarks.street --images $(FTI_REAL_IMAGES) $(BENCH_STREET_FLAGS)

bench-rank: $(STAMP)  ## ranking 10k posts x 100k designs: product path (default settings: in memory over Milvus Lite) vs exact numpy, one run
	$(BIN)/python -m benchmarks.rank --posts 10000 --designs 100000 --dim 256

FTI_TREND_SERIES ?= ../shared/data/fashion-trend-series
BENCH_FORECAST_FLAGS ?= --test-weeks 52 --origins 1

bench-forecast: $(STAMP)  ## trend forecasts backtested on real weekly series: seasonal MASE, YoY class accuracy, seconds
	FTI_TREND_SERIES=$(FTI_TREND_SERIES) $(BIN)/python -m benchmarks.forecast $(BENCH_FORECAST_FLAGS)  # + --origins 4 --out f.json

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

AIRFLOW_PORT ?= 8080
airflow: $(STAMP)  ## Airflow UI on 127.0.0.1:$(AIRFLOW_PORT) with the project's DAGs (standalone, AIRFLOW_HOME=.airflow)
	$(BIN)/python -m include.ops.standalone --port $(AIRFLOW_PORT) --home .airflow

COMPOSE = docker compose --env-file docker/.env -f docker/compose.yaml $(if $(GPU),-f docker/compose.gpu.yaml)
up:  ## production-shaped stack in Docker (Celery, PostgreSQL, Redis, Milvus, MinIO); GPU=1 adds the GPU workers
	@test -f docker/.env || { echo "copy docker/.env.example to docker/.env and set its passwords first"; exit 1; }
	$(COMPOSE) up -d --build

down:  ## stop the Docker stack (volumes are kept; `$(COMPOSE) down -v` drops them)
	$(COMPOSE) down

clean:
	rm -rf lake .airflow .fti .pytest_cache

test-faults: $(STAMP)  ## the fault suite: kills, read-only/full lake, failing S3, corrupt pointers (a CI step)
	$(BIN)/python -m pytest -q -m faults tests/faults
