"""Work that two methods do alike, done once per process and reused, with its cost charged to both.

Several methods of :data:`multlib.methods.METHODS` share a computation on the same data: the improved
network with model selection runs the improved network's search and then removes terms; its ratio
variant starts with the same one-term search; the neural power unit on inputs that are all ``>= 0``
*is* the real NPU (its imaginary weights start at 0 and get no gradient). A :class:`Memo` keeps such
a result under a key made of everything it depends on (:func:`digest` of the data and the settings),
so the second method reuses it instead of computing it again. The result is the same object, so the
fits are bit-for-bit those made without the memo (``tests/test_reuse.py`` and the methods' tests check it).

Cost stays honest: a reuse adds the seconds the computation first took to :func:`seconds_reused`, and
:func:`multlib.compare.score_fits` adds those seconds to the reusing method's time. A method's
seconds per fit is therefore what it costs on its own, not what it cost after another method.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable, TypeVar

import numpy as np

from multlib.data import check_positive_int

__all__ = ["Memo", "digest", "seconds_reused"]

T = TypeVar("T")

_REUSED = {"seconds": 0.0}


def seconds_reused() -> float:
    """The seconds of computation reused by every :class:`Memo` of this process so far (each reuse counted)."""
    return _REUSED["seconds"]


def digest(*parts: Any) -> str:
    """A key for ``parts``: arrays by dtype, shape and bytes, everything else by ``repr``."""
    h = hashlib.sha1()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(f"array{part.dtype.str}{part.shape}".encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()


class Memo:
    """The last ``capacity`` results of a computation, each with the seconds it took.

    ``memo.get_or_compute(key, compute)`` returns the result kept under ``key``, or runs ``compute()``
    and keeps what it returns. The caller must treat results as read-only: they are shared.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = check_positive_int(capacity, "capacity")
        self._entries: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result under ``key``; computed (and kept, timed) if it is not there."""
        if key in self._entries:
            self._entries.move_to_end(key)
            value, seconds = self._entries[key]
            self.hits += 1
            _REUSED["seconds"] += seconds
            return value  # type: ignore[no-any-return]
        t0 = time.perf_counter()
        value = compute()
        self.misses += 1
        self._entries[key] = (value, time.perf_counter() - t0)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every result (the counts stay)."""
        self._entries.clear()
