"""The code bundle: dagml plus the user's code, as one deterministic ``sourcedir.tar.gz``.

:func:`make_bundle` collects

- the dagml package (every ``*.py`` and ``py.typed`` under the installed
  package, archived as ``dagml/...``),
- ``dagml_entry.py`` and ``dagml_inference.py``, two standard-library-only
  bootstrap scripts, and ``requirements.txt`` (dagml's own dependencies),
- the user's code: every ``*.py`` under the directory holding the pipeline
  file, or, when that file is inside a package, under the parent of the
  top-level package (hidden directories, ``__pycache__``, virtualenvs,
  ``site-packages``, ``node_modules`` and ``dagml`` directories are skipped).

The archive is the same bytes for the same files wherever they live and
whoever builds it: sorted entries, no directory entries, mtime 0, uid/gid 0, no
user or group names, mode 0644, and a gzip header without a file name or time.
Its ``sha256`` names the code in S3.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import struct
import tarfile
import zlib

import attrs

import dagml
from dagml.errors import DagmlError
from dagml.runtime.artifacts import atomic_write
from dagml.runtime.contract import BUNDLE_NAME, DEFAULT_ROOT, ENTRY_SCRIPT, INFERENCE_SCRIPT, ROOT_ENV

__all__ = [
    "MAX_BUNDLE_BYTES",
    "REQUIREMENTS_FILE",
    "RUNTIME_REQUIREMENTS",
    "Bundle",
    "BundleError",
    "code_root",
    "content_hash",
    "make_bundle",
    "user_files",
]

#: The largest bundle dagml builds (compressed bytes).
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
#: dagml's own dependencies, installed from the bundle's requirements.txt when the image lacks them.
RUNTIME_REQUIREMENTS = ("attrs>=23.1", "networkx>=3.2")
REQUIREMENTS_FILE = "requirements.txt"
#: Directory names never searched for user code.
SKIPPED_DIRS = frozenset({"__pycache__", ".venv", "venv", "site-packages", "node_modules", "dagml"})
_RESERVED = frozenset({ENTRY_SCRIPT, INFERENCE_SCRIPT, REQUIREMENTS_FILE})
#: dagml's dependencies, shipped inside the bundle (pure Python) so a job never
#: needs network access to PyPI: SageMaker's framework images do not include them.
VENDORED = ("attr", "attrs", "networkx")
_VENDOR_SKIP = frozenset({"__pycache__", "tests", "testing"})


class BundleError(DagmlError, ValueError):
    """The code bundle cannot be built from the given pipeline file."""


@attrs.frozen
class Bundle:
    """A built code bundle: its files, the target to load inside it, and its archive."""

    #: (archive path, contents), sorted by path.
    files: tuple[tuple[str, bytes], ...] = attrs.field(repr=False)
    #: What ``--target`` names inside the bundle: ``"iris_pipeline.py"``, ``"pkg/flows.py:pipe"``.
    target: str
    #: The ``sourcedir.tar.gz`` bytes.
    data: bytes = attrs.field(repr=False)
    #: Hex SHA-256 of ``data``: use it in the S3 key of the code.
    sha256: str
    #: The directory the user's code came from (not part of the bytes).
    root: str = attrs.field(default="", eq=False)

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
        os.makedirs(directory, exist_ok=True)
        atomic_write(os.path.join(directory, ENTRY_SCRIPT), self.file(ENTRY_SCRIPT))
        return atomic_write(os.path.join(directory, BUNDLE_NAME), self.data)


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


def _walk(top: str, keep: frozenset[str] | None, skip_dirs: frozenset[str]) -> list[tuple[str, str]]:
    """(path relative to ``top``, absolute path) of files under ``top``, ``.py`` or in ``keep``."""
    found = []
    for directory, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in skip_dirs)
        for name in filenames:
            if name.endswith(".py") or (keep is not None and name in keep):
                path = os.path.join(directory, name)
                if os.path.isfile(path):
                    found.append((_posix(os.path.relpath(path, top)), path))
    return found


def user_files(source_file: str) -> list[tuple[str, str]]:
    """(archive path, file) of the user's code a bundle ships: every ``.py`` under :func:`code_root`."""
    return _walk(code_root(os.path.abspath(source_file)), None, SKIPPED_DIRS)


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
    """An installed package's files with their tar blocks and deflated bytes, built once per process."""

    #: (path, size, mtime_ns) of every file: the cache is used only while these are unchanged.
    signature: tuple[tuple[str, int, int], ...]
    files: tuple[tuple[str, bytes], ...]
    blocks: bytes
    deflated: bytes


#: (archive prefix, directory) -> its segment. dagml and the vendored packages are the same files
#: for every compile in a process; archiving and compressing them was most of a small compile.
_SEGMENTS: dict[tuple[str, str], _Segment] = {}


def _segment(prefix: str, directory: str, keep: frozenset[str], skip: frozenset[str]) -> _Segment:
    found = _walk(directory, keep, skip)
    signature = []
    for rel, path in found:
        st = os.stat(path)
        signature.append((rel, st.st_size, st.st_mtime_ns))
    key = (prefix, directory)
    cached = _SEGMENTS.get(key)
    if cached is not None and cached.signature == tuple(signature):
        return cached
    files = tuple(sorted((f"{prefix}/{rel}", _read(path)) for rel, path in found))
    blocks = _tar_blocks(files)
    segment = _Segment(tuple(signature), files, blocks, _deflate(blocks, final=False))
    _SEGMENTS[key] = segment
    return segment


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
        raw = piece.blocks if isinstance(piece, _Segment) else piece
        out.append(piece.deflated if isinstance(piece, _Segment) else _deflate(piece, final=False))
        crc = zlib.crc32(raw, crc)
        size += len(raw)
    tail = _tar_blocks(pending)
    tail += _end_of_archive(size + len(tail))
    out.append(_deflate(tail, final=True))
    crc = zlib.crc32(tail, crc)
    size += len(tail)
    out.append(struct.pack("<LL", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    return b"".join(out)


def make_bundle(source_file: str, attr: str | None = None, *, max_bytes: int = MAX_BUNDLE_BYTES) -> Bundle:
    """Build the code bundle for the pipeline defined in ``source_file`` (``attr``: its variable)."""
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
    for rel, path in user_files(source) + [(_posix(os.path.relpath(source, root)), source)]:
        if rel in _RESERVED or rel.split("/", 1)[0] in VENDORED:
            raise BundleError(
                f"{path!r} would replace dagml's own {rel!r} in the code bundle of {source_file!r}. "
                "Fix: rename that file."
            )
        members[rel] = _read(path)
    package = os.path.dirname(os.path.abspath(dagml.__file__))
    segments = [_segment("dagml", package, frozenset({"py.typed"}), frozenset({"__pycache__"}))]
    for name in VENDORED:
        module = importlib.import_module(name)
        vendor_dir = os.path.dirname(os.path.abspath(module.__file__ or ""))
        segments.append(_segment(name, vendor_dir, frozenset({"py.typed"}), _VENDOR_SKIP))
    for segment in segments:
        members.update(segment.files)
    members[ENTRY_SCRIPT] = ENTRY_SOURCE.encode("utf-8")
    members[INFERENCE_SCRIPT] = INFERENCE_SOURCE.encode("utf-8")
    members[REQUIREMENTS_FILE] = "".join(f"{r}\n" for r in RUNTIME_REQUIREMENTS).encode("utf-8")
    files = tuple(sorted(members.items()))
    data = _archive(files, tuple(segments))
    if len(data) > max_bytes:
        biggest = sorted(files, key=lambda item: (-len(item[1]), item[0]))[:5]
        listing = ", ".join(f"{name} ({len(content) / 1e6:.1f} MB)" for name, content in biggest)
        raise BundleError(
            f"the code bundle of {source_file!r} is {len(data) / 1e6:.1f} MB compressed, over the "
            f"{max_bytes / 1e6:.0f} MB limit. Biggest files: {listing}. Fix: move large .py files out of "
            f"{root!r} (every .py file under it is bundled), or keep the pipeline in its own directory."
        )
    return Bundle(files=files, target=target, data=data, sha256=hashlib.sha256(data).hexdigest(), root=root)


# --------------------------------------------------------------------- bootstrap scripts
# Standard library only: they run before dagml (or its dependencies) can be imported.

_BOOTSTRAP = r'''
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
_ARCHIVE = __BUNDLE_NAME__
_NEEDS = ("attrs", "networkx")


class BootstrapError(RuntimeError):
    """The code bundle cannot be made importable."""


def _members(tar, archive):
    """Every member, checked before anything is written: plain files and dirs inside the target."""
    checked = []
    for member in tar.getmembers():
        name = member.name.replace("\\", "/")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise BootstrapError(
                "dagml bootstrap: refusing %s: member %r points outside the extraction directory. "
                "Fix: rebuild the bundle with dagml.runtime.bundle.make_bundle." % (archive, member.name)
            )
        if not (member.isfile() or member.isdir()):
            raise BootstrapError(
                "dagml bootstrap: refusing %s: member %r is a link or special file. "
                "Fix: rebuild the bundle with dagml.runtime.bundle.make_bundle." % (archive, member.name)
            )
        checked.append((member, parts))
    return checked


def _extract(archive, dest):
    with tarfile.open(archive, "r:gz") as tar:
        for member, parts in _members(tar, archive):
            path = os.path.join(dest, *parts) if parts else dest
            if member.isdir():
                os.makedirs(path, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            source = tar.extractfile(member)
            with source, open(path, "wb") as out:
                shutil.copyfileobj(source, out)


def _bundle_root():
    """The directory holding the bundle's dagml/ package, extracting the archive if needed."""
    if os.path.isdir(os.path.join(_HERE, "dagml")):
        return _HERE  # training and serving: the toolkit already extracted the bundle here
    archive = os.path.join(_HERE, _ARCHIVE)
    if not os.path.isfile(archive):
        raise BootstrapError(
            "dagml bootstrap: neither a dagml/ package nor %s is next to %s. Fix: upload both "
            "dagml_entry.py and %s to the step's code location." % (_ARCHIVE, __file__, _ARCHIVE)
        )
    with open(archive, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    for parent in (_HERE, tempfile.gettempdir()):
        dest = os.path.join(parent, "dagml-bundle-" + digest)
        if os.path.isdir(os.path.join(dest, "dagml")):
            return dest  # extracted earlier (renamed into place only when complete)
        try:
            staging = tempfile.mkdtemp(prefix=".dagml-bundle-", dir=parent)
        except OSError:
            continue  # read-only: try the next place
        os.chmod(staging, 0o755)
        _extract(archive, staging)
        try:
            os.rename(staging, dest)
        except OSError:
            if os.path.isdir(os.path.join(dest, "dagml")):
                shutil.rmtree(staging, ignore_errors=True)
                return dest
            return staging
        return dest
    raise BootstrapError("dagml bootstrap: no writable directory to extract %s into." % archive)


def _ensure_requirements(root):
    """Install dagml's dependencies from the bundle's requirements.txt if the image lacks them."""
    missing = [m for m in _NEEDS if importlib.util.find_spec(m) is None]
    if not missing:
        return
    requirements = os.path.join(root, "requirements.txt")
    print("dagml bootstrap: %s missing; installing %s" % (", ".join(missing), requirements), file=sys.stderr)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["-r", requirements]
    code = subprocess.call(command, stdout=sys.stderr)
    importlib.invalidate_caches()
    if code != 0 or any(importlib.util.find_spec(m) is None for m in missing):
        raise BootstrapError(
            "dagml bootstrap: dagml needs %s, which this image lacks, and pip could not install them. "
            "Fix: use an image that has them, or allow the job network access to PyPI." % ", ".join(missing)
        )


def setup():
    """Put the bundle first on sys.path and return its directory."""
    root = _bundle_root()
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    _ensure_requirements(root)
    return root


def _report_failure(message):
    """Print the reason and leave it where SageMaker reads a job's FailureReason."""
    print(message, file=sys.stderr)
    root = os.environ.get(__ROOT_ENV__) or __DEFAULT_ROOT__
    try:
        os.makedirs(os.path.join(root, "output"), exist_ok=True)
        with open(os.path.join(root, "output", "failure"), "w", encoding="utf-8") as handle:
            handle.write(message.encode("utf-8")[:1024].decode("utf-8", "ignore"))
    except OSError:
        pass
'''


def _script(doc: str, tail: str) -> str:
    body = (
        _BOOTSTRAP.replace("__BUNDLE_NAME__", repr(BUNDLE_NAME))
        .replace("__ROOT_ENV__", repr(ROOT_ENV))
        .replace("__DEFAULT_ROOT__", repr(DEFAULT_ROOT))
    )
    return f'"""{doc}"""\n{body}\n{tail}'


ENTRY_SOURCE = _script(
    "dagml step bootstrap, written by dagml.runtime.bundle (standard library only).\n\n"
    "SageMaker runs this file. Training: the training toolkit has extracted sourcedir.tar.gz\n"
    "next to it. Processing: it sits beside sourcedir.tar.gz, which it extracts safely next to\n"
    "itself (or in a temporary directory). Then it runs dagml.runtime.entry.main().\n",
    "\n"
    'if __name__ == "__main__":\n'
    "    try:\n"
    "        setup()\n"
    "    except BootstrapError as exc:\n"
    "        _report_failure(str(exc))\n"
    "        sys.exit(1)\n"
    "    from dagml.runtime.entry import main\n"
    "\n"
    "    sys.exit(main())\n",
)

INFERENCE_SOURCE = _script(
    "dagml inference bootstrap, written by dagml.runtime.bundle (SAGEMAKER_PROGRAM).\n\n"
    "The serving container imports this file from the extracted bundle; it re-exports dagml's\n"
    "CSV handlers: model_fn, input_fn, predict_fn, output_fn.\n",
    "\n"
    "setup()\n"
    "\n"
    "from dagml.runtime.inference import input_fn, model_fn, output_fn, predict_fn  # noqa: E402\n"
    "\n"
    '__all__ = ["input_fn", "model_fn", "output_fn", "predict_fn"]\n',
)
