# credscore: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-sqlite lint format bench eval-liar eval-truth-discovery clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/credscore migrate
	$(BIN)/credscore seed-demo
	$(BIN)/credscore serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench [JSON=FILE] [PROFILE=1]`: the HTTP load benchmark against PostgreSQL (bench/README.md).
BENCH_WORKERS ?= 2
BENCH_SECONDS ?= 12
JSON ?=
PROFILE ?=

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| { echo "wrk is needed: apt-get install wrk"; exit 1; }
	@$(if $(PROFILE),$(BIN)/py-spy --version >/dev/null 2>&1 || $(BIN)/python -m pip install --quiet py-spy,true)
	$(BIN)/python bench/http_load.py --workers $(BENCH_WORKERS) --duration $(BENCH_SECONDS) \
		$(if $(JSON),--json $(JSON)) $(if $(PROFILE),--profile) $(if $(MODEL),--model)

# The evaluation data sets are not part of the repository: DATA=DIR says where they are.
DATA ?= ../shared/data

eval-liar: $(STAMP)
	$(BIN)/credscore eval liar --train $(DATA)/liar/train.tsv --test $(DATA)/liar/valid.tsv

eval-truth-discovery: $(STAMP)
	$(BIN)/credscore eval truth-discovery \
		--claims $(DATA)/truth-discovery/population/population_claims.csv \
		--truth $(DATA)/truth-discovery/population/population_truth.csv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info credscore.db* .credscore-demo-key
