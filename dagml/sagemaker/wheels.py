"""A step's requirements as wheels for its image: resolved when compiling, installed offline in the job.

``pip download`` resolves the requirements for the image's Python, ABI and platform (every
manylinux tag its glibc accepts; pip takes only the tags it is given), wheels only, with the
image's exact pins as constraints so that the resolution agrees with what the image has. The
wheels of the image's exact pins are then left out (the image has them); every other wheel ships,
and the job's bootstrap installs exactly those files with ``--no-index --no-deps`` into a private
directory (dagml/runtime/bootstrap.py). Nothing at container start needs a network, so a job
under network isolation gets its packages, which the SageMaker SDK's own ``@step`` dependencies
(a ``pip install`` at container start) cannot offer.

Resolutions are cached under ``$DAGML_CACHE/wheels`` (default ``~/.cache/dagml/wheels``), keyed by
the requirements and the image's facts: compiling again is offline and gives the same bytes, and a
requirement without a version keeps the version it first resolved to until the cache entry is
removed (pin versions for builds that must move; ``rm -r ~/.cache/dagml/wheels`` re-resolves).
Compile writes nothing into the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping

import attrs

from dagml._cache import cache_root as dagml_cache
from dagml.contract import WHEELS_LIST
from dagml.sagemaker.errors import CompileError

__all__ = ["WheelError", "Wheelhouse", "platform_tags", "resolve"]

#: Bumped when what a cache entry holds changes.
RECIPE = 1
#: The oldest glibc a manylinux wheel targets (manylinux2014 is glibc 2.17).
_OLDEST_GLIBC = 17
#: The glibc dagml assumes for an image whose base OS no public source names: Amazon Linux 2's and
#: manylinux2014's, the floor of every SageMaker framework image.
DEFAULT_GLIBC = (2, 17)
_MISSING = re.compile(
    r"(?:No matching distribution found for|Could not find a version that satisfies the requirement) (\S+)"
)
_CONFLICT = re.compile(r"ResolutionImpossible|conflicting dependencies|Cannot install")


class WheelError(CompileError):
    """A step's requirements cannot be resolved into wheels for its image."""


@attrs.frozen
class Wheelhouse:
    """The wheels one set of requirements ships for one image."""

    #: (file name, path in the cache) of each wheel that ships, sorted by name.
    files: tuple[tuple[str, str], ...]
    #: Distributions the image's exact pins provide, left out: ``name==version``.
    provided: tuple[str, ...]
    #: Content hash of the shipped files and their list: where they live in S3.
    sha256: str
    #: The cache entry holding the files and their list (``dagml-requirements.txt``).
    directory: str

    @property
    def listing(self) -> bytes:
        """``dagml-requirements.txt``: the files the bootstrap installs, in order."""
        return "".join(name + "\n" for name, _ in self.files).encode("utf-8")


def platform_tags(glibc: tuple[int, int], machine: str = "x86_64") -> tuple[str, ...]:
    """Every manylinux platform tag an image with this glibc runs, newest first (PEP 600; the legacy
    aliases of PEP 513/571/599 too, which older wheels carry)."""
    major, minor = glibc
    tags = [f"manylinux_{major}_{m}_{machine}" for m in range(minor, _OLDEST_GLIBC - 1, -1)]
    tags += [f"manylinux2014_{machine}"]
    if machine in ("x86_64", "i686"):
        tags += [
            f"manylinux_2_12_{machine}",
            f"manylinux2010_{machine}",
            f"manylinux_2_5_{machine}",
            f"manylinux1_{machine}",
        ]
    return tuple(tags)


def cache_root() -> str:
    """``$DAGML_CACHE/wheels`` (default ``~/.cache/dagml/wheels``)."""
    return os.path.join(dagml_cache(), "wheels")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_name(filename: str) -> tuple[str, str]:
    """(normalised distribution name, version) of a wheel file (PEP 427 file name)."""
    parts = filename[: -len(".whl")].split("-")
    return _normalise(parts[0]), parts[1]


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(
    requirements: tuple[str, ...], python: tuple[int, int], tags: tuple[str, ...], packages: Mapping[str, str]
) -> str:
    spec = {
        "recipe": RECIPE,
        "requirements": requirements,
        "python": python,
        "tags": tags,
        "packages": dict(sorted(packages.items())),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:24]


def _failure(
    output: str, requirements: tuple[str, ...], python: tuple[int, int], glibc: tuple[int, int], where: str
) -> WheelError:
    version = ".".join(map(str, python))
    platform = f"manylinux x86_64, glibc {glibc[0]}.{glibc[1]}"
    missing = _MISSING.search(output)
    errors = [line.strip() for line in output.splitlines() if line.startswith("ERROR")]
    tail = " ".join(errors[-3:] or output.strip().splitlines()[-3:])
    if missing:
        package = missing.group(1).rstrip(".")
        return WheelError(
            f"{where}: requirement {package!r} has no wheel for the image's Python {version} ({platform}), so it "
            f"cannot be installed in the job without a network. pip said: {tail} Fix: pin a version of "
            f"{package!r} that publishes a wheel for Python {version} on Linux (see its files on PyPI), choose an "
            "image whose Python it supports, or build a wheel and publish it to your index."
        )
    if _CONFLICT.search(output):
        return WheelError(
            f"{where}: the requirements {', '.join(requirements)} conflict with each other or with the packages "
            f"the image pins. pip said: {tail} Fix: relax or change the versions so that one set satisfies all."
        )
    return WheelError(
        f"{where}: resolving the requirements {', '.join(requirements)} into wheels for Python {version} "
        f"({platform}) failed. pip said: {tail} Fix: check the requirements and that the package index is "
        "reachable (compile resolves once, then works offline from its cache)."
    )


def resolve(
    requirements: tuple[str, ...],
    *,
    python: tuple[int, int],
    glibc: tuple[int, int] | None,
    packages: Mapping[str, str],
    where: str,
) -> Wheelhouse:
    """The wheels ``requirements`` need in an image with this Python, glibc and exact pins.

    ``where`` names the pipeline and step for errors. Cached (see the module docstring).
    """
    glibc = glibc or DEFAULT_GLIBC
    tags = platform_tags(glibc)
    pins = {_normalise(k): v for k, v in packages.items()}
    entry = os.path.join(cache_root(), _key(requirements, python, tags, pins))
    manifest_path = os.path.join(entry, "manifest.json")
    if not os.path.isfile(manifest_path):
        _download(requirements, python, glibc, tags, pins, entry, where)
    with open(manifest_path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    files = tuple((name, os.path.join(entry, name)) for name in manifest["files"])
    return Wheelhouse(
        files=files, provided=tuple(manifest["provided"]), sha256=manifest["sha256"], directory=entry
    )


def _download(
    requirements: tuple[str, ...],
    python: tuple[int, int],
    glibc: tuple[int, int],
    tags: tuple[str, ...],
    pins: Mapping[str, str],
    entry: str,
    where: str,
) -> None:
    import subprocess

    os.makedirs(os.path.dirname(entry), exist_ok=True)
    work = tempfile.mkdtemp(prefix=".resolve-", dir=os.path.dirname(entry))
    try:
        wanted = os.path.join(work, "requirements.txt")
        with open(wanted, "w", encoding="utf-8") as handle:
            handle.write("".join(r + "\n" for r in requirements))
        constraints = os.path.join(work, "constraints.txt")
        with open(constraints, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
        found = os.path.join(work, "wheels")
        version = f"{python[0]}{python[1]}"
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            f"{python[0]}.{python[1]}",
            "--abi",
            f"cp{version}",
            "--abi",
            "abi3",
            "--abi",
            "none",
        ]
        for tag in tags:
            command += ["--platform", tag]
        command += ["-c", constraints, "-r", wanted, "-d", found]
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise _failure(done.stdout + done.stderr, requirements, python, glibc, where)
        shipped, provided = [], []
        for name in sorted(os.listdir(found)):
            if not name.endswith(".whl"):  # --only-binary: pip downloads nothing else
                continue
            dist, dist_version = _wheel_name(name)
            if pins.get(dist) == dist_version:
                provided.append(f"{dist}=={dist_version}")
                continue
            shipped.append(name)
        staging = os.path.join(work, "entry")
        os.makedirs(staging)
        digest = hashlib.sha256()
        for name in shipped:
            os.replace(os.path.join(found, name), os.path.join(staging, name))
            digest.update(f"{name} {_file_hash(os.path.join(staging, name))}\n".encode())
        manifest = {
            "files": shipped,
            "provided": provided,
            "sha256": digest.hexdigest(),
            "requirements": list(requirements),
        }
        with open(os.path.join(staging, "manifest.json"), "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=1, sort_keys=True)
        with open(os.path.join(staging, WHEELS_LIST), "w", encoding="utf-8") as handle:
            handle.write("".join(n + "\n" for n in shipped))
        try:
            os.rename(staging, entry)
        except OSError:  # resolved concurrently: the first one stands
            if not os.path.isfile(os.path.join(entry, "manifest.json")):
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
