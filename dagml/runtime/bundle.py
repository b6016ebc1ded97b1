"""The code bundle: dagml plus the user's code, as one deterministic ``sourcedir.tar.gz``.

:func:`make_bundle` collects

- the dagml package (every ``*.py`` and ``py.typed`` under the installed
  package, archived as ``dagml/...``),
- ``dagml_entry.py`` and ``dagml_inference.py``, two standard-library-only
  bootstrap scripts,
- the libraries dagml needs (attrs, networkx), vendored: SageMaker's images
  lack them, and nothing is installed when a container starts (a job may have
  no network: network isolation, or a VPC without NAT),
- ``pyproject.toml`` and ``dagml_build.py``: the serving stack runs ``pip
  install .`` on the code directory when a model container starts; this
  in-tree, standard-library-only build backend (``requires = []``) makes that
  install need no network (pip >= 25.3 would otherwise fetch setuptools into
  an isolated build environment) and install only a ``.pth`` file that puts the
  code directory on ``sys.path``. The bundle has no ``setup.py`` and no
  ``requirements.txt``, so the training toolkit installs nothing either.
- the user's code: every ``*.py`` under the directory holding the pipeline
  file, or, when that file is inside a package, under the parent of the
  top-level package (hidden directories, ``__pycache__``, virtualenvs (any
  directory holding a ``pyvenv.cfg``), ``site-packages``, ``node_modules`` and
  ``dagml`` directories are skipped). Only regular files are shipped: a
  symlink is skipped, and so is a file whose real path is outside that
  directory; symlinked directories are not searched. ``include`` / ``exclude``
  glob patterns, relative to that directory, add other files (``conf/*.yaml``)
  or leave files out (``scripts/*``); the pipeline file itself always ships.

The archive is the same bytes for the same files wherever they live and
whoever builds it: sorted entries, no directory entries, mtime 0, uid/gid 0, no
user or group names, mode 0644, and a gzip header without a file name or time.
Its ``sha256`` names the code in S3.

dagml and the vendored packages are archived and deflated once, then reused:
from this process's memory, or from the disk cache (:mod:`dagml._cache`,
``$DAGML_CACHE/bundles``) keyed by their files' stat signature, so a fresh
``dagml compile`` does not compress 4 MB of networkx again (docs/sagemaker.md,
"The bundle cache"). The bytes are the same either way. The archive's hash is
remembered too (``$DAGML_CACHE/bundle-digests``, keyed by the user's files'
contents and the segments' keys): compile needs only the hash, so a
:class:`Bundle` assembles its files and bytes on first use, and checks them then.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import re
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import importlib.metadata

from dagml._cache import DiskCache
from dagml._package import PACKAGE_DIR
from dagml._version import __version__
from dagml.contract import (
    BUNDLE_NAME,
    DEFAULT_ROOT,
    ENTRY_SCRIPT,
    FAILURE_FILE,
    INFERENCE_SCRIPT,
    MESSAGE_FILE,
    ROOT_ENV,
    WHEELS_DIRS,
    WHEELS_LIST,
)
from dagml.runtime.errors import BundleError

__all__ = [
    "BUILD_BACKEND",
    "MAX_BUNDLE_BYTES",
    "PYPROJECT",
    "RUNTIME_PYTHON",
    "Bundle",
    "BundleError",
    "code_root",
    "content_hash",
    "make_bundle",
    "user_files",
]

#: The largest bundle dagml builds (compressed bytes).
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
#: The oldest Python the step runtime supports (the bootstrap checks it first); see
#: ``dagml.sagemaker.images.RUNTIME_PYTHON``, which is the same number.
RUNTIME_PYTHON = (3, 10)
#: The in-tree build backend and the pyproject.toml that names it (see the module docstring).
BUILD_BACKEND = "dagml_build.py"
PYPROJECT = "pyproject.toml"
#: Directory names never searched for user code.
SKIPPED_DIRS = frozenset({"__pycache__", ".venv", "venv", "site-packages", "node_modules", "dagml"})
#: Files the bundle adds at its root; a user file of the same name would be replaced. ``setup.py`` and
#: ``requirements.txt`` would make the toolkits ``pip install`` at container start.
_RESERVED = frozenset({ENTRY_SCRIPT, INFERENCE_SCRIPT, BUILD_BACKEND, PYPROJECT, "setup.py", "requirements.txt"})
#: dagml's dependencies, shipped inside the bundle (pure Python) so a job never
#: needs network access to PyPI: SageMaker's framework images do not include them.
VENDORED = ("attr", "attrs", "networkx")
#: The distribution each vendored package comes from.
_DISTRIBUTION = {"attr": "attrs", "attrs": "attrs", "networkx": "networkx"}
_VENDOR_SKIP = frozenset({"__pycache__", "tests", "testing"})


@attrs.frozen
class Bundle:
    """A built code bundle: the target to load inside it, its archive's hash, and (on first use) its
    files and archive.

    Compile needs only the hash (it names the code in S3); the files and the archive's bytes are
    assembled when something reads them (deploy uploads them, a local image environment unpacks
    them), and checked then against ``sha256``.
    """

    #: What ``--target`` names inside the bundle: ``"iris_pipeline.py"``, ``"pkg/flows.py:pipe"``.
    target: str
    #: Hex SHA-256 of ``data``: use it in the S3 key of the code.
    sha256: str
    #: Length of ``data`` in bytes.
    size: int
    #: The directory the user's code came from (not part of the bytes).
    root: str = attrs.field(default="", eq=False)
    #: (distribution, version, Requires-Python) of each vendored library.
    vendored: tuple[tuple[str, str, str], ...] = attrs.field(default=(), eq=False)
    #: (archive path, file) of the user's code it ships, as :func:`user_files` found them.
    sources: tuple[tuple[str, str], ...] = attrs.field(kw_only=True, eq=False, repr=False)
    #: Makes (files, data) when first asked for.
    _contents: Callable[[], tuple[tuple[tuple[str, bytes], ...], bytes]] = attrs.field(
        kw_only=True, eq=False, repr=False, alias="contents"
    )
    #: (files, data) once made.
    _made_once: list[tuple[tuple[tuple[str, bytes], ...], bytes]] = attrs.field(
        init=False, factory=list, eq=False, repr=False
    )

    @property
    def _made(self) -> tuple[tuple[tuple[str, bytes], ...], bytes]:
        if not self._made_once:
            files, data = self._contents()
            if len(data) != self.size or hashlib.sha256(data).hexdigest() != self.sha256:
                raise BundleError(
                    f"the code bundle of {self.target!r} changed after it was hashed: a file under "
                    f"{self.root!r} or of dagml's vendored libraries was edited meanwhile. Fix: run the "
                    "command again."
                )
            self._made_once.append((files, data))
        return self._made_once[0]

    @property
    def files(self) -> tuple[tuple[str, bytes], ...]:
        """(archive path, contents), sorted by path."""
        return self._made[0]

    @property
    def data(self) -> bytes:
        """The ``sourcedir.tar.gz`` bytes."""
        return self._made[1]

    def check_python(self, python: tuple[int, int], where: str) -> None:
        """Raise if a vendored library does not support ``python`` (the image's), naming the fix."""
        for name, version, requires in self.vendored:
            if requires and not python_satisfies(python, requires):
                wanted = ".".join(map(str, python))
                raise BundleError(
                    f"{where}: the code bundle vendors {name} {version}, installed beside dagml, which needs "
                    f"Python {requires}, but the image runs Python {wanted}: every step would fail at import. "
                    f"Fix: install a {name} release that supports Python {wanted} beside dagml "
                    f"(pip install 'dagml' resolves one), or use an image with a newer Python."
                )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.files)

    def file(self, name: str) -> bytes:
        """The contents of one archived file, e.g. ``bundle.file("dagml_entry.py")``."""
        for path, content in self.files:
            if path == name:
                return content
        raise KeyError(name)

    def write(self, directory: str) -> str:
        """Lay out a processing code directory: ``dagml_entry.py`` and ``sourcedir.tar.gz``.

        Returns the archive's path.
        """
        from dagml.runtime.artifacts import atomic_write

        os.makedirs(directory, exist_ok=True)
        atomic_write(os.path.join(directory, ENTRY_SCRIPT), self.file(ENTRY_SCRIPT))
        return atomic_write(os.path.join(directory, BUNDLE_NAME), self.data)


def python_satisfies(python: tuple[int, int], requires: str) -> bool:
    """Whether Python ``major.minor`` meets a ``Requires-Python`` specifier such as ``>=3.10,!=3.11.*``."""
    for clause in requires.split(","):
        match = re.fullmatch(r"\s*(~=|==|!=|<=|>=|<|>)\s*(\d+)(?:\.(\d+))?(?:\.(\d+|\*))?\s*", clause)
        if match is None:
            continue  # a form this check does not read: leave it to pip
        op, major, minor = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        micro = match.group(4)
        bound = (major, minor)
        if op in ("==", "!=") and micro not in (None, "*"):
            ok = python == bound if op == "==" else True  # a patch pin: compare the series only
        else:
            ok = {
                ">=": python >= bound,
                ">": python > bound or (micro not in (None, "*") and python == bound),
                "<=": python <= bound,
                "<": python < bound,
                "==": python == bound,
                "!=": python != bound,
                "~=": python >= bound and python[0] == bound[0],
            }[op]
        if not ok:
            return False
    return True


def code_root(source_file: str) -> str:
    """The directory whose ``*.py`` files are the user's code for ``source_file``."""
    directory = os.path.dirname(os.path.abspath(source_file))
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return directory


def _posix(path: str) -> str:
    return path.replace(os.sep, "/")


def _walk(top: str, keep: frozenset[str], skip_dirs: frozenset[str]) -> list[tuple[str, str, int, int]]:
    """(path relative to ``top``, absolute path, size, mtime_ns) of the files under ``top`` that are
    ``.py`` or named in ``keep``; hidden and ``skip_dirs`` directories and symlinked directories are
    not searched (what ``os.walk`` does, one ``stat`` a file: this runs for every compile)."""
    found: list[tuple[str, str, int, int]] = []

    def visit(directory: str, rel: str) -> None:
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError:  # os.walk skips a directory it cannot list
            return
        subdirs = []
        for entry in entries:
            name = entry.name
            if entry.is_dir():
                if not name.startswith(".") and name not in skip_dirs and not entry.is_symlink():
                    subdirs.append(entry)
            elif (name.endswith(".py") or name in keep) and entry.is_file():
                st = entry.stat()
                found.append((rel + name, entry.path, st.st_size, st.st_mtime_ns))
        for entry in sorted(subdirs, key=lambda e: e.name):
            visit(entry.path, f"{rel}{entry.name}/")

    visit(top, "")
    return found


def _glob(pattern: str) -> re.Pattern[str]:
    """A glob as a regex: ``*`` and ``?`` stay within one directory, ``**`` crosses directories."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            out.append({"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i])))
            i += 1
    return re.compile("".join(out))


def _patterns(patterns: Sequence[str], setting: str) -> tuple[re.Pattern[str], ...]:
    """Check ``include`` / ``exclude`` patterns (relative globs inside the code root) and compile them."""
    if isinstance(patterns, str):
        raise BundleError(
            f"bundle {setting} {patterns!r} is one string, not a list of patterns. "
            f"Fix: {setting} = [{patterns!r}]."
        )
    compiled = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip("/"):
            raise BundleError(
                f"bundle {setting} pattern {pattern!r} is not a glob. Fix: give strings such as 'conf/*.yaml'."
            )
        if pattern.startswith("/") or os.path.isabs(pattern) or ".." in pattern.replace("\\", "/").split("/"):
            raise BundleError(
                f"bundle {setting} pattern {pattern!r} reaches outside the project; patterns are relative to "
                "the directory whose code is bundled. Fix: write it relative to that directory, without '..' "
                "or a leading '/'."
            )
        compiled.append(_glob(pattern.removeprefix("./").rstrip("/")))
    return tuple(compiled)


def _matches(rel: str, patterns: tuple[re.Pattern[str], ...]) -> bool:
    """Whether a pattern matches ``rel`` or a directory above it (``scripts/*`` covers ``scripts/a/b.py``)."""
    if not patterns:
        return False
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(p.fullmatch(prefix) for p in patterns for prefix in prefixes)


def user_files(
    source_file: str, *, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """(archive path, file) of the user's code a bundle ships: every ``.py`` under :func:`code_root`.

    Plus the files an ``include`` pattern matches, minus those an ``exclude`` pattern matches
    (globs relative to the code root; a pattern matching a directory covers everything under it; a
    pattern matching nothing is fine). Only regular files whose real path is inside the code root
    count: symlinks are skipped, and symlinked directories and virtualenvs (a directory holding a
    ``pyvenv.cfg``) are not searched.
    """
    root = code_root(os.path.abspath(source_file))
    real_root = os.path.realpath(root)
    wanted, unwanted = _patterns(include, "include"), _patterns(exclude, "exclude")
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in SKIPPED_DIRS
            and not os.path.islink(os.path.join(directory, d))
            and not os.path.isfile(os.path.join(directory, d, "pyvenv.cfg"))
        )
        for name in filenames:
            path = os.path.join(directory, name)
            rel = _posix(os.path.relpath(path, root))
            if not (name.endswith(".py") or _matches(rel, wanted)) or _matches(rel, unwanted):
                continue
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
                continue
            found.append((rel, path))
    return found


def content_hash(path: str) -> str:
    """SHA-256 of a file's bytes, or of a directory's relative names and file hashes (sorted)."""
    digest = hashlib.sha256()
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for f in sorted(files):
                full = os.path.join(root, f)
                digest.update(os.path.relpath(full, path).replace(os.sep, "/").encode() + b"\0")
                with open(full, "rb") as fh:
                    digest.update(hashlib.sha256(fh.read()).digest())
    else:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


#: gzip level 1: the vendored networkx makes the bundle ~4 MB of source; level 9 costs 0.3 s a compile.
_LEVEL = 1


def _tar_blocks(files: tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]]) -> bytes:
    """The tar (PAX) blocks of ``files``: what ``TarFile.addfile`` writes for each, no end marker."""
    import tarfile  # only when an archive is made: a compile that knows the bundle's hash makes none

    out = []
    for name, content in files:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.type = tarfile.REGTYPE
        out.append(info.tobuf(tarfile.PAX_FORMAT, tarfile.ENCODING))
        out.append(content)
        remainder = len(content) % tarfile.BLOCKSIZE
        if remainder:
            out.append(tarfile.NUL * (tarfile.BLOCKSIZE - remainder))
    return b"".join(out)


def _end_of_archive(offset: int) -> bytes:
    """Two zero blocks, then zeros up to a whole record, as ``TarFile.close`` writes them."""
    import tarfile

    offset += 2 * tarfile.BLOCKSIZE
    remainder = offset % tarfile.RECORDSIZE
    return tarfile.NUL * (2 * tarfile.BLOCKSIZE + (tarfile.RECORDSIZE - remainder if remainder else 0))


def _deflate(data: bytes, final: bool) -> bytes:
    """Raw deflate of ``data`` by a fresh compressor.

    A non-final piece ends with a full flush (byte-aligned, no back-references
    past it), so pieces compressed apart concatenate into one valid deflate
    stream: the technique of pigz. Only the last piece is final.
    """
    compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


@attrs.frozen(eq=False)
class _Segment:
    """An installed package's files, the length and CRC-32 of their tar blocks, and those blocks
    deflated: built once, then reused from this process's memory or from the disk cache."""

    #: (path, size, mtime_ns) of every file, sorted: a cached segment is used only while these are unchanged.
    signature: tuple[tuple[str, int, int], ...]
    files: tuple[tuple[str, bytes], ...]
    #: Length and CRC-32 of the tar blocks of ``files`` (what :func:`_tar_blocks` returns).
    size: int
    crc: int
    deflated: bytes


#: (archive prefix, directory) -> its segment. dagml and the vendored packages are the same files
#: for every compile in a process; archiving and compressing them was most of a small compile.
_SEGMENTS: dict[tuple[str, str], _Segment] = {}

#: The segments on disk, for the next process (dagml._cache: ``$DAGML_CACHE/bundles``, default
#: ``~/.cache/dagml/bundles``). One Python environment's set is four entries, about 6 MB (networkx's
#: about 5); the bounds keep several environments' or dagml versions' worth, and prune the rest.
_DISK = DiskCache("bundles", max_entries=32, max_bytes=160 * 1024 * 1024)
#: Bumped when what a disk entry holds, or how, changes.
_DISK_FORMAT = 1


def _scan(prefix: str, directory: str, keep: frozenset[str], skip: frozenset[str]) -> _Scan:
    """The files of one segment and its disk cache key: a walk and a ``stat`` a file, no reading."""
    found = tuple(sorted(_walk(directory, keep, skip)))
    signature = tuple((rel, size, mtime) for rel, _, size, mtime in found)
    return _Scan(prefix, directory, found, signature, _disk_key(prefix, directory, keep, skip, signature))


@attrs.frozen(eq=False)
class _Scan:
    """One segment's files as found: (relative path, path, size, mtime_ns) each, and its disk key."""

    prefix: str
    directory: str
    found: tuple[tuple[str, str, int, int], ...]
    signature: tuple[tuple[str, int, int], ...]
    key: str


def _segment(prefix: str, directory: str, keep: frozenset[str], skip: frozenset[str]) -> _Segment:
    return _load(_scan(prefix, directory, keep, skip))


def _load(scan: _Scan) -> _Segment:
    """The segment ``scan`` found: from this process's memory, the disk cache, or built and stored."""
    memory_key = (scan.prefix, scan.directory)
    cached = _SEGMENTS.get(memory_key)
    if cached is not None and cached.signature == scan.signature:
        return cached
    segment = _load_segment(_DISK.get(scan.key), scan.prefix, scan.signature)
    if segment is None:
        files = tuple((f"{scan.prefix}/{rel}", _read(path)) for rel, path, _, _ in scan.found)
        blocks = _tar_blocks(files)
        segment = _Segment(scan.signature, files, len(blocks), zlib.crc32(blocks), _deflate(blocks, final=False))
        _DISK.put(scan.key, _dump_segment(segment))
    _SEGMENTS[memory_key] = segment
    return segment


def _disk_key(
    prefix: str, directory: str, keep: frozenset[str], skip: frozenset[str], signature: tuple[tuple[str, int, int], ...]
) -> str:
    """The disk cache's name for a segment: a hash of everything its bytes depend on.

    The files are named by their stat signature (path, size, mtime_ns), not their contents: hashing
    4 MB of networkx would cost most of what the cache saves. Any file added, removed, resized or
    touched (an upgrade, an edit, a ``pip install --force-reinstall``) makes a new key. Beside them:
    the entry format, dagml's version, the Python (``tarfile`` writes the headers), zlib's version
    and the compression level (they decide the deflated bytes), and the directory, archive prefix
    and file selection.
    """
    parts = (
        _DISK_FORMAT,
        __version__,
        sys.version,
        zlib.ZLIB_RUNTIME_VERSION,
        _LEVEL,
        sys.getfilesystemencoding(),  # tarfile.ENCODING, without importing tarfile
        prefix,
        directory,
        sorted(keep),
        sorted(skip),
        signature,
    )
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _dump_segment(segment: _Segment) -> bytes:
    """A disk entry: a JSON index (names, sizes, tar length and CRC), the contents, the deflated bytes."""
    index = {
        "names": [name for name, _ in segment.files],
        "sizes": [len(content) for _, content in segment.files],
        "size": segment.size,
        "crc": segment.crc,
        "deflated": len(segment.deflated),
    }
    head = json.dumps(index, separators=(",", ":")).encode("utf-8", "surrogateescape")
    return b"".join([struct.pack("<L", len(head)), head, *(content for _, content in segment.files), segment.deflated])


def _load_segment(
    payload: memoryview | None, prefix: str, signature: tuple[tuple[str, int, int], ...]
) -> _Segment | None:
    """The segment a (checksum-verified) disk entry holds, or None when it does not hold this one."""
    if payload is None:
        return None
    try:
        (length,) = struct.unpack_from("<L", payload)
        index = json.loads(bytes(payload[4 : 4 + length]).decode("utf-8", "surrogateescape"))
        names, sizes = index["names"], index["sizes"]
        size, crc, deflated = int(index["size"]), int(index["crc"]), int(index["deflated"])
    except (ValueError, TypeError, KeyError, struct.error):  # not an index this version wrote
        return None
    offset = 4 + length
    if (
        names != [f"{prefix}/{rel}" for rel, _, _ in signature]
        or sizes != [file_size for _, file_size, _ in signature]
        or offset + sum(sizes) + deflated != len(payload)
    ):
        return None
    files = []
    for name, file_size in zip(names, sizes):
        files.append((name, bytes(payload[offset : offset + file_size])))
        offset += file_size
    return _Segment(signature, tuple(files), size, crc, bytes(payload[offset:]))


#: CRC-32's reversed polynomial, and x^(2^n) modulo it for n = 0..31 (built on first use).
_POLY = 0xEDB88320
_X2N: list[int] = []


def _multmodp(a: int, b: int) -> int:
    """``a * b`` modulo the CRC-32 polynomial (bit-reversed, as zlib's ``multmodp``); ``a`` is not 0."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)`` (zlib's ``crc32_combine``,
    which Python's zlib does not expose): a cached segment's bytes need not be read again for it."""
    if not _X2N:
        p = 1 << 30  # x^1
        _X2N.append(p)
        for _ in range(31):
            p = _multmodp(p, p)
            _X2N.append(p)
    p, k, n = 1 << 31, 3, len2  # x^(8 * len2): shift crc1 past len2 bytes of zeros
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return _multmodp(p, crc1) ^ crc2


def _archive(files: tuple[tuple[str, bytes], ...], segments: tuple[_Segment, ...] = ()) -> bytes:
    """The ``sourcedir.tar.gz`` bytes: a tar of ``files`` (sorted) in one gzip member.

    A run of ``files`` that is exactly a segment's files reuses that segment's
    deflated bytes; everything else is compressed here. The tar stream is the
    same bytes ``tarfile`` writes for these files.
    """
    starts = {segment.files[0][0]: segment for segment in segments if segment.files}
    pieces: list[bytes | _Segment] = []
    pending: list[tuple[str, bytes]] = []
    i = 0
    while i < len(files):
        segment = starts.get(files[i][0])
        if segment is not None and files[i : i + len(segment.files)] == segment.files:
            if pending:
                pieces.append(_tar_blocks(pending))
                pending = []
            pieces.append(segment)
            i += len(segment.files)
        else:
            pending.append(files[i])
            i += 1
    out = [b"\x1f\x8b\x08\x00" + struct.pack("<L", 0) + b"\x04\xff"]  # no name, mtime 0, fastest, OS unknown
    crc = size = 0
    for piece in pieces:
        if isinstance(piece, _Segment):
            out.append(piece.deflated)
            crc = _crc32_combine(crc, piece.crc, piece.size)
            size += piece.size
        else:
            out.append(_deflate(piece, final=False))
            crc = zlib.crc32(piece, crc)
            size += len(piece)
    tail = _tar_blocks(pending)
    tail += _end_of_archive(size + len(tail))
    out.append(_deflate(tail, final=True))
    crc = zlib.crc32(tail, crc)
    size += len(tail)
    out.append(struct.pack("<LL", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    return b"".join(out)


def make_bundle(
    source_file: str,
    attr: str | None = None,
    *,
    max_bytes: int = MAX_BUNDLE_BYTES,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Bundle:
    """Build the code bundle for the pipeline defined in ``source_file`` (``attr``: its variable).

    ``include`` / ``exclude`` are glob patterns relative to the code root that add files to, or
    leave them out of, the user's code (see :func:`user_files`); the pipeline file always ships.
    """
    source = os.path.abspath(source_file)
    if not os.path.isfile(source):
        raise BundleError(f"no such pipeline file: {source_file!r}. Fix: pass the path of the .py file.")
    if attr is not None and not attr.isidentifier():
        raise BundleError(
            f"{source_file}: attr {attr!r} is not a Python name. Fix: pass the Pipeline's variable name."
        )
    root = code_root(source)
    target = _posix(os.path.relpath(source, root)) + (f":{attr}" if attr else "")
    members: dict[str, bytes] = {}
    shipped = user_files(source, include=include, exclude=exclude)
    for rel, path in shipped + [(_posix(os.path.relpath(source, root)), source)]:
        if (rel in _RESERVED or rel.split("/", 1)[0] in VENDORED) and not rel.endswith(".py"):
            raise BundleError(
                f"the bundle include patterns {list(include)!r} match {path!r}, but {rel!r} is a name the "
                f"code bundle of {source_file!r} reserves (dagml writes its own, or the container would "
                "pip-install it). Fix: narrow the include pattern so it leaves that file out."
            )
        if rel in _RESERVED or rel.split("/", 1)[0] in VENDORED:
            raise BundleError(
                f"{path!r} would replace dagml's own {rel!r} in the code bundle of {source_file!r}. "
                "Fix: rename that file."
            )
        members[rel] = _read(path)
    members[ENTRY_SCRIPT] = ENTRY_SOURCE.encode("utf-8")
    members[INFERENCE_SCRIPT] = INFERENCE_SOURCE.encode("utf-8")
    members[BUILD_BACKEND] = BACKEND_SOURCE.encode("utf-8")
    members[PYPROJECT] = PYPROJECT_SOURCE.encode("utf-8")
    scans = [_scan("dagml", PACKAGE_DIR, frozenset({"py.typed"}), frozenset({"__pycache__"}))]
    vendor_dirs = {}
    for name in VENDORED:
        module = importlib.import_module(name)
        vendor_dirs[name] = vendor_dir = os.path.dirname(os.path.abspath(module.__file__ or ""))
        scans.append(_scan(name, vendor_dir, frozenset({"py.typed"}), _VENDOR_SKIP))

    def contents() -> tuple[tuple[tuple[str, bytes], ...], bytes]:
        _check_bootstrap()
        segments = tuple(_load(scan) for scan in scans)
        every = dict(members)
        for segment in segments:
            every.update(segment.files)
        files = tuple(sorted(every.items()))
        return files, _archive(files, segments)

    digest_key = _digest_key(members, scans)
    known = _known_digest(digest_key)
    make: Callable[[], tuple[tuple[tuple[str, bytes], ...], bytes]] = contents
    if known is None:
        files, data = contents()
        sha256, size = hashlib.sha256(data).hexdigest(), len(data)
        _DIGESTS.put(digest_key, json.dumps({"sha256": sha256, "size": size}).encode("ascii"))
        make = functools.partial(_as_made, files, data)  # the bytes are at hand: no second build
    else:
        sha256, size = known
    if size > max_bytes:
        files = make()[0]
        biggest = sorted(files, key=lambda item: (-len(item[1]), item[0]))[:5]
        listing = ", ".join(f"{name} ({len(content) / 1e6:.1f} MB)" for name, content in biggest)
        raise BundleError(
            f"the code bundle of {source_file!r} is {size / 1e6:.1f} MB compressed, over the "
            f"{max_bytes / 1e6:.0f} MB limit. Biggest files: {listing}. Fix: move large .py files out of "
            f"{root!r} (every .py file under it is bundled), leave them out with bundle_exclude, or keep the "
            "pipeline in its own directory."
        )
    return Bundle(
        target=target,
        sha256=sha256,
        size=size,
        root=root,
        vendored=_vendored(vendor_dirs),
        sources=tuple(shipped),
        contents=make,
    )


#: What a bundle's archive hashes to, for the next process: compile needs the hash only, and reading
#: and joining the cached segments was most of a compile's bundle time (docs/sagemaker.md).
_DIGESTS = DiskCache("bundle-digests", max_entries=256, max_bytes=1024 * 1024)


def _digest_key(members: dict[str, bytes], scans: list[_Scan]) -> str:
    """A hash of everything a bundle's bytes depend on: the user's files and dagml's bootstrap files
    by content, each segment by its disk key (its stat signature and how it is archived)."""
    digest = hashlib.sha256(f"{_DISK_FORMAT}\0{_LEVEL}\0{__version__}\0".encode())
    for scan in scans:
        digest.update(f"{scan.prefix}\0{scan.key}\0".encode())
    for name in sorted(members):
        content = members[name]
        digest.update(f"{name}\0{len(content)}\0".encode("utf-8", "surrogateescape"))
        digest.update(content)
    return digest.hexdigest()


def _as_made(
    files: tuple[tuple[str, bytes], ...], data: bytes
) -> tuple[tuple[tuple[str, bytes], ...], bytes]:
    return files, data


def _known_digest(key: str) -> tuple[str, int] | None:
    payload = _DIGESTS.get(key)
    if payload is None:
        return None
    try:
        entry = json.loads(bytes(payload))
        sha256, size = str(entry["sha256"]), int(entry["size"])
    except (ValueError, TypeError, KeyError):  # not an entry this version wrote
        return None
    if len(sha256) != 64 or size < 0:
        return None
    return sha256, size


def _metadata_field(meta: importlib.metadata.PackageMetadata, field: str) -> str:
    """One field of a distribution's metadata, or "" (typeshed's ``PackageMetadata`` has ``get`` from 3.12 only)."""
    values = meta.get_all(field)
    return str(values[0]) if values else ""


def _vendored(vendor_dirs: dict[str, str] | None = None) -> tuple[tuple[str, str, str], ...]:
    """(distribution, version, Requires-Python) of each vendored library: from the ``.dist-info``
    beside the package the bundle ships (:func:`_dist_info_fields`), else from ``importlib.metadata``."""
    found = []
    for name in sorted(set(_DISTRIBUTION.values())):
        package = min(p for p, dist in _DISTRIBUTION.items() if dist == name)
        fields = _dist_info_fields(name, os.path.dirname(vendor_dirs[package])) if vendor_dirs else None
        if fields is None:
            import importlib.metadata

            try:
                meta = importlib.metadata.metadata(name)
            except importlib.metadata.PackageNotFoundError:
                continue
            fields = (_metadata_field(meta, "Version"), _metadata_field(meta, "Requires-Python"))
        found.append((name, fields[0] or "?", fields[1]))
    return tuple(found)


#: (distribution, directory) -> (Version, Requires-Python) read from its METADATA, or None.
_DIST_INFO: dict[tuple[str, str], tuple[str, str] | None] = {}


@functools.cache
def _dist_infos(site: str) -> tuple[str, ...]:
    """The ``.dist-info`` directories in ``site``: listed once per process, as the fields read from
    them are (attrs and networkx usually share one site-packages of hundreds of entries)."""
    return tuple(e for e in os.listdir(site) if e.endswith(".dist-info"))


def _dist_info_fields(name: str, site: str) -> tuple[str, str] | None:
    """Version and Requires-Python of distribution ``name`` from the one ``<name>-*.dist-info`` in
    ``site``, the directory holding the package the bundle ships: one directory listing and one small
    file, where ``importlib.metadata`` searches every entry of ``sys.path`` (2-3 ms a compile). None
    when ``site`` holds no single such directory (an egg, an odd layout): the caller asks
    ``importlib.metadata``. Read once per process."""
    key = (name, site)
    if key not in _DIST_INFO:
        _DIST_INFO[key] = None
        stem = re.sub(r"[-_.]+", "_", name).lower() + "-"
        try:
            infos = [e for e in _dist_infos(site) if e.lower().startswith(stem)]
            if len(infos) == 1:
                with open(os.path.join(site, infos[0], "METADATA"), encoding="utf-8", errors="replace") as handle:
                    head = handle.read().split("\n\n", 1)[0]
                fields: dict[str, str] = {}
                for line in head.splitlines():
                    field, sep, value = line.partition(":")
                    if sep and not line[:1].isspace():
                        fields.setdefault(field.strip().lower(), value.strip())
                _DIST_INFO[key] = (fields.get("version", ""), fields.get("requires-python", ""))
        except OSError:
            pass
    return _DIST_INFO[key]


# --------------------------------------------------------------------- bootstrap scripts
# Standard library only: they run before dagml (or its dependencies) can be imported.


def _check_bootstrap() -> None:
    """Raise if :mod:`dagml.runtime.bootstrap` restates one of dagml's values wrongly. Run whenever an
    archive is assembled (and by the tests), not at import: importing the bootstrap imports tarfile,
    which a compile that knows its bundle's hash never needs."""
    from dagml.runtime import bootstrap

    restated = {
        "BUNDLE_NAME": (bootstrap.BUNDLE_NAME, BUNDLE_NAME),
        "ENTRY_SCRIPT": (bootstrap.ENTRY_SCRIPT, ENTRY_SCRIPT),
        "ROOT_ENV": (bootstrap.ROOT_ENV, ROOT_ENV),
        "DEFAULT_ROOT": (bootstrap.DEFAULT_ROOT, DEFAULT_ROOT),
        "FAILURE_FILE": (bootstrap.FAILURE_FILE, FAILURE_FILE),
        "MESSAGE_FILE": (bootstrap.MESSAGE_FILE, MESSAGE_FILE),
        "RUNTIME_PYTHON": (bootstrap.RUNTIME_PYTHON, RUNTIME_PYTHON),
        "WHEELS_LIST": (bootstrap.WHEELS_LIST, WHEELS_LIST),
        "WHEELS_DIRS": (bootstrap.WHEELS_DIRS, WHEELS_DIRS),
    }
    wrong = [f"{name} is {mine!r}, not {real!r}" for name, (mine, real) in restated.items() if mine != real]
    wrong += [f"NEEDS names {name!r}, not in VENDORED" for name in bootstrap.NEEDS if name not in VENDORED]
    if wrong:
        raise RuntimeError(
            "internal error: dagml/runtime/bootstrap.py restates dagml wrongly: " + "; ".join(wrong)
        )


def _bootstrap_source() -> str:
    """The text of :mod:`dagml.runtime.bootstrap` (read, not imported: see :func:`_check_bootstrap`)."""
    import importlib.resources

    return importlib.resources.files("dagml.runtime").joinpath("bootstrap.py").read_text(encoding="utf-8")


#: ``dagml_entry.py``: :mod:`dagml.runtime.bootstrap`, as it is (it runs itself as a script).
ENTRY_SOURCE = _bootstrap_source()

#: ``dagml_inference.py``: the bootstrap, then the lines that make it the serving container's program.
INFERENCE_SOURCE = (
    ENTRY_SOURCE
    + """

# dagml_inference.py (SAGEMAKER_PROGRAM): the lines above are dagml/runtime/bootstrap.py; the serving
# container imports this file from the extracted bundle, and it re-exports dagml's handler: model_fn
# and transform_fn (which answers 415/406 itself). They serve with the training step's own model_fn,
# input_fn, predict_fn and output_fn when the container's DAGML_TARGET and DAGML_STEP name a step that
# declares them; that is why this file defines no input_fn/predict_fn/output_fn of its own (the serving
# stack refuses them beside a transform_fn).
try:
    setup()
except BootstrapError as exc:
    _report_failure(str(exc))
    raise

from dagml.runtime.inference import model_fn, transform_fn  # noqa: E402

__all__ = ["model_fn", "transform_fn"]
"""
)

def backend_source(program: str) -> str:
    """:data:`BACKEND_SOURCE` for a directory whose serving program is ``program`` (a script step's
    ``sourcedir.tar.gz``, dagml.sagemaker.steps.source_archive)."""
    # A distribution of its own: installing it never replaces (or uninstalls) a dagml bundle's, nor
    # another script's, in a Python that serves several models in turn.
    name = "dagml_script_" + "".join(ch if ch.isalnum() else "_" for ch in program.removesuffix(".py"))
    source = BACKEND_SOURCE.replace('_PROGRAM = "dagml_inference.py"', f"_PROGRAM = {program!r}", 1)
    return source.replace('_NAME, _VERSION = "dagml_step_code", "0"', f'_NAME, _VERSION = {name!r}, "0"', 1)


#: ``pyproject.toml`` at the bundle root: ``pip install .`` builds with :data:`BACKEND_SOURCE`, offline.
PYPROJECT_SOURCE = """\
# Written by dagml.runtime.bundle. SageMaker's serving stack runs `pip install .` here when a model
# container starts; this in-tree backend needs nothing from the network and installs only a .pth
# file that puts this directory on sys.path.
[build-system]
requires = []
build-backend = "dagml_build"
backend-path = ["."]
"""

#: ``dagml_build.py``: a PEP 517 backend, standard library only (pip runs it in an empty environment).
BACKEND_SOURCE = '''"""dagml's in-tree build backend, written by dagml.runtime.bundle (standard library only).

Builds one wheel, ``dagml_step_code``, that makes this directory's code importable in the Python that
installs it, without copying the bundle into site-packages:

- ``_PROGRAM`` (``dagml_inference.py``), a stand-in that runs this directory's file of that name (the
  serving stack imports ``SAGEMAKER_PROGRAM`` in the same process right after ``pip install .``,
  before any ``.pth`` file could take effect);
- ``dagml_step_code.pth``, this directory, for every later process.
"""

import base64
import hashlib
import os
import zipfile

_NAME, _VERSION = "dagml_step_code", "0"
#: SAGEMAKER_PROGRAM: the module the serving stack imports right after ``pip install .``.
_PROGRAM = "dagml_inference.py"
_DIST = "%s-%s.dist-info" % (_NAME, _VERSION)
_STAND_IN = (
    "# Installed by dagml_build: the code bundle is in %r.\\n"
    "__file__ = %r\\n"
    "with open(__file__, encoding='utf-8') as _source:\\n"
    "    exec(compile(_source.read(), __file__, 'exec'))\\n"
)


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    here = os.path.abspath(os.getcwd())
    program = os.path.join(here, _PROGRAM)
    files = [
        (_PROGRAM, (_STAND_IN % (here, program)).encode()),
        (_NAME + ".pth", (here + "\\n").encode()),
        (_DIST + "/METADATA", ("Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (_NAME, _VERSION)).encode()),
        (_DIST + "/WHEEL", b"Wheel-Version: 1.0\\nGenerator: dagml_build\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"),
    ]
    record = [_record_line(path, data) for path, data in files] + [_DIST + "/RECORD,,"]
    files.append((_DIST + "/RECORD", ("\\n".join(record) + "\\n").encode()))
    name = "%s-%s-py3-none-any.whl" % (_NAME, _VERSION)
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, data in files:
            wheel.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
    return name
'''
