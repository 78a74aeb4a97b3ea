# Two entry points: `make book` builds the HTML book, `make test` runs every test.
# Both create .venv/ from requirements.txt on first use; nothing needs installing by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BOOK_FLAGS := -W -n --keep-going
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

.PHONY: book test unit notebooks book-stored clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $(STAMP)

## Build the book: execute every notebook and write the HTML to _build/html.
book: $(STAMP)
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)

## Run every test: multlib's unit tests, nbval over the notebooks, and a strict book build.
test: unit notebooks book-stored

unit: $(STAMP)
	$(BIN)/python -m pytest tests -q

notebooks: $(STAMP)
	$(BIN)/python -m pytest notebooks --nbval --nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout 900 -q

# nbval has just shown that the stored outputs are what the code produces, so this build renders
# them as stored instead of executing every notebook a second time.
book-stored: $(STAMP)
	mkdir -p _build
	sed 's/^  execute_notebooks: force/  execute_notebooks: "off"/' _config.yml > _build/_config_stored.yml
	grep -q 'execute_notebooks: "off"' _build/_config_stored.yml
	$(BIN)/jupyter-book build . --config _build/_config_stored.yml $(BOOK_FLAGS)

clean:
	rm -rf _build
