"""Build (once) and find the Python environment that stands in for one image.

An environment is a virtualenv made from the image's own Python version (found
with pyenv or on PATH) with the image's ``requirements.txt`` installed by
``uv pip install``, as the image's final Dockerfile does, the Dockerfile's
patches applied, and the bed's equivalents of the image's own glue packages
(``Image.glue``: ``sagemaker_sklearn_container``, ``sagemaker_xgboost_container``)
copied in.
Environments are cached under ``$DAGML_BED_CACHE`` (default
``~/.cache/dagml/container-bed``), keyed by everything that goes into them, and
built under a lock, so parallel test runs share one build.

A missing interpreter is an error, never a skip: CI must prove every image.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys

from tests.containers.images import Image

#: The bed's equivalents of the images' glue packages, one directory per package (``Image.glue``).
GLUE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "glue")
#: Bumped when the build recipe below changes.
RECIPE = 1
COMPLETE = ".dagml-bed-complete"


class BedSetupError(RuntimeError):
    """The bed cannot build an image's environment on this machine."""


def cache_root() -> str:
    return os.environ.get("DAGML_BED_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "dagml", "container-bed"
    )


def find_python(version: str) -> str:
    """The newest installed CPython ``version`` (``"3.10"``): pyenv's versions first, then PATH."""
    candidates = []
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        root = os.path.join(os.path.expanduser("~"), ".pyenv")
    for path in glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")):
        patch = path.split(os.sep)[-3].split(".")[2]
        if patch.isdigit():
            candidates.append((int(patch), path))
    if candidates:
        return max(candidates)[1]
    found = shutil.which(f"python{version}")
    if found:
        return found
    raise BedSetupError(
        f"the container bed needs CPython {version} (the image's own Python) and found none. "
        f"Fix: `pyenv install {version}` (or install python{version} on PATH), then rerun the tests."
    )


def _key(image: Image, python: str) -> str:
    full = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=True
    )
    spec = {
        "recipe": RECIPE,
        "python": full.stdout.strip(),
        "requirements": image.requirements,
        "pip": image.pip,
        "patches": image.patches,
    }
    if image.locked:  # (absent for a requirements.txt, so those keys stay as they were)
        spec["locked"] = True
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _site_packages(venv: str) -> str:
    (path,) = glob.glob(os.path.join(venv, "lib", "python*", "site-packages"))
    return path


def _uv() -> str:
    found = shutil.which("uv") or os.path.join(os.path.dirname(sys.executable), "uv")
    if not os.path.isfile(found):
        raise BedSetupError(
            "the container bed installs images' packages with uv. Fix: pip install uv (dev extra)."
        )
    return found


def _run(command: list[str], log: str) -> None:
    with open(log, "a", encoding="utf-8") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        with open(log, encoding="utf-8") as f:
            tail = f.read()[-3000:]
        raise BedSetupError(f"building a container bed environment failed: {' '.join(command)}\n{tail}")


def _build(image: Image, python: str, venv: str) -> None:
    log = venv + ".log"
    # Built in place (a virtualenv's scripts name its path), marked complete only at the end.
    shutil.rmtree(venv, ignore_errors=True)
    _run([python, "-m", "venv", venv], log)
    py = os.path.join(venv, "bin", "python")
    # get-pip.py in docker/<version>/base/Dockerfile.cpu: the image's pip serves `pip install .` at serve time.
    _run([_uv(), "pip", "install", "--python", py, f"pip=={image.pip}"], log)
    requirements = os.path.join(venv, "image-requirements.txt")
    with open(requirements, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in image.requirements))
    # docker/<version>/final/Dockerfile.cpu: `uv pip install --system -r /requirements.txt`; a lock is
    # installed as it is (`uv sync --frozen`).
    _run(
        [
            _uv(),
            "pip",
            "install",
            "--python",
            py,
            *(["--no-deps"] if image.locked else []),
            "-r",
            requirements,
        ],
        log,
    )
    site = _site_packages(venv)
    for rel, old, new in image.patches:
        path = os.path.join(site, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if old not in text:
            raise BedSetupError(f"the image's patch of {rel} no longer applies: {old!r} is not in {path}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))
    with open(os.path.join(venv, COMPLETE), "w") as f:
        f.write(image.source + "\n")


def environment(image: Image) -> str:
    """The virtualenv directory standing in for ``image``, built on first use."""
    python = find_python(image.python)
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    venv = os.path.join(root, f"{image.slug}-{_key(image, python)}")
    with open(os.path.join(root, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isfile(os.path.join(venv, COMPLETE)):
            _build(image, python, venv)
        # The image installs its glue as a wheel; the bed copies its equivalent in (always current).
        for package in image.glue:
            target = os.path.join(_site_packages(venv), package)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(
                os.path.join(GLUE_ROOT, package), target, ignore=shutil.ignore_patterns("__pycache__")
            )
    return venv
