"""Read drawings back with real parsers: Graphviz for DOT, an XML parser for SVG.

Tests assert structure (nodes, edges, clusters, labels, shapes, colours),
never pixels. DOT is parsed by Graphviz itself (``dot -Tjson0``), so a test
also proves Graphviz accepts the text; where a test is about room (the
legend), it reads Graphviz's layout (``dot -Tplain``): sizes, not pixels. ``make test`` installs Graphviz where
it can; without ``dot`` these tests fail saying how to install it.
"""

from __future__ import annotations

import inspect
import json
import os
import random
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

import attrs
import pytest

from dagml import Pipeline
from dagml.drawing.dot import DRAWING
from dagml.graph.model import PipelineGraph
from dagml.spec.target import load_target
from tests.conftest import EXAMPLES

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")
PIPELINES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pipelines")
SVG_NS = "{http://www.w3.org/2000/svg}"


@attrs.frozen
class ParsedDot:
    """A DOT drawing as Graphviz read it."""

    graph: dict[str, Any]
    #: Node name -> its attributes.
    nodes: dict[str, dict[str, Any]]
    #: (tail, head, attributes), drawn and invisible alike.
    edges: list[tuple[str, str, dict[str, Any]]]
    #: Cluster name -> (its attributes, the names of the nodes inside it).
    clusters: dict[str, tuple[dict[str, Any], set[str]]]

    def visible_edges(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [e for e in self.edges if e[2].get("style") != "invis"]

    def steps(self) -> set[str]:
        return {n for n in self.nodes if not n.startswith("legend:")}

    def branches(self) -> dict[str, tuple[dict[str, Any], set[str]]]:
        """The clusters of branches: not the group around the whole drawing, nor the legend."""
        return {name: c for name, c in self.clusters.items() if name not in (DRAWING, "cluster_legend")}


@attrs.frozen
class Layout:
    """Where Graphviz's ``dot`` put things (``-Tplain``): inches, y up."""

    width: float
    height: float
    #: Node name -> (x, y, width, height), centre and size.
    nodes: dict[str, tuple[float, float, float, float]]

    def span(self, names: Iterable[str], axis: int = 0) -> tuple[float, float]:
        """The least and greatest x (axis 0) or y (axis 1) the named nodes cover."""
        boxes = [self.nodes[n] for n in names]
        return min(b[axis] - b[axis + 2] / 2 for b in boxes), max(b[axis] + b[axis + 2] / 2 for b in boxes)


def layout(text: str) -> Layout:
    """Lay out DOT text with Graphviz (``dot -Tplain``)."""
    out = subprocess.run([require_dot(), "-Tplain"], input=text.encode(), capture_output=True, check=True).stdout
    lines = out.decode().splitlines()
    _, _, width, height = lines[0].split()
    nodes = {}
    for line in lines:
        if m := _PLAIN_NODE.match(line):
            name = json.loads(m["name"]) if m["name"].startswith('"') else m["name"]
            nodes[name] = (float(m["x"]), float(m["y"]), float(m["w"]), float(m["h"]))
    return Layout(float(width), float(height), nodes)


#: ``node NAME X Y WIDTH HEIGHT ...`` in ``dot -Tplain`` output (a name with other characters is quoted).
_PLAIN_NODE = re.compile(r'^node (?P<name>"(?:[^"\\]|\\.)*"|\S+) (?P<x>\S+) (?P<y>\S+) (?P<w>\S+) (?P<h>\S+)')


def require_dot() -> str:
    path = shutil.which("dot")
    if path is None:
        pytest.fail(
            "Graphviz's dot is needed to parse drawings: apt-get install graphviz / brew install graphviz "
            "(make test installs it where it can)."
        )
    return path


def parse_dot(text: str) -> ParsedDot:
    """Parse DOT text with Graphviz (``dot -Tjson0``)."""
    out = subprocess.run([require_dot(), "-Tjson0"], input=text.encode(), capture_output=True, check=True).stdout
    data = json.loads(out)
    objects = data.get("objects", [])
    nodes = {o["name"]: o for o in objects if "nodes" not in o and "subgraphs" not in o}
    names = {o["_gvid"]: o["name"] for o in objects if o["name"] in nodes}
    clusters = {
        o["name"]: (o, {names[i] for i in o.get("nodes", [])}) for o in objects if o["name"].startswith("cluster")
    }
    edges = [(names[e["tail"]], names[e["head"]], e) for e in data.get("edges", [])]
    graph = {k: v for k, v in data.items() if k not in ("objects", "edges")}
    return ParsedDot(graph, nodes, edges, clusters)


def svg_titles(svg: str) -> dict[str, set[str]]:
    """Class ("node", "edge", "cluster") -> the ``<title>`` texts of those SVG groups."""
    root = ET.fromstring(svg)
    found: dict[str, set[str]] = {"node": set(), "edge": set(), "cluster": set()}
    for group in root.iter(f"{SVG_NS}g"):
        kind = group.get("class")
        title = group.find(f"{SVG_NS}title")
        if kind in found and title is not None and title.text is not None:
            found[kind].add(title.text)
    return found


@pytest.fixture(scope="session")
def iris_graph():
    return load_target(IRIS).validate()


# Pipelines to draw, by name: 2 steps to 200, top to bottom and left to right (the legend's tests).


def chain(n: int) -> PipelineGraph:
    pipe = Pipeline(f"chain-{n}", description="one step after the other")
    for i in range(n):
        _step(pipe, f"s{i}", [f"s{i - 1}"] if i else [])
    return pipe.validate()


def fan(n: int) -> PipelineGraph:
    pipe = Pipeline(f"fan-{n}", description="one step read by all the others")
    for i in range(n):
        _step(pipe, f"s{i}", ["s0"] if i else [])
    return pipe.validate()


def random_dag(n: int, seed: int) -> PipelineGraph:
    """Each step reads up to three earlier ones; every 20th starts a gate (metrics, condition, fail)."""
    rng = random.Random(seed)
    pipe = Pipeline(f"random-{n}", description=f"a random DAG of {n} steps (seed {seed})")
    threshold = pipe.param("Threshold", 0.5)
    names: list[str] = []
    for i in range(n):
        deps = rng.sample(names, min(len(names), rng.randint(0, 3)))
        if i % 20 == 19:
            score = pipe.step(name=f"m{i}", metrics=True)(_function(f"m{i}", deps, {"score": 1.0}))
            then = _step(pipe, f"t{i}", [])
            fail = pipe.fail(f"f{i}", "score below the threshold")
            pipe.condition(f"c{i}", score["score"] >= threshold, then=[then], otherwise=[fail])
        else:
            _step(pipe, f"s{i}", deps)
            names.append(f"s{i}")
    return pipe.validate()


def _function(name, deps, value=None):
    def fn(**inputs):
        return value

    fn.__name__ = fn.__qualname__ = name
    fn.__signature__ = inspect.Signature([inspect.Parameter(d, inspect.Parameter.POSITIONAL_OR_KEYWORD) for d in deps])
    return fn


def _step(pipe, name, deps):
    return pipe.step(name=name)(_function(name, deps))


def _load(path: str):
    return lambda: load_target(path).validate()


#: Pipelines of every size the brief of issue #17 names: 2 steps to 200, top to bottom and left to right.
CASES = {
    "iris": _load(os.path.join(EXAMPLES, "iris_pipeline.py")),
    "abalone": _load(os.path.join(EXAMPLES, "abalone_pipeline.py")),
    "minimal": _load(os.path.join(PIPELINES, "minimal.py")),
    "options": _load(os.path.join(PIPELINES, "options.py")),
    "branches": _load(os.path.join(PIPELINES, "branches.py")),
    "two-steps": lambda: chain(2),
    "chain-200": lambda: chain(200),
    "fan-200 (left to right)": lambda: fan(200),
    "random-30": lambda: random_dag(30, 2),
    "random-200 (left to right)": lambda: random_dag(200, 0),
}
