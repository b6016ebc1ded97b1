"""Where the ``dagml`` package itself lives (what the code bundle vendors; what is not user code).

A leaf module, so the runtime can find the package without importing ``dagml``
(whose ``__init__`` is the public API, the top layer: docs/architecture.md).
"""

from __future__ import annotations

import os

#: The directory of the imported ``dagml`` package.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
