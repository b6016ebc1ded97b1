"""``paused_gc()``: no cyclic garbage collection while building large acyclic structures.

Validating and compiling allocate millions of small dicts, tuples and attrs
instances that hold no reference cycles. CPython's cyclic collector still walks
every live container each time its allocation counters trip, so with 100,000
steps it took more time than the work itself (docs/performance.md). Reference
counting frees everything as usual; a pause only postpones the search for
cycles, and nesting is safe.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_gc"]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
