# The two commands a person types: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv: the one on PATH, else a private copy bootstrapped with pip into .tools/.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PYTHON ?= python3
ADMIN_SOURCES := $(shell find admin-ui/src admin-ui/public -type f 2>/dev/null) \
	$(wildcard admin-ui/index.html admin-ui/vite.config.* admin-ui/tsconfig*.json admin-ui/package.json)

.PHONY: help run test lint fmt types unit admin bench bench-reports openapi contract synthetic clean

help:
	@echo "make run    start the embedded database, the API (:48080) and the admin (:48081) with demo data"
	@echo "make test   lint, types and every test (starts and removes its own database server)"
	@echo "make fmt    format the code;  make bench   run the benchmarks under bench/"
	@echo "make synthetic   the synthetic check against a running \`make run\` (as the demo owner)"

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

admin-ui/node_modules/.package-lock.json: admin-ui/package-lock.json
	cd admin-ui && npm ci --no-audit --no-fund

admin-ui/dist/index.html: admin-ui/node_modules/.package-lock.json $(ADMIN_SOURCES)
	cd admin-ui && npm run build

admin: admin-ui/dist/index.html

run: .venv/.synced admin
	$(UV) run --frozen boxoffice dev

lint: .venv/.synced
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench

types: .venv/.synced
	$(UV) run --frozen mypy

fmt: .venv/.synced
	$(UV) run --frozen ruff check --fix src tests bench
	$(UV) run --frozen ruff format src tests bench

test: lint types admin contract/node_modules/.package-lock.json
	cd admin-ui && npm test
	$(UV) run --frozen pytest

openapi: .venv/.synced admin-ui/node_modules/.package-lock.json
	$(UV) run --frozen boxoffice openapi -o admin-ui/openapi.json
	cd admin-ui && npm run gen:api

# Newman (tests/contract/test_newman.py runs the Postman collection with it), in its own npm folder.
contract/node_modules/.package-lock.json: contract/package-lock.json
	cd contract && npm ci --no-audit --no-fund

# Record the examples of every operation from the flows run against a throw-away database
# (docs/api/examples/), rebuild the Postman collection and environment and the device guide's
# diagrams, then the admin's schema and client, which carry the examples. See README, Contracts.
contract: .venv/.synced
	$(UV) run --frozen python -m boxoffice.contract.examples
	$(MAKE) openapi

# A report, never a failure: its own database of BENCH_TICKETS tickets (100,000; BENCH_TICKETS=10000
# for a quick run), figures against targets, bench/results/scale.json. See README "Benchmarks".
bench: .venv/.synced
	$(UV) run --frozen python -m bench.scale

# The reports, dashboard and Fraud Watch on a year of history (1,000,000 tickets, 10 stores), generated
# once into var/bench/ and reused; bench/results/reports.json. BENCH_REPORT_TICKETS=50000 for a quick
# run. Not part of `make test`. See README "Benchmarks".
bench-reports: .venv/.synced
	$(UV) run --frozen python -m bench.reports

# `boxoffice synthetic` against `make run` in another terminal; SYNTHETIC_EMAIL/_PASSWORD/_PIN
# override the demo owner (README, Synthetic checks).
synthetic: .venv/.synced
	SYNTHETIC_EMAIL=$${SYNTHETIC_EMAIL:-owner@demo.test} SYNTHETIC_PASSWORD=$${SYNTHETIC_PASSWORD:-demo-owner-pass} \
	SYNTHETIC_PIN=$${SYNTHETIC_PIN:-1234} \
	$(UV) run --frozen boxoffice synthetic --api http://127.0.0.1:48080 --admin http://127.0.0.1:48081

clean:
	rm -rf .venv .tools admin-ui/node_modules admin-ui/dist contract/node_modules .pytest_cache .mypy_cache .ruff_cache
