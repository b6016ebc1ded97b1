"""Function steps in their image's Python environment, without Docker (``dagml run --image-env``).

A plain local run calls each step in this Python, with whatever is installed here. With
``--image-env`` a function step whose image is a SageMaker framework image dagml knows (its
Python, >= 3.10, and its exact pins) runs in a virtualenv that stands in for that image, through
the entry point its SageMaker job runs: ``python dagml_entry.py --mode processing ...`` (a training
step: ``input/config/hyperparameters.json``), from the code bundle compile ships
(:func:`dagml.runtime.bundle.make_bundle`: dagml, attrs and networkx vendored, the user's code),
with ``DAGML_CONTAINER_ROOT`` the step's directory, laid out as for any local run
(:mod:`dagml.local.tasks`). An import that works here but not in the image fails the step, as
the job would fail.

The environment (built once, cached under ``$DAGML_CACHE/image-envs``, default
``~/.cache/dagml/image-envs``, keyed by everything that goes into it, under a file lock) holds:

- the image's Python ``major.minor`` (the newest patch release found: pyenv's versions first,
  then ``pythonX.Y`` on PATH);
- the image's exact pins (``name==version``, from its public requirements) with their
  dependencies, installed by uv when it is there, else pip;
- pip, which ``dagml_entry.py`` uses to install the step's requirements: the wheels compile
  resolves for the image (:func:`dagml.sagemaker.wheels.resolve`), delivered where the job gets
  them and installed offline at step start into a private directory, as in the job.

It cannot hold, so a step can still pass here and fail on SageMaker because of:

- the image's OS: its system libraries and glibc are this machine's;
- what the image installs that is not an exact PyPI pin: its glue packages
  (``sagemaker_sklearn_container``), packages built from source (mlio), and requirements given as
  ranges or unpinned (``scipy>=1.9.0``), which resolve to today's newest fitting release;
- the image's environment variables, and the training toolkit (a training step runs
  ``dagml_entry.py`` directly, not through ``train``);
- the network cut of a job under network isolation (the container test bed has it) and the
  instance's CPUs, memory and GPUs.

The facts about images live in :mod:`dagml.sagemaker.images`, which this layer does not import
(docs/architecture.md): :func:`dagml.api.image_env_plan` reads them and hands over an
:class:`ImageEnvPlan`.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

import attrs

from dagml._cache import cache_root as dagml_cache
from dagml._text import visible
from dagml.contract import ENTRY_SCRIPT, MODEL_DIR, WHEELS_DIRS
from dagml.errors import DagmlError
from dagml.local.context import RunContext
from dagml.local.result import RunResult
from dagml.local.tasks import function_task
from dagml.local.workers import Task
from dagml.runtime.bundle import Bundle, make_bundle
from dagml.spec.specs import FunctionSpec

__all__ = [
    "DETAIL",
    "BuiltEnv",
    "ImageEnv",
    "ImageEnvError",
    "ImageEnvPlan",
    "ImageEnvs",
    "StepPlace",
    "build_environment",
    "cache_root",
    "environment_lines",
    "find_python",
]

#: Bumped when what an environment holds, or how it is built, changes.
RECIPE = 1
#: Written last: an environment without it is incomplete and is built again.
COMPLETE = ".dagml-image-env-complete"
#: A step's detail key saying where it ran (the run summary lists it).
DETAIL = "environment"
#: How many code bundles (extracted, as the bootstrap leaves them) the cache keeps.
KEEP_CODE = 8


class ImageEnvError(DagmlError, RuntimeError):
    """An image's environment cannot be found or built on this machine."""


@attrs.frozen
class ImageEnv:
    """What dagml knows of one image: enough to stand in for it."""

    #: How people name it: ``"sklearn 1.4-2"``.
    label: str
    #: The image's Python, ``(3, 10)``.
    python: tuple[int, int]
    #: Its exact pins, ``"scikit-learn==1.4.2"``, sorted.
    packages: tuple[str, ...]

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9.]+", "-", self.label).strip("-")


@attrs.frozen
class StepPlace:
    """Where one function step of an ``--image-env`` run runs: its image's environment, or this
    Python, and why (``note``)."""

    image: ImageEnv | None = None
    #: The image's URI (for messages).
    uri: str = ""
    #: The directory holding the step's wheels and their list (``dagml-requirements.txt``), if any.
    wheels: str | None = None
    #: Their content hash (for the cache key).
    wheels_sha: str = ""
    #: Why the step runs in this Python (an image dagml knows nothing of, ...).
    note: str = ""


@attrs.frozen
class ImageEnvPlan:
    """Each function step's place, and the code bundle's settings (``bundle_include`` / ``bundle_exclude``)."""

    steps: Mapping[str, StepPlace]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@attrs.frozen
class BuiltEnv:
    """A built environment: its directory, its interpreter's full version and its cache key."""

    image: ImageEnv
    directory: str
    #: The interpreter's full version, ``"3.10.13"``.
    version: str
    key: str

    @property
    def python(self) -> str:
        return os.path.join(self.directory, "bin", "python")


# --------------------------------------------------------------------- building an environment
def cache_root() -> str:
    """``$DAGML_CACHE/image-envs`` (default ``~/.cache/dagml/image-envs``)."""
    return os.path.join(dagml_cache(), "image-envs")


def _version_of(python: str) -> str | None:
    """The full version an interpreter reports, or None when it does not run (a pyenv shim without it)."""
    try:
        done = subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _pyenv_root() -> str:
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    try:
        done = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return os.path.join(os.path.expanduser("~"), ".pyenv")


def find_python(version: tuple[int, int], image: str = "") -> str:
    """The newest installed CPython ``major.minor``: pyenv's versions first, then ``pythonX.Y`` on PATH.

    Raises :class:`ImageEnvError` naming how to install it.
    """
    wanted = ".".join(map(str, version))
    root = _pyenv_root()
    candidates = []
    for path in glob.glob(os.path.join(root, "versions", f"{wanted}.*", "bin", f"python{wanted}")):
        patch = path.split(os.sep)[-3].split(".")[2]
        if patch.isdigit():
            candidates.append((int(patch), path))
    for _, path in sorted(candidates, reverse=True):
        if _version_of(path):
            return path
    found = shutil.which(f"python{wanted}")
    if found and (_version_of(found) or "").startswith(wanted + "."):
        return found
    whose = f" (the Python of image {image})" if image else ""
    raise ImageEnvError(
        f"--image-env needs CPython {wanted}{whose} and found none: not in pyenv's versions "
        f"({os.path.join(root, 'versions')}) nor python{wanted} on PATH. Fix: pyenv install {wanted} (or install "
        f"python{wanted} on PATH: apt-get install python{wanted}, brew install python@{wanted}), then run again; "
        "or run without --image-env."
    )


def _uv() -> str | None:
    beside = os.path.join(os.path.dirname(sys.executable), "uv")
    return shutil.which("uv") or (beside if os.access(beside, os.X_OK) else None)


def _key(image: ImageEnv, version: str) -> str:
    spec = {"recipe": RECIPE, "python": version, "packages": list(image.packages)}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _run(command: list[str], log: str, image: ImageEnv) -> None:
    with open(log, "a", encoding="utf-8") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if code != 0:
        with open(log, encoding="utf-8", errors="replace") as f:
            tail = f.read()[-2000:]
        raise ImageEnvError(
            f"building the environment of image {image.label} failed: {' '.join(command)} exited with status "
            f"{code}. The end of its log ({log}):\n{tail}\nFix: see the log (a package built from source needs a C "
            "compiler and the Python headers; the package index must be reachable), or run without --image-env."
        )


def _build(image: ImageEnv, python: str, venv: str) -> None:
    log = venv + ".log"
    with open(log, "w", encoding="utf-8") as out:
        out.write(f"# the environment of image {image.label}, built by dagml for `dagml run --image-env`\n")
    shutil.rmtree(venv, ignore_errors=True)  # built in place (a virtualenv's scripts name its path), marked last
    _run([python, "-m", "venv", venv], log, image)  # with pip: dagml_entry.py installs a step's wheels with it
    requirements = os.path.join(venv, "image-requirements.txt")
    with open(requirements, "w", encoding="utf-8") as f:
        f.write("".join(p + "\n" for p in image.packages))
    py = os.path.join(venv, "bin", "python")
    uv = _uv()
    if uv is not None:
        _run([uv, "pip", "install", "--python", py, "-r", requirements], log, image)
    else:
        _run([py, "-m", "pip", "install", "--disable-pip-version-check", "-r", requirements], log, image)
    with open(os.path.join(venv, COMPLETE), "w", encoding="utf-8") as f:
        json.dump({"image": image.label, "python": python, "packages": list(image.packages)}, f, indent=1)


def build_environment(image: ImageEnv, say: Callable[[str], None] | None = None) -> BuiltEnv:
    """The virtualenv standing in for ``image``: built on first use (minutes), then found in the cache."""
    python = find_python(image.python, image.label)
    version = _version_of(python) or ""
    key = _key(image, version)
    root = os.path.realpath(cache_root())
    os.makedirs(root, exist_ok=True)
    venv = os.path.join(root, f"{image.slug}-{key}")
    with open(os.path.join(root, f"{image.slug}-{key}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel runs (and test workers) share one build
        if not os.path.isfile(os.path.join(venv, COMPLETE)):
            if say is not None:
                say(
                    f"building the environment of image {image.label} (Python {version}, {len(image.packages)} "
                    f"pinned packages) in {venv}: once, a minute or two"
                )
            started = time.monotonic()
            _build(image, python, venv)
            if say is not None:
                say(f"built the environment of image {image.label} in {time.monotonic() - started:.0f}s")
    return BuiltEnv(image, venv, version, key)


# --------------------------------------------------------------------- one run
#: The child's environment on top of the runner's: the image's interpreter first on PATH, nothing of
#: this Python's (PYTHONPATH, PYTHONHOME, the user site; an empty value is no value to Python).
_CLEARED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONEXECUTABLE")


def _code_dir(bundle: Bundle) -> str:
    """``dagml_entry.py`` beside ``sourcedir.tar.gz``, as a processing job gets them; its path.

    In the cache, by the bundle's hash, not in the run store: the bootstrap extracts the bundle
    next to itself, and the user's code root (which may hold the run store) must not then hold
    dagml's and the vendored libraries' files. The same code is extracted (and byte-compiled) once;
    the newest :data:`KEEP_CODE` bundles are kept.
    """
    parent = os.path.join(os.path.realpath(cache_root()), "code")
    directory = os.path.join(parent, bundle.sha256[:16])
    entry = os.path.join(directory, ENTRY_SCRIPT)
    if not os.path.isfile(entry):
        bundle.write(directory)
    os.utime(directory)  # the newest are kept
    old = sorted(os.scandir(parent), key=lambda e: e.stat().st_mtime, reverse=True)[KEEP_CODE:]
    for stale in old:
        shutil.rmtree(stale.path, ignore_errors=True)
    return entry


class ImageEnvs:
    """One run's image environments: which step runs where, the environments, the code bundle."""

    def __init__(self, plan: ImageEnvPlan, say: Callable[[str], None] | None = None) -> None:
        self.plan, self._say = plan, say
        self._built: dict[ImageEnv, BuiltEnv] = {}
        self._bundle: Bundle | None = None
        self._entry = ""

    def build(self, source_file: str, attr: str | None) -> None:
        """Before the run: every environment the plan needs, and the code bundle (checked against each)."""
        images = sorted({p.image for p in self.plan.steps.values() if p.image is not None}, key=lambda i: i.label)
        if not images:
            return
        bundle = make_bundle(source_file, attr, include=self.plan.include, exclude=self.plan.exclude)
        for image in images:
            bundle.check_python(image.python, f"--image-env, image {image.label}")
            self._built[image] = build_environment(image, self._say)
        self._bundle, self._entry = bundle, _code_dir(bundle)

    def environment(self, step: str) -> BuiltEnv | None:
        """The environment the step runs in, or None: this Python."""
        place = self.plan.steps.get(step)
        return self._built.get(place.image) if place is not None and place.image is not None else None

    def identity(self, step: str) -> str | None:
        """What the step's cache key adds: the environment's key and the step's wheels (None: this Python)."""
        built, place = self.environment(step), self.plan.steps.get(step)
        if built is None or place is None:
            return None
        return f"image-env:{built.key}:{place.wheels_sha}"

    def where(self, step: str) -> str | None:
        """Where the step ran, as the run summary says it (None: not a step of the plan)."""
        place = self.plan.steps.get(step)
        if place is None:
            return None
        built = self.environment(step)
        if built is not None:
            return f"image {built.image.label} environment, Python {built.version}"
        return f"this Python ({platform.python_version()}): {place.note}" if place.note else None

    def task(self, context: RunContext, spec: FunctionSpec) -> Task:
        """The task that runs the step in its environment, its directory laid out as for any local run."""
        built, place = self.environment(spec.name), self.plan.steps[spec.name]
        assert built is not None and self._bundle is not None and self._entry  # build() ran
        task = function_task(context, spec, target=self._bundle.target)
        if spec.kind == "training":  # there from the start, as in a training job: the bootstrap copies wheels into it
            os.makedirs(os.path.join(task.root, MODEL_DIR), exist_ok=True)
        if place.wheels:  # where the job finds them: the processing input or training channel "dagml-wheels"
            link = os.path.join(task.root, WHEELS_DIRS[1] if spec.kind == "training" else WHEELS_DIRS[0])
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(place.wheels, link)
        path = os.pathsep.join([os.path.join(built.directory, "bin"), os.environ.get("PATH", "")])
        env = [(name, "") for name in _CLEARED]
        env += [("PATH", path), ("VIRTUAL_ENV", built.directory), ("PYTHONNOUSERSITE", "1")]
        env += [("PYTHONUNBUFFERED", "1"), ("PYTHONFAULTHANDLER", "1")]  # a crash's Python stack lands in the log
        return attrs.evolve(task, command=(built.python, self._entry), env=tuple(env))


def environment_lines(result: RunResult) -> list[str]:
    """The run summary's ``environments:`` section: where each function step ran (``--image-env`` runs)."""
    rows = [(name, str(r.detail[DETAIL])) for name in result.order if (r := result.steps.get(name)) and r.detail.get(DETAIL)]
    if not rows:
        return []
    width = max(len(name) for name, _ in rows)
    lines = ["environments (--image-env):", *(f"  {name:<{width}}  {where}" for name, where in rows)]
    return [visible(line) for line in lines]  # a note quotes an image URI: the user's text
