"""A small on-disk cache of derived bytes: content-keyed, checked, bounded, safe to share.

dagml keeps what it can derive again, but would rather not, under the user's cache directory:
``$DAGML_CACHE`` when set, else ``~/.cache/dagml`` (:func:`cache_root`; the wheel cache and the image
environments live beside it). A :class:`DiskCache` is one subdirectory of it,
``bundles`` say, holding one file per entry, named by its key.

- **Content-keyed**: the caller's key names everything the bytes depend on (a hash of it), so an
  entry is never updated in place: a change makes a new key, and the old entry ages out.
- **Checked**: each entry starts with its length and CRC-32; an entry that is short, long, or does
  not match (a torn write, a disk error, someone's edit) is a miss, and the next write replaces it.
  A cache can make dagml slower, never wrong.
- **Bounded**: after each write the entries beyond the ``max_entries`` most recently used, or
  beyond ``max_bytes`` in all, are deleted (oldest use first: a hit touches its entry's mtime).
- **Safe to share**: entries are written to a temporary file in the same directory and renamed
  over the name (atomic on POSIX and Windows), so concurrent processes see a whole entry or
  none; a reader racing a pruner gets a miss. Every ``OSError`` is a miss or a skipped write: an
  unwritable home directory makes dagml slower, never fail.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
import zlib

__all__ = ["DiskCache", "cache_root"]

#: Leading bytes of every entry, then its payload's length and CRC-32.
_MAGIC = b"dagml-cache\x00"
_HEADER = struct.Struct("<QL")
#: A temporary file older than this (seconds) was left by a writer that died: pruning removes it.
_STALE_TMP = 3600.0


def cache_root() -> str:
    """``$DAGML_CACHE``, or ``~/.cache/dagml``."""
    return os.environ.get("DAGML_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "dagml")


class DiskCache:
    """Entries under ``cache_root()/<name>``: at most ``max_entries`` of them and ``max_bytes`` in all."""

    def __init__(self, name: str, *, max_entries: int, max_bytes: int) -> None:
        self.name = name
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    @property
    def directory(self) -> str:
        """Resolved at each use, so ``DAGML_CACHE`` set after import still counts."""
        return os.path.join(cache_root(), self.name)

    def get(self, key: str) -> memoryview | None:
        """The payload stored under ``key``, or None (absent, unreadable or corrupt): a read-only view
        of the file, valid while the caller holds it (a pruner deleting the file does not change it)."""
        path = os.path.join(self.directory, key)
        try:
            with open(path, "rb") as handle:
                try:  # mapped, not read: the pages are the page cache's, not copied (2 ms on 5 MB)
                    data: bytes | mmap.mmap = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                except (OSError, ValueError):  # empty, or a file system that cannot map
                    data = handle.read()
        except OSError:
            return None
        start = len(_MAGIC) + _HEADER.size
        if len(data) < start or data[: len(_MAGIC)] != _MAGIC:
            return None
        size, crc = _HEADER.unpack_from(data, len(_MAGIC))
        payload = memoryview(data)[start:]
        if len(payload) != size or zlib.crc32(payload) != crc:
            return None
        try:
            os.utime(path)  # most recently used: pruning keeps it
        except OSError:
            pass
        return payload

    def put(self, key: str, payload: bytes) -> None:
        """Store ``payload`` under ``key`` (atomically), then prune; a failure only skips the write."""
        directory = self.directory
        tmp = os.path.join(directory, f".{key}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        try:
            os.makedirs(directory, exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(_MAGIC + _HEADER.pack(len(payload), zlib.crc32(payload)))
                handle.write(payload)
            os.replace(tmp, os.path.join(directory, key))
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return
        self.prune()

    def prune(self) -> None:
        """Delete the least recently used entries beyond the bounds, and stale temporary files."""
        entries = []
        now = time.time()
        try:
            with os.scandir(self.directory) as found:
                for entry in found:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if entry.name.startswith("."):
                        if entry.name.endswith(".tmp") and now - st.st_mtime > _STALE_TMP:
                            _remove(entry.path)
                        continue
                    entries.append((st.st_mtime_ns, entry.name, st.st_size, entry.path))
        except OSError:
            return
        entries.sort(reverse=True)  # newest first
        total = 0
        for kept, (_, _, size, path) in enumerate(entries):
            total += size
            if kept >= self.max_entries or total > self.max_bytes:
                _remove(path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:  # another process pruned it first, or it is not ours to remove
        pass
