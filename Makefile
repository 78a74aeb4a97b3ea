# Two entry points: `make book` builds the HTML book, `make test` runs every test.
# Both create .venv/ from requirements.txt on first use; nothing needs installing by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BOOK_FLAGS := -W -n --keep-going
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

# The tests run in another numeric configuration than the one that stored the notebooks' outputs and
# the committed results: TensorFlow with oneDNN kernels off and one thread each for intra- and inter-op
# work, and numpy's OpenBLAS on one thread with another CPU's kernels (.ci/other_blas_kernel.py picks
# them: Sandybridge on an AVX2 or AVX-512 machine). Each changes how sums and products round, as a
# reader's CPU would, so an output or assertion that depends on the last bits fails here, on the
# developer's machine, and not on a reader's. `make test NB_NUMERICS=` runs in the default configuration.
NB_NUMERICS ?= TF_ENABLE_ONEDNN_OPTS=0 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 \
	OPENBLAS_NUM_THREADS=1 $$($(PYTHON) .ci/other_blas_kernel.py)

.PHONY: book test unit notebooks book-stored browser test-wheel test-min results clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $(STAMP)

## Build the book: execute every notebook and write the HTML to _build/html.
book: $(STAMP)
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)

## Run every test: multlib's unit tests, nbval over the notebooks, a strict book build, and the
## built book in a browser.
test: unit notebooks book-stored browser

# The browser test needs a built book and Chromium, so the unit tests leave it out.
unit: $(STAMP)
	env $(NB_NUMERICS) $(BIN)/python -m pytest tests -q --ignore=tests/browser

notebooks: $(STAMP)
	env $(NB_NUMERICS) $(BIN)/python -m pytest notebooks --nbval --nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout 900 -q

# nbval has just shown that the stored outputs are what the code produces, so this build renders
# them as stored instead of executing every notebook a second time.
book-stored: $(STAMP)
	mkdir -p _build
	sed 's/^  execute_notebooks: force/  execute_notebooks: "off"/' _config.yml > _build/_config_stored.yml
	grep -q 'execute_notebooks: "off"' _build/_config_stored.yml
	$(BIN)/jupyter-book build . --config _build/_config_stored.yml $(BOOK_FLAGS)

# The book as a reader sees it: every page of _build/html, served on localhost, in headless
# Debian chromium (.ci/run installs chromium and chromium-driver): no console error, no request
# outside the book, images loaded with alt texts, math rendered by the book's own MathJax, launch
# links, citations and internal links that resolve. Screenshots go to _build/screenshots/.
browser: book-stored
	BOOK_HTML=$(CURDIR)/_build/html $(BIN)/python -m pytest tests/browser -q

## multlib installed from its wheel, not editable: unit tests, then each notebook alone in an empty
## folder. test-wheel uses requirements.txt (CI's versions); test-min the lowest supported versions.
test-wheel:
	env $(NB_NUMERICS) .ci/from_wheel.sh _build/wheel-venv requirements.txt

test-min:
	env $(NB_NUMERICS) .ci/from_wheel.sh _build/min-venv requirements-min.txt

## Regenerate every committed result in multlib/results/: Chapter 4's studies (about 8 minutes on 2
## cores), Chapter 5's comparison and laws, the units in their own papers' settings, Chapter 6's
## ranking study, Chapter 7's Feynman study and Chapter 8's interaction study.
results: $(STAMP)
	$(BIN)/python -m multlib.sweep --study all
	$(BIN)/python -m multlib.compare
	$(BIN)/python benchmarks/units_own_settings.py
	$(BIN)/python -m multlib.ranking
	$(BIN)/python -m multlib.feynman_study
	$(BIN)/python -m multlib.interaction_study

clean:
	rm -rf _build
