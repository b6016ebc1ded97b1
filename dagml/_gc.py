"""``paused_gc()``: no cyclic garbage collection while building large acyclic structures.

Validating and compiling allocate millions of small dicts, tuples and attrs
instances that hold no reference cycles. CPython's cyclic collector still walks
every live container each time its allocation counters trip, so with 100,000
steps it took more time than the work itself (docs/performance.md). Reference
counting frees everything as usual; a pause only postpones the search for
cycles, and nesting is safe.

Start-up is the same case: importing dagml, networkx and the user's pipeline
builds objects that live until exit. The CLI (``dagml.cli.main``) pauses the
collector while it imports and parses; a one-shot command (validate, compile,
render, show, diff) stays paused to its end, and the console script then
freezes what is left so the interpreter's last collection does not walk it.
Commands that run steps or wait on AWS collect as usual once parsed, and a
local step's worker always starts with the collector on.
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
