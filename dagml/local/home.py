"""Where local state lives (``$DAGML_HOME``, or ``.dagml/`` in the current directory), and how
its SQLite files (``runs.db``, ``registry.db``) are created, opened and diagnosed.

Every such file goes through :class:`Database`:

- one that does not exist yet is built in a temporary file beside it and hard-linked into place;
  the link fails if another process got there first, and then that file is used. So a
  half-initialised database never appears under its name, and concurrent creators are safe;
- one that exists is checked before SQLite opens it (a directory, an empty file, bytes that are
  not SQLite, a write-ahead log left without its database) and opened with ``mode=rw``, so SQLite
  never creates a fresh, empty file in place of a damaged or moved one: history is never silently
  replaced by an empty database;
- every SQLite or OS error met using it becomes a :class:`StoreError` that names the file, says
  what is wrong and ends with the fix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import secrets
import shlex
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator

from dagml.local.errors import (
    StoreAccessError,
    StoreBusyError,
    StoreDatabaseError,
    StoreError,
    StoreFullError,
    StoreIOError,
)

__all__ = [
    "HOME_ENV",
    "Database",
    "StoreAccessError",
    "StoreBusyError",
    "StoreDatabaseError",
    "StoreError",
    "StoreFullError",
    "StoreIOError",
    "dagml_home",
]

HOME_ENV = "DAGML_HOME"
_MAGIC = b"SQLite format 3\x00"
#: After an I/O error, less free space than this means the disk is full: SQLite then often says
#: only "disk I/O error" (it cannot size its shared-memory file).
_NEARLY_FULL = 1 << 20
#: How long (seconds) after its last change a 0-byte database may still be being created by another
#: process; older than that, it is reported as empty.
_CREATING = 2.0
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def dagml_home(home: str | os.PathLike[str] | None = None) -> str:
    """The state directory (created if missing): runs, the run database, the model registry."""
    path = os.path.abspath(os.fspath(home) if home is not None else os.environ.get(HOME_ENV) or ".dagml")
    try:
        os.makedirs(path, exist_ok=True)
    except FileExistsError:
        raise StoreIOError(
            f"the dagml state directory {path} is a file, not a directory. "
            "Fix: point --home/DAGML_HOME at a directory, or move the file aside.",
            path,
            "not-a-directory",
        ) from None
    except OSError as exc:
        raise _os_error(path, exc, "create the state directory") from exc
    return path


class Database:
    """One of dagml's SQLite files: created atomically, checked before it is opened, faults explained.

    ``what`` names it in messages (``"run database"``), ``fresh`` is what moving it aside starts
    (``"a new run history"``), ``build`` makes the schema in a new, empty file; ``damaged`` and
    ``busy`` are the classes raised for a damaged file and for a lock held past the timeout.
    """

    def __init__(
        self,
        path: str,
        what: str,
        fresh: str,
        build: Callable[[sqlite3.Connection], None],
        *,
        damaged: type[StoreDatabaseError] = StoreDatabaseError,
        busy: type[StoreBusyError] = StoreBusyError,
    ) -> None:
        self.path, self.what, self.fresh = path, what, fresh
        self._build, self._damaged_error, self._busy_error = build, damaged, busy

    def exists(self) -> bool:
        """Whether anything is at ``path`` (a damaged file counts: only a missing one is ever created)."""
        return os.path.lexists(self.path)

    def connect(self, timeout: float) -> sqlite3.Connection:
        """An autocommit connection; the file is checked first, and created when it does not exist."""
        with self.errors():
            if not self.check():
                self._create()
            uri = pathlib.Path(self.path).as_uri() + "?mode=rw"  # never let SQLite create it in place
            return sqlite3.connect(
                uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
            )

    def check(self) -> bool:
        """False when the file does not exist yet; a :class:`StoreError` when it exists but is no database."""
        # The log first: dagml makes a database's -wal only after linking the database into place,
        # so a log seen *before* the database is found missing belongs to a database moved away.
        log = _size(self.path + "-wal")
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            if os.path.lexists(self.path):
                raise self.damaged("not-a-file", "it is a symbolic link to a missing file") from None
            if log:
                raise self._stale_log() from None
            return False
        except OSError as exc:
            raise _os_error(self.path, exc, "read") from exc
        if stat.S_ISDIR(info.st_mode):
            raise self.damaged("directory", "it is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise self.damaged("not-a-file", "it is not a regular file")
        if info.st_size == 0:
            info = self._settle(info)
        if info.st_size == 0:
            raise self.damaged("empty", "it is empty (0 bytes)")
        try:
            with open(self.path, "rb") as f:
                head = f.read(100)
        except OSError as exc:
            raise _os_error(self.path, exc, "read") from exc
        if not head.startswith(_MAGIC):
            raise self.damaged("not-a-database", f"it is not an SQLite file (it starts with {head[:16]!r})")
        if len(head) < 100:
            raise self.damaged("truncated", f"it is truncated: {len(head)} bytes, less than an SQLite header")
        return True

    def _settle(self, info: os.stat_result) -> os.stat_result:
        """A 0-byte file changed in the last seconds may be a database another process is creating in
        place (an older dagml, or a file system without hard links): give it until then to fill."""
        deadline = time.monotonic() + _CREATING - (time.time() - info.st_mtime)
        while info.st_size == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
            try:
                info = os.stat(self.path)
            except OSError:
                break
        return info

    @contextlib.contextmanager
    def errors(self, hint: str = "") -> Iterator[None]:
        """Raise the sqlite3 and OS errors met inside as StoreErrors.

        ``hint`` ends the fix for a full disk or a lock (e.g. how to resume the run).
        """
        try:
            yield
        except StoreError:
            raise
        except OSError as exc:
            where = exc.filename if isinstance(exc.filename, str) else self.path
            raise _os_error(where, exc, "write", hint) from exc
        except sqlite3.Error as exc:
            problem = self._explain(exc, hint)
            if problem is None:
                raise  # a mistake in dagml's SQL, not a fault of the file
            raise problem from exc

    def damaged(self, fault: str, reason: str) -> StoreDatabaseError:
        """The error for a file that is there but unusable: ``reason`` says why."""
        q = shlex.quote(self.path)
        log = f"; mv {q}-wal {q}.broken-wal" if os.path.exists(self.path + "-wal") else ""
        return self._damaged_error(
            f"{self.path} is not a readable dagml {self.what}: {reason}. Fix: move it aside "
            f"(mv {q} {q}.broken{log}) and rerun; dagml will start {self.fresh}.",
            self.path,
            fault,
        )

    def _stale_log(self) -> StoreDatabaseError:
        q = shlex.quote(self.path)
        return self._damaged_error(
            f"{self.path} is missing but its write-ahead log {self.path}-wal is still there (a new database "
            f"would take in its stale pages). Fix: put the database back, or move the log aside too "
            f"(mv {q}-wal {q}.broken-wal; rm -f {q}-shm) and rerun.",
            self.path,
            "stale-wal",
        )

    def _create(self) -> None:
        """Build the file beside its final name and link it into place, unless another process was first."""
        directory, name = os.path.split(self.path)
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.new")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                self._build(db)
                db.execute("PRAGMA journal_mode=WAL")  # kept in the file: every connection uses WAL
            finally:
                db.close()
            _link(tmp, self.path)
        except OSError as exc:
            raise _os_error(self.path, exc, "create") from exc
        finally:
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(tmp + suffix)

    def _explain(self, exc: sqlite3.Error, hint: str) -> StoreError | None:
        """The StoreError for an SQLite error (by its code if SQLite gave one, else its text); None: a bug."""
        code, text = getattr(exc, "sqlite_errorname", "") or "", str(exc)
        said = f"SQLite: {text}"

        def kind(codes: tuple[str, ...], *phrases: str) -> bool:
            return code.startswith(codes) or any(p in text for p in phrases)

        if kind(("SQLITE_FULL",), "disk is full"):
            return _full(self.path, hint)
        if kind(("SQLITE_BUSY", "SQLITE_LOCKED"), "database is locked", "table is locked"):
            then = f", then {hint}" if hint else ""
            return self._busy_error(
                f"{self.path} stayed locked by another process ({said}). Fix: wait for the other dagml "
                f"process to finish (stop it if it is stuck) and retry{then}.",
                self.path,
                "locked",
            )
        if kind(("SQLITE_CORRUPT", "SQLITE_NOTADB"), "malformed", "not a database"):
            return self.damaged(*self._damage(said))
        if "no such table" in text or "no such column" in text:
            return self.damaged("missing-tables", f"it does not hold dagml's tables ({said})")
        directory = os.path.dirname(self.path)
        if kind(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH"), "readonly database", "permission denied"):
            reason = f"cannot write {self.path}: it is read-only for you ({said})"
            return _access(self.path, reason, "read-only")
        if not kind(("SQLITE_CANTOPEN", "SQLITE_IOERR"), "unable to open", "disk I/O error"):
            return None
        free = _free_bytes(directory)
        if free is not None and free < _NEARLY_FULL:
            return _full(self.path, hint)
        if os.path.isdir(self.path):
            return self.damaged("directory", "it is a directory")
        if not os.access(directory, os.W_OK | os.X_OK) or not os.access(self.path, os.R_OK | os.W_OK):
            return _access(self.path, f"cannot open {self.path}: permission denied ({said})", "permission")
        opening = kind(("SQLITE_CANTOPEN",), "unable to open")
        return StoreIOError(
            f"cannot {'open' if opening else 'read or write'} {self.path} ({said}). Fix: check the disk, "
            f"and that {directory} is on a local file system (SQLite's WAL mode does not work on network "
            "file systems), then retry.",
            self.path,
            "cannot-open" if opening else "io",
        )

    def _damage(self, said: str) -> tuple[str, str]:
        """(fault, reason) for a file SQLite calls malformed; "truncated" if shorter than its header says."""
        try:
            size = os.path.getsize(self.path)
            with open(self.path, "rb") as f:
                head = f.read(100)
        except OSError:
            return "malformed", f"it is damaged ({said})"
        if not head.startswith(_MAGIC):
            return "not-a-database", f"it is not an SQLite file (it starts with {head[:16]!r})"
        if len(head) == 100:
            page = int.from_bytes(head[16:18], "big")
            page = 65536 if page == 1 else page
            pages = int.from_bytes(head[28:32], "big") if head[24:28] == head[92:96] else 0  # 0: not recorded
            if page and (size % page or size < pages * page):
                expected = pages * page
                return "truncated", f"it is truncated: {size} bytes where its header says {expected} ({said})"
        return "malformed", f"it is damaged ({said})"


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _link(source: str, target: str) -> None:
    """Give ``source`` the name ``target`` unless ``target`` exists (then leave that one alone)."""
    try:
        os.link(source, target)
        return
    except FileExistsError:
        return  # another process created it first: use theirs
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
    # No hard links on this file system: claim the name, then fill it. A process opening the file
    # in between finds it empty but just changed, and waits for it (Database._settle).
    with open(source, "rb") as f:
        data = f.read()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _free_bytes(directory: str) -> int | None:
    try:
        info = os.statvfs(directory)
    except (OSError, AttributeError):  # AttributeError: no statvfs on this platform
        return None
    root = hasattr(os, "geteuid") and os.geteuid() == 0  # root may use the reserved blocks
    return (info.f_bfree if root else info.f_bavail) * info.f_frsize


def _full(path: str, hint: str = "") -> StoreFullError:
    then = f", then {hint}" if hint else ""
    return StoreFullError(
        f"cannot write {path}: the disk holding it is full. Fix: free disk space there "
        f"(or point --home/DAGML_HOME at a disk with room){then}.",
        path,
        "full",
    )


def _access(path: str, what: str, fault: str) -> StoreAccessError:
    return StoreAccessError(
        f"{what}. Fix: give your user read and write access to it and to its directory "
        f"(e.g. chmod u+rw {shlex.quote(path)}), or point --home/DAGML_HOME elsewhere.",
        path,
        fault,
    )


def _os_error(path: str, exc: OSError, doing: str, hint: str = "") -> StoreError:
    """``exc``, met trying to ``doing`` ``path``, as the StoreError that says the fix."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _full(path, hint)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return _access(path, f"cannot {doing} {path}: {reason}", "permission")
    if exc.errno == errno.EROFS:
        return _access(path, f"cannot {doing} {path}: {reason}", "read-only")
    return StoreIOError(
        f"cannot {doing} {path}: {reason}. Fix: check the disk and the file system holding it, then retry.",
        path,
        "io",
    )
