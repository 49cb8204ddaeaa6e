# repro-template's own tasks. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
# The tests call ruff, hadolint and cookiecutter by name: find them in the virtualenv first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Debian's docker client has BuildKit built in; elsewhere `docker` with the buildx plugin does.
export DOCKER ?= $(firstword $(wildcard /usr/bin/docker) docker)
DEMO_DIR := build/demo

.PHONY: help venv lock-dev test test-fast lint docker demo bench bench-waits bench-lock
.PHONY: bench-tracking bench-class
.PHONY: clean

help: ## list the targets
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(VENV)/installed ## a virtualenv with what the tests need

$(VENV)/installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@

# The generated project's lock constrains this one: its tests run here with the image's versions.
lock-dev: venv ## relock requirements-dev.txt, with hashes, after a project relock
	UV_NATIVE_TLS=1 $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal \
		--python-version 3.11 --custom-compile-command "make lock-dev" \
		--output-file requirements-dev.txt requirements-dev.in

test: venv ## every test; the Docker ones need an engine (see `make docker`)
	$(VENV)/bin/python -m pytest

test-fast: venv ## in minutes, what needs no engine and trains little: bakes, hooks, make's choices
	$(VENV)/bin/python -m pytest -m "not docker and not slow"

lint: venv ## ruff on the repo and its hooks; generated projects are linted by the tests
	ruff check .
	ruff format --check .

docker: ## start a Docker engine and provide python:3.11-slim where they are missing (needs root)
	scripts/provision-docker.sh
	scripts/make-base-image.sh python:3.11-slim

demo: venv docker ## bake the default project into build/demo, build its image and train in it
	rm -rf $(DEMO_DIR)
	cookiecutter --no-input --output-dir $(DEMO_DIR) .
	$(MAKE) -C $(DEMO_DIR)/my_project image train

bench: venv docker ## the generated project's build and run times: benchmarks/RESULTS.md
	$(VENV)/bin/python benchmarks/run.py $(BENCH_FLAGS)

bench-waits: venv docker ## make train, verify and test, now and before: benchmarks/WAITS.md
	$(VENV)/bin/python benchmarks/waits.py $(BENCH_FLAGS)

bench-class: venv docker ## a class of 20 hand-ins reproduced: benchmarks/CLASS.md
	$(VENV)/bin/python benchmarks/class_reproduce.py $(BENCH_FLAGS)

bench-lock: venv docker ## builds, relock and no-op make image, now and before: benchmarks/LOCK.md
	$(VENV)/bin/python benchmarks/lock.py $(BENCH_FLAGS)

bench-tracking: venv docker ## many clients on one TrackIO server: benchmarks/TRACKING_LOAD.md
	$(VENV)/bin/python benchmarks/tracking_load.py $(BENCH_FLAGS)

clean: ## remove the virtualenv and build products
	rm -rf $(VENV) build .pytest_cache .ruff_cache
