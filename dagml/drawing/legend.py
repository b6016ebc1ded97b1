"""The legend: one small sample of each shape, line and run colour the drawing uses.

The drawing should read without it (shapes and labels say most of it); the
legend is there for the reader who wants to be sure. It lists only what the
drawing uses, in a fixed order, so it is as deterministic as the rest.

It is small and out of the way: a short grid under the drawing (top to
bottom) or in its top-left corner (left to right), never beside it. It is
sized from the scene alone (:mod:`dagml.drawing.measure` estimates the
drawing, on the low side) so that it does not widen the picture, and its
text grows with the drawing (:func:`legend_size`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import TypeAlias

import attrs

from dagml.drawing.measure import NODESEP, drawing_width, layers, rank_room, text_width
from dagml.drawing.scene import Legend, Scene
from dagml.drawing.style import (
    EDGE_STYLES,
    INPUT_KINDS,
    KIND_STYLES,
    MUTED,
    NEUTRAL_FILL,
    NEUTRAL_PEN,
    STATUS_STYLES,
    TITLE_SIZE,
)

__all__ = ["LEGEND_PREFIX", "legend_dot", "legend_mermaid", "legend_size"]

#: DOT attributes, in order (see :func:`dagml.drawing.dot.attrs_text`).
Attrs: TypeAlias = "list[tuple[str, str | float | None]]"

#: Ids of legend nodes start with this, so they never clash with steps.
LEGEND_PREFIX = "legend:"
#: Short words for the edge samples.
EDGE_WORDS = {"data": "data", "after": "after= (order only)", "then": "then", "otherwise": "otherwise", "param": "param read"}
#: The legend's font size (points) up to SMALL steps; a point more each time the steps double, up to 12.
MIN_SIZE, SMALL = 8.0, 16
#: Inches, at 8 points: the legend box's border and margin (4 points) on each side; a sample's label margins.
BOX_ROOM, PAD = 0.08, 0.1
#: The run statuses' table of colour swatches: points between and inside its cells, at 8 points.
CELLSPACING, CELLPADDING = 3, 2
#: Left to right: nodes in a row of the legend (an edge sample takes two).
COLUMNS = 6
#: Mermaid legend: samples per row.
MERMAID_ROW = 4


@attrs.frozen
class _Item:
    """One sample: its node ids (left to right), the DOT lines that draw it, their widths (inches)."""

    ids: tuple[str, ...]
    lines: tuple[str, ...]
    #: The width of each node; left to right each node takes a rank.
    widths: tuple[float, ...]

    @property
    def width(self) -> float:
        """Top to bottom the nodes share a rank, ``NODESEP`` apart."""
        return sum(self.widths) + NODESEP * (len(self.widths) - 1)


def legend_size(scene: Scene) -> float:
    """The legend's font size: :data:`MIN_SIZE` up to SMALL steps, a point more per doubling, at most 12."""
    steps = sum(1 for n in scene.nodes if n.kind not in INPUT_KINDS)
    grow = math.log2(steps / SMALL) if steps > SMALL else 0.0
    return min(float(TITLE_SIZE), MIN_SIZE + math.floor(grow * 2) / 2)


def _small(size: float) -> Attrs:
    """A sample's size: its font, and as little room around its label as its shape allows."""
    scale = size / MIN_SIZE
    margin = f"{PAD / 2 * scale:.2f},0.02"
    return [("fontsize", size), ("width", 0.0), ("height", round(0.22 * scale, 2)), ("margin", margin)]


def _kinds(legend: Legend, size: float, direction: str) -> list[_Item]:
    """A node of each kind's shape, named; uncoloured in a run (colour means status there)."""
    from dagml.drawing.dot import attrs_text, quote

    scale = size / MIN_SIZE
    items = []
    for kind in legend.kinds:
        style = KIND_STYLES[kind]
        node_id = f"{LEGEND_PREFIX}{kind}"
        fill, pen = (NEUTRAL_FILL, NEUTRAL_PEN) if legend.statuses else (style.fill, style.pen)
        pairs: Attrs = [("label", kind), ("shape", style.shape), ("style", style.style), ("fillcolor", fill)]
        pairs.append(("color", pen))
        width = text_width(kind, size) + PAD * scale
        if style.shape == "diamond":  # flat and a little wider than its label: its corners clip the text's
            grow, room = (1.2, 0.25) if direction == "TB" else (1.1, 0.15)  # left to right, columns are narrow
            width = round(text_width(kind, size) * grow + room * scale, 2)
            pairs += [("fixedsize", "true"), ("width", width), ("height", round(0.3 * scale, 2)), ("fontsize", size)]
        else:
            pairs += _small(size)
        items.append(_Item((node_id,), (f"{quote(node_id)} {attrs_text(pairs)};",), (width,)))
    return items


def _statuses(legend: Legend, size: float, room: float | None) -> list[_Item]:
    """Run statuses are colours, not shapes: one node, a table of swatches.

    ``room``: the table's widest row (inches), its cells wrapped into rows to
    fit; None: one swatch a row.
    """
    from dagml.drawing.dot import attrs_text, html, quote

    if not legend.statuses:
        return []
    scale = size / MIN_SIZE
    rows: list[list[str]] = [[]]
    used = widest = CELLSPACING / 72 * scale
    for status in legend.statuses:
        fill, pen, font = STATUS_STYLES[status]
        look = "dashed" if status == "not run" else "rounded"
        cell = f'<TD BORDER="1" STYLE="{look}" BGCOLOR="{fill}" COLOR="{pen}"><FONT COLOR="{font}">{html(status)}</FONT></TD>'
        width = text_width(status, size) + (2 * CELLPADDING + 2 + CELLSPACING) / 72 * scale
        if rows[-1] and (room is None or used + width > room):
            rows.append([])
            used = CELLSPACING / 72 * scale
        rows[-1].append(cell)
        used += width
        widest = max(widest, used)
    table = (
        f'<<TABLE BORDER="0" CELLSPACING="{CELLSPACING * scale:g}" CELLPADDING="{CELLPADDING * scale:g}">'
        + "".join(f"<TR>{''.join(row)}</TR>" for row in rows)
        + "</TABLE>>"
    )
    node_id = f"{LEGEND_PREFIX}statuses"
    pairs: Attrs = [("label", table), ("shape", "plaintext"), ("fontsize", size), ("margin", 0.0)]
    return [_Item((node_id,), (f"{quote(node_id)} {attrs_text(pairs)};",), (widest,))]


def _edges(legend: Legend, size: float, direction: str) -> list[_Item]:
    """A line from a point to its words. Top to bottom both share a rank (``minlen=0``: a line nodesep
    long); left to right the line crosses into the next rank, and the words break onto two lines."""
    from dagml.drawing.dot import attrs_text, html, quote

    scale = size / MIN_SIZE
    items = []
    for kind in legend.edges:
        edge = EDGE_STYLES[kind]
        tail, head = f"{LEGEND_PREFIX}edge:{kind}", f"{LEGEND_PREFIX}edge:{kind}:text"
        words = EDGE_WORDS[kind].split(" ", 1) if direction == "LR" else [EDGE_WORDS[kind]]
        point: Attrs = [("label", ""), ("shape", "point"), ("width", 0.05), ("height", 0.05), ("color", edge.color)]
        label = "<" + "<BR/>".join(html(w) for w in words) + ">"
        text: Attrs = [("label", label), ("shape", "plaintext"), ("fontcolor", MUTED), *_small(size)]
        line: Attrs = [("style", edge.style), ("color", edge.color), ("penwidth", edge.penwidth), ("arrowsize", 0.6)]
        line.append(("minlen", 0.0 if direction == "TB" else None))
        lines = (
            f"{quote(tail)} {attrs_text(point)};",
            f"{quote(head)} {attrs_text(text)};",
            f"{quote(tail)} -> {quote(head)} {attrs_text(line)};",
        )
        width = max(text_width(w, size) for w in words) + PAD * scale
        items.append(_Item((tail, head), lines, (0.05, width)))
    return items


def legend_dot(scene: Scene) -> tuple[list[str], list[str]]:
    """DOT for the legend of ``scene``: its cluster's lines, and the edges that place it.

    Top to bottom, the legend is rows (ranks) under the drawing, none wider
    than :func:`~dagml.drawing.measure.drawing_width`: one invisible edge from
    a step of the last layer puts the first row below every step (``weight=0``:
    it pulls no step aside; one, as each edge into the drawing may reorder it). Left to right, see :func:`_columns`.
    The DOT writer draws the legend inside the group around the whole drawing,
    which Graphviz keeps narrow, so the legend stays within the drawing's width.
    """
    from dagml.drawing.dot import quote

    assert scene.legend is not None
    below: list[str] = []
    if scene.direction == "LR":
        size, items, place = _columns(scene, scene.legend)
    else:
        size = legend_size(scene)
        room = drawing_width(scene) - 2 * BOX_ROOM * size / MIN_SIZE
        items = _kinds(scene.legend, size, "TB") + _statuses(scene.legend, size, room)
        items += _edges(scene.legend, size, "TB")
        place = _rows(items, room)
        layer = layers(scene)
        last = max(layer.values(), default=0)
        first = quote(items[0].ids[0])
        anchor = min(n for n in layer if layer[n] == last)
        below = [f"{quote(anchor)} -> {first} [style=invis, weight=0];"]
    body = [line for item in items for line in item.lines] + place
    return [*_box(size), *(f"  {line}" for line in body), "}"], below


def _box(size: float) -> list[str]:
    """The legend's cluster: a thin grey box, labelled."""
    from dagml.drawing.dot import attrs_text, quote

    look: Attrs = [
        ("label", "Legend"),
        ("labeljust", "l"),
        ("style", "rounded"),
        ("color", "#D1D5DB"),
        ("fontcolor", MUTED),
        ("fontsize", size),
        ("margin", round(4 * size / MIN_SIZE, 1)),
        ("peripheries", 1.0),
    ]
    return [f"subgraph {quote('cluster_legend')} {{", f"  graph {attrs_text(look)};"]


def _rows(items: list[_Item], room: float) -> list[str]:
    """Top to bottom: DOT lines that put the items in rows (ranks), in order, each at most ``room``
    wide (an item wider than that has a row alone), one under the other."""
    from dagml.drawing.dot import quote

    rows: list[list[_Item]] = [[]]
    used = 0.0
    for item in items:
        if rows[-1] and used + NODESEP + item.width > room:
            rows.append([])
        used = (used + NODESEP if rows[-1] else 0.0) + item.width
        rows[-1].append(item)
    lines = []
    for row in rows:
        lines.append("{ rank=same; " + " ".join(f"{quote(i)};" for item in row for i in item.ids) + " }")
        # Left to right in order; minlen=0 keeps them nodesep apart (not twice that, as dot spaces edges).
        pairs = itertools.pairwise(row)
        lines += [f"{quote(a.ids[-1])} -> {quote(b.ids[0])} [style=invis, minlen=0];" for a, b in pairs]
    lines += [f"{quote(a[0].ids[0])} -> {quote(b[0].ids[0])} [style=invis];" for a, b in itertools.pairwise(rows)]
    return lines


def _columns(scene: Scene, legend: Legend) -> tuple[float, list[_Item], list[str]]:
    """Left to right: the legend's size, its items, and DOT lines that put them in columns (ranks).

    A column is as wide as its widest node, so each sample goes into columns
    at least as wide (:func:`~dagml.drawing.measure.rank_room`), one rank
    after the other, in rows of at most :data:`COLUMNS` nodes from the first
    rank; an invisible point fills each column skipped. The rows are not
    joined to the drawing, and Graphviz draws them in its top-left corner.
    The text is smaller, down to 8 points, until the samples fit most columns.
    """
    from dagml.drawing.dot import quote

    size, columns = legend_size(scene), rank_room(scene)
    while True:
        room = [r - 2 * BOX_ROOM * size / MIN_SIZE for r in columns]  # the legend box's margins
        items = _kinds(legend, size, "LR") + _statuses(legend, size, None) + _edges(legend, size, "LR")
        known = sorted(r for r in room if r > 0) or [0.0]
        if size <= MIN_SIZE or all(max(item.widths) <= known[len(known) // 2] for item in items):
            break
        size -= 0.5
    rows: list[list[str]] = [[]]
    drawn: set[tuple[str, str]] = set()  # an edge sample's point -> words: a line already
    lines = []
    for item in items:
        ids = [quote(i) for i in item.ids]
        drawn.update(itertools.pairwise(ids))
        fits = [r for r in range(len(room)) if all(r + i < len(room) and room[r + i] >= w for i, w in enumerate(item.widths))]
        start = next((r for r in fits if r >= len(rows[-1]) and r + len(ids) <= COLUMNS), None)
        if start is None:  # on the next row (and, if it fits no column, in the widest)
            if rows[-1]:
                rows.append([])
            start = fits[0] if fits else max(range(len(room)), key=lambda r: (room[r], -r))
        while len(rows[-1]) < start:
            gap = quote(f"{LEGEND_PREFIX}gap:{len(rows) - 1}:{len(rows[-1])}")
            lines.append(f'{gap} [label="", shape=point, style=invis, width=0, height=0];')
            rows[-1].append(gap)
        rows[-1] += ids
    for row in rows:  # each node one rank right of the one before
        lines += [f"{a} -> {b} [style=invis];" for a, b in itertools.pairwise(row) if (a, b) not in drawn]
    if len(rows) > 1:  # every row starts in the first rank
        lines.append("{ rank=same; " + " ".join(f"{row[0]};" for row in rows) + " }")
    return size, items, lines


def legend_mermaid(legend: Legend, node_id: Callable[[str], str], first_link: int) -> tuple[list[str], list[str]]:
    """Mermaid lines for a legend subgraph, and the ``linkStyle`` lines of its links.

    A short grid: rows of at most :data:`MERMAID_ROW` samples (kinds, then
    statuses, then lines), each row a chain of invisible links (``~~~``) in a
    left-to-right subgraph. ``node_id`` makes a Mermaid id from a legend key;
    ``first_link`` is the index of the legend's first link among all links
    (Mermaid counts invisible links too).
    """
    lines = ['  subgraph legend["Legend"]', "    direction LR"]
    styles: list[str | None] = []  # each link of the legend, in order: its style (None: invisible)
    rows: list[list[tuple[str, str]]] = []  # the first and last id of each sample, by row

    def group(samples: list[tuple[str, str]]) -> None:
        rows.extend(samples[i : i + MERMAID_ROW] for i in range(0, len(samples), MERMAID_ROW))

    kinds = []
    for kind in legend.kinds:
        open_, close = KIND_STYLES[kind].mermaid
        key = node_id("kind:" + kind)
        lines.append(f'    {key}{open_}"{kind}"{close}:::{"neutral" if legend.statuses else kind}')
        kinds.append((key, key))
    group(kinds)
    statuses = []
    for status in legend.statuses:
        key = node_id("status:" + status)
        lines.append(f'    {key}("{status}"):::status_{status.replace(" ", "_")}')
        statuses.append((key, key))
    group(statuses)
    edges = []
    for kind in legend.edges:
        edge = EDGE_STYLES[kind]
        a, b = node_id("edge:" + kind), node_id("edge:" + kind + ":text")
        lines.append(f'    {a}[" "]:::legend_blank {edge.mermaid} {b}["{EDGE_WORDS[kind]}"]:::legend_words')
        styles.append(f"stroke:{edge.color},stroke-width:{edge.penwidth:g}px")
        edges.append((a, b))
    group(edges)
    for row in rows:
        for (_, left), (right, _) in itertools.pairwise(row):
            lines.append(f"    {left} ~~~ {right}")
            styles.append(None)
    lines.append("  end")
    return lines, [f"  linkStyle {first_link + i} {style}" for i, style in enumerate(styles) if style]
