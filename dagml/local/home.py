"""Where local state lives: ``$DAGML_HOME``, or ``.dagml/`` in the current directory."""

from __future__ import annotations

import os

__all__ = ["HOME_ENV", "dagml_home"]

HOME_ENV = "DAGML_HOME"


def dagml_home(home: str | os.PathLike[str] | None = None) -> str:
    """The state directory (created if missing): runs, the run database, the model registry."""
    path = os.path.abspath(os.fspath(home) if home is not None else os.environ.get(HOME_ENV) or ".dagml")
    os.makedirs(path, exist_ok=True)
    return path
