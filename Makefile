# Fashion Trend Intelligence — every target creates the virtualenv when it is missing.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.fti-installed
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: venv demo test test-fast lint format bench-embed clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)  ## create .venv and install the project (editable) with its dev tools

demo: $(STAMP)  ## run the nightly pipeline through Airflow on the embedded demo web
	$(BIN)/fti demo

test: $(STAMP)  ## the whole test suite (CI runs this)
	$(BIN)/python -m pytest -q -ra

test-fast: $(STAMP)  ## tests without the slow end-to-end ones
	$(BIN)/python -m pytest -q -m "not slow"

bench-embed: $(STAMP)  ## embedding throughput: full path vs raw forward (CUDA when present)
	$(BIN)/python -m embedding.benchmark --images 256 --batch-size 32

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf lake .airflow .fti .pytest_cache
