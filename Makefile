# Two commands for a fresh machine: `make book` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HTML   := _build/html

.PHONY: book test lint serve bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

## book: build the static site into _build/html (executes every chapter, cached)
book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The book is in $(HTML)/index.html (run 'make serve' to browse it)."

## test: lint, the library's tests, the book build, then the tests of the built site
test: $(STAMP)
	$(VENV)/bin/ruff check vae_lib tests
	$(PY) -m pytest tests --ignore=tests/book --ignore=tests/site
	$(MAKE) book
	$(PY) -m pytest tests/book tests/site

lint: $(STAMP)
	$(VENV)/bin/ruff check vae_lib tests
	$(VENV)/bin/ruff format --check vae_lib tests

## serve: browse the built site on http://127.0.0.1:8000
serve:
	$(PY) -m http.server --bind 127.0.0.1 --directory $(HTML) 8000

## bench: benchmarks (not part of make test)
bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf _build $(VENV)
