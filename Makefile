# labkit: two commands set everything up.
#   make lab    JupyterLab on notebooks/ (JUPYTER_PORT=8888 by default)
#   make test   the whole suite, as CI runs it
# Both create .venv when it is missing and reinstall when pyproject.toml changes.

PYTHON       ?= python3
JUPYTER_PORT ?= 8888
VENV         := .venv
STAMP        := $(VENV)/.installed-from-pyproject
# jupyter refuses to run as root without --allow-root (containers, CI).
ROOT_FLAG    := $(if $(filter 0,$(shell id -u)),--allow-root)

.DEFAULT_GOAL := help
.PHONY: help setup lab test reliability bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The stamp is newer than pyproject.toml once the install has succeeded.
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -e ".[test]"
	touch $@

setup: $(STAMP) ## create .venv and install labkit with its test extras

# .venv/bin first on PATH: `python -m labkit ...` in JupyterLab's terminal then
# runs the lab's Python, not whatever python the system has.
lab: $(STAMP) ## start JupyterLab on notebooks/ (token on, no browser opened)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter lab notebooks/ \
		--no-browser --port=$(JUPYTER_PORT) $(ROOT_FLAG)

test: $(STAMP) ## run every test: unit, sockets, notebooks (nbval), browser, real clients
	$(VENV)/bin/python -m pytest --nbval --nbval-sanitize-with notebooks/sanitize.cfg tests notebooks

# The suite saves its figures; the report is rendered from them, even when a
# test failed (the report says so), and make then fails with pytest's status.
reliability: FIGURES := test-artifacts/reliability.json
reliability: $(STAMP) ## run the fault suite and write docs/RELIABILITY.md from what it measured
	rm -f $(FIGURES)
	LABKIT_RELIABILITY_FIGURES=$(FIGURES) $(VENV)/bin/python -m pytest \
		tests/test_transports.py tests/test_faults.py tests/test_two_hosts.py; \
	status=$$?; \
	$(VENV)/bin/python tests/reliability.py $(FIGURES) docs/RELIABILITY.md && exit $$status

bench: $(STAMP) ## measure every transport beside plain baselines (about half an hour; not a test)
	$(VENV)/bin/python -m labkit bench --out benchmarks/results

clean: ## remove .venv and every cache
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache test-artifacts build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
