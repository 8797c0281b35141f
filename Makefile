# hubbooks — every target installs what it needs into .venv (and aws-sam-cli into .venv-sam).
SHELL := /bin/bash
PY312 := $(shell scripts/find-python)
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
# sam build/validate need the real python3.12 first on PATH (not a pyenv shim).
export SAM_CLI_TELEMETRY := 0
# The hubbooks package lives in the layer; demo, bench and devstack import it as the functions do.
export PYTHONPATH := $(abspath layers/common)
export PATH := $(dir $(PY312)):$(abspath $(VENV))/bin:$(PATH)
PYTEST_ARGS ?=
BENCH_ARGS ?=
# The browser tests drive Debian's Chromium; installed with apt when missing (root, or through sudo).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)

.PHONY: help demo test lint up bench build validate clean browser soak

help:
	@echo "make demo   run the whole product on devstack + sandbox, write .demo/report.json"
	@echo "make test   run every test (lint, template, unit, integration, e2e, contract)"
	@echo "make up     run devstack until Ctrl-C, printing every URL"
	@echo "make lint   ruff, mypy, cfn-lint and sam validate"
	@echo "make bench  benchmarks, results in .bench/results.json"
	@echo "make soak   the reliability suites at length, results in .reliability/results.json"

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt
	@test -x $(PY) || $(PY312) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PY312) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	@touch $@

demo: $(VENV)/.installed
	$(PY) -m demo

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

browser: $(CHROMIUM)

test: $(VENV)/.installed $(SAM_VENV)/.installed $(CHROMIUM)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@# mypy runs beside the tests (it needs a core for half a minute from a fresh clone); both must pass.
	@# Three workers on two cores: the suites wait on emulated clocks and queues more than they compute.
	$(PY) -m mypy > .mypy.log 2>&1 & types=$$!; \
	$(PY) -m pytest -n 3 --dist loadscope $(PYTEST_ARGS); tests=$$?; \
	wait $$types; typed=$$?; cat .mypy.log; test $$tests = 0 && test $$typed = 0

lint: $(VENV)/.installed $(SAM_VENV)/.installed validate
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

validate: $(VENV)/.installed $(SAM_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template-file template.yaml
	AWS_EC2_METADATA_DISABLED=true $(SAM) validate --template-file template.yaml --region us-east-1

up: $(VENV)/.installed
	$(PY) -m devstack up --sandbox

# The reliability suites at length: 20 convergence scenarios of 40 steps, the soak over 20 connections with
# 150 changes each, the fuzzing with 200 cases a target and the initial sync of 3,000 people a side
# (docs/reliability.md has how long they take here).
# The 20-connection soak takes about twenty minutes alone: a test's 600 s ceiling of make test would end it.
SOAK_TIMEOUT ?= 3600
soak: $(VENV)/.installed
	HUBBOOKS_RELIABILITY_SCENARIOS=$${HUBBOOKS_RELIABILITY_SCENARIOS:-20} HUBBOOKS_RELIABILITY_STEPS=$${HUBBOOKS_RELIABILITY_STEPS:-40} \
	HUBBOOKS_SOAK_CONNECTIONS=$${HUBBOOKS_SOAK_CONNECTIONS:-20} HUBBOOKS_SOAK_CHANGES=$${HUBBOOKS_SOAK_CHANGES:-150} \
	HUBBOOKS_FUZZ_EXAMPLES=$${HUBBOOKS_FUZZ_EXAMPLES:-200} HUBBOOKS_INITIAL_SYNC_PEOPLE=$${HUBBOOKS_INITIAL_SYNC_PEOPLE:-3000} \
		$(PY) -m pytest -n 2 --dist loadscope --timeout=$(SOAK_TIMEOUT) tests/reliability tests/security/test_fuzz.py \
			tests/integration/test_initial_sync.py $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) -m bench $(BENCH_ARGS)

build: $(SAM_VENV)/.installed
	$(SAM) build --template-file template.yaml

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .demo .bench .devstack .pytest_cache .mypy_cache .ruff_cache
