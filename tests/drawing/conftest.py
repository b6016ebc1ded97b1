"""Read drawings back with real parsers: Graphviz for DOT, an XML parser for SVG.

Tests assert structure (nodes, edges, clusters, labels, shapes, colours),
never pixels. DOT is parsed by Graphviz itself (``dot -Tjson0``), so a test
also proves Graphviz accepts the text. ``make test`` installs Graphviz where
it can; without ``dot`` these tests fail saying how to install it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from typing import Any

import attrs
import pytest

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
