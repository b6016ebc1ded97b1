"""Rough sizes of a scene, in inches, before Graphviz lays it out.

The legend goes under the drawing and must not make it wider, but the DOT
text is written without Graphviz (deterministic, no binary needed). So the
drawing's width is estimated here from its text, on the low side: a legend
row no wider than :func:`drawing_width` fits under the real drawing. The
estimates read only the scene, so they are as deterministic as the DOT text.
"""

from __future__ import annotations

from collections import Counter

from dagml.drawing.scene import Scene, SceneNode, title_lines
from dagml.drawing.style import LINE_SIZE, TITLE_SIZE

__all__ = ["NODESEP", "drawing_width", "layers", "rank_room", "text_width"]

#: Helvetica's advance widths (thousandths of an em, from its font metrics) of " " to "~", in order.
#: Graphviz draws "Helvetica,Arial,sans-serif" in Helvetica or Arial, whose widths are the same.
_WIDTHS = (
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 "
    "556 556 278 278 584 584 584 556 1015 667 667 722 722 667 611 778 722 278 500 667 556 833 722 778 "
    "667 778 722 667 611 722 667 944 667 667 611 278 278 278 469 556 333 556 556 500 556 556 278 556 "
    "556 222 222 500 222 833 556 556 556 556 333 500 278 556 500 722 500 500 500 334 260 334 584"
)
_WIDTH = {chr(32 + i): int(w) for i, w in enumerate(_WIDTHS.split())}
#: Any other character counts as this (an accented letter is as wide as its letter, an "i" narrower).
_OTHER = 500
#: Graphviz's space between the nodes of a rank (the DOT writer's ``nodesep``) and a cluster's margin (inches).
NODESEP, CLUSTER_MARGIN = 0.3, 8 / 72
#: A node's label margins, both sides (inches: the DOT writer's node ``margin``).
NODE_MARGIN = 0.28
#: How much wider than its label a shape is: a diamond about twice, an octagon about a third more.
SHAPE_FACTOR = {"condition": 2.0, "fail": 1.3}
#: Graphviz chooses the ranks; :func:`_ranks` only guesses them, so only this share of a guessed
#: rank's width is counted on. Measured on ~1,500 random pipelines: the guess is about 0.9 of the
#: drawing's width, at most 1.42 of it (dense random DAGs), so 0.65 of it stays under the drawing.
RANK_SHARE = 0.65


def text_width(text: str, size: float) -> float:
    """The width in inches of ``text`` in Helvetica at ``size`` points (bold is a little wider)."""
    return sum(_WIDTH.get(ch, _OTHER) for ch in text) * size / 72000


def _node_width(node: SceneNode) -> float:
    """At least how wide a node is: its widest label line, its margins, a diamond's corners."""
    lines = [text_width(t, TITLE_SIZE) for t in title_lines(node.title)]
    lines += [text_width(t, LINE_SIZE) for t in (*node.lines, *node.run_lines)]
    return (max(lines, default=0.0) + NODE_MARGIN) * SHAPE_FACTOR.get(node.kind, 1.0)


def layers(scene: Scene) -> dict[str, int]:
    """Node id -> its layer: the longest path to it over every edge (hidden ones too).

    Graphviz puts a node at least this many ranks below (TB) or right of (LR)
    the first, so ``max(layers) + 1`` ranks is the least a drawing has.
    """
    preds: dict[str, int] = {n.id: 0 for n in scene.nodes}
    succs: dict[str, list[str]] = {n.id: [] for n in scene.nodes}
    for e in scene.edges:
        preds[e.target] += 1
        succs[e.source].append(e.target)
    ready = [node for node, count in preds.items() if count == 0]
    layer = dict.fromkeys(ready, 0)
    while ready:
        node = ready.pop()
        for succ in succs[node]:
            layer[succ] = max(layer.get(succ, 0), layer[node] + 1)
            preds[succ] -= 1
            if preds[succ] == 0:
                ready.append(succ)
    return layer


def _ranks(scene: Scene) -> dict[str, int]:
    """Node id -> about the rank Graphviz gives it.

    Graphviz ranks so that edges are short: a node with more edges out than in
    sits just above its nearest successor; one with as many in as out goes to
    the least crowded rank it can take. Starting from :func:`layers`, this
    does the same.
    """
    rank = layers(scene)
    preds: dict[str, list[str]] = {n: [] for n in rank}
    succs: dict[str, list[str]] = {n: [] for n in rank}
    for e in scene.edges:
        succs[e.source].append(e.target)
        preds[e.target].append(e.source)
    for node in sorted(rank, key=lambda n: (-rank[n], n)):  # successors (deeper) first
        if len(succs[node]) > len(preds[node]):
            rank[node] = min(rank[s] for s in succs[node]) - 1
    crowd = Counter(rank.values())
    last = max(rank.values(), default=0)
    for node in sorted(rank, key=lambda n: (rank[n], n)):
        if len(succs[node]) == len(preds[node]):
            low = max((rank[p] + 1 for p in preds[node]), default=0)
            high = min((rank[s] - 1 for s in succs[node]), default=last)
            best = min(range(low, high + 1), key=lambda r: (crowd[r], r), default=rank[node])
            if crowd[best] < crowd[rank[node]] - 1:
                crowd[rank[node]] -= 1
                crowd[best] += 1
                rank[node] = best
    return rank


def _widest_rank(scene: Scene, widths: dict[str, float]) -> float:
    """The width of the widest rank top to bottom: its nodes side by side, ``NODESEP`` apart, a
    point for each longer edge passing through, and the margins of the branch boxes around them.

    Rank ``r`` is row ``2r``; the odd rows between are where Graphviz puts edge labels.
    """
    rank = _ranks(scene)
    last = 2 * max(rank.values(), default=0)
    width, count = [0.0] * (last + 1), [0] * (last + 2)
    for node, r in rank.items():
        width[2 * r] += widths[node]
        count[2 * r] += 1
    passing = [0] * (last + 2)  # +1 where edges start passing, -1 where they stop: summed below
    for e in scene.edges:
        if not e.hidden and rank[e.target] > rank[e.source]:
            passing[2 * rank[e.source] + 1] += 1
            passing[2 * rank[e.target]] -= 1
    for r, _ in {(2 * rank[m], c.id) for c in scene.clusters for m in c.members}:  # a branch's box, once a rank
        width[r] += 2 * CLUSTER_MARGIN
    widest, through = 0.0, 0
    for r in range(last + 1):
        through += passing[r]
        things = count[r] + through
        widest = max(widest, width[r] + NODESEP * (things - 1))
    return widest


def drawing_width(scene: Scene) -> float:
    """About the least width (inches) of the drawing of ``scene``, legend left out.

    The widest of its title, its widest node and, top to bottom,
    :data:`RANK_SHARE` of its widest rank.
    """
    widths = {n.id: _node_width(n) for n in scene.nodes}
    title = [text_width(scene.name, 18)] + [
        text_width(t, 12) for t in (scene.description, scene.caption) if t
    ]
    candidates = [*title, max(widths.values(), default=0.0)]
    if scene.direction == "TB":
        candidates.append(RANK_SHARE * _widest_rank(scene, widths))
    return max(candidates)


def rank_room(scene: Scene) -> list[float]:
    """Left to right: for each rank (column), at least how wide it is (inches), 0.0 when unknown.

    A node on a longest path (whose earliest and latest layers agree) is in
    its layer's rank whatever Graphviz does, so the column is at least as wide
    as the widest such node. A legend sample no wider fits in the column.
    """
    early = layers(scene)
    depth = max(early.values(), default=0)
    succs: dict[str, list[str]] = {n: [] for n in early}
    for e in scene.edges:
        succs[e.source].append(e.target)
    late: dict[str, int] = {}
    for node in sorted(early, key=lambda n: (-early[n], n)):  # successors (deeper) first
        late[node] = min((late[s] - 1 for s in succs[node]), default=depth)
    room = [0.0] * (depth + 1)
    for n in scene.nodes:
        if early[n.id] == late[n.id]:
            room[early[n.id]] = max(room[early[n.id]], _node_width(n))
    return room
