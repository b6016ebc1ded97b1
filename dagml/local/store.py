"""The run store: per run and step, outputs, logs, metrics, timings and status.

Files live under ``<home>/runs/<run_id>/steps/<step>/`` (each step's directory
is the container root its job sees); metadata lives in ``<home>/runs.db``
(SQLite, WAL). Status changes are committed in batches, one transaction each
time the runner is about to wait (:meth:`RunStore.set_steps`), so a runner
killed at any moment loses nothing it had recorded, and ``--resume`` knows
exactly what finished; :meth:`RunStore.sync` makes a run durable when it ends
(docs/local.md, "Durability"). A missing ``runs.db`` is created; one that is there but
damaged, unreadable, locked or on a full disk is a :class:`StoreError` naming
the file and the fix, and is never replaced (``dagml.local.home.Database``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import attrs

from dagml.errors import did_you_mean
from dagml.local.errors import (
    RunNotFound,
    StoreAccessError,
    StoreBusyError,
    StoreDatabaseError,
    StoreError,
    StoreFullError,
    StoreIOError,
)
from dagml.local.home import Database, dagml_home
from dagml.local.status import RunStatus, StepStatus, step_status
from dagml.spec.specs import KINDS, Kind

__all__ = [
    "RunNotFound",
    "RunRecord",
    "RunStore",
    "StepRecord",
    "StoreAccessError",
    "StoreBusyError",
    "StoreDatabaseError",
    "StoreError",
    "StoreFullError",
    "StoreIOError",
]

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, target TEXT NOT NULL, status TEXT NOT NULL,
    params TEXT NOT NULL, started REAL NOT NULL, finished REAL, error TEXT, code_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, step TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
    started REAL, finished REAL, cache_key TEXT, cached_from TEXT, error TEXT, detail TEXT,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS cache (
    cache_key TEXT PRIMARY KEY, run_id TEXT NOT NULL, step TEXT NOT NULL, created REAL NOT NULL
);
"""
#: Step rows written by one INSERT (10 values each: within the 999 variables old SQLite builds allow).
_ROWS_PER_STATEMENT = 99
#: SQLite's wait for a lock (seconds); creating the store retries "locked" for as long again.
_BUSY_TIMEOUT = 30.0
_KINDS: dict[str, Kind] = {kind: kind for kind in KINDS}


def now() -> float:
    return time.time()


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


@attrs.frozen
class StepRecord:
    step: str
    kind: Kind
    status: StepStatus
    started: float | None = None
    finished: float | None = None
    cache_key: str | None = None
    cached_from: str | None = None
    error: str | None = None
    #: Kind-specific facts: a condition's outcome and values, a registered version, ...
    detail: dict[str, Any] = attrs.field(factory=dict)

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


@attrs.frozen
class RunRecord:
    run_id: str
    pipeline: str
    target: str
    status: str
    params: dict[str, Any]
    started: float
    finished: float | None
    error: str | None
    code_hash: str


class RunStore:
    """Runs under ``home`` (default ``$DAGML_HOME`` or ``.dagml``)."""

    def __init__(self, home: str | None = None) -> None:
        self.home = dagml_home(home)
        self.db_path = os.path.join(self.home, "runs.db")
        self._database = Database(self.db_path, "run database", "a new run history", _build)
        self._db: sqlite3.Connection | None = None
        self._db_pid = 0
        # Several runs may open the store at once; the first statements on a connection take
        # locks SQLite's busy timeout does not always wait for, so retry (for a bounded time).
        deadline = time.monotonic() + _BUSY_TIMEOUT
        attempt = 0
        while True:
            try:
                self._initialize()
                break
            except StoreBusyError:
                self.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(0.5, 0.01 * 2**attempt))
                attempt += 1

    def _initialize(self) -> None:
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreDatabaseError(
                    f"{self.db_path} was written by a newer dagml (schema {version}). Fix: upgrade dagml to "
                    "read it, or use another --home/DAGML_HOME.",
                    self.db_path,
                    "newer-schema",
                )
            if version < SCHEMA_VERSION:  # made by a dagml that created the file in place
                _build(db)

    @contextlib.contextmanager
    def _connect(self, run_id: str | None = None) -> Iterator[sqlite3.Connection]:
        """This store's connection (autocommit: every statement is committed as it runs).

        One connection per store and process: opening one per status change was a
        third of the runner's time per step (docs/performance.md). A forked child
        never uses its parent's connection; it opens its own. SQLite and OS errors
        become :class:`StoreError`; ``run_id`` names the run to resume once a full disk
        or a lock is cleared.
        """
        hint = f"finish run {run_id} with `dagml run --resume {run_id}`" if run_id else ""
        with self._database.errors(hint):
            if self._db is None or self._db_pid != os.getpid():
                db = self._database.connect(_BUSY_TIMEOUT)
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute("PRAGMA synchronous=NORMAL")
                except BaseException:
                    db.close()
                    raise
                self._db, self._db_pid = db, os.getpid()
            yield self._db

    def close(self) -> None:
        """Close this store's connection (it reopens when used again)."""
        if self._db is not None and self._db_pid == os.getpid():
            self._db.close()
        self._db = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: sqlite3 may be half torn down
            pass

    def sync(self, run_id: str) -> None:
        """Make what run ``run_id`` wrote so far durable: its steps' files and ``runs.db``.

        Steps write their files without an fsync each (``dagml.runtime.artifacts.deferred_sync``)
        and SQLite commits without one (WAL, ``synchronous=NORMAL``); the runner calls this once,
        when the run ends or stops. Linux: ``syncfs`` of the file system holding the run (one
        call, whatever the number of files); elsewhere ``sync``.
        """
        directory = self.run_dir(run_id)
        try:
            syncfs = ctypes.CDLL(None, use_errno=True).syncfs
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except (OSError, AttributeError):  # no syncfs here (macOS), or no directory: everything
            os.sync()
            return
        try:
            if syncfs(fd) != 0:
                os.sync()
        finally:
            os.close(fd)

    # ------------------------------------------------------------ paths
    def run_dir(self, run_id: str) -> str:
        return os.path.join(self.home, "runs", run_id)

    def step_dir(self, run_id: str, step: str) -> str:
        return os.path.join(self.run_dir(run_id), "steps", step)

    # ------------------------------------------------------------ runs
    def new_run(self, pipeline: str, target: str, params: dict[str, Any], code_hash: str) -> str:
        run_id = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        with self._connect() as db:
            os.makedirs(os.path.join(self.run_dir(run_id), "steps"), exist_ok=False)
            try:
                db.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, 'Running', ?, ?, NULL, NULL, ?)",
                    (run_id, pipeline, target, json.dumps(params, sort_keys=True), now(), code_hash),
                )
            except BaseException:
                shutil.rmtree(self.run_dir(run_id), ignore_errors=True)  # a run the store never heard of
                raise
        return run_id

    def reopen(self, run_id: str) -> RunRecord:
        with self._connect(run_id) as db:
            db.execute("UPDATE runs SET status='Running', finished=NULL, error=NULL WHERE run_id=?", (run_id,))
        return self.run(run_id)

    def finish_run(self, run_id: str, status: RunStatus, error: str | None) -> None:
        with self._connect(run_id) as db:
            db.execute("UPDATE runs SET status=?, finished=?, error=? WHERE run_id=?", (status, now(), error, run_id))

    def run(self, run_id: str) -> RunRecord:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone()
            if row is None:
                known = [r[0] for r in db.execute("SELECT run_id FROM runs ORDER BY started DESC LIMIT 200")]
                raise RunNotFound(
                    f"no run {run_id!r} in {self.home}{did_you_mean(run_id, known)}. Fix: see `dagml runs list`."
                )
        return RunRecord(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7], row[8])

    def runs(self, limit: int = 50) -> list[RunRecord]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY started DESC, run_id DESC LIMIT ?", (limit,)).fetchall()
        return [RunRecord(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], r[8]) for r in rows]

    # ------------------------------------------------------------ steps
    def set_step(self, run_id: str, record: StepRecord) -> None:
        self.set_steps(run_id, [record])

    def set_steps(self, run_id: str, records: Iterable[StepRecord], cached: Iterable[tuple[str, str]] = ()) -> None:
        """Record these steps' statuses, and ``cached`` (cache key, step) entries of this run
        (:meth:`remember`), in one transaction: all of them are committed, or none."""
        rows = [
            (
                run_id,
                record.step,
                record.kind,
                record.status,
                record.started,
                record.finished,
                record.cache_key,
                record.cached_from,
                record.error,
                json.dumps(record.detail, sort_keys=True),
            )
            for record in records
        ]
        keys = [(key, run_id, step, now()) for key, step in cached]
        if not rows and not keys:
            return
        with self._connect(run_id) as db:
            if not keys and len(rows) <= _ROWS_PER_STATEMENT:  # autocommit: one statement is one transaction
                values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
                db.execute(f"INSERT OR REPLACE INTO steps VALUES {values}", [v for row in rows for v in row])
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                db.executemany("INSERT OR REPLACE INTO cache VALUES (?, ?, ?, ?)", keys)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                raise

    def steps(self, run_id: str) -> dict[str, StepRecord]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM steps WHERE run_id=?", (run_id,)).fetchall()
        return {r[1]: self._step_record(run_id, r) for r in rows}

    def _step_record(self, run_id: str, row: tuple[Any, ...]) -> StepRecord:
        step, kind_text, status_text = row[1], row[2], row[3]
        kind, status = _KINDS.get(kind_text), step_status(status_text)
        if kind is None or status is None:
            what = f"kind {kind_text!r}" if kind is None else f"status {status_text!r}"
            raise StoreDatabaseError(
                f"{self.db_path}: step {step!r} of run {run_id!r} has the {what}, which this dagml does not "
                "know. Fix: upgrade dagml to read it, or use another --home/DAGML_HOME.",
                self.db_path,
                "malformed",
            )
        return StepRecord(step, kind, status, row[4], row[5], row[6], row[7], row[8], json.loads(row[9] or "{}"))

    # ------------------------------------------------------------ cache
    def cached(self, cache_key: str) -> tuple[str, str] | None:
        """(run_id, step) of a finished step with this key whose outputs still exist."""
        with self._connect() as db:
            row = db.execute("SELECT run_id, step FROM cache WHERE cache_key=?", (cache_key,)).fetchone()
        if row is None or not os.path.isdir(self.step_dir(row[0], row[1])):
            return None
        return row[0], row[1]

    def remember(self, cache_key: str, run_id: str, step: str) -> None:
        with self._connect(run_id) as db:
            db.execute("INSERT OR REPLACE INTO cache VALUES (?, ?, ?, ?)", (cache_key, run_id, step, now()))


def _build(db: sqlite3.Connection) -> None:
    """The schema, in a new file (or one an older dagml left without it)."""
    db.executescript(_SCHEMA)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
