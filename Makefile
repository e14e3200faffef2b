# Two commands for a fresh machine: `make book` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HTML   := _build/html
ASSETS := _assets/vendor/VERSIONS.txt

.PHONY: book test chromium-start check assets lint format serve bench clean

## One arithmetic on every x86-64 machine with AVX2 and FMA. OpenBLAS and numpy choose their
## kernels by the CPU, and an AVX-512 kernel rounds differently from an AVX2 one: a last bit
## that thirty epochs of training turn into another model, so that the same commit built on
## two machines showed different numbers, and claims true on one were false on the other.
## Everything make runs therefore uses the AVX2 kernels, whatever the CPU: the book's numbers
## are the same wherever it is built (an AVX-512 machine gives up some speed for it).
## Elsewhere (no AVX2, or not x86-64) the libraries choose, as they would.
X86_AVX2 := $(shell [ "$$(uname -m)" = x86_64 ] && grep -qw avx2 /proc/cpuinfo \
                    && grep -qw fma /proc/cpuinfo && echo yes)
ifeq ($(X86_AVX2),yes)
export OPENBLAS_CORETYPE := Haswell
export NPY_DISABLE_CPU_FEATURES := X86_V4 AVX512_ICL AVX512_SPR
endif

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

## assets: the site's own copies of require.js, the ipywidgets HTML manager and MathJax,
## installed from npm exactly as package-lock.json pins them, into _assets/vendor
assets: $(ASSETS)

$(ASSETS): package.json package-lock.json scripts/vendor_assets.py
	npm ci --ignore-scripts --no-audit --no-fund
	$(PYTHON) scripts/vendor_assets.py

## book: build the static site into _build/html. Chapters whose source, or the library and
## data they run, changed since their last execution are executed first, in parallel: JOBS
## processes (default: one per core), one BLAS thread each (_ext/parallel_execution.py).
## One BLAS thread per process: on a quiet machine as fast as two (bench/results.md), and it
## keeps a busy machine from making a chapter ten times slower (OpenBLAS's threads spin
## while they wait for a core).
JOBS ?= 0
ONE_BLAS_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
book: $(STAMP) $(ASSETS)
	BOOK_JOBS=$(JOBS) $(ONE_BLAS_THREAD) $(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The book is in $(HTML)/index.html (run 'make serve' to browse it)."

## test: lint, the library's tests, the book build, then the tests of the built site
## (in headless Chromium, installed with apt-get when missing). Tests run one BLAS thread per
## process (two threads in each of two processes on two cores made a test that trains ten
## times slower), the tests marked slow first, longest first (tests/conftest.py), and a
## process that runs out of tests takes half of another's (--dist worksteal), so that none
## waits alone at the end. The book's tests run one process per core; the library's one more,
## as many of them wait on a socket or a subprocess with the core idle (93 s -> 82 s on two
## cores). The book's tests list their slowest twenty. A missing chromium starts installing
## in the background first, so that apt's download and unpacking overlap the rest.
PYTEST     := $(ONE_BLAS_THREAD) $(PY) -m pytest --dist worksteal -q
CORES      := $(shell nproc 2>/dev/null || echo 2)
LIB_TESTS  := $(PYTEST) -n $(shell expr $(CORES) + 1) tests --ignore=tests/book --ignore=tests/site
BOOK_TESTS := $(PYTEST) -n $(CORES)
test: chromium-start $(STAMP)
	$(MAKE) lint
	$(LIB_TESTS)
	$(MAKE) book
	@scripts/ensure_chromium.sh
	$(BOOK_TESTS) --durations=20 tests/book tests/site

chromium-start:
	@scripts/ensure_chromium.sh --start

## check: the everyday loop: lint, the library's tests, and the claims tests of the chapters
## whose execution is stored and current (others are skipped, and say so); no build
check: $(STAMP)
	$(MAKE) lint
	$(LIB_TESTS)
	BOOK_CLAIMS=current-only $(BOOK_TESTS) -rs $(wildcard tests/book/test_*_claims.py)

## lint: ruff (check and format) over all Python, the chapters' code cells included (checked
## as one script through jupytext, where E501 is left to the formatter as cell metadata
## lines cannot wrap; formatted cell by cell by scripts/format_chapters.py), and
## the import layers of vae_lib (lint-imports, configured in pyproject.toml)
PY_SOURCES := vae_lib tests bench scripts _ext
JUPYTEXT   := PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/jupytext --quiet
CHAPTERS   := $(wildcard chapters/*.md chapters/*/*.md appendix/*.md)
lint: $(STAMP)
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	$(JUPYTEXT) --check 'ruff check --ignore E501 {}' $(CHAPTERS)
	$(PY) scripts/format_chapters.py --check $(CHAPTERS)
	$(VENV)/bin/lint-imports

## format: what lint checks, fixed where ruff can fix it
format: $(STAMP)
	$(VENV)/bin/ruff format $(PY_SOURCES)
	$(VENV)/bin/ruff check --fix $(PY_SOURCES)
	$(PY) scripts/format_chapters.py $(CHAPTERS)

## serve: browse the built site on http://127.0.0.1:8000
serve:
	$(PY) -m http.server --bind 127.0.0.1 --directory $(HTML) 8000

## bench: benchmarks, written to bench/results.md (not part of make test). PyTorch, their
## reference, is installed into the venv here only (bench/requirements.txt), never a dependency.
## BENCH_ARGS passes options, e.g. BENCH_ARGS="--threads 2" (python -m bench --help).
bench: $(STAMP) $(ASSETS)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	@scripts/ensure_chromium.sh
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf _build _assets node_modules $(VENV)
