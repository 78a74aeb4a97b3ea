"""Execute notebooks top to bottom and store their outputs in place, as they are committed.

    .venv/bin/python .ci/store_outputs.py notebooks/02_log_features.ipynb [more notebooks]

Runs in the default numeric configuration (the one `make test` checks the outputs against from
another configuration), and drops what goes to stderr (TensorFlow's start-up log, with process ids
and times), which neither nbval (conftest.py) nor the book (`stderr_output: remove`) shows, and the
sliders' widget state, with which the book would load the widgets' scripts from a CDN.
"""

from __future__ import annotations

import os
import sys
import time

import nbformat
from nbclient import NotebookClient


def store(path: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    began = time.perf_counter()
    NotebookClient(notebook, timeout=1800, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": os.path.dirname(path) or "."}}).execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    print(f"{path}: executed and stored in {time.perf_counter() - began:.0f} s", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    for name in sys.argv[1:] or sys.exit(__doc__):
        store(name)
