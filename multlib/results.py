"""Committed results: where they live, how they are written and read, and what machine made them.

Every study of the book (Chapter 4's sweep, Chapter 5b's comparison and laws, Chapter 6's ranking
study, the units in their own papers' settings) writes its rows here and reads them back from here,
so that a notebook opened alone (Colab, a download) finds them inside the installed package:

* :data:`RESULTS_DIR` is the package's ``results`` folder (package data, found with
  :mod:`importlib.resources`), in a source checkout and in an installed wheel alike;
* :func:`write_csv` / :func:`read_csv`: one row per fit, floats as ``repr`` so they read back exactly;
* :func:`write_curves` / :func:`read_curves` / :func:`read_meta`: per-row arrays (loss curves) and a
  JSON record of how the file was made (:func:`run_meta`, :func:`machine_signature`) in an ``.npz``
  beside the CSV (:func:`curves_path`).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = [
    "RESULTS_DIR",
    "write_csv",
    "read_csv",
    "curves_path",
    "write_curves",
    "read_curves",
    "read_meta",
    "machine_signature",
    "run_meta",
]

RESULTS_DIR: Path = Path(str(resources.files("multlib") / "results"))
"""The committed results, shipped inside the package (package data), so that a notebook opened alone
(Colab, a download) reads them through ``multlib``; every study's command writes here by default."""


def write_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str], columns: Sequence[str]) -> Path:
    """Write ``rows`` as CSV with ``columns`` (other keys are left out), making the folder if needed.

    Floats are written as ``repr``, so they read back exactly (``nan`` and ``inf`` included); ``None``
    is written as an empty field. Every committed result of the book is written this way.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row[k] is None else repr(row[k]) if isinstance(row[k], float) else row[k]
                             for k in columns})
    return path


def read_csv(
    path: str | os.PathLike[str],
    *,
    command: str,
    ints: Sequence[str] = (),
    floats: Sequence[str] = (),
    bools: Sequence[str] = (),
    optional_ints: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Read a CSV of :func:`write_csv` back, with ``ints``, ``floats`` and ``bools`` typed (others stay
    text); ``optional_ints`` are integers that may be empty (read as ``None``).

    A missing file raises ``FileNotFoundError`` naming ``command``, the one that regenerates it.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: regenerate it with `{command}`")
    with path.open(newline="") as fh:
        return [dict(raw, **{k: int(raw[k]) for k in ints}, **{k: float(raw[k]) for k in floats},
                     **{k: raw[k] == "True" for k in bools},
                     **{k: int(raw[k]) if raw[k] else None for k in optional_ints})
                for raw in csv.DictReader(fh)]


def curves_path(csv_path: str | os.PathLike[str]) -> Path:
    """Where :func:`write_curves` puts the arrays that belong to the CSV ``csv_path``."""
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.stem + "_curves.npz")


def write_curves(
    csv_path: str | os.PathLike[str], loss: np.ndarray, keys: dict[str, np.ndarray], meta: dict[str, Any] | None = None
) -> Path:
    """Write ``loss`` (one row per CSV row), the ``keys`` arrays to align by, and ``meta`` (as JSON)
    to :func:`curves_path` (``csv_path``)."""
    path = curves_path(csv_path)
    np.savez_compressed(path, loss=loss, **keys, meta=np.array(json.dumps(meta or {})))
    return path


def read_curves(csv_path: str | os.PathLike[str], n_rows: int) -> np.ndarray:
    """The ``(rows, epochs)`` loss curves stored beside ``csv_path``; ``(n_rows, 0)`` when there are none."""
    path = curves_path(csv_path)
    return np.load(path)["loss"] if path.exists() else np.empty((n_rows, 0))


def read_meta(csv_path: str | os.PathLike[str]) -> dict[str, Any]:
    """The settings, versions, machine and wall time stored beside a CSV (empty if none)."""
    path = curves_path(csv_path)
    if not path.exists():
        return {}
    with np.load(path) as data:
        return json.loads(str(data["meta"])) if "meta" in data else {}


def _cpu() -> tuple[str, list[str]]:
    """The CPU's model name and its vector extensions (from /proc/cpuinfo where there is one)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            info = fh.read()
    except OSError:
        return cpu, []
    lines = info.splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), cpu)
    # The model name can be as vague as "AMD EPYC"; the vector extensions decide which kernels
    # oneDNN and Eigen pick, hence the rounding (seen here: the same name, AVX-512 or not).
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    return cpu, sorted(f for f in flags if f.startswith(("avx", "amx")) or f in ("fma", "f16c", "sse4_2"))


def machine_signature() -> dict[str, Any]:
    """What float32 results depend on besides the code: CPU model, core count, library versions.

    Two runs agree bit for bit only where all of these agree; elsewhere a sweep's curves part ways
    after a few epochs (round-off amplified by Adam on MAE) and only the statistics compare.
    """
    import keras  # here, not at the top: reading and writing results needs no TensorFlow

    cpu, simd = _cpu()
    sig: dict[str, Any] = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "simd": simd,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
    }
    try:
        import tensorflow as tf

        sig["tensorflow"] = tf.__version__
    except ImportError:  # pragma: no cover
        pass
    return sig


def run_meta(argv: Sequence[str] | None, t0: float, **settings: Any) -> dict[str, Any]:
    """What a results file records about how it was made: the command's arguments, the wall time
    since ``t0`` (``time.perf_counter()``), Python, ``settings`` and :func:`machine_signature`."""
    return {
        "argv": list(sys.argv[1:] if argv is None else argv),
        "wall_seconds": time.perf_counter() - t0,
        "python": platform.python_version(),
        **settings,
        "machine": machine_signature(),
    }
