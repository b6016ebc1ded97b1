"""The validated pipeline graph: the one representation every consumer reads.

The renderer, the local runner and the SageMaker compiler read a
:class:`PipelineGraph` and nothing else, so "runs locally", "draws" and
"compiles" always mean the same graph. It is immutable: the networkx graph
inside is frozen and the mappings are read-only.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final, Literal

import attrs
import networkx as nx

from dagml.errors import Problem
from dagml.graph.wiring import Binding
from dagml.spec.conditions import MetricRef, describe, operands
from dagml.spec.params import Dataset, Param
from dagml.spec.provenance import Provenance
from dagml.spec.specs import ConditionSpec, FunctionSpec, NodeSpec

__all__ = ["AFTER", "DATA", "OTHERWISE", "THEN", "Edge", "EdgeKind", "PipelineGraph", "Provenance"]

#: Edge kinds. DATA: the target reads the source's output (or metrics);
#: AFTER: ordering only (after=, SageMaker's DependsOn); THEN / OTHERWISE: the
#: target is in that branch of the source condition.
EdgeKind = Literal["data", "after", "then", "otherwise"]
DATA: Final = "data"
AFTER: Final = "after"
THEN: Final = "then"
OTHERWISE: Final = "otherwise"


@attrs.frozen
class Edge:
    """Why ``target`` comes after ``source``: ``kind`` and what declared it (``via``)."""

    source: str
    target: str
    kind: EdgeKind
    via: str

    def reason(self) -> str:
        if self.kind == DATA:
            return f"{self.target} reads {self.source} ({self.via})"
        if self.kind == AFTER:
            if self.via != "after=":  # an imported definition's DependsOn, at this JSON path
                return f"{self.target} depends on {self.source} ({self.via})"
            return f"{self.target} runs after={self.source}"
        return f"{self.target} is in the {self.kind} branch of {self.source}"


#: How :meth:`PipelineGraph.edges` sorts (a C-level key: graphs can hold millions of edges).
_EDGE_ORDER = operator.attrgetter("source", "target", "kind", "via")


def _readonly(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@attrs.frozen(eq=False)
class PipelineGraph:
    """A validated pipeline. Build it with :meth:`dagml.Pipeline.validate`."""

    name: str
    description: str | None
    params: tuple[Param, ...]
    datasets: tuple[Dataset, ...]
    #: Step name -> spec, in topological order (ties broken by declaration order).
    nodes: Mapping[str, NodeSpec] = attrs.field(converter=_readonly)
    #: Function step name -> how each of its parameters is bound.
    bindings: Mapping[str, tuple[Binding, ...]] = attrs.field(converter=_readonly)
    #: The frozen networkx graph; each edge has ``reasons`` (a tuple of Edge).
    graph: nx.DiGraph = attrs.field(repr=False)
    #: Groups of steps that can run at the same time, in order.
    generations: tuple[tuple[str, ...], ...]
    #: Step -> (condition, "then" | "otherwise") for steps listed in a branch: the innermost one.
    #: A condition may itself be in a branch (nested conditions): see :meth:`enclosing`.
    branch_of: Mapping[str, tuple[str, str]] = attrs.field(converter=_readonly)
    warnings: tuple[Problem, ...] = ()
    provenance: Provenance = Provenance()  # noqa: RUF009 - frozen, so one shared default is safe
    #: Every step name in declaration order (document order for an imported definition).
    declaration_order: tuple[str, ...] = ()
    # ------------------------------------------------------------ derived facts, computed once at build
    #: Steps with a metrics report: declared (``metrics=True``, a ``Metrics`` annotation) or read by a
    #: condition or a registration. The compiler declares the ``metrics`` output and the
    #: ``EvaluationReport`` property file for exactly these; the runtime writes ``evaluation.json`` for them.
    reports: frozenset[str] = frozenset()
    #: The reports a condition or a ``register_model(metrics=...)`` reads: their step must return one.
    reports_read: frozenset[str] = frozenset()
    #: Processing steps whose return value a batch transform scores, written also as CSV.
    scored: frozenset[str] = frozenset()
    #: Condition name -> its ``Conditions`` list (:mod:`dagml.graph.lowered`), read by the compiler
    #: and decided by the local runner. Imported conditions keep their own JSON and are not here.
    lowered: Mapping[str, tuple[Mapping[str, Any], ...]] = attrs.field(default={}, converter=_readonly)
    #: An imported definition's top-level keys other than ``Steps``, exactly as imported (None for a
    #: declared pipeline): re-emitting the definition keeps them.
    definition_top: Mapping[str, Any] | None = attrs.field(default=None, repr=False)
    #: ``Pipeline(max_parallel_steps=N)``: deploy sends it as ParallelismConfiguration (not in the definition).
    max_parallel_steps: int | None = None

    @property
    def source_file(self) -> str | None:
        """The file that declared the pipeline (datasets' local paths are relative to it)."""
        return self.provenance.file

    @property
    def imported(self) -> bool:
        """True for a graph of an imported definition (held only to the rules the service enforces)."""
        return self.definition_top is not None

    # ------------------------------------------------------------ access
    @property
    def order(self) -> tuple[str, ...]:
        """Every step in a deterministic topological order."""
        return tuple(self.nodes)

    def __iter__(self) -> Iterator[NodeSpec]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __getitem__(self, name: str) -> NodeSpec:
        return self.nodes[name]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def dataset(self, name: str) -> Dataset:
        for d in self.datasets:
            if d.name == name:
                return d
        raise KeyError(name)

    def enclosing(self, name: str) -> tuple[tuple[str, str], ...]:
        """Every branch ``name`` is in, outermost first: ``(("Outer", "then"), ("Inner", "otherwise"))``.

        A step in a nested condition's branch runs only when every one of these branches is taken.
        """
        chain: list[tuple[str, str]] = []
        place = self.branch_of.get(name)
        while place is not None and len(chain) <= len(self.branch_of):  # a bound: branches form a tree
            chain.append(place)
            place = self.branch_of.get(place[0])
        return tuple(reversed(chain))

    def edges(self, kind: str | None = None) -> tuple[Edge, ...]:
        """Every edge reason, sorted, optionally of one kind."""
        result = [r for _, _, rs in self.graph.edges(data="reasons") for r in rs if kind is None or r.kind == kind]
        return tuple(sorted(result, key=_EDGE_ORDER))

    def upstream(self, name: str, kinds: tuple[str, ...] = (DATA, AFTER)) -> tuple[str, ...]:
        """Direct predecessors of ``name`` through edges of the given kinds, sorted."""
        return tuple(
            sorted(
                src
                for src, _, reasons in self.graph.in_edges(name, data="reasons")
                if any(r.kind in kinds for r in reasons)
            )
        )

    def downstream(self, name: str, kinds: tuple[str, ...] = (DATA, AFTER)) -> tuple[str, ...]:
        """Direct successors of ``name`` through edges of the given kinds, sorted."""
        return tuple(
            sorted(
                dst
                for _, dst, reasons in self.graph.out_edges(name, data="reasons")
                if any(r.kind in kinds for r in reasons)
            )
        )

    @property
    def conditions(self) -> tuple[ConditionSpec, ...]:
        return tuple(n for n in self.nodes.values() if isinstance(n, ConditionSpec))

    @property
    def function_steps(self) -> tuple[FunctionSpec, ...]:
        return tuple(n for n in self.nodes.values() if isinstance(n, FunctionSpec))

    def metrics_used(self, name: str) -> tuple[str, ...]:
        """Metric keys of step ``name`` that conditions read, sorted."""
        keys = {
            o.key
            for c in self.conditions
            for o in operands(c.expression)
            if isinstance(o, MetricRef) and o.step == name
        }
        return tuple(sorted(keys))

    def describe_condition(
        self, name: str, defaults: bool = True, values: Mapping[str, Any] | None = None, short: bool = False
    ) -> str:
        """Condition ``name`` in words; params show ``values`` (a run's) when given, else their defaults;
        ``short``: a model-quality metric by its name alone (drawings)."""
        spec = self.nodes[name]
        assert isinstance(spec, ConditionSpec)
        return describe(spec.expression, defaults=defaults, values=values, short=short)

    def summary(self) -> dict[str, object]:
        """A JSON-ready description: steps by generation, params, conditions."""
        return {
            "pipeline": self.name,
            "description": self.description,
            "steps": [
                {
                    "name": n.name,
                    "kind": n.kind,
                    "generation": gen_index + 1,
                    "upstream": list(self.upstream(n.name)),
                    "branch": list(self.branch_of[n.name]) if n.name in self.branch_of else None,
                }
                for gen_index, generation in enumerate(self.generations)
                for n in (self.nodes[s] for s in generation)
            ],
            "generations": [list(g) for g in self.generations],
            "params": [
                {"name": p.name, "type": p.type, "default": p.default, "enum": list(p.enum) if p.enum else None}
                for p in self.params
            ],
            "datasets": [{"name": d.name, "local": d.local, "s3": d.s3} for d in self.datasets],
            "conditions": [
                {
                    "name": c.name,
                    "expression": describe(c.expression),
                    "then": list(c.then),
                    "otherwise": list(c.otherwise),
                }
                for c in self.conditions
            ],
            "warnings": [w.to_dict() for w in self.warnings],
        }
