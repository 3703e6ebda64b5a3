# labkit: two commands set everything up.
#   make lab    JupyterLab on my-notebooks/ (JUPYTER_PORT=8888 by default)
#   make hub    a class on this machine: JupyterHub, learner accounts, the tables server
#   make test   the whole suite, as CI runs it
# Both create .venv when it is missing and reinstall when pyproject.toml changes.

PYTHON       ?= python3
JUPYTER_PORT ?= 8888
LAB_ARGS     ?=# more options for jupyter lab, e.g. LAB_ARGS=--ServerApp.open_browser=True
VENV         := .venv
STAMP        := $(VENV)/.installed-from-pyproject
# The learner's working copies (git-ignored): the tracked notebooks stay as
# shipped, so `git pull` never conflicts and nbval compares the originals.
WORK         := my-notebooks
# JupyterLab's user settings and workspaces, kept in the project (git-ignored)
# so that no other JupyterLab of the user shares or changes them.
LAB_STATE    := .jupyterlab
# jupyter refuses to run as root without --allow-root (containers, CI).
ROOT_FLAG    := $(if $(filter 0,$(shell id -u)),--allow-root)

.DEFAULT_GOAL := help
.PHONY: help setup lab hub reset test reliability bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The stamp is newer than pyproject.toml once the install has succeeded.
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -e ".[test,course,app,hub]"
	touch $@

setup: $(STAMP) ## create .venv and install labkit with its test and course extras

# The exercises as learners get them: nbgrader's student release of the
# source notebooks in course/source/exercises/ (the one copy, with solutions
# and hidden tests), made again when a source changes. nbgrader runs alembic
# from PATH, hence the venv's bin/ first.
RELEASE := course/release/exercises
$(RELEASE)/.made: $(STAMP) course/nbgrader_config.py $(wildcard course/source/exercises/*.ipynb)
	cd course && PATH="$(abspath $(VENV))/bin:$$PATH" "$(abspath $(VENV))/bin/nbgrader" \
		generate_assignment exercises --force --no-db --log-level=WARN
	touch $@

# .venv/bin first on PATH: `python -m labkit ...` in JupyterLab's terminal then
# runs the lab's Python, not whatever python the system has. Only notebooks a
# learner has no copy of yet are copied (new ones after a git pull); the
# exercises' student release goes to my-notebooks/exercises/.
# jupyter/overrides.json turns the news and update checks off (they need the
# internet and pop up over the page); jupyter/page_config.json hides
# nbgrader's menus, which are for instructors.
lab: $(STAMP) $(RELEASE)/.made ## start JupyterLab on your working copies in my-notebooks/ (token on)
	@mkdir -p $(WORK)
	@for original in notebooks/*.ipynb; do \
		[ -e $(WORK)/$${original##*/} ] || cp $$original $(WORK)/; \
	done
	@mkdir -p $(WORK)/exercises
	@for original in $(RELEASE)/*.ipynb; do \
		[ -e $(WORK)/exercises/$${original##*/} ] || cp $$original $(WORK)/exercises/; \
	done
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter lab $(WORK)/ \
		--no-browser --port=$(JUPYTER_PORT) $(ROOT_FLAG) \
		--LabApp.app_settings_dir="$(CURDIR)/jupyter" \
		--LabApp.user_settings_dir="$(CURDIR)/$(LAB_STATE)/user-settings" \
		--LabApp.workspaces_dir="$(CURDIR)/$(LAB_STATE)/workspaces" \
		--LabApp.news_url= \
		--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate $(LAB_ARGS)

# A class on this machine (hub/jupyterhub_config.py says how, the README's
# "Teaching a class" what for). The hub's proxy comes from npm into .hub/
# (git-ignored, never global); the hub keeps its state and the learners'
# homes there too. HUB_IP=0.0.0.0 opens the hub and the tables server to the
# network, and then needs HUB_PASSWORD.
HUB_DIR          ?= .hub
HUB_IP           ?= 127.0.0.1
HUB_PORT         ?= 8000
HUB_LEARNERS     ?= 6
HUB_PASSWORD     ?=# the class password; labkit-class on 127.0.0.1
TABLES_PORT      ?= 7000
TABLES_OPTIONS   ?=# e.g. TABLES_OPTIONS="--seed 1 --turn-seconds 20"
HUB_PROXY        := $(HUB_DIR)/node_modules/.bin/configurable-http-proxy

$(HUB_PROXY):
	npm install --prefix $(HUB_DIR) --prefer-offline --no-audit --no-fund --no-save configurable-http-proxy@5

hub: $(STAMP) $(RELEASE)/.made $(HUB_PROXY) ## start JupyterHub for a class: learner1..N, the lab, the tables server
	LABKIT_HUB_DIR="$(abspath $(HUB_DIR))" LABKIT_HUB_IP="$(HUB_IP)" \
	LABKIT_HUB_PORT="$(HUB_PORT)" LABKIT_HUB_LEARNERS="$(HUB_LEARNERS)" \
	LABKIT_HUB_PASSWORD="$(HUB_PASSWORD)" LABKIT_TABLES_PORT="$(TABLES_PORT)" \
	LABKIT_TABLES_OPTIONS="$(TABLES_OPTIONS)" LABKIT_HUB_PROXY="$(abspath $(HUB_PROXY))" \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
	$(VENV)/bin/jupyterhub -f hub/jupyterhub_config.py

# The old copy is kept beside the new one, stamped with the time: a reset
# never loses work.
reset: NAME = $(NOTEBOOK:.ipynb=)
reset: KEPT = $(WORK)/$(NAME).before-reset-$(shell date +%Y%m%d-%H%M%S).ipynb
reset: ## make your copy of NOTEBOOK (e.g. NOTEBOOK=06-blackjack) the original again
	@test -n "$(NAME)" || { echo "say which one: make reset NOTEBOOK=06-blackjack"; exit 2; }
	@test -f notebooks/$(NAME).ipynb || { echo "there is no notebooks/$(NAME).ipynb"; exit 2; }
	@mkdir -p $(WORK)
	@if [ -f $(WORK)/$(NAME).ipynb ]; then \
		mv $(WORK)/$(NAME).ipynb $(KEPT) && echo "your copy is kept as $(KEPT)"; \
	fi
	cp notebooks/$(NAME).ipynb $(WORK)/

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
