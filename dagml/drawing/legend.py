"""The legend: one sample of each shape, line and run colour the drawing uses.

The drawing should read without it (shapes and labels say most of it); the
legend is there for the reader who wants to be sure. It lists only what the
drawing uses, in a fixed order, so it is as deterministic as the rest.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

from dagml.drawing.style import EDGE_STYLES, KIND_STYLES, MUTED, NEUTRAL_FILL, NEUTRAL_PEN, STATUS_STYLES

if TYPE_CHECKING:
    from dagml.drawing.scene import Legend

__all__ = ["LEGEND_PREFIX", "legend_dot", "legend_mermaid"]

#: Ids of legend nodes start with this, so they never clash with steps.
LEGEND_PREFIX = "legend:"
#: Short words for the edge samples.
EDGE_WORDS = {"data": "data", "after": "after= (order only)", "then": "then", "otherwise": "otherwise", "param": "param read"}


#: Legend samples per row when drawing top to bottom: a small grid beside the pipeline.
PER_ROW = 2


def legend_dot(legend: Legend, direction: str = "TB") -> list[str]:
    """DOT lines for a legend cluster beside the pipeline.

    Top to bottom it is a grid, :data:`PER_ROW` samples a row; left to right
    it is one column (a rank) of samples, each edge sample pointing right.
    """
    from dagml.drawing.dot import attrs_text, quote

    lines = [
        f"  subgraph {quote('cluster_legend')} {{",
        f"    graph {attrs_text([('label', 'Legend'), ('style', 'rounded'), ('color', '#D1D5DB'), ('fontcolor', MUTED), ('fontsize', 11.0)])};",
        f"    node {attrs_text([('fontsize', 10.0), ('width', 0.3), ('height', 0.3)])};",
    ]
    items: list[tuple[str, ...]] = []  # the node ids of each sample, left to right
    for kind in legend.kinds:
        style = KIND_STYLES[kind]
        node_id = f"{LEGEND_PREFIX}{kind}"
        fill, pen = (NEUTRAL_FILL, NEUTRAL_PEN) if legend.statuses else (style.fill, style.pen)
        pairs = [("label", kind), ("shape", style.shape), ("style", style.style), ("fillcolor", fill), ("color", pen)]
        lines.append(f"    {quote(node_id)} {attrs_text(pairs)};")
        items.append((node_id,))
    for status in legend.statuses:
        fill, pen, font = STATUS_STYLES[status]
        node_id = f"{LEGEND_PREFIX}status:{status}"
        box_style = "rounded,filled" + (",dashed" if status == "not run" else "")
        pairs = [("label", status), ("shape", "box"), ("style", box_style), ("fillcolor", fill), ("color", pen), ("fontcolor", font)]
        lines.append(f"    {quote(node_id)} {attrs_text(pairs)};")
        items.append((node_id,))
    for kind in legend.edges:
        edge = EDGE_STYLES[kind]
        tail, head = f"{LEGEND_PREFIX}edge:{kind}", f"{LEGEND_PREFIX}edge:{kind}:text"
        lines.append(f"    {quote(tail)} {attrs_text([('label', ''), ('shape', 'point'), ('width', 0.06), ('color', edge.color)])};")
        lines.append(f"    {quote(head)} {attrs_text([('label', EDGE_WORDS[kind]), ('shape', 'plaintext'), ('fontcolor', MUTED)])};")
        lines.append(
            f"    {quote(tail)} -> {quote(head)} "
            f"{attrs_text([('style', edge.style), ('color', edge.color), ('penwidth', edge.penwidth)])};"
        )
        items.append((tail, head))
    if direction == "LR":
        # One column (a rank, drawn bottom to top), so reversed; edge samples point into the next rank.
        rows = [[item[:1] for item in reversed(items)]]
    else:
        rows = [items[i : i + PER_ROW] for i in range(0, len(items), PER_ROW)]
    for row in rows:
        ids = [node_id for item in row for node_id in item]
        lines.append("    { rank=same; " + " ".join(f"{quote(i)};" for i in ids) + " }")
        for left, right in itertools.pairwise(row):  # keep the samples of a row in order
            lines.append(f"    {quote(left[-1])} -> {quote(right[0])} [style=invis];")
    for upper, lower in itertools.pairwise(rows):  # stack the rows
        lines.append(f"    {quote(upper[0][0])} -> {quote(lower[0][0])} [style=invis];")
    lines.append("  }")
    return lines


def legend_mermaid(legend: Legend, node_id: Callable[[str], str]) -> list[str]:
    """Mermaid lines for a legend subgraph (``node_id`` makes a Mermaid id from a legend key)."""
    lines = ['  subgraph legend["Legend"]', "    direction TB"]
    for kind in legend.kinds:
        style = KIND_STYLES[kind]
        words = style.words if style.words.startswith(kind) else f"{kind}: {style.words}"
        open_, close = style.mermaid
        css = "neutral" if legend.statuses else kind
        lines.append(f'    {node_id("kind:" + kind)}{open_}"{words}"{close}:::{css}')
    for status in legend.statuses:
        lines.append(f'    {node_id("status:" + status)}("run: {status}"):::status_{status.replace(" ", "_")}')
    for kind in legend.edges:
        edge = EDGE_STYLES[kind]
        a, b = node_id("edge:" + kind), node_id("edge:" + kind + ":text")
        lines.append(f'    {a}[" "] {edge.mermaid}|"{kind}"| {b}["{edge.words}"]')
    lines.append("  end")
    return lines
