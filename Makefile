# Dropline's two commands: `make run` (the app, on an embedded default) and `make test` (the whole suite).
# Both create .venv and install on first use; nothing else needs to be installed but Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint format migrate clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)  ## web on http://127.0.0.1:8000 + worker + beat + platform sandboxes; Ctrl-C stops all
	@$(PY) manage.py devstack

test: $(STAMP)  ## the whole suite on PostgreSQL + Redis (embedded fallback, loudly, when unreachable)
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff, format, migrations, the import contracts and mypy ([tool.importlinter], [tool.mypy])
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(PY) manage.py makemigrations --check --dry-run
	@$(VENV)/bin/lint-imports --no-logo
	@$(VENV)/bin/mypy

format: $(STAMP)
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

migrate: $(STAMP)
	@$(PY) manage.py migrate

clean:
	rm -rf var/ staticfiles/ .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
