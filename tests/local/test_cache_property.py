"""The cache under attack: after any change to anything a step's result depends on, a cached run
returns exactly what an uncached run returns (the strategies are in tests/strategies.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from dagml.api import graph_of
from dagml.local.runner import run_pipeline
from dagml.spec.target import load_target
from tests.conftest import examples
from tests.strategies import cache_changes, cache_worlds

FLOW = """
import importlib.metadata
import os
import sys

sys.path.insert(0, {outside_dir!r})
sys.path.insert(0, {deps_dir!r})
import fakedep  # noqa: E402,F401
import inside_mod  # noqa: E402
import outside_mod  # noqa: E402
from dagml import Pipeline  # noqa: E402

# Values the file's text does not show: they come from the environment when the module loads.
MODULE_VALUE = int(os.environ["CACHE_MODULE_VALUE"])
DEFAULT = int(os.environ["CACHE_DEFAULT"])


def make(name, captured):
    pipe = Pipeline(name)
    p = pipe.param("P", int(os.environ["CACHE_PARAM"]))
    data = pipe.dataset("D", local="data.txt")

    @pipe.step
    def first(d=data, p=p, k=DEFAULT):
        path = d if os.path.isfile(d) else os.path.join(d, os.listdir(d)[0])
        with open(path) as f:
            text = f.read()
        version = importlib.metadata.version("fakedep")
        return (text, p, k, captured, name, MODULE_VALUE, inside_mod.helper(), outside_mod.VALUE, version, {code})

    @pipe.step
    def second(first):
        return first + ("second",)

    return pipe


pipe = make(os.environ["CACHE_NAME"], int(os.environ["CACHE_CLOSURE"]))
"""

MODULES = ("cacheflow", "inside_mod", "outside_mod", "fakedep")


def _write(root: str, world: dict) -> str:
    project, outside, deps = (os.path.join(root, d) for d in ("project", "outside", "deps"))
    for d in (project, outside, deps):
        os.makedirs(d, exist_ok=True)
    for entry in os.listdir(deps):
        if entry.endswith(".dist-info"):
            shutil.rmtree(os.path.join(deps, entry))
    info = os.path.join(deps, f"fakedep-{world['dependency']}.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write(f"Metadata-Version: 2.1\nName: fakedep\nVersion: {world['dependency']}\n")
    with open(os.path.join(info, "top_level.txt"), "w") as f:
        f.write("fakedep\n")
    files = {
        os.path.join(deps, "fakedep.py"): "NAME = 'fakedep'\n",
        os.path.join(outside, "outside_mod.py"): f"VALUE = {world['outside']}\n",
        os.path.join(project, "inside_mod.py"): f"def helper():\n    return {world['helper']}\n",
        os.path.join(project, "data.txt"): world["input"],
        os.path.join(project, "cacheflow.py"): FLOW.format(outside_dir=outside, deps_dir=deps, code=world["code"]),
    }
    for facet in ("module_value", "default", "param", "name", "closure"):
        os.environ[f"CACHE_{facet.upper()}"] = str(world[facet])
    for path, text in files.items():
        with open(path, "w") as f:
            f.write(text)
    return os.path.join(project, "cacheflow.py")


@contextlib.contextmanager
def _project() -> Iterator[tuple[str, str]]:
    """A scratch folder for the project and its run store; sys.path, the environment and the
    project's modules are put back afterwards (the pipeline file edits the first two)."""
    saved_path, saved_env = list(sys.path), dict(os.environ)
    root = tempfile.mkdtemp(prefix="dagml-cache-")
    try:
        yield root, os.path.join(root, "home")
    finally:
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_env)
        for name in MODULES:
            sys.modules.pop(name, None)
        shutil.rmtree(root, ignore_errors=True)


def _load(path: str):
    for name in MODULES:
        sys.modules.pop(name, None)
    return load_target(path)


@settings(max_examples=examples(6, 80))
@given(st.data())
def test_a_cached_run_returns_what_an_uncached_run_returns(data):
    world = data.draw(cache_worlds())
    changed = data.draw(cache_changes(world))
    with _project() as (root, home):
        run_pipeline(graph_of(_load(_write(root, world))), home=home, workers=1)
        pipe = _load(_write(root, changed))
        cached = run_pipeline(graph_of(pipe), home=home, workers=1)
        uncached = run_pipeline(graph_of(pipe), home=home, workers=1, cache=False)
        assert cached.ok and uncached.ok, (cached.error, uncached.error)
        for step in ("first", "second"):
            assert cached.output(step) == uncached.output(step), (step, world, changed)
        if changed == world:  # nothing changed: the cache is used
            assert {cached.steps[s].status for s in ("first", "second")} == {"cached"}


def test_a_dependency_installed_outside_site_packages_is_in_the_key():
    """The case the property found in CI: only the version of a distribution on sys.path changed."""
    world = {
        "code": 0, "helper": 0, "outside": 0, "closure": 0, "default": 0, "module_value": 0,
        "param": 0, "input": "", "name": "cache-one", "dependency": "1.0",
    }
    with _project() as (root, home):
        assert run_pipeline(graph_of(_load(_write(root, world))), home=home, workers=1).output("first")[8] == "1.0"
        again = run_pipeline(graph_of(_load(_write(root, {**world, "dependency": "1.1"}))), home=home, workers=1)
        assert again.output("first")[8] == "1.1" and again.steps["first"].status == "succeeded"
