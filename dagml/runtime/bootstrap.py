"""dagml's step bootstrap: the code bundle ships this file, as it is, as ``dagml_entry.py``.

SageMaker runs ``dagml_entry.py`` on the image's own Python, before dagml (or the libraries
vendored beside it) can be imported. Training: the training toolkit has extracted
``sourcedir.tar.gz`` next to it. Processing: it sits beside ``sourcedir.tar.gz``, which it
extracts safely next to itself (or in a temporary directory). Then it runs
``dagml.runtime.entry.main()``. If the bundle cannot be made importable, it prints the reason
and writes it where SageMaker reads it, and exits 1.

The bundle's ``dagml_inference.py`` (``SAGEMAKER_PROGRAM`` of its models) is this file
followed by a few lines that call :func:`setup` and re-export dagml's CSV handler (see
``dagml.runtime.bundle``).

Standard library only. It must also run, at least as far as refusing with a clear reason,
on a Python older than dagml's runtime (an ``image_uri`` with Python 3.6 to 3.9): so no
syntax newer than 3.6, no ``from __future__ import annotations`` (3.7), and the annotations
that subscript builtins (3.9) are strings, which Python never evaluates.
"""

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile

# These restate values of dagml, which this file cannot import (it runs before dagml is importable).
# dagml.runtime.bundle checks they are equal when it builds dagml_entry.py; so does
# tests/runtime/test_bootstrap.py.
#: dagml.contract.BUNDLE_NAME: the archive of dagml and the user's code.
BUNDLE_NAME = "sourcedir.tar.gz"
#: dagml.contract.ENTRY_SCRIPT: the name this file has in the bundle.
ENTRY_SCRIPT = "dagml_entry.py"
#: dagml.contract.ROOT_ENV and dagml.contract.DEFAULT_ROOT: where the job's files are.
ROOT_ENV = "DAGML_CONTAINER_ROOT"
DEFAULT_ROOT = "/opt/ml"
FAILURE_FILE = "output/failure"  # dagml.contract.FAILURE_FILE
MESSAGE_FILE = "output/message"  # dagml.contract.MESSAGE_FILE
#: dagml.runtime.bundle.RUNTIME_PYTHON (the same as dagml.sagemaker.images.RUNTIME_PYTHON):
#: the oldest Python dagml's step runtime runs on.
RUNTIME_PYTHON = (3, 10)
#: Packages of dagml.runtime.bundle.VENDORED the bundle must hold.
NEEDS = ("attr", "networkx")
#: dagml.contract.WHEELS_LIST and WHEELS_DIRS: a step's extra packages, as wheels, and where they arrive.
WHEELS_LIST = "dagml-requirements.txt"
WHEELS_DIRS = ("processing/input/dagml-wheels", "input/data/dagml-wheels", "model/dagml-wheels")
#: Where a training job's wheels go so that its model artifact carries them (WHEELS_DIRS[2]).
MODEL_WHEELS = WHEELS_DIRS[2]


class BootstrapError(RuntimeError):
    """The code bundle cannot be made importable."""


def _check_python() -> None:
    """First of all: the runtime, and the libraries vendored beside it, need Python >= RUNTIME_PYTHON."""
    if sys.version_info[:2] < RUNTIME_PYTHON:
        running = ".".join(str(n) for n in sys.version_info[:2])
        needed = ".".join(str(n) for n in RUNTIME_PYTHON)
        raise BootstrapError(
            f"dagml bootstrap: this image runs Python {running}, but dagml's step runtime needs Python >= "
            f"{needed}. Fix: compile with a newer framework_version (dagml compile refuses the known older "
            f"ones) or an image_uri whose Python is {needed} or newer."
        )


def _parts(member: tarfile.TarInfo, archive: str) -> "list[str]":
    """The path of a member inside the target, refusing one that leaves it, a link or a special file."""
    name = member.name.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise BootstrapError(
            f"dagml bootstrap: refusing {archive}: member {member.name!r} points outside the extraction "
            "directory. Fix: rebuild the bundle with dagml.runtime.bundle.make_bundle."
        )
    if not (member.isfile() or member.isdir()):
        raise BootstrapError(
            f"dagml bootstrap: refusing {archive}: member {member.name!r} is a link or special file. "
            "Fix: rebuild the bundle with dagml.runtime.bundle.make_bundle."
        )
    return parts


def _members(tar: tarfile.TarFile, archive: str) -> "list[tuple[tarfile.TarInfo, list[str]]]":
    """Every member, checked before anything is written: plain files and dirs inside the target."""
    return [(member, _parts(member, archive)) for member in tar.getmembers()]


def _extract(archive: str, dest: str) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        for member, parts in _members(tar, archive):
            path = os.path.join(dest, *parts) if parts else dest
            if member.isdir():
                os.makedirs(path, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            source = tar.extractfile(member)
            if source is None:  # not for a regular file, which _members made sure it is
                raise BootstrapError(f"dagml bootstrap: cannot read member {member.name!r} of {archive}.")
            with source, open(path, "wb") as out:
                shutil.copyfileobj(source, out)


def _bundle_root(script: str) -> str:
    """The directory holding the bundle's dagml/ package, extracting the archive if needed.

    ``script`` is the path of the running bootstrap (``dagml_entry.py`` or ``dagml_inference.py``).
    """
    here = os.path.dirname(os.path.abspath(script))
    if os.path.isdir(os.path.join(here, "dagml")):
        return here  # training and serving: the toolkit already extracted the bundle here
    archive = os.path.join(here, BUNDLE_NAME)
    if not os.path.isfile(archive):
        raise BootstrapError(
            f"dagml bootstrap: neither a dagml/ package nor {BUNDLE_NAME} is next to {script}. Fix: upload "
            f"both {ENTRY_SCRIPT} and {BUNDLE_NAME} to the step's code location."
        )
    with open(archive, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    for parent in (here, tempfile.gettempdir()):
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
    raise BootstrapError(f"dagml bootstrap: no writable directory to extract {archive} into.")


def _check_vendored(root: str) -> None:
    """The bundle carries dagml's libraries; nothing is ever installed at container start."""
    missing = [m for m in NEEDS if not os.path.isdir(os.path.join(root, m))]
    if missing:
        raise BootstrapError(
            f"dagml bootstrap: the code bundle in {root} lacks {', '.join(missing)}, which dagml vendors "
            "into it. Fix: recompile and redeploy the pipeline with dagml."
        )


def _wheels() -> "str | None":
    """The directory holding the step's wheels and their list, if the job was given any."""
    root = os.environ.get(ROOT_ENV) or DEFAULT_ROOT
    for rel in WHEELS_DIRS:
        directory = os.path.join(root, rel)
        if os.path.isfile(os.path.join(directory, WHEELS_LIST)):
            return directory
    return None


def _install(directory: str) -> str:
    """Install the wheels ``directory`` lists into a directory of their own, with no network, and
    return it. pip installs exactly the files dagml resolved at compile time (``--no-deps``: their
    dependencies are among them or in the image), from those files only (``--no-index``), into a
    private target (nothing of the image changes). Installed once per container: a second call (a
    serving worker) finds the finished target, renamed into place only when complete."""
    with open(os.path.join(directory, WHEELS_LIST), encoding="utf-8") as handle:
        listing = handle.read()
    names = [line.strip() for line in listing.splitlines() if line.strip() and not line.startswith("#")]
    digest = hashlib.sha256(listing.encode("utf-8")).hexdigest()[:16]
    target = os.path.join(tempfile.gettempdir(), "dagml-packages-" + digest)
    if os.path.isdir(target):
        return target
    missing = [n for n in names if not os.path.isfile(os.path.join(directory, n))]
    if missing:
        raise BootstrapError(
            f"dagml bootstrap: {directory} lacks {', '.join(missing)}, which {WHEELS_LIST} lists. "
            "Fix: redeploy the pipeline (dagml deploy uploads every wheel the definition names)."
        )
    staging = tempfile.mkdtemp(prefix=".dagml-packages-", dir=tempfile.gettempdir())
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-index",
        "--no-deps",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--no-warn-script-location",
        "--target",
        staging,
    ] + [os.path.join(directory, n) for n in names]
    import subprocess

    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BootstrapError(
            f"dagml bootstrap: installing the step's packages ({', '.join(names)}) failed with no network "
            f"access needed: {done.stdout.strip()[-600:]} Fix: check that the image has pip for "
            f"{sys.executable}, or compile for this image's Python and platform (dagml resolves wheels for them)."
        )
    try:
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another worker finished first
    return target


def _carry_wheels(directory: str) -> None:
    """A training job copies its wheels into its model directory: the model artifact then carries
    them to every container that serves it."""
    root = os.environ.get(ROOT_ENV) or DEFAULT_ROOT
    model = os.path.join(root, MODEL_WHEELS)
    if os.path.abspath(directory) == os.path.abspath(model) or not os.path.isdir(os.path.dirname(model)):
        return
    if directory.endswith(WHEELS_DIRS[1]):  # a training channel
        shutil.copytree(directory, model)


def setup(script: "str | None" = None) -> str:
    """Check the Python, put the bundle first on sys.path (then the step's packages, if any) and
    return the bundle's directory.

    ``script``: the running bootstrap's path (default: this file's).
    """
    _check_python()
    root = _bundle_root(__file__ if script is None else script)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    _check_vendored(root)
    wheels = _wheels()
    if wheels is not None:
        packages = _install(wheels)
        if packages not in sys.path:
            sys.path.insert(1, packages)
        _carry_wheels(wheels)
    return root


def _report_failure(message: str) -> None:
    """Print the reason and leave it where SageMaker reads it: a training job's FailureReason
    (output/failure) and a processing job's ExitMessage (output/message)."""
    print(message, file=sys.stderr)
    root = os.environ.get(ROOT_ENV) or DEFAULT_ROOT
    for name in (FAILURE_FILE, MESSAGE_FILE):
        try:
            path = os.path.join(root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(message.encode("utf-8")[:1024].decode("utf-8", "ignore"))
        except OSError:
            pass


def main(script: "str | None" = None) -> int:
    """Make the bundle importable and run the step ``sys.argv`` names; the exit status.

    ``script``: the running bootstrap's path (default: this file's).
    """
    try:
        setup(script)
    except BootstrapError as exc:
        _report_failure(str(exc))
        return 1
    from dagml.runtime.entry import main as run_step

    return run_step()


if __name__ == "__main__":
    sys.exit(main())
