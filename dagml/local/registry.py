"""The local model registry, shaped like SageMaker's Model Registry.

A *group* (SageMaker's model package group) holds numbered *versions*
(model packages): each version has an approval status, the metrics report it
was registered with, where its artifact is, and which pipeline run and step
registered it. The local runner calls :meth:`ModelRegistry.register` when a
``RegisterModel`` step runs; ``dagml models`` lists, shows, approves and
rejects versions.

Storage is ``<home>/registry.db`` (SQLite in WAL mode). Every call opens its
own connection and closes it, so forked processes never share one. A new
version number is read and inserted inside one ``BEGIN IMMEDIATE``
transaction (one writer at a time), with ``UNIQUE(group, version)`` as the
backstop; "database is locked" is retried with bounded backoff. The schema
version is ``PRAGMA user_version``; :data:`_MIGRATIONS` upgrades older files.
A missing file is created (reads of a missing file answer "empty" and create
nothing); one that is there but damaged, unreadable, locked or on a full disk
is a :class:`~dagml.local.home.StoreError` naming the file and the fix, and is
never replaced (``dagml.local.home.Database``).
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, NoReturn, TypeVar

import attrs

from dagml.errors import did_you_mean
from dagml.graph.names import check_name, rule_text, suggest
from dagml.local.errors import (
    ModelNotFoundError,
    RegistryBusyError,
    RegistryDatabaseError,
    RegistryValueError,
    StoreBusyError,
)
from dagml.local.home import Database, dagml_home
from dagml.spec.specs import APPROVAL_STATUSES

__all__ = [
    "SCHEMA_VERSION",
    "ModelNotFoundError",
    "ModelRegistry",
    "ModelVersion",
    "RegistryBusyError",
    "RegistryDatabaseError",
    "RegistryValueError",
    "check_group",
    "check_metrics",
    "check_status",
    "check_version",
]

T = TypeVar("T")

#: The schema this code reads and writes (``PRAGMA user_version``).
SCHEMA_VERSION = 1
#: Schema version -> statements that bring a file from the previous version to it.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE model_groups (name TEXT PRIMARY KEY, created_at TEXT NOT NULL)",
        "CREATE TABLE model_versions ("
        " group_name TEXT NOT NULL REFERENCES model_groups(name),"
        " version INTEGER NOT NULL CHECK (version >= 1),"
        " status TEXT NOT NULL CHECK (status IN ('Approved', 'PendingManualApproval', 'Rejected')),"
        " metrics TEXT NOT NULL, artifact TEXT NOT NULL, pipeline TEXT NOT NULL, run_id TEXT NOT NULL,"
        " step TEXT NOT NULL, code_hash TEXT NOT NULL, description TEXT,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
        " UNIQUE (group_name, version))",
    ),
}
_COLUMNS = (
    "group_name, version, status, metrics, artifact, pipeline, run_id, step, code_hash, description,"
    " created_at, updated_at"
)
_PLACEHOLDERS = ", ".join("?" * len(_COLUMNS.split(",")))
#: SQLite's own wait for a lock (seconds), then whole-call retries with backoff.
_BUSY_TIMEOUT = 10.0
_ATTEMPTS = 6
_BACKOFF = (0.05, 1.0)  # first delay, longest delay (seconds)


class _ReadOnlyMetrics(Mapping[str, float]):
    """A read-only, hashable, picklable ``metric -> number`` mapping, sorted by name."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, float] | Iterable[tuple[str, float]] = ()) -> None:
        self._data = dict(sorted(dict(data).items()))

    def __getitem__(self, key: str) -> float:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_ReadOnlyMetrics, (self._data,))


@attrs.frozen
class ModelVersion:
    """One registered model version (SageMaker: a model package in a group)."""

    group: str
    version: int
    #: ``Approved``, ``PendingManualApproval`` or ``Rejected``.
    status: str
    metrics: Mapping[str, float] = attrs.field(converter=_ReadOnlyMetrics)
    #: Where the model artifact is (a local path for local runs).
    artifact: str
    pipeline: str
    run_id: str
    step: str
    code_hash: str
    description: str | None
    #: ISO 8601, UTC.
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        data = attrs.asdict(self, recurse=False)
        data["metrics"] = dict(self.metrics)
        return data


# ---------------------------------------------------------------- validation


def check_group(group: object) -> str:
    """Return ``group`` when SageMaker accepts it as a model package group name, else raise."""
    if not isinstance(group, str) or not check_name("group", group):
        raise RegistryValueError(
            f"invalid model group name {group!r}: SageMaker allows {rule_text('group')}. "
            f"Fix: use {suggest('group', str(group))!r}."
        )
    return group


def check_status(status: object) -> str:
    """Return ``status`` when it is an approval status SageMaker knows, else raise."""
    if status not in APPROVAL_STATUSES:
        hint = did_you_mean(status, APPROVAL_STATUSES) if isinstance(status, str) else ""
        raise RegistryValueError(
            f"invalid approval status {status!r}{hint}. "
            f"Fix: use one of {', '.join(map(repr, APPROVAL_STATUSES))}."
        )
    return str(status)


def check_version(version: object) -> int:
    """Return ``version`` when it is a whole number >= 1, else raise."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RegistryValueError(
            f"invalid model version {version!r}. Fix: versions are whole numbers from 1."
        )
    return version


def check_metrics(metrics: Mapping[str, Any] | None) -> dict[str, float]:
    """Return ``metrics`` as a plain dict of finite ``int``/``float`` values, else raise."""
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise RegistryValueError(
            f"metrics must be a mapping of names to numbers, got {type(metrics).__name__} {metrics!r}. "
            "Fix: pass the metrics step's report (a dict such as {'accuracy': 0.97})."
        )
    clean: dict[str, float] = {}
    for key, value in metrics.items():
        if not isinstance(key, str) or not key:
            raise RegistryValueError(
                f"metric name {key!r} is not a non-empty string. Fix: name metrics with strings."
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise RegistryValueError(
                f"metric {key!r} is {value!r}; the registry stores finite numbers only. "
                f"Fix: return a finite number for {key!r} from the metrics step, or leave it out."
            )
        clean[key] = int(value) if isinstance(value, numbers.Integral) else float(value)
    return clean


def _check_text(what: str, value: object, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, str) or not value:
        raise RegistryValueError(
            f"{what} must be a non-empty string, got {value!r}. Fix: pass the {what} as a string."
        )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _spans(numbers_: Iterable[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    out: list[str] = []
    for n in sorted(numbers_):
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


# ---------------------------------------------------------------- the registry


class ModelRegistry:
    """Model groups and versions in ``<home>/registry.db`` (home: ``$DAGML_HOME`` or ``.dagml``).

    Nothing touches the file system until a method is called, and every
    method validates its arguments first. Safe to use from several processes.
    """

    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self._home = home
        self._db_path: str | None = None
        self._database: Database | None = None

    @property
    def db_path(self) -> str:
        """The database file (its directory is created on first use)."""
        if self._db_path is None:
            self._db_path = os.path.join(dagml_home(self._home), "registry.db")
        return self._db_path

    @property
    def _db(self) -> Database:
        if self._database is None:
            self._database = Database(
                self.db_path,
                "registry",
                "a new, empty registry",
                self._migrate,
                damaged=RegistryDatabaseError,
                busy=RegistryBusyError,
            )
        return self._database

    # ------------------------------------------------------------ writes
    def register(
        self,
        group: str,
        *,
        approval: str,
        metrics: Mapping[str, float] | None,
        artifact: str,
        pipeline: str,
        run_id: str,
        step: str,
        code_hash: str,
        description: str | None = None,
    ) -> ModelVersion:
        """Add the next version of ``group`` (1 for a new group, which is created) and return it."""
        check_group(group)
        check_status(approval)
        clean = check_metrics(metrics)
        provenance = (artifact, pipeline, run_id, step, code_hash)
        for what, value in zip(("artifact", "pipeline", "run_id", "step", "code_hash"), provenance):
            _check_text(what, value)
        _check_text("description", description, optional=True)

        def work(db: sqlite3.Connection) -> ModelVersion:
            with _immediate(db):
                now = _now()
                db.execute(
                    "INSERT OR IGNORE INTO model_groups (name, created_at) VALUES (?, ?)", (group, now)
                )
                (latest,) = db.execute(
                    "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE group_name = ?", (group,)
                ).fetchone()
                metrics_json = json.dumps(clean, sort_keys=True)
                row = (group, latest + 1, approval, metrics_json, *provenance, description, now, now)
                db.execute(f"INSERT INTO model_versions ({_COLUMNS}) VALUES ({_PLACEHOLDERS})", row)
            return _from_row(row)

        return self._run(work, retry_conflicts=True)

    def set_status(self, group: str, version: int, status: str) -> ModelVersion:
        """Approve or reject a version (any of the three statuses); only status and updated_at change."""
        check_group(group)
        check_version(version)
        check_status(status)

        def work(db: sqlite3.Connection) -> ModelVersion:
            with _immediate(db):
                cur = db.execute(
                    "UPDATE model_versions SET status = ?, updated_at = ?"
                    " WHERE group_name = ? AND version = ?",
                    (status, _now(), group, version),
                )
                if cur.rowcount == 0:
                    raise self._not_found(db, group, version)
                return self._fetch(db, group, version)

        return self._run(work)

    # ------------------------------------------------------------ reads
    def groups(self) -> list[dict[str, Any]]:
        """Every group, by name.

        Each is ``{"name", "latest_version", "versions", "counts", "created_at"}``; ``counts`` maps
        every approval status to its number of versions.
        """
        counts = ", ".join(f"SUM(v.status = '{s}')" for s in APPROVAL_STATUSES)
        rows = self._read(
            lambda db: db.execute(
                f"SELECT g.name, g.created_at, MAX(v.version), COUNT(v.version), {counts} FROM model_groups g"
                " LEFT JOIN model_versions v ON v.group_name = g.name GROUP BY g.name ORDER BY g.name"
            ).fetchall(),
            list,
        )
        return [
            {
                "name": r[0],
                "created_at": r[1],
                "latest_version": r[2],
                "versions": r[3],
                "counts": {s: int(n or 0) for s, n in zip(APPROVAL_STATUSES, r[4:])},
            }
            for r in rows
        ]

    def versions(self, group: str | None = None) -> list[ModelVersion]:
        """Versions of ``group`` (every group's when None), sorted by group then version."""
        if group is not None:
            check_group(group)

        def work(db: sqlite3.Connection) -> list[ModelVersion]:
            where, args = ("WHERE group_name = ?", (group,)) if group is not None else ("", ())
            query = f"SELECT {_COLUMNS} FROM model_versions {where} ORDER BY group_name, version"
            rows = db.execute(query, args)
            found = [_from_row(r) for r in rows]
            if group is not None and not found and not db.execute(
                "SELECT 1 FROM model_groups WHERE name = ?", (group,)
            ).fetchone():
                raise self._not_found(db, group, None)
            return found

        if group is None:
            return self._read(work, list)
        return self._read(work, lambda: _fail(self._empty_error(group)))

    def get(self, group: str, version: int) -> ModelVersion:
        """One version; :class:`ModelNotFoundError` (with "did you mean") when it does not exist."""
        check_group(group)
        check_version(version)
        return self._read(lambda db: self._fetch(db, group, version), lambda: _fail(self._empty_error(group)))

    def latest(self, group: str, status: str | None = None) -> ModelVersion | None:
        """The highest version of ``group`` (with ``status``, if given); None when there is none."""
        check_group(group)
        if status is not None:
            check_status(status)
        where, args = "group_name = ?", [group]
        if status is not None:
            where, args = where + " AND status = ?", args + [status]

        def work(db: sqlite3.Connection) -> ModelVersion | None:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM model_versions WHERE {where} ORDER BY version DESC LIMIT 1", args
            ).fetchone()
            return None if row is None else _from_row(row)

        return self._read(work, lambda: None)

    # ------------------------------------------------------------ internals
    def _fetch(self, db: sqlite3.Connection, group: str, version: int) -> ModelVersion:
        row = db.execute(
            f"SELECT {_COLUMNS} FROM model_versions WHERE group_name = ? AND version = ?", (group, version)
        ).fetchone()
        if row is None:
            raise self._not_found(db, group, version)
        return _from_row(row)

    def _not_found(self, db: sqlite3.Connection, group: str, version: int | None) -> ModelNotFoundError:
        known = [r[0] for r in db.execute("SELECT name FROM model_groups ORDER BY name")]
        if group in known:
            rows = db.execute("SELECT version FROM model_versions WHERE group_name = ?", (group,))
            have = [r[0] for r in rows]
            return ModelNotFoundError(
                f"model group {group!r} has no version {version}; it has "
                + (f"version{'s' if len(have) > 1 else ''} {_spans(have)}" if have else "no versions")
                + f". Fix: pick one of those (see `dagml models list {group}`)."
            )
        if not known:
            return self._empty_error(group)
        return ModelNotFoundError(
            f"no model group {group!r} in {self.db_path}{did_you_mean(group, known)}. "
            f"Fix: use one of {', '.join(map(repr, known))} (see `dagml models list`)."
        )

    def _empty_error(self, group: str) -> ModelNotFoundError:
        return ModelNotFoundError(
            f"no model group {group!r}: the registry {self.db_path} is empty. Fix: run a pipeline with a "
            "RegisterModel step locally (it registers a version), or pass the --home/DAGML_HOME it used."
        )

    def _read(self, work: Callable[[sqlite3.Connection], T], empty: Callable[[], T]) -> T:
        """Run a read; a registry file that does not exist yet is not created: ``empty()`` answers."""
        if not self._db.exists():
            return empty()
        return self._run(work)

    def _run(self, work: Callable[[sqlite3.Connection], T], retry_conflicts: bool = False) -> T:
        """Run ``work`` on a fresh connection; retry "database is locked" with bounded, jittered backoff."""
        delay, longest = _BACKOFF
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self._db.errors(), self._connect() as db:
                    return work(db)
            except sqlite3.IntegrityError:
                # UNIQUE(group, version) is the backstop: another writer won the number; take the next one.
                if not retry_conflicts or attempt == _ATTEMPTS:
                    raise
            except StoreBusyError:  # "database is locked": a RegistryBusyError once retries run out
                if attempt == _ATTEMPTS:
                    raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, longest)
        raise AssertionError("unreachable")  # pragma: no cover

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = self._db.connect(_BUSY_TIMEOUT)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA foreign_keys = ON")
            self._migrate(db)
            yield db
        finally:
            db.close()

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring the file to :data:`SCHEMA_VERSION`; refuse one written by a newer dagml."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        with _immediate(db):
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            if version > SCHEMA_VERSION:
                raise RegistryDatabaseError(
                    f"{self.db_path} was written by a newer dagml (registry schema {version}; this dagml "
                    f"reads up to {SCHEMA_VERSION}). Fix: upgrade dagml, or use another --home/DAGML_HOME.",
                    self.db_path,
                    "newer-schema",
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target]:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextlib.contextmanager
def _immediate(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken up front (``BEGIN IMMEDIATE``): commit on success, else roll back."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _fail(exc: Exception) -> NoReturn:
    raise exc


def _from_row(row: tuple[Any, ...]) -> ModelVersion:
    return ModelVersion(row[0], row[1], row[2], json.loads(row[3]), *row[4:])
