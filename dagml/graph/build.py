"""Build the pipeline graph from its declarations and validate it, all at once.

:func:`build_graph` turns a :class:`~dagml.Pipeline`'s specs into edges (via
the wiring rule), hands them to networkx, and runs every check in
:mod:`dagml.graph.checks`. It collects every problem before raising, so a user
fixes a pipeline in one pass, not one error at a time.
"""

from __future__ import annotations

import heapq
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import networkx as nx

from dagml._gc import paused_gc
from dagml.errors import DagmlWarning, Problem, Severity, did_you_mean
from dagml.graph import checks
from dagml.graph.errors import PipelineValidationError
from dagml.graph.lowered import lower_conditions
from dagml.graph.model import AFTER, DATA, OTHERWISE, THEN, Edge, EdgeKind, PipelineGraph
from dagml.graph.protocols import Declarations
from dagml.graph.wiring import OUTPUT, STEP, UNBOUND, Binding, wire, wire_container
from dagml.spec.conditions import MetricRef, operands
from dagml.spec.introspect import literal_metric_keys
from dagml.spec.model_quality import EXAMPLE, problems_of_paths
from dagml.spec.reports import SEPARATOR, paths_below
from dagml.spec.specs import (
    ConditionSpec,
    ContainerSpec,
    FailSpec,
    FunctionSpec,
    ModelSpec,
    NodeSpec,
    RegisterSpec,
    ScriptSpec,
    TransformSpec,
    imported_condition,
    imported_step,
)

if TYPE_CHECKING:
    from dagml.spec.imported import ImportedCondition, ImportedSpec

__all__ = ["GraphBuilder", "build_graph"]


#: Step kinds whose output another step can read.
DATA_KINDS = ("processing", "training", "container", "script", "transform")
#: Step kinds whose output is a model (a model step serves it; a registration registers it); a
#: script only when it trains (``ScriptSpec.trains``).
MODEL_KINDS = ("training", "container", "script")


class GraphBuilder:
    """The graph being built: the specs by name, the edges found, every problem (:class:`dagml.graph.protocols.Builder`)."""

    def __init__(self, pipe: Declarations) -> None:
        self.pipe = pipe
        #: An imported definition: rules only the published schema states are warnings for it.
        self.imported = pipe.imported
        self.problems: list[Problem] = []
        self.specs: dict[str, NodeSpec] = {}
        self.index: dict[str, int] = {}
        for i, spec in enumerate(pipe.nodes):
            if spec.name not in self.specs:
                self.specs[spec.name] = spec
                self.index[spec.name] = i
        self.edges: list[Edge] = []
        self.bindings: dict[str, tuple[Binding, ...]] = {}
        self._metric_keys: dict[str, tuple[str, ...] | None] = {}

    # ------------------------------------------------------------ helpers
    def problem(
        self, kind: str, steps: Iterable[str], message: str, fix: str = "", severity: Severity = "error"
    ) -> None:
        self.problems.append(Problem(kind, tuple(steps), message, fix, severity))

    def ref(self, owner: str, target: str, what: str) -> NodeSpec | None:
        """Resolve a step reference, reporting it when nothing has that name."""
        spec = self.specs.get(target)
        if spec is None:
            self.problem(
                "unknown-step",
                (owner, target),
                f"{what} names step {target!r}, which does not exist{did_you_mean(target, self.specs)}.",
                "Use the name of a declared step (or pass the step object itself).",
            )
        return spec

    def returns_metrics(self, spec: FunctionSpec) -> bool:
        if spec.returns == "metrics":
            return True
        if spec.returns is None:
            return self.metric_keys(spec) is not None
        return False

    def metric_keys(self, spec: FunctionSpec) -> tuple[str, ...] | None:
        if spec.name not in self._metric_keys:
            self._metric_keys[spec.name] = literal_metric_keys(spec.fn)
        return self._metric_keys[spec.name]

    def add(self, source: str, target: str, kind: EdgeKind, via: str) -> None:
        self.edges.append(Edge(source, target, kind, via))

    # ------------------------------------------------------------ edges
    def collect_edges(self) -> None:
        specs, append = self.specs, self.edges.append
        for spec in self.specs.values():
            imported = imported_step(spec) or imported_condition(spec)
            # One edge per DependsOn entry, and a definition may hold millions of them: one shared
            # ``via`` per step and no call per entry but the Edge itself (benchmarks/bench_import.py).
            via = f"{spec.origin}.DependsOn" if imported else "after="
            for name in spec.after:
                if name in specs:
                    append(Edge(name, spec.name, AFTER, via))
                else:
                    self.ref(spec.name, name, "after=")
            if imported_step(spec) or imported_condition(spec):
                self.imported_edges(spec)
            elif isinstance(spec, FunctionSpec):
                self.function_edges(spec)
            elif isinstance(spec, (ContainerSpec, ScriptSpec)):
                self.container_edges(spec)
            elif isinstance(spec, ModelSpec):
                self.model_source(spec.name, spec.model, "model=", MODEL_KINDS)
            elif isinstance(spec, RegisterSpec):
                self.model_source(spec.name, spec.model, "model=", MODEL_KINDS)
                if spec.metrics is not None:
                    self.metrics_source(spec.name, spec.metrics, "metrics=")
            elif isinstance(spec, TransformSpec):
                self.model_source(spec.name, spec.model, "model=", ("model",))
                if not spec.data_is_dataset:
                    source = self.ref(spec.name, spec.data, "data=")
                    if source is not None:
                        self.data_source(spec.name, source, "data=", spec.data_output)
            elif isinstance(spec, ConditionSpec):
                self.condition_edges(spec)
            elif isinstance(spec, FailSpec):
                self.message_edges(spec)

    def function_edges(self, spec: FunctionSpec) -> None:
        bindings = wire(spec, self.specs)
        self.bindings[spec.name] = bindings
        for b in bindings:
            if b.source in (STEP, OUTPUT):
                assert b.ref is not None
                source = self.ref(spec.name, b.ref, f"parameter {b.parameter!r}")
                if source is not None:
                    self.data_source(spec.name, source, f"parameter {b.parameter!r}", b.output)
            elif b.source == UNBOUND:
                self.unbound(spec, b.parameter)

    def container_edges(self, spec: ContainerSpec | ScriptSpec) -> None:
        bindings = wire_container(spec)
        self.bindings[spec.name] = bindings
        for b in bindings:
            if b.source in (STEP, OUTPUT):
                assert b.ref is not None
                source = self.ref(spec.name, b.ref, f"input {b.parameter!r}")
                if source is not None:
                    self.data_source(spec.name, source, f"input {b.parameter!r}", b.output)

    def unbound(self, spec: FunctionSpec, parameter: str) -> None:
        hint = did_you_mean(parameter, self.specs)
        squashed = parameter.replace("_", "").lower()
        like_param = [p.name for p in self.pipe.params if p.name.replace("_", "").replace("-", "").lower() == squashed]
        if hint:
            fix = f"Rename the parameter to the step it reads{hint.replace(' (', ' ').rstrip(')')}"
        elif like_param:
            fix = f"Bind the pipeline param as its default: {parameter}=<the {like_param[0]!r} param>."
        else:
            fix = (
                "Name the parameter after the step whose output it needs, give it a default, "
                "or bind a pipeline param or dataset as its default."
            )
        self.problem(
            "unbound-input",
            (spec.name, parameter),
            f"parameter {parameter!r} has no default and names no step{hint}.",
            fix,
        )

    def data_source(self, owner: str, source: NodeSpec, what: str, output: str | None) -> None:
        """``owner`` reads ``source``'s output (``output``: one of its named outputs): a data edge."""
        if source.kind not in DATA_KINDS:
            self.not_data(owner, source, what)
            return
        named = source.outputs if isinstance(source, (FunctionSpec, ScriptSpec)) else ()
        if output is None and isinstance(source, ScriptSpec) and not source.trains and not named:
            self.problem(
                "not-data",
                (owner, source.name),
                f"{what} reads processing script {source.name!r}, which declares no outputs to read.",
                f"Declare its outputs, pipe.script({source.name!r}, ..., outputs=['name']), and read one: "
                f"{source.name}.outputs['name'].",
            )
            return
        if output is None and named:
            first = named[0].name
            self.problem(
                "not-data",
                (owner, source.name),
                f"{what} reads step {source.name!r} as a whole, but it has named outputs "
                f"({', '.join(o.name for o in named)}) and no single return value.",
                f"Bind the output it needs as the parameter's default: {source.name}.outputs[{first!r}] "
                f"(or data={source.name}.outputs[{first!r}] for a batch transform).",
            )
            return
        if output is not None and output not in {o.name for o in named}:  # a step redeclared since the binding
            self.problem(
                "not-data",
                (owner, source.name),
                f"{what} reads output {output!r} of step {source.name!r}, which declares no such output"
                f"{did_you_mean(output, [o.name for o in named])}.",
                f"Declare it, @pipe.step(outputs=[..., {output!r}]), or read one {source.name!r} declares.",
            )
            return
        self.add(source.name, owner, DATA, what)

    def not_data(self, owner: str, source: NodeSpec, what: str) -> None:
        self.problem(
            "not-data",
            (owner, source.name),
            f"{what} reads step {source.name!r}, a {source.kind} step, which has no output to read.",
            f"Read a processing, training or transform step instead; for ordering only use after=[{source.name!r}].",
        )

    def model_source(self, owner: str, target: str, what: str, kinds: tuple[str, ...]) -> None:
        source = self.ref(owner, target, what)
        if source is None:
            return
        if source.kind not in kinds or (isinstance(source, ScriptSpec) and not source.trains):
            self.problem(
                "wrong-kind",
                (owner, source.name),
                f"{what} names {source.kind} step {source.name!r}; it must be a {' or '.join(kinds)} step.",
                "Pass the training step (declared with @pipe.step(kind='training')) whose model is meant"
                if "training" in kinds
                else "Pass a model step (pipe.model(...)) or the training step object itself",
            )
            return
        self.add(source.name, owner, DATA, what)

    def metrics_source(self, owner: str, target: str, what: str, key: str | None = None) -> bool:
        source = self.ref(owner, target, what)
        if source is None:
            return False
        if not isinstance(source, FunctionSpec) or not self.returns_metrics(source):
            detail = (
                "a training step returns its model"
                if source.kind == "training"
                else f"a {source.kind} step has no metrics report"
                if not isinstance(source, FunctionSpec)
                else "it is not declared to return a metrics report"
            )
            self.problem(
                "not-metrics",
                (owner, source.name),
                f"{what} reads metrics of step {source.name!r}, but {detail}.",
                f"Return a dict of numbers from {source.name!r} and declare it with "
                "@pipe.step(metrics=True) or a '-> dict[str, float]' annotation."
                if isinstance(source, FunctionSpec) and source.kind != "training"
                else "Read metrics from a processing step that returns a dict of numbers.",
            )
            return False
        # Declared or not, a literal return tells the paths: a typo fails here, not after training.
        keys = self.metric_keys(source) if source.returns in (None, "metrics") else None
        if key is not None and keys is not None and not self.readable(key, keys):
            inside = paths_below(keys, key)
            self.problem(
                "unknown-metric",
                (owner, source.name),
                f"{what} reads {key!r} of step {source.name!r}, an object in its report, not a number "
                f"(did you mean {inside[0]!r}?)."
                if inside
                else f"{what} reads metric {key!r} of step {source.name!r}, which returns only "
                f"{', '.join(map(repr, keys))}{did_you_mean(key, keys)}.",
                f"Read a number below it, e.g. {source.name}[{inside[0]!r}]."
                if inside
                else f"Use one of the keys {source.name!r} returns, or add {key!r} to its report.",
            )
        if keys is not None and isinstance(self.specs.get(owner), RegisterSpec):
            self.model_quality(owner, source.name, keys)
        self.add(source.name, owner, DATA, what)
        return True

    @staticmethod
    def readable(key: str, paths: tuple[str, ...]) -> bool:
        """Whether the path ``key`` may read a number of a report whose literal has ``paths``: one of
        them, or one below a path whose value is no literal dict (only running it tells)."""
        return key in paths or any(key.startswith(path + SEPARATOR) for path in paths)

    def model_quality(self, owner: str, source: str, paths: tuple[str, ...]) -> None:
        """A registered report of known paths that Studio cannot show as model quality: a warning
        (SageMaker accepts any JSON; only Studio's view needs the shape, dagml/spec/model_quality.py)."""
        found = problems_of_paths(paths)
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            self.problem(
                "model-quality",
                (owner, source),
                f"registers the report of {source!r} as the model's quality metrics, but it is not in SageMaker's "
                f"model-quality format, the only one Studio shows: {found[0]}{more}.",
                f"Return that format, e.g. {EXAMPLE} (dagml.model_quality('regression', mse=mse) builds it); a "
                f"condition then reads {source}['regression_metrics']['mse']['value']. SageMaker itself accepts "
                "any JSON, so this only changes what Studio shows.",
                severity="warning",
            )

    def condition_edges(self, spec: ConditionSpec) -> None:
        seen: set[tuple[str, str]] = set()
        for operand in operands(spec.expression):
            if isinstance(operand, MetricRef) and (operand.step, operand.key) not in seen:
                seen.add((operand.step, operand.key))
                self.metrics_source(spec.name, operand.step, f"the condition ({operand})", operand.key)
        self.branch_edges(spec)

    def message_edges(self, spec: FailSpec) -> None:
        """A Fail message that shows a metric reads that step's report (a Std:JsonGet when compiled)."""
        seen: set[tuple[str, str]] = set()
        for part in spec.message:
            if isinstance(part, MetricRef) and (part.step, part.key) not in seen:
                seen.add((part.step, part.key))
                self.metrics_source(spec.name, part.step, f"the message ({part})", part.key)

    def branch_edges(self, spec: ConditionSpec) -> None:
        branches: tuple[tuple[EdgeKind, tuple[str, ...]], ...] = ((THEN, spec.then), (OTHERWISE, spec.otherwise))
        for kind, members in branches:
            for member in members:
                if self.ref(spec.name, member, f"{kind}=") is not None:
                    self.add(spec.name, member, kind, f"{kind}=")

    def imported_edges(self, spec: ImportedSpec | ImportedCondition) -> None:
        """A step of an imported definition reads the steps its ``Get`` / ``Std:JsonGet`` name.

        The JSON path of each reference is the edge's ``via``. Rules that need a
        function (wiring, metric keys) do not apply to imported steps.
        """
        for source, via in spec.reads:
            if self.ref(spec.name, source, via) is not None:
                self.add(source, spec.name, DATA, via)
        if isinstance(spec, ConditionSpec):
            self.branch_edges(spec)

    # ------------------------------------------------------------ assemble
    def graph(self) -> nx.DiGraph:
        """The networkx graph: one edge per (source, target), its ``reasons`` in declaration order.

        Each pair's attribute dict is built once and stored in the graph's adjacency as it is (what
        ``add_edge`` would store), in first-appearance order: ``add_edge`` per pair copied each dict
        and cleared caches, which dominated importing a definition of millions of DependsOn entries.
        """
        g = nx.DiGraph()
        g.add_nodes_from(self.specs)
        succ, pred = g._succ, g._pred  # the adjacency add_edge writes: every source and target is a node
        for edge in self.edges:
            out = succ[edge.source]
            data = out.get(edge.target)
            if data is None:
                out[edge.target] = pred[edge.target][edge.source] = {"reasons": (edge,)}
            elif edge not in data["reasons"]:
                data["reasons"] += (edge,)
        return g


def order_and_generations(
    g: nx.DiGraph, index: Mapping[str, int]
) -> tuple[list[str], tuple[tuple[str, ...], ...]]:
    """The topological order (ties by ``index``) and the generations, in one pass over the edges.

    The same as ``nx.lexicographical_topological_sort(g, key=index)`` and ``nx.topological_generations``
    (a step's generation is one more than its latest predecessor's; each sorted by ``index``), at
    a fraction of their per-edge cost, which counts for a definition of millions of DependsOn entries.
    """
    succ, pred = g._succ, g._pred
    names = {i: name for name, i in index.items()}
    waiting = {name: len(pred[name]) for name in g}
    ready = [index[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    level = dict.fromkeys(g, 0)
    order = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        next_level = level[name] + 1
        for target in succ[name]:
            if level[target] < next_level:
                level[target] = next_level
            waiting[target] -= 1
            if not waiting[target]:
                heapq.heappush(ready, index[target])
    generations: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name in sorted(g, key=index.__getitem__):
        generations[level[name]].append(name)
    return order, tuple(map(tuple, generations))


@paused_gc()  # millions of acyclic objects at 100,000 steps: see dagml/_gc.py
def build_graph(pipe: Declarations) -> PipelineGraph:
    """Validate ``pipe`` and return its immutable graph, or raise every problem at once."""
    b = GraphBuilder(pipe)
    checks.duplicates(b)
    checks.names(b)
    b.collect_edges()
    g = b.graph()
    checks.cycles(b, g)
    checks.branches(b, g)
    checks.condition_types(b)
    checks.finite_numbers(b)
    checks.step_defaults(b)
    checks.register_options(b)
    checks.option_types(b)
    checks.container_inputs(b)
    checks.unused(b)
    b.problems += pipe.reading_problems  # an imported definition's dangling property files
    errors = [p for p in b.problems if p.severity == "error"]
    if errors:
        raise PipelineValidationError(pipe.name, errors)
    found = sorted((p for p in b.problems if p.severity != "error"), key=Problem.sort_key)
    for w in found:
        warnings.warn(f"pipeline {pipe.name!r}: {w}", DagmlWarning, stacklevel=3)

    order, generations = order_and_generations(g, b.index)
    branch_of = {
        member: (c.name, kind)
        for c in b.specs.values()
        if isinstance(c, ConditionSpec)
        for kind, members in ((THEN, c.then), (OTHERWISE, c.otherwise))
        for member in members
    }
    return PipelineGraph(
        name=pipe.name,
        description=pipe.description,
        params=pipe.params,
        datasets=pipe.datasets,
        nodes={name: b.specs[name] for name in order},
        bindings={name: b.bindings[name] for name in order if name in b.bindings},
        graph=nx.freeze(g),
        generations=generations,
        branch_of=branch_of,
        warnings=tuple(found),
        provenance=pipe.provenance,
        declaration_order=tuple(b.specs),
        definition_top=pipe.definition_top,
        max_parallel_steps=getattr(pipe, "max_parallel_steps", None),  # a declared pipeline's (dagml.spec.jobs)
        **_facts(b.specs),
    )


def _facts(specs: Mapping[str, NodeSpec]) -> dict[str, Any]:
    """What the compiler, the runtime and the runner all need to know about the steps, found once.

    A step has a metrics report when it declares one (``metrics=True`` or a ``Metrics``
    annotation) or when a condition or a registration reads it; validation has made sure a
    read step returns one. A dict-literal return alone does not make a report.
    """
    read = {o.step for c in specs.values() if isinstance(c, ConditionSpec) for o in operands(c.expression) if isinstance(o, MetricRef)}
    read |= {p.step for f in specs.values() if isinstance(f, FailSpec) for p in f.message if isinstance(p, MetricRef)}
    read |= {s.metrics for s in specs.values() if isinstance(s, RegisterSpec) and s.metrics is not None}
    declared = {s.name for s in specs.values() if isinstance(s, FunctionSpec) and s.returns == "metrics"}
    scored = {
        s.data
        for s in specs.values()
        if isinstance(s, TransformSpec)
        and not s.data_is_dataset
        and s.data_output is None  # a named output is already files the transform reads as they are
        and s.data in specs
        and specs[s.data].kind == "processing"
    }
    lowered = {
        c.name: tuple(lower_conditions(c.expression))
        for c in specs.values()
        if isinstance(c, ConditionSpec) and not imported_condition(c)
    }
    return {
        "reports": frozenset(read | declared),
        "reports_read": frozenset(read),
        "scored": frozenset(scored),
        "lowered": lowered,
    }

