#!/usr/bin/env python3
"""Print `OPENBLAS_CORETYPE=<kernel>` naming an OpenBLAS kernel other than the one this CPU gets by default.

numpy's wheels ship OpenBLAS built for many CPUs and pick the kernel set at import time (SkylakeX on an
AVX-512 machine, Haswell on AVX2, Sandybridge on AVX). Each set rounds matrix products and least squares
differently in the last bits, so a stored output that depends on those bits passes on the machine that
stored it and fails on a reader's. `make test` forces another set so that such a failure shows here.

The kernel chosen must run on this CPU: Sandybridge (AVX) on any machine with AVX2, else Nehalem (SSE4.2).
Prints nothing where there is nothing to force (not Linux x86-64, or a CPU without AVX), so that
`env $(python3 .ci/other_blas_kernel.py) cmd` runs `cmd` unchanged there. Standard library only: it runs
before any virtual environment exists.
"""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_flags() -> set[str]:
    """The flags of the first processor in /proc/cpuinfo; empty where there is no such file."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def other_kernel(flags: set[str]) -> str | None:
    if "avx2" in flags:
        return "Sandybridge"  # the default would be Haswell, Zen or SkylakeX
    if "avx" in flags:
        return "Nehalem"  # the default would be Sandybridge
    return None


if __name__ == "__main__":
    kernel = other_kernel(cpu_flags()) if platform.machine() in ("x86_64", "AMD64") else None
    if kernel:
        print(f"OPENBLAS_CORETYPE={kernel}")
