"""What to draw, decided once: the graph as nodes, edges and branch groups.

:func:`build_scene` reads a validated :class:`~dagml.graph.model.PipelineGraph`
(and nothing else: no DSL objects), so an imported definition that becomes a
``PipelineGraph`` draws the same way. The DOT and Mermaid writers only turn a
:class:`Scene` into text. Everything is sorted, so the same graph always gives
the same scene, whatever order its steps were declared in.
"""

from __future__ import annotations

import itertools
import os
import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from dagml._gc import paused_gc
from dagml._text import visible
from dagml.drawing.errors import RenderError
from dagml.drawing.overlay import STATUSES, RunStatus, StepRun, format_duration, normalize_run
from dagml.drawing.style import INPUT_KINDS
from dagml.graph.model import AFTER, DATA, OTHERWISE, THEN, PipelineGraph
from dagml.graph.wiring import OUTPUT
from dagml.spec.conditions import MetricRef, operands
from dagml.spec.model_quality import short_key
from dagml.spec.params import Param
from dagml.spec.specs import (
    KINDS,
    ConditionSpec,
    ContainerSpec,
    FailSpec,
    FunctionSpec,
    ModelSpec,
    NodeSpec,
    RegisterSpec,
    ScriptSpec,
    TransformSpec,
    imported_step,
)

__all__ = ["Cluster", "Legend", "Scene", "SceneEdge", "SceneNode", "build_scene"]

PARAM = "param"
#: Branch sides, in drawing order.
SIDES = (THEN, OTHERWISE)
#: Characters per line of a condition's expression or a fail message.
WRAP = 36
NBSP = "\u00a0"
#: Directions: "TB" (top to bottom) or "LR" (left to right).
DIRECTIONS = ("TB", "LR")
#: Steps of one generation side by side, per direction; more are wrapped into
#: rows. Automatically, a pipeline with a generation wider than ``ROW["TB"]``
#: is drawn left to right (parallel chains read best that way).
ROW = {"TB": 8, "LR": 24}


@attrs.frozen
class SceneNode:
    """One box: a step, or (with ``params=True``) a param or dataset."""

    #: Unique id: the step name, ``param:<name>`` or ``dataset:<name>``.
    id: str
    #: A step kind (``processing`` ... ``condition``), ``param`` or ``dataset``.
    kind: str
    title: str
    #: Secondary lines (kind and instance, the condition's expression, ...).
    lines: tuple[str, ...] = ()
    #: Id of the branch cluster it is drawn in, if any.
    cluster: str | None = None
    #: Run overlay only: the status and its lines (duration, actual values).
    status: str | None = None
    run_lines: tuple[str, ...] = ()


@attrs.frozen
class SceneEdge:
    source: str
    target: str
    #: data, after, then, otherwise, param (a param or dataset read), or layout (hidden).
    kind: str
    label: str | None = None
    #: Run overlay only: "taken" (the branch that ran) or "idle" (into a step that did not run).
    state: str | None = None
    #: A then/otherwise edge points at the branch's group (this cluster id), not one step.
    cluster: str | None = None
    #: Not drawn: only keeps a branch's other first steps below their condition.
    hidden: bool = False


@attrs.frozen
class Cluster:
    """The steps listed in one branch of one condition.

    A nested condition (a condition in another's branch) is a member of its
    enclosing branch's cluster, and its own branches are clusters drawn inside
    that one (``parent``).
    """

    id: str
    condition: str
    side: str
    members: tuple[str, ...]
    #: Run overlay only: whether this branch ran (None: unknown or no run).
    taken: bool | None = None
    #: The id of the cluster this one is drawn in (its condition's own branch), or None at the top.
    parent: str | None = None

    @property
    def label(self) -> str:
        text = f"{visible(self.condition)}: {self.side}"
        return text + (" (not taken)" if self.taken is False else "")


@attrs.frozen
class Legend:
    """What the legend explains: only what the drawing uses."""

    kinds: tuple[str, ...]
    edges: tuple[str, ...]
    #: Run statuses shown; when there are any, colour means status, so kinds are drawn uncoloured.
    statuses: tuple[str, ...] = ()


@attrs.frozen
class Scene:
    name: str
    description: str | None
    caption: str | None
    nodes: tuple[SceneNode, ...]
    edges: tuple[SceneEdge, ...]
    clusters: tuple[Cluster, ...]
    legend: Legend | None
    overlay: bool = False
    direction: str = "TB"

    def node(self, node_id: str) -> SceneNode:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


def wrap(text: str, width: int = WRAP, max_lines: int = 4) -> tuple[str, ...]:
    """Break ``text`` at spaces into at most ``max_lines`` lines (the last one ends in "...")."""
    glued = text.replace(" (", NBSP + "(")  # keep "AccuracyThreshold (0.9)" on one line
    glued = visible(glued)  # an imported definition's names and paths are untrusted (dagml._text)
    lines = textwrap.wrap(glued, width=width, break_long_words=False, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1] + " ..."
    return tuple(line.replace(NBSP, " ") for line in lines)


#: A step name longer than this is drawn on several lines, so one long name (an imported
#: definition's, often) does not stretch its node across the page.
TITLE_WIDTH = 28
_TITLE_BREAKS = re.compile(r"(?<=[-_./:])|(?<=[a-z0-9])(?=[A-Z])")


def title_lines(title: str, width: int = TITLE_WIDTH) -> tuple[str, ...]:
    """``title`` in lines of at most ``width`` characters, broken after ``-``, ``_``, ``.``, ``/``,
    ``:`` or between camelCase words, and hard-split only where a piece alone is too long."""
    if len(title) <= width:
        return (title,)
    pieces = [p for p in _TITLE_BREAKS.split(title) if p]
    lines: list[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > width:  # no break inside: cut it
            if current:
                lines.append(current)
                current = ""
            lines.append(piece[:width])
            piece = piece[width:]
        if len(current) + len(piece) > width:
            lines.append(current)
            current = ""
        current += piece
    if current:
        lines.append(current)
    return tuple(lines)


def _value(value: object) -> str:
    """An option's value; a param as ``{Name}``, a metric as ``{step['key']}`` (in fail messages)."""
    if isinstance(value, Param):
        return f"{{{value.name}}}"
    return f"{{{value.step}.{short_key(value.key)}}}" if isinstance(value, MetricRef) else str(value)


def details(
    graph: PipelineGraph, spec: NodeSpec, values: Mapping[str, Any] | None = None, run: StepRun | None = None
) -> tuple[str, ...]:
    """The secondary lines under a step's name; with a run, its params' ``values`` and what it did."""
    if isinstance(spec, (FunctionSpec, TransformSpec)):
        lines = [spec.kind if isinstance(spec, FunctionSpec) else f"transform {spec.data}"]
        instance = []
        if spec.options.instance_type is not None:
            instance.append(_value(spec.options.instance_type))
        if spec.options.instance_count != 1:
            instance.append(f"× {_value(spec.options.instance_count)}")
        if instance:
            lines.append(" ".join(instance))
        if isinstance(spec, FunctionSpec) and spec.outputs:
            lines += wrap("→ " + ", ".join(o.name for o in spec.outputs), max_lines=2)
        return tuple(lines)
    if isinstance(spec, ContainerSpec):
        return (*wrap(f"container {spec.image}", max_lines=2),)
    if isinstance(spec, ScriptSpec):
        lines = [f"{spec.mode} script {os.path.basename(spec.path)}"]
        if spec.outputs:
            lines += wrap("→ " + ", ".join(o.name for o in spec.outputs), max_lines=2)
        return tuple(lines)
    if isinstance(spec, ModelSpec):
        return (f"model of {spec.model}",)
    if isinstance(spec, RegisterSpec):
        return (f"register in {_value(spec.group)}", f"approval {_value(spec.approval)}")
    if isinstance(spec, FailSpec):
        message = run.message if run is not None and run.message else "".join(_value(p) for p in spec.message)
        return wrap(f"fail: {message}" if message else "fail", max_lines=3)
    if isinstance(spec, ConditionSpec):
        return wrap(graph.describe_condition(spec.name, values=values, short=True), width=40, max_lines=8)
    assert imported_step(spec), spec  # every spec type is handled above
    return spec.details


def _edge_label(graph: PipelineGraph, source: str, target: str) -> str | None:
    """Why ``target`` reads ``source``, when the wiring rule does not already say (same name)."""
    spec = graph[target]
    words = []
    if isinstance(spec, (ModelSpec, RegisterSpec, TransformSpec)) and spec.model == source:
        words.append("model")
    if isinstance(spec, RegisterSpec) and spec.metrics == source:
        words.append("metrics")
    if isinstance(spec, TransformSpec) and not spec.data_is_dataset and spec.data == source:
        words.append(spec.data_output or "data")
    if isinstance(spec, FunctionSpec):  # named outputs read: their names
        words += [b.output for b in graph.bindings.get(target, ()) if b.source == OUTPUT and b.ref == source and b.output]
    if isinstance(spec, ConditionSpec):
        words += sorted({short_key(o.key) for o in operands(spec.expression) if isinstance(o, MetricRef) and o.step == source})
    if isinstance(spec, FailSpec):  # a message that shows a metric
        words += sorted({short_key(p.key) for p in spec.message if isinstance(p, MetricRef) and p.step == source})
    return ", ".join(words) or None


def _branch_edges(graph: PipelineGraph, clusters: list[Cluster]) -> list[SceneEdge]:
    """One then/otherwise edge per branch, from the condition to the branch's group.

    The drawn edge points at the branch's first step (earliest generation,
    then name), and the DOT writer clips it at the group's border: the group
    shows the members. Hidden edges to the branch's other first steps (those
    no other member precedes) keep them below the condition.
    """
    generation = {name: i for i, gen in enumerate(graph.generations) for name in gen}
    edges = []
    for c in clusters:
        members = set(c.members)
        entries = sorted(
            (m for m in c.members if not members.intersection(graph.graph.predecessors(m))),
            key=lambda m: (generation[m], m),
        )
        edges.append(SceneEdge(c.condition, entries[0], c.side, c.side, cluster=c.id))
        edges += [SceneEdge(c.condition, m, c.side, cluster=c.id, hidden=True) for m in entries[1:]]
    return edges


def _natural(name: str) -> tuple[object, ...]:
    """Sort key putting ``s2`` before ``s10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def _row_edges(graph: PipelineGraph, limit: int) -> list[SceneEdge]:
    """Hidden edges that wrap a generation wider than ``limit`` into rows (like ``unflatten``).

    Steps of one generation never depend on each other, so these edges add no
    cycle; they keep a 200-step pipeline from becoming one very wide row.
    """
    edges = []
    for generation in graph.generations:
        if len(generation) <= limit:
            continue
        members = sorted(generation, key=_natural)
        rows = [members[i : i + limit] for i in range(0, len(members), limit)]
        for upper, lower in itertools.pairwise(rows):
            edges += [SceneEdge(upper[i], node, "layout", hidden=True) for i, node in enumerate(lower)]
    return edges


def auto_direction(graph: PipelineGraph) -> str:
    """TB unless a generation is wider than ``ROW["TB"]`` steps, then LR."""
    widest = max((len(g) for g in graph.generations), default=0)
    return "TB" if widest <= ROW["TB"] else "LR"


def _step_edges(graph: PipelineGraph) -> list[SceneEdge]:
    edges = []
    for source, target, reasons in graph.graph.edges(data="reasons"):
        kinds = {r.kind for r in reasons}
        if DATA in kinds:
            label = _edge_label(graph, source, target)
            edges.append(SceneEdge(source, target, DATA, None if label is None else visible(label)))
        elif AFTER in kinds:
            edges.append(SceneEdge(source, target, AFTER))
    return edges


def _inputs_read(graph: PipelineGraph, spec: NodeSpec) -> Iterable[str]:
    """Ids (``param:X`` / ``dataset:X``) of the params and datasets a step reads."""
    for b in graph.bindings.get(spec.name, ()):
        if b.source in INPUT_KINDS and b.ref is not None:
            yield f"{b.source}:{b.ref}"
    values: list[object] = []
    if isinstance(spec, (FunctionSpec, ContainerSpec, ScriptSpec, TransformSpec)):
        values += spec.options.params()
    if isinstance(spec, (ContainerSpec, ScriptSpec)):
        values += [v for _, v in spec.hyperparameters]
    if isinstance(spec, ScriptSpec):
        values += [*spec.arguments, *(o.s3 for o in spec.outputs if o.s3 is not None)]
    if isinstance(spec, FunctionSpec):
        values += [o.s3 for o in spec.outputs if o.s3 is not None]
    if isinstance(spec, TransformSpec) and spec.data_is_dataset:
        yield f"dataset:{spec.data}"
    if isinstance(spec, RegisterSpec):
        values += [spec.group, spec.approval]
    if isinstance(spec, FailSpec):
        values += spec.message
    if isinstance(spec, ConditionSpec):
        values += operands(spec.expression)
    if imported_step(spec):
        yield from (f"param:{name}" for name in spec.params)
    for value in values:
        if isinstance(value, Param):
            yield f"param:{value.name}"


def _input_nodes(graph: PipelineGraph) -> tuple[list[SceneNode], list[SceneEdge]]:
    nodes = [
        SceneNode(f"param:{p.name}", "param", visible(p.name), (f"{p.type} = {visible(repr(p.default))}",))
        for p in graph.params
    ] + [
        SceneNode(f"dataset:{d.name}", "dataset", visible(d.name), ("dataset",)) for d in graph.datasets
    ]
    edges = {
        SceneEdge(source, spec.name, PARAM) for spec in graph.nodes.values() for source in _inputs_read(graph, spec)
    }
    return nodes, list(edges)


def _gates(graph: PipelineGraph) -> dict[str, set[tuple[str, str]]]:
    """Step -> every (condition, side) it runs only under, listed or inherited from upstream."""
    gates: dict[str, set[tuple[str, str]]] = {}
    for name in graph.order:
        gate: set[tuple[str, str]] = set()
        for pred in graph.graph.predecessors(name):
            gate |= gates[pred]
        if name in graph.branch_of:
            gate.add(graph.branch_of[name])
        gates[name] = gate
    return gates


def _gate_note(gate: set[tuple[str, str]], own: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The branches a step runs only under that its group does not show (``own``: the groups it is in)."""
    extra = sorted(gate - set(own))
    if not extra:
        return ()
    shown = ", ".join(f"{c}: {side}" for c, side in extra[:2])
    more = f" +{len(extra) - 2} more" if len(extra) > 2 else ""
    return (f"only if {shown}{more}",)


def _run_lines(spec: NodeSpec, run: StepRun) -> tuple[str, ...]:
    lines = []
    if run.values is not None or run.outcome is not None:
        outcome = "" if run.outcome is None else (" → then" if run.outcome else " → otherwise")
        lines.append(f"{run.values or ''}{outcome}".strip())
    if run.duration is not None:
        lines.append(format_duration(run.duration))
    return tuple(lines)


def _taken(run: StepRun, side: str) -> bool | None:
    if run.status in ("skipped", "not run", "failed"):
        return False  # the condition did not decide: neither branch ran
    if run.outcome is None:
        return None
    return run.outcome == (side == THEN)


@paused_gc()  # 100,000 steps: see dagml/_gc.py and docs/performance.md
def build_scene(
    graph: PipelineGraph,
    *,
    params: bool = False,
    legend: bool = True,
    run: Mapping[str, RunStatus] | None = None,
    caption: str | None = None,
    direction: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Scene:
    """Decide what to draw for ``graph``; see :func:`dagml.drawing.to_dot` for the options.

    ``values``: the run's parameter values, shown in conditions instead of the defaults.
    """
    if direction is None:
        direction = auto_direction(graph)
    elif direction not in DIRECTIONS:
        raise RenderError(f"direction={direction!r}: use 'TB' (top to bottom), 'LR' (left to right) or None (automatic).")
    runs = normalize_run(graph, run) if run is not None else None
    clusters = []
    cluster_of: dict[str, str] = {}
    branches: dict[tuple[str, str], list[str]] = {}
    for member, place in graph.branch_of.items():
        branches.setdefault(place, []).append(member)
    for cond in sorted(graph.conditions, key=lambda c: c.name):
        for side in SIDES:
            members = tuple(sorted(branches.get((cond.name, side), ())))
            if not members:
                continue
            taken = _taken(runs[cond.name], side) if runs is not None else None
            outer = graph.branch_of.get(cond.name)  # a nested condition: drawn inside its own branch
            parent = f"{outer[1]}:{outer[0]}" if outer is not None else None
            cluster = Cluster(f"{side}:{cond.name}", cond.name, side, members, taken, parent)
            clusters.append(cluster)
            cluster_of.update((m, cluster.id) for m in members)
    gates = _gates(graph)
    nodes = []
    for name, spec in graph.nodes.items():
        step_run = runs[name] if runs is not None else None
        lines = tuple(map(visible, details(graph, spec, values, step_run) + _gate_note(gates[name], graph.enclosing(name))))
        node = SceneNode(name, spec.kind, visible(name), lines, cluster_of.get(name))
        if runs is not None:
            node = attrs.evolve(node, status=runs[name].status, run_lines=_run_lines(spec, runs[name]))
        nodes.append(node)
    edges = _step_edges(graph) + _branch_edges(graph, clusters) + _row_edges(graph, ROW[direction])
    if params:
        input_nodes, input_edges = _input_nodes(graph)
        nodes += input_nodes
        edges += input_edges
    if runs is not None:
        edges = [_edge_state(e, runs, clusters) for e in edges]
    nodes.sort(key=lambda n: n.id)
    edges.sort(key=lambda e: (e.source, e.target, e.kind, e.hidden))
    the_legend = None
    if legend:
        present = {n.kind for n in nodes}
        edge_kinds = {e.kind for e in edges if not e.hidden}
        the_legend = Legend(
            kinds=tuple(k for k in (*KINDS, *INPUT_KINDS) if k in present),
            edges=tuple(k for k in (DATA, AFTER, THEN, OTHERWISE, PARAM) if k in edge_kinds),
            statuses=tuple(s for s in STATUSES if s in {n.status for n in nodes}),
        )
    return Scene(
        name=visible(graph.name),
        description=None if graph.description is None else visible(graph.description),
        caption=None if caption is None else visible(caption),
        nodes=tuple(nodes),
        edges=tuple(edges),
        clusters=tuple(clusters),
        legend=the_legend,
        overlay=runs is not None,
        direction=direction,
    )


def _edge_state(edge: SceneEdge, runs: Mapping[str, StepRun], clusters: list[Cluster]) -> SceneEdge:
    if edge.hidden:
        return edge
    if edge.cluster is not None:
        cluster = next(c for c in clusters if c.id == edge.cluster)
        if cluster.taken is True:
            return attrs.evolve(edge, state="taken")
        if cluster.taken is False:
            return attrs.evolve(edge, state="idle")
        return edge
    target = runs.get(edge.target)
    if target is not None and target.status in ("skipped", "not run"):
        return attrs.evolve(edge, state="idle")
    return edge
