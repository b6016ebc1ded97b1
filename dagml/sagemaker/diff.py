"""Compare two pipeline definitions: what a deploy would change.

Both sides are graphs of imported definitions (:func:`~dagml.sagemaker.importer.import_definition`;
a dagml pipeline is compiled, then imported, so every source compares like with
like). :func:`diff_pipelines` lists added, removed and changed parameters,
steps, edges and conditions, and the other top-level keys; a changed step lists
each changed JSON path and marks those in SageMaker's cache key for that step
type (a change there makes a cached step run again).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from dagml._gc import paused_gc
from dagml._text import visible
from dagml.graph.model import PipelineGraph
from dagml.spec.imported import ImportedCondition

__all__ = ["CACHE_KEYS", "Change", "PipelineDiff", "diff_pipelines"]

#: Step type -> the ``Arguments`` keys in SageMaker's step cache key ("Default cache key
#: attributes by pipeline step type" in the SageMaker developer guide).
CACHE_KEYS: Mapping[str, frozenset[str]] = {
    "Processing": frozenset({"AppSpecification", "Environment", "ProcessingInputs"}),
    "Training": frozenset(
        {
            "AlgorithmSpecification",
            "CheckpointConfig",
            "DebugHookConfig",
            "DebugRuleConfigurations",
            "Environment",
            "HyperParameters",
            "InputDataConfig",
        }
    ),
    "Tuning": frozenset({"HyperParameterTuningJobConfig", "TrainingJobDefinition", "TrainingJobDefinitions"}),
    "AutoML": frozenset({"AutoMLJobConfig", "AutoMLJobObjective", "InputDataConfig", "ProblemType"}),
    "Transform": frozenset({"DataProcessing", "Environment", "ModelName", "TransformInput"}),
    "ClarifyCheck": frozenset(
        {
            "ClarifyCheckConfig",
            "CheckJobConfig",
            "SkipCheck",
            "RegisterNewBaseline",
            "ModelPackageGroupName",
            "SuppliedBaselineConstraints",
        }
    ),
    "QualityCheck": frozenset(
        {
            "QualityCheckConfig",
            "CheckJobConfig",
            "SkipCheck",
            "RegisterNewBaseline",
            "ModelPackageGroupName",
            "SuppliedBaselineConstraints",
            "SuppliedBaselineStatistics",
        }
    ),
    "EMR": frozenset({"ClusterId", "StepConfig"}),
}
SECTIONS = ("pipeline", "param", "step", "edge", "condition")
#: List items that have a name: such lists are compared item by item, by name.
ITEM_KEYS = ("Name", "InputName", "OutputName", "ChannelName", "PropertyFileName")
MISSING = "<missing>"
SYMBOLS = {"added": "+", "removed": "-", "changed": "~"}


@attrs.frozen
class Change:
    """One difference. ``details`` says what changed; ``cache`` names changed cache-key paths."""

    section: str
    change: str
    name: str
    summary: str = ""
    details: tuple[str, ...] = ()
    cache: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "change": self.change,
            "name": self.name,
            "summary": self.summary,
            "details": list(self.details),
            "invalidates_cache": list(self.cache),
        }


@attrs.frozen
class PipelineDiff:
    """Every difference between ``a`` and ``b`` (labels say where each side came from)."""

    a: str
    b: str
    changes: tuple[Change, ...]

    @property
    def same(self) -> bool:
        return not self.changes

    @property
    def cache_invalidated(self) -> tuple[str, ...]:
        """Steps whose cache key changed: SageMaker would not reuse their cached results for B."""
        return tuple(c.name for c in self.changes if c.cache)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "same": self.same,
            "changes": [c.to_dict() for c in self.changes],
            "cache_invalidated": list(self.cache_invalidated),
        }

    def format(self) -> str:
        if self.same:
            return visible(f"no differences between {self.a} and {self.b}")
        lines = [f"--- {self.a}", f"+++ {self.b}"]
        titles = {
            "pipeline": "pipeline",
            "param": "params",
            "step": "steps",
            "edge": "edges",
            "condition": "conditions",
        }
        for section in SECTIONS:
            changes = [c for c in self.changes if c.section == section]
            if not changes:
                continue
            lines.append(f"{titles[section]}:")
            for c in changes:
                lines.append(f"  {SYMBOLS[c.change]} {c.name}" + (f": {c.summary}" if c.summary else ""))
                lines += [f"      {d}" for d in c.details]
        n = len(self.changes)
        tail = f"{n} difference{'s' if n != 1 else ''}"
        if self.cache_invalidated:
            tail += f"; step cache key changed for {', '.join(self.cache_invalidated)} (cached results are not reused)"
        return "\n".join(visible(line) for line in [*lines, tail])  # names and values are untrusted


def _show(value: Any, limit: int = 120) -> str:
    if value is MISSING:
        return "(none)"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _keyed(value: Any) -> dict[str, Any] | None:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for key in ITEM_KEYS:
            names = [v.get(key) for v in value]
            if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
                return dict(zip(names, value))
    return None


def leaf_changes(a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, a value, b value) for each place ``a`` and ``b`` differ; named list items by name."""
    ka, kb = _keyed(a), _keyed(b)
    if ka is not None and kb is not None:
        a, b = ka, kb
        if list(ka) != list(kb) and set(ka) == set(kb):
            yield f"{path} (order)", list(ka), list(kb)
        for name in [*ka, *(n for n in kb if n not in ka)]:
            yield from leaf_changes(ka.get(name, MISSING), kb.get(name, MISSING), f"{path}[{name!r}]")
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from leaf_changes(
                a.get(key, MISSING), b.get(key, MISSING), f"{path}.{key}" if path else key
            )
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from leaf_changes(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        yield path, a, b


def _step_json(graph: PipelineGraph, name: str) -> dict[str, Any]:
    spec = graph[name]
    raw = dict(getattr(spec, "raw", {}))
    if isinstance(spec, ImportedCondition):  # branches and conditions are compared on their own
        raw["Arguments"] = {
            k: v
            for k, v in raw.get("Arguments", {}).items()
            if k not in ("IfSteps", "ElseSteps", "Conditions")
        }
    raw.pop("DependsOn", None)  # compared as edges
    return raw


def _where(graph: PipelineGraph, name: str) -> str:
    branch = graph.branch_of.get(name)
    return f"{branch[1]} of {branch[0]}" if branch else "top level"


def _params(a: PipelineGraph, b: PipelineGraph) -> list[Change]:
    pa = {p.get("Name"): p for p in _top_keys(a).get("Parameters", [])}
    pb = {p.get("Name"): p for p in _top_keys(b).get("Parameters", [])}
    changes = []
    for name in sorted(set(pa) | set(pb), key=str):
        if name not in pb:
            changes.append(
                Change(
                    "param",
                    "removed",
                    name,
                    f"{pa[name].get('Type')} = {_show(pa[name].get('DefaultValue', MISSING))}",
                )
            )
        elif name not in pa:
            changes.append(
                Change(
                    "param",
                    "added",
                    name,
                    f"{pb[name].get('Type')} = {_show(pb[name].get('DefaultValue', MISSING))}",
                )
            )
        elif pa[name] != pb[name]:
            parts = [f"{p}: {_show(x)} -> {_show(y)}" for p, x, y in leaf_changes(pa[name], pb[name])]
            changes.append(Change("param", "changed", name, "; ".join(parts)))
    return changes


def _steps(ga: PipelineGraph, gb: PipelineGraph) -> list[Change]:
    changes = []
    for name in sorted(set(ga.nodes) | set(gb.nodes)):
        if name not in gb.nodes:
            changes.append(
                Change(
                    "step",
                    "removed",
                    name,
                    f"{getattr(ga[name], 'step_type', 'Condition')}, {_where(ga, name)}",
                )
            )
            continue
        if name not in ga.nodes:
            changes.append(
                Change(
                    "step",
                    "added",
                    name,
                    f"{getattr(gb[name], 'step_type', 'Condition')}, {_where(gb, name)}",
                )
            )
            continue
        details, cache = [], []
        if _where(ga, name) != _where(gb, name):
            details.append(f"moved: {_where(ga, name)} -> {_where(gb, name)}")
        a, b = _step_json(ga, name), _step_json(gb, name)
        step_type = b.get("Type")
        keys = CACHE_KEYS.get(str(step_type), frozenset())
        for path, x, y in leaf_changes(a, b):
            top = path.split(".")[1].split("[")[0] if path.startswith("Arguments.") else ""
            in_key = top in keys
            if in_key:
                cache.append(path)
            details.append(f"{path}: {_show(x)} -> {_show(y)}" + ("   [cache key]" if in_key else ""))
        if details:
            summary = str(step_type) + (", cached results not reused" if cache and _caches(b) else "")
            changes.append(Change("step", "changed", name, summary, tuple(details), tuple(cache)))
    return changes


def _caches(step: Mapping[str, Any]) -> bool:
    config = step.get("CacheConfig")
    return isinstance(config, Mapping) and bool(config.get("Enabled"))


def _edges(ga: PipelineGraph, gb: PipelineGraph) -> list[Change]:
    """Edges (source, target, kind) in one graph and not the other.

    Walks the two adjacencies side by side (the frozen graphs' own dicts), so an edge that is the
    same in both costs one look-up: a definition can hold millions of DependsOn edges, and a set of
    every edge's tuple on each side cost seconds (benchmarks/bench_import.py).
    """
    empty: dict[str, Any] = {}

    def kinds(data: Mapping[str, Any] | None) -> set[str]:
        return set() if data is None else {r.kind for r in data["reasons"]}

    def one_way(succ_a: Mapping[str, Any], succ_b: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        found = []
        for src, out_a in succ_a.items():
            out_b = succ_b.get(src, empty)
            for dst, data in out_a.items():
                other = out_b.get(dst)
                reasons = data["reasons"]
                if (
                    other is not None
                    and len(reasons) == 1 == len(other["reasons"])
                    and reasons[0].kind == other["reasons"][0].kind
                ):
                    continue  # the common case, without building sets
                found += [(src, dst, kind) for kind in sorted(kinds(data) - kinds(other))]
        return found

    succ_a, succ_b = ga.graph._succ, gb.graph._succ
    return [Change("edge", "removed", f"{s} -> {t}", k) for s, t, k in sorted(one_way(succ_a, succ_b))] + [
        Change("edge", "added", f"{s} -> {t}", k) for s, t, k in sorted(one_way(succ_b, succ_a))
    ]


def _imported_condition(graph: PipelineGraph, name: str) -> ImportedCondition:
    """A condition of an imported definition (the only kind diff compares), with its JSON."""
    spec = graph[name]
    if not isinstance(spec, ImportedCondition):
        raise TypeError(f"pipeline {graph.name!r}: condition {name!r} was declared in Python; diff compares imported definitions")
    return spec


def _conditions(ga: PipelineGraph, gb: PipelineGraph) -> list[Change]:
    changes = []
    for name in sorted({c.name for c in ga.conditions} & {c.name for c in gb.conditions}):
        ca, cb = _imported_condition(ga, name), _imported_condition(gb, name)
        details = []
        old, new = ga.describe_condition(name, defaults=False), gb.describe_condition(name, defaults=False)
        if old != new or ca.raw.get("Arguments", {}).get("Conditions") != cb.raw.get("Arguments", {}).get(
            "Conditions"
        ):
            details.append(f"{old}  ->  {new}" if old != new else "same in words, different JSON")
        for side, x, y in (("then", ca.then, cb.then), ("otherwise", ca.otherwise, cb.otherwise)):
            if x != y:
                details.append(f"{side}: {', '.join(x) or '-'} -> {', '.join(y) or '-'}")
        if details:
            changes.append(Change("condition", "changed", name, details[0], tuple(details[1:])))
    return changes


def _top(a: PipelineGraph, b: PipelineGraph) -> list[Change]:
    ta = {k: v for k, v in _top_keys(a).items() if k != "Parameters"}
    tb = {k: v for k, v in _top_keys(b).items() if k != "Parameters"}
    return [
        Change("pipeline", "changed", path, f"{_show(x)} -> {_show(y)}")
        for path, x, y in leaf_changes(ta, tb)
    ]


@paused_gc()  # millions of edge tuples for a large definition: see dagml/_gc.py
def diff_pipelines(a: PipelineGraph, b: PipelineGraph) -> PipelineDiff:
    """What changes from imported definition ``a`` to ``b``."""
    changes = _top(a, b) + _params(a, b) + _steps(a, b) + _edges(a, b) + _conditions(a, b)
    return PipelineDiff(_source(a), _source(b), tuple(changes))


def _top_keys(graph: PipelineGraph) -> Mapping[str, Any]:
    if graph.definition_top is None:
        raise TypeError(f"pipeline {graph.name!r} was declared in Python; diff compares imported definitions")
    return graph.definition_top


def _source(graph: PipelineGraph) -> str:
    return graph.provenance.definition or graph.name
