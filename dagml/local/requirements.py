"""A step's requirements in a local run: which are installed here, at which version.

A plain local run uses this environment's packages (``dagml run --image-env`` installs the wheels
compile ships instead, docs/local.md). So a step whose requirements are missing here fails before
it starts, naming them and the install command, and a step's cache key covers the versions
installed here.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re

__all__ = ["installed_version", "missing_requirements", "requirement_name"]

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(requirement: str) -> str:
    """The distribution a PEP 508 requirement names (``"xgboost-cpu"`` of ``"xgboost-cpu==3.0.5"``)."""
    found = _NAME.match(requirement)
    return found.group(1) if found else requirement


@functools.cache
def installed_version(requirement: str) -> str | None:
    """The version of the requirement's distribution installed here, or None."""
    try:
        return importlib.metadata.version(requirement_name(requirement))
    except importlib.metadata.PackageNotFoundError:
        return None


def missing_requirements(requirements: tuple[str, ...]) -> list[str]:
    """The requirements whose distribution is not installed here (versions are not compared: the
    job installs the resolved ones; locally, what is installed runs)."""
    return [r for r in requirements if installed_version(r) is None]
