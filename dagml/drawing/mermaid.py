"""Mermaid flowcharts of a pipeline: the same scene as the DOT drawing, in Mermaid's words.

Mermaid cannot draw every Graphviz shape, so each kind gets the closest
Mermaid shape (see :data:`dagml.drawing.style.KIND_STYLES`) and the same
colours; ``after=`` edges are dotted (Mermaid has no dashed arrow) and grey.
GitHub renders a ```` ```mermaid ```` block in Markdown, which is what the
``.md`` format writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from dagml._gc import paused_gc
from dagml.drawing.legend import legend_mermaid
from dagml.drawing.overlay import RunStatus
from dagml.drawing.scene import Cluster, Scene, SceneEdge, SceneNode, build_scene, title_lines
from dagml.drawing.style import (
    CLUSTER_STYLES,
    EDGE_STYLES,
    KIND_STYLES,
    MUTED,
    NEUTRAL_FILL,
    NEUTRAL_PEN,
    STATUS_STYLES,
)
from dagml.graph.model import PipelineGraph

__all__ = ["markdown_block", "scene_to_mermaid", "to_mermaid"]

_ENTITIES = {'"': "#34;", "<": "#60;", ">": "#62;", "&": "#38;", "#": "#35;"}


def text(value: str) -> str:
    """Escape user text for inside a quoted Mermaid label."""
    return "".join(_ENTITIES.get(ch, ch) for ch in value)


class _Ids:
    """Mermaid-safe ids (letters, digits, ``_``), unique and stable for one scene."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._used: set[str] = set()

    def __call__(self, key: str) -> str:
        if key not in self._ids:
            prefix, _, name = key.rpartition(":")
            base = {"": "s", "param": "p", "dataset": "d"}.get(prefix, "x_" + re.sub(r"\W", "_", prefix))
            candidate = f"{base}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"
            unique, n = candidate, 2
            while unique in self._used:
                unique, n = f"{candidate}_{n}", n + 1
            self._ids[key] = unique
            self._used.add(unique)
        return self._ids[key]


def _class(node: SceneNode) -> str:
    return ("status_" + node.status.replace(" ", "_")) if node.status else node.kind


def _node(node: SceneNode, ids: _Ids, indent: str) -> str:
    open_, close = KIND_STYLES[node.kind].mermaid
    rows = [f"<b>{text(line)}</b>" for line in title_lines(node.title)] + [f"<small>{text(line)}</small>" for line in node.lines]
    rows += [f"<b>{text(line)}</b>" for line in node.run_lines]
    return f'{indent}{ids(node.id)}{open_}"{"<br/>".join(rows)}"{close}:::{_class(node)}'


def _arrow(edge: SceneEdge) -> str:
    arrow = "==>" if edge.state == "taken" else EDGE_STYLES[edge.kind].mermaid
    return f'{arrow}|"{text(edge.label)}"|' if edge.label else arrow


def _link_style(edge: SceneEdge) -> str:
    style = EDGE_STYLES[edge.kind]
    color = STATUS_STYLES["not run"][1] if edge.state == "idle" else style.color
    width = 2.6 if edge.state == "taken" else style.penwidth
    return f"stroke:{color},stroke-width:{width:g}px"


@paused_gc()
def scene_to_mermaid(scene: Scene) -> str:
    """Mermaid flowchart text for a scene (deterministic, like the DOT)."""
    ids = _Ids()
    title = scene.name + (f": {scene.description}" if scene.description else "")
    if scene.caption:
        title += f" ({scene.caption})"
    lines = ["---", f"title: {json.dumps(title)}", "---", f"flowchart {scene.direction}"]
    lines += [_node(n, ids, "  ") for n in scene.nodes if n.cluster is None]
    members: dict[str, list[SceneNode]] = {}
    for n in scene.nodes:
        if n.cluster is not None:
            members.setdefault(n.cluster, []).append(n)
    children: dict[str | None, list[Cluster]] = {}
    for cluster in scene.clusters:
        children.setdefault(cluster.parent, []).append(cluster)

    def subgraph(cluster: Cluster, indent: str) -> None:
        """A branch, with the branches of the conditions in it nested inside (nested conditions)."""
        lines.append(f'{indent}subgraph {ids("branch:" + cluster.id)}["{text(cluster.label)}"]')
        lines.extend(_node(n, ids, indent + "  ") for n in members.get(cluster.id, []))
        for child in children.get(cluster.id, []):
            subgraph(child, indent + "  ")
        lines.append(f"{indent}end")

    for cluster in children.get(None, []):
        subgraph(cluster, "  ")
    link_styles: list[str] = []
    drawn = [e for e in scene.edges if not e.hidden]
    for i, edge in enumerate(drawn):
        target = ids("branch:" + edge.cluster) if edge.cluster else ids(edge.target)
        lines.append(f"  {ids(edge.source)} {_arrow(edge)} {target}")
        link_styles.append(f"  linkStyle {i} {_link_style(edge)}")
    if scene.legend is not None:
        legend, styles = legend_mermaid(scene.legend, lambda key: ids("legend:" + key.replace(":", "_")), len(drawn))
        lines += legend
        link_styles += styles
    lines += link_styles
    for kind, style in KIND_STYLES.items():
        lines.append(f"  classDef {kind} fill:{style.fill},stroke:{style.pen},color:#111827")
    lines.append(f"  classDef neutral fill:{NEUTRAL_FILL},stroke:{NEUTRAL_PEN},color:#111827")
    if scene.legend is not None:  # an edge sample: a line from nothing to its words
        lines.append("  classDef legend_blank fill:transparent,stroke:transparent")
        lines.append(f"  classDef legend_words fill:transparent,stroke:transparent,color:{MUTED}")
    for status, (fill, pen, font) in STATUS_STYLES.items():
        dash = ",stroke-dasharray:4 3" if status == "not run" else ""
        lines.append(f"  classDef status_{status.replace(' ', '_')} fill:{fill},stroke:{pen},color:{font}{dash}")
    for cluster in scene.clusters:
        fill, pen, font = CLUSTER_STYLES["not-taken" if cluster.taken is False else cluster.side]
        lines.append(f"  style {ids('branch:' + cluster.id)} fill:{fill},stroke:{pen},color:{font}")
    return "\n".join(lines) + "\n"


def markdown_block(scene: Scene) -> str:
    """Markdown: a heading, the description, and the Mermaid flowchart in a fenced block."""
    head = [f"# {scene.name}", ""]
    if scene.description:
        head += [scene.description, ""]
    if scene.caption:
        head += [f"*{scene.caption}*", ""]
    return "\n".join(head) + "\n```mermaid\n" + scene_to_mermaid(scene) + "```\n"


def to_mermaid(
    graph: PipelineGraph,
    *,
    params: bool = False,
    legend: bool = True,
    run: Mapping[str, RunStatus] | None = None,
    caption: str | None = None,
    direction: str | None = None,
) -> str:
    """The pipeline as a Mermaid flowchart (options as :func:`dagml.drawing.to_dot`)."""
    return scene_to_mermaid(build_scene(graph, params=params, legend=legend, run=run, caption=caption, direction=direction))
