"""The exceptions of the local layer: runs, their store, the model registry, conditions, params.

Each derives from :class:`dagml.errors.DagmlError` and from the builtin that
matches the situation, so callers can catch either. The modules that raise them
import them from here and re-export them (``from dagml.local.home import
StoreError`` keeps working).

Two exceptions stay beside their code because they are control flow, not
errors a user meets: ``RunStopped`` (:mod:`dagml.local.runner`, a SIGTERM or
SIGHUP turned into a ``KeyboardInterrupt``) and ``Uncacheable``
(:mod:`dagml.local.fingerprint`, caught by the cache key to mark a step
uncacheable).
"""

from __future__ import annotations

from dagml.errors import ConfigurationError, DagmlError

__all__ = [
    "ConditionError",
    "ModelNotFoundError",
    "ParamError",
    "RegistryBusyError",
    "RegistryDatabaseError",
    "RegistryValueError",
    "RunBusyError",
    "RunNotFound",
    "StoreAccessError",
    "StoreBusyError",
    "StoreDatabaseError",
    "StoreError",
    "StoreFullError",
    "StoreIOError",
]


# ---------------------------------------------------------------- the state directory and its databases
class StoreError(DagmlError):
    """A local database or the state directory cannot be used.

    ``.path`` is the file, ``.fault`` says what is wrong, as a stable identifier: ``"directory"``,
    ``"not-a-file"``, ``"empty"``, ``"not-a-database"``, ``"truncated"``, ``"malformed"``,
    ``"missing-tables"``, ``"newer-schema"``, ``"stale-wal"`` (a :class:`StoreDatabaseError`);
    ``"permission"``, ``"read-only"`` (:class:`StoreAccessError`); ``"full"``; ``"locked"``;
    ``"not-a-directory"``, ``"cannot-open"``, ``"io"`` (:class:`StoreIOError`).
    """

    def __init__(self, message: str, path: str = "", fault: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.fault = fault


class StoreDatabaseError(StoreError, RuntimeError):
    """The file is there but is no database this dagml can use (damaged, or from a newer dagml)."""


class StoreAccessError(StoreError, PermissionError):
    """No permission to read or write the file or its directory."""


class StoreFullError(StoreError, OSError):
    """The disk holding the file is full."""


class StoreBusyError(StoreError, TimeoutError):
    """The database stayed locked by another process past the busy timeout."""


class StoreIOError(StoreError, OSError):
    """Any other failure to open, read or write the file (a disk or file-system error)."""


# ---------------------------------------------------------------- runs
class RunNotFound(DagmlError, LookupError):
    """No run with that id in the store."""


class RunBusyError(ConfigurationError):
    """Another runner has this run open."""


class ParamError(ConfigurationError):
    """A parameter override names no param or has the wrong type."""


class ConditionError(DagmlError, ValueError):
    """A condition cannot be decided (a metric is missing or not a number)."""


# ---------------------------------------------------------------- the model registry
class ModelNotFoundError(DagmlError, LookupError):
    """No such model group, or no such version in it."""


class RegistryValueError(DagmlError, ValueError):
    """A group name, status, version or metrics report the registry cannot store."""


class RegistryBusyError(StoreBusyError):
    """``registry.db`` stayed locked by other processes through every retry (also a ``TimeoutError``)."""


class RegistryDatabaseError(StoreDatabaseError):
    """``registry.db`` is there but unusable: damaged, not a registry, or written by a newer dagml.

    Also a ``RuntimeError``; a full disk, missing permissions or an I/O error are the other
    :class:`StoreError` subclasses.
    """
