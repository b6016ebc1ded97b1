"""Graphviz DOT text for a pipeline, byte for byte deterministic.

The text is written here, not by the graphviz package, so it needs no
import and no ``dot`` binary: nodes, clusters and edges are sorted, attributes
come in a fixed order, and nothing volatile (versions, paths, times) is
written. Golden tests compare it byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dagml._gc import paused_gc
from dagml._text import visible
from dagml.drawing.legend import legend_dot
from dagml.drawing.measure import NODESEP
from dagml.drawing.overlay import RunStatus
from dagml.drawing.scene import Cluster, Scene, SceneEdge, SceneNode, build_scene, title_lines
from dagml.drawing.style import (
    CLUSTER_STYLES,
    EDGE_STYLES,
    FONT,
    KIND_STYLES,
    LINE_SIZE,
    MUTED,
    STATUS_STYLES,
    TITLE_SIZE,
)
from dagml.graph.model import PipelineGraph

__all__ = ["DRAWING", "quote", "scene_to_dot", "to_dot"]

#: The id of the borderless cluster around the whole drawing (steps, branches, legend).
DRAWING = "cluster_drawing"


def quote(text: str) -> str:
    """A DOT quoted string (ids, plain labels); control and bidi characters become visible escapes."""
    if not text.isprintable():  # checked here: quote() runs for every id and attribute of a large drawing
        text = visible(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def html(text: str) -> str:
    """Escape text for a Graphviz HTML-like label."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def attrs_text(pairs: Iterable[tuple[str, str | float | None]]) -> str:
    """``[a=1, b="x"]`` from pairs, skipping None; values that are labels start with ``<``."""
    parts = []
    for key, value in pairs:
        if value is None:
            continue
        if isinstance(value, float):
            text = f"{value:g}"
        elif value.startswith("<") and value.endswith(">"):
            text = value  # an HTML-like label, already escaped
        else:
            text = quote(value)
        parts.append(f"{key}={text}")
    return "[" + ", ".join(parts) + "]"


def _label(node: SceneNode) -> str:
    rows = [f'<B>{html(line)}</B>' for line in title_lines(node.title)]
    rows += [f'<FONT POINT-SIZE="{LINE_SIZE}" COLOR="{MUTED}">{html(line)}</FONT>' for line in node.lines]
    rows += [f'<FONT POINT-SIZE="{LINE_SIZE}"><B>{html(line)}</B></FONT>' for line in node.run_lines]
    return "<" + "<BR/>".join(rows) + ">"


def node_line(node: SceneNode, indent: str) -> str:
    style = KIND_STYLES[node.kind]
    fill, pen, font = style.fill, style.pen, None
    dashed = None
    if node.status is not None:
        fill, pen, font = STATUS_STYLES[node.status]
        dashed = "dashed" if node.status == "not run" else None
    node_style = ",".join(s for s in (style.style, dashed) if s)
    pairs: list[tuple[str, str | float | None]] = [
        ("label", _label(node)),
        ("shape", style.shape),
        ("style", node_style),
        ("fillcolor", fill),
        ("color", pen),
        ("fontcolor", font),
        ("margin", style.margin),
    ]
    if node.kind in ("param", "dataset"):
        pairs.append(("fontsize", float(LINE_SIZE)))
    return f"{indent}{quote(node.id)} {attrs_text(pairs)};"


def edge_line(edge: SceneEdge, indent: str = "  ") -> str:
    if edge.hidden:
        return f"{indent}{quote(edge.source)} -> {quote(edge.target)} [style=invis];"
    style = EDGE_STYLES[edge.kind]
    color, width = style.color, style.penwidth
    if edge.state == "taken":
        width = 2.6
    elif edge.state == "idle":
        color = STATUS_STYLES["not run"][1]
    pairs: list[tuple[str, str | float | None]] = [
        ("label", f" {edge.label} " if edge.label else None),
        ("style", style.style),
        ("color", color),
        ("fontcolor", color if edge.kind in ("then", "otherwise") else MUTED),
        ("penwidth", width),
        ("lhead", f"cluster_{edge.cluster}" if edge.cluster else None),
    ]
    return f"{indent}{quote(edge.source)} -> {quote(edge.target)} {attrs_text(pairs)};"


def _cluster_lines(
    cluster: Cluster,
    members: Mapping[str, list[SceneNode]],
    children: Mapping[str | None, list[Cluster]],
    indent: str = "  ",
) -> list[str]:
    """A branch's subgraph: its steps, then the branches of the conditions among them, nested."""
    fill, pen, font = CLUSTER_STYLES["not-taken" if cluster.taken is False else cluster.side]
    inner = indent + "  "
    lines = [
        f"{indent}subgraph {quote('cluster_' + cluster.id)} {{",
        f"{inner}graph {attrs_text([('label', cluster.label), ('labeljust', 'l'), ('style', 'rounded,filled'), ('fillcolor', fill), ('color', pen), ('fontcolor', font), ('margin', 8.0), ('peripheries', 1.0)])};",
    ]
    lines += [node_line(n, inner) for n in members.get(cluster.id, [])]
    for child in children.get(cluster.id, []):
        lines += _cluster_lines(child, members, children, inner)
    lines.append(f"{indent}}}")
    return lines


def _title(scene: Scene) -> str:
    rows = [f'<FONT POINT-SIZE="18"><B>{html(scene.name)}</B></FONT>']
    if scene.description:
        rows.append(f'<FONT POINT-SIZE="12" COLOR="{MUTED}">{html(scene.description)}</FONT>')
    if scene.caption:
        rows.append(f'<FONT POINT-SIZE="12"><I>{html(scene.caption)}</I></FONT>')
    return "<" + "<BR/>".join(rows) + ">"


@paused_gc()
def scene_to_dot(scene: Scene, graph_attrs: Mapping[str, str | float] | None = None) -> str:
    """DOT text for a scene. ``graph_attrs`` adds graph attributes (e.g. ``dpi`` for PNG)."""
    base: list[tuple[str, str | float | None]] = [
        ("label", _title(scene)),
        ("labelloc", "t"),
        ("fontname", FONT),
        ("rankdir", scene.direction),
        ("newrank", "true"),
        ("compound", "true"),
        ("nodesep", NODESEP),
        ("ranksep", 0.45),
        ("pad", 0.25),
        ("bgcolor", "white"),
    ]
    base += sorted((graph_attrs or {}).items())
    lines = [
        f"digraph {quote(scene.name)} {{",
        f"  graph {attrs_text(base)};",
        f"  node {attrs_text([('fontname', FONT), ('fontsize', float(TITLE_SIZE)), ('penwidth', 1.3), ('margin', '0.14,0.06')])};",
        f"  edge {attrs_text([('fontname', FONT), ('fontsize', float(LINE_SIZE)), ('arrowsize', 0.8)])};",
    ]
    # Everything in one borderless group, which Graphviz keeps as narrow as it can: steps drift less far
    # apart, and the legend stays within the drawing's width. (Groups inside set its margin and border anew.)
    lines += [
        f"  subgraph {quote(DRAWING)} {{",
        f"    graph {attrs_text([('label', ''), ('peripheries', 0.0), ('margin', 0.0)])};",
    ]
    lines += [node_line(n, "    ") for n in scene.nodes if n.cluster is None]
    members: dict[str, list[SceneNode]] = {}
    for n in scene.nodes:
        if n.cluster is not None:
            members.setdefault(n.cluster, []).append(n)
    children: dict[str | None, list[Cluster]] = {}
    for cluster in scene.clusters:
        children.setdefault(cluster.parent, []).append(cluster)
    for cluster in children.get(None, []):
        lines += _cluster_lines(cluster, members, children, "    ")
    below: list[str] = []
    if scene.legend is not None:
        legend, below = legend_dot(scene)
        lines += [f"    {line}" for line in legend]
    lines.append("  }")
    lines += [edge_line(e) for e in scene.edges]
    lines += [f"  {line}" for line in below]
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(
    graph: PipelineGraph,
    *,
    params: bool = False,
    legend: bool = True,
    run: Mapping[str, RunStatus] | None = None,
    caption: str | None = None,
    direction: str | None = None,
) -> str:
    """The pipeline as Graphviz DOT text (deterministic: same graph, same bytes).

    ``params=True`` draws params and datasets as their own nodes;
    ``legend=False`` leaves the legend out; ``run`` overlays one run (step
    name -> :class:`~dagml.drawing.StepRun` or status string; see
    :mod:`dagml.drawing.overlay`); ``caption`` is a line under the title;
    ``direction`` is "TB" or "LR" (default: TB, or LR when a generation is
    wider than 8 steps).
    """
    return scene_to_dot(build_scene(graph, params=params, legend=legend, run=run, caption=caption, direction=direction))
