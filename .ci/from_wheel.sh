#!/usr/bin/env bash
# Test multlib as a reader gets it: installed from its built wheel (not editable) into a fresh virtual
# environment, with the unit tests run against that install and every notebook run alone in an empty
# folder (as in Colab or after a download), with nothing from the repository beside it but nbval's
# settings (conftest.py, sanitize.cfg), which the notebooks never read.
#
#   .ci/from_wheel.sh VENV REQUIREMENTS    e.g. .ci/from_wheel.sh _build/min-venv requirements-min.txt
set -euo pipefail
# Absolute, since the notebooks run from a temporary folder elsewhere.
mkdir -p "$1"
venv=$(cd "$1" && pwd)
requirements=$2
root=$(cd "$(dirname "$0")/.." && pwd)
# Outside the repository: pytest would otherwise find the repository's conftest.py above a notebook's
# folder and put the source tree (and its multlib/) on sys.path.
work=$(mktemp -d "${TMPDIR:-/tmp}/multlib-from-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
mkdir -p "$work/dist"
"$venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$work/dist" "$root"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$work"/dist/multlib-*.whl
"$venv/bin/python" -m pip list 2>/dev/null | grep -Ei '^(tensorflow|tensorflow[-_]cpu|keras|numpy|matplotlib|multlib) '

# The pytest script (unlike `python -m pytest`) does not put the current folder on sys.path, and
# importlib mode keeps the repository's multlib/ off it too; conftest.py checks the import's origin.
cd "$root"
# The browser test needs a built book, not a wheel; make browser runs it.
MULTLIB_FROM_WHEEL=1 "$venv/bin/pytest" tests -q -p no:cacheprovider --import-mode=importlib --ignore=tests/browser

for notebook in "$root"/notebooks/[0-9][0-9]*_*.ipynb; do
    alone=$work/$(basename "$notebook" .ipynb)
    mkdir -p "$alone"
    cp "$notebook" "$root/conftest.py" "$root/notebooks/sanitize.cfg" "$alone/"
    (cd "$alone" && MULTLIB_FROM_WHEEL=1 "$venv/bin/pytest" --nbval "$(basename "$notebook")" --rootdir . \
        --confcutdir . --nbval-sanitize-with sanitize.cfg --nbval-cell-timeout 900 -q -p no:cacheprovider)
done
