"""Hypothesis strategies for random pipelines: the one place they live.

A *program* is a plain description of a pipeline (steps, their data and
after= dependencies, conditions and their branches); :func:`build` turns it
into a real :class:`dagml.Pipeline` with generated functions, so every test
exercises the real DSL. :func:`programs` draws valid programs;
:func:`broken_programs` draws a valid program with exactly one injected fault
and says which problem it must produce.
"""

from __future__ import annotations

import inspect
from typing import Any

import attrs
from hypothesis import strategies as st

from dagml import Pipeline

OPS = ("==", "!=", "<", "<=", ">", ">=")


@attrs.frozen
class StepDesc:
    name: str
    kind: str = "processing"  # processing | training | fail
    deps: tuple[str, ...] = ()  # data dependencies (parameter names)
    after: tuple[str, ...] = ()
    metrics: bool = False
    params: tuple[str, ...] = ()  # pipeline params bound as defaults
    step_name: str | None = None  # name= override (None: the function name)
    outputs: tuple[str, ...] = ()  # named outputs (readers bind the first: s.outputs["..."])

    @property
    def final_name(self) -> str:
        return self.step_name or self.name


@attrs.frozen
class CondDesc:
    name: str
    metric_step: str
    op: str
    param: str
    then: tuple[str, ...]
    otherwise: tuple[str, ...]


@attrs.frozen
class Program:
    name: str
    steps: tuple[StepDesc, ...]
    conditions: tuple[CondDesc, ...] = ()
    params: tuple[str, ...] = ()

    def function_steps(self) -> list[StepDesc]:
        return [s for s in self.steps if s.kind != "fail"]

    def branch_members(self) -> set[str]:
        return {m for c in self.conditions for m in (*c.then, *c.otherwise)}

    def edges(self) -> set[tuple[str, str]]:
        """(source, target) for every dependency, by final step names."""
        result = {(d, s.final_name) for s in self.steps for d in (*s.deps, *s.after)}
        for c in self.conditions:
            result.add((c.metric_step, c.name))
            result.update((c.name, m) for m in (*c.then, *c.otherwise))
        return result

    def descendants(self, name: str) -> set[str]:
        edges = self.edges()
        seen, todo = set(), [name]
        while todo:
            cur = todo.pop()
            for a, b in edges:
                if a == cur and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen


def make_function(name: str, parameters: list[tuple[str, Any]], returns: Any = None) -> Any:
    """A real function with the given parameter names and defaults."""

    def fn(**kwargs: Any) -> Any:
        return returns

    fn.__name__ = fn.__qualname__ = name
    fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                p,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=inspect.Parameter.empty if d is inspect.Parameter.empty else d,
            )
            for p, d in parameters
        ]
    )
    return fn


def build(program: Program) -> Pipeline:
    pipe = Pipeline(program.name)
    params = {p: pipe.param(p, 0.5) for p in program.params}
    nodes: dict[str, Any] = {}
    for s in program.steps:
        if s.kind == "fail":
            nodes[s.final_name] = pipe.fail(s.final_name, "failed", after=list(s.after))
            continue
        named = {d.name: d.outputs for d in program.steps if d.outputs}
        parameters: list[tuple[str, Any]] = [
            (d, nodes[d].outputs[named[d][0]] if d in named else inspect.Parameter.empty) for d in s.deps
        ]
        parameters += [(f"p_{p.lower()}", params[p]) for p in s.params]
        parameters.sort(key=lambda item: item[1] is not inspect.Parameter.empty)  # defaults last, as Python needs
        returns = {"score": 1.0} if s.metrics else dict.fromkeys(s.outputs, 1) if s.outputs else None
        fn = make_function(s.name, parameters, returns)
        options: dict[str, Any] = {"kind": s.kind, "after": list(s.after)}
        if s.metrics:
            options["metrics"] = True
        if s.outputs:
            options["outputs"] = list(s.outputs)
        if s.step_name:
            options["name"] = s.step_name
        nodes[s.final_name] = pipe.step(**options)(fn)
    for c in program.conditions:
        expr = {
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }[c.op](nodes[c.metric_step]["score"], params[c.param])
        pipe.condition(c.name, expr, then=list(c.then), otherwise=list(c.otherwise))
    return pipe


@st.composite
def programs(draw: st.DrawFn, max_steps: int = 40, max_conditions: int = 3, min_steps: int = 1) -> Program:
    """A valid random program: a DAG of function steps, then conditions gating new branch steps."""
    n = draw(st.integers(min_steps, max_steps))
    n_params = draw(st.integers(1, 3))
    params = tuple(f"P{i}" for i in range(n_params))
    steps: list[StepDesc] = []
    for i in range(n):
        earlier = list(steps)
        deps = draw(st.lists(st.sampled_from([s.name for s in earlier]), max_size=3, unique=True)) if earlier else []
        after = (
            draw(st.lists(st.sampled_from([s.name for s in earlier if s.name not in deps]), max_size=1, unique=True))
            if len(earlier) > len(deps)
            else []
        )
        kind = draw(st.sampled_from(["processing", "processing", "training"]))
        metrics = kind == "processing" and draw(st.booleans())
        outputs = ("part", "rest") if kind == "processing" and not metrics and draw(st.integers(0, 3)) == 0 else ()
        steps.append(StepDesc(f"s{i}", kind, tuple(deps), tuple(after), metrics, outputs=outputs))
    # every param bound somewhere so no unused-param warning
    for p in params:
        k = draw(st.integers(0, n - 1))
        steps[k] = attrs.evolve(steps[k], params=(*steps[k].params, p))
    conditions: list[CondDesc] = []
    metric_steps = [s.name for s in steps if s.metrics]
    n_cond = draw(st.integers(0, max_conditions)) if metric_steps else 0
    top = [s.name for s in steps]
    for c in range(n_cond):
        branch: dict[str, list[str]] = {"then": [], "otherwise": []}
        readable: dict[str, list[str]] = {"then": [], "otherwise": []}  # branch steps with output
        for side in ("then", "otherwise"):
            for b in range(draw(st.integers(0 if side == "otherwise" else 1, 3))):
                name = f"c{c}{side[0]}{b}"
                if draw(st.booleans()):
                    steps.append(StepDesc(name, "fail"))
                else:
                    deps = draw(st.lists(st.sampled_from(top + readable[side]), max_size=2, unique=True))
                    steps.append(StepDesc(name, "processing", tuple(deps)))
                    readable[side].append(name)
                branch[side].append(name)
        conditions.append(
            CondDesc(
                f"Check{c}",
                draw(st.sampled_from(metric_steps)),
                draw(st.sampled_from(OPS)),
                draw(st.sampled_from(params)),
                tuple(branch["then"]),
                tuple(branch["otherwise"]),
            )
        )
    return Program("random-pipeline", tuple(steps), tuple(conditions), params)


@attrs.frozen
class Fault:
    kind: str  # the problem kind validation must report
    steps: frozenset[str]  # names the problem must mention


def _top_function_steps(p: Program) -> list[StepDesc]:
    members = p.branch_members()
    return [s for s in p.function_steps() if s.name not in members]


@st.composite
def broken_programs(draw: st.DrawFn, max_steps: int = 30) -> tuple[Program, Fault]:
    """A valid program with exactly one injected fault, and the fault."""
    program = draw(programs(max_steps=max_steps))
    choices = ["duplicate", "invalid-name", "unknown-after"]
    top = _top_function_steps(program)
    if any(s.deps for s in top):
        choices.append("misspelled-dependency")
    choices.append("cycle")
    fault = draw(st.sampled_from(choices))
    steps = list(program.steps)
    if fault == "cycle":
        victim = draw(st.sampled_from(top))
        downstream = [s for s in top if s.name in program.descendants(victim.name)]
        target = draw(st.sampled_from(downstream)) if downstream else victim
        vi = steps.index(victim)  # the victim now also runs after one of its descendants
        steps[vi] = attrs.evolve(victim, after=(*victim.after, target.name))
        return attrs.evolve(program, steps=tuple(steps)), Fault("cycle", frozenset({victim.name, target.name}))
    if fault == "misspelled-dependency":
        victim = draw(st.sampled_from([s for s in top if s.deps]))
        dep = draw(st.sampled_from(victim.deps))
        wrong = dep + "x"
        vi = steps.index(victim)
        steps[vi] = attrs.evolve(victim, deps=tuple(wrong if d == dep else d for d in victim.deps))
        return attrs.evolve(program, steps=tuple(steps)), Fault("unbound-input", frozenset({victim.name, wrong}))
    if fault == "unknown-after":
        victim = draw(st.sampled_from(top))
        vi = steps.index(victim)
        steps[vi] = attrs.evolve(victim, after=(*victim.after, "missing_step"))
        return attrs.evolve(program, steps=tuple(steps)), Fault("unknown-step", frozenset({victim.name, "missing_step"}))
    if fault == "duplicate":
        victim = draw(st.sampled_from(top))
        clone = StepDesc(victim.name + "_again", step_name=victim.name)
        return attrs.evolve(program, steps=(*steps, clone)), Fault("duplicate-step", frozenset({victim.name}))
    # invalid-name: a step nothing refers to by name gets a name SageMaker rejects
    referenced = {a for a, _ in program.edges()} | program.branch_members()
    leaves = [s for s in top if s.name not in referenced]
    if not leaves:
        extra = StepDesc("lonely", step_name="lonely step!")
        return attrs.evolve(program, steps=(*steps, extra)), Fault("invalid-name", frozenset({"lonely step!"}))
    victim = draw(st.sampled_from(leaves))
    bad = victim.name + " v2!"
    vi = steps.index(victim)
    steps[vi] = attrs.evolve(victim, step_name=bad)
    return attrs.evolve(program, steps=tuple(steps)), Fault("invalid-name", frozenset({bad}))


# ---------------------------------------------------------------- condition trees
#: Paths of the metrics the conditions read: flat keys and one path into a nested report.
METRIC_KEYS = ("accuracy", "loss", "count", "regression_metrics.mse.value")


def nest(numbers: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1, "c": 2}`` -> ``{"a": {"b": 1}, "c": 2}``: the report whose paths hold these numbers."""
    report: dict[str, Any] = {}
    for path, number in numbers.items():
        *parents, last = path.split(".")
        node = report
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = number
    return report


@st.composite
def condition_cases(draw: st.DrawFn, max_depth: int = 3) -> tuple[Any, dict[str, dict[str, Any]], dict[str, Any]]:
    """(expression over one metrics step and two params, the metric values, the param values)."""
    from dagml import Pipeline as _Pipeline
    from dagml.spec.conditions import all_of, any_of, compare, isin, not_

    pipe = _Pipeline("conditions")
    threshold = pipe.param("Threshold", draw(st.floats(-10, 10, allow_nan=False)))
    count = pipe.param("Count", draw(st.integers(-5, 5)))

    @pipe.step(metrics=True)
    def report():
        return {}

    numbers = st.one_of(
        st.integers(-5, 5),
        st.floats(-10, 10, allow_nan=False, allow_infinity=False),
        st.sampled_from([0, 0.0, 1, 1.0, 0.5]),
    )
    operand = st.one_of(st.sampled_from(METRIC_KEYS).map(lambda k: report[k]), st.just(threshold), st.just(count), numbers)

    def leaf() -> Any:
        if draw(st.integers(0, 4)) == 0:
            return isin(report[draw(st.sampled_from(METRIC_KEYS))], draw(st.lists(numbers, min_size=1, max_size=3)))
        left = report[draw(st.sampled_from(METRIC_KEYS))]
        right = draw(operand)
        op = draw(st.sampled_from(OPS))
        return compare(op, right, left) if draw(st.booleans()) and not isinstance(right, (int, float)) else compare(op, left, right)

    def tree(depth: int) -> Any:
        if depth == 0 or draw(st.integers(0, 2)) == 0:
            return leaf()
        kind = draw(st.sampled_from(["and", "or", "not"]))
        if kind == "not":
            return not_(tree(depth - 1))
        terms = [tree(depth - 1) for _ in range(draw(st.integers(2, 3)))]
        return all_of(*terms) if kind == "and" else any_of(*terms)

    expr = tree(draw(st.integers(0, max_depth)))
    values = {k: draw(st.one_of(numbers, st.sampled_from([0.9, 0.97, 1.0]))) for k in METRIC_KEYS}
    params = {"Threshold": threshold.default, "Count": count.default}
    return expr, {"report": nest(values)}, params


# ---------------------------------------------------------------- definition mutations
def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (keys and indexes), the root excluded."""
    out: list[tuple] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


def _parent(root: Any, path: tuple) -> Any:
    node = root
    for part in path[:-1]:
        node = node[part]
    return node


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.just("x" * 100_000),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just({"Get": "Steps.NoSuchStep.Properties"}),
    st.just({"Get": "Parameters.NoSuchParam"}),
    st.just({"Std:JsonGet": {"PropertyFile": {"Get": "Steps.x"}, "Path": 3}}),
    st.just({"Std:Join": {"On": 1, "Values": "no"}}),
)


@st.composite
def mutated_definitions(draw: st.DrawFn, base: dict) -> Any:
    """A real definition with 1-4 random mutations: deleted keys, junk values, broken references,
    duplicate or unknown names and types, DependsOn cycles, deep nesting, or truncated text."""
    import copy
    import json as _json

    definition = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(definition)
        kind = draw(st.sampled_from(["delete", "junk", "junk", "cycle", "type", "nest", "duplicate"]))
        if kind in ("delete", "junk") and paths:
            path = draw(st.sampled_from(paths))
            parent = _parent(definition, path)
            if kind == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(draw(JUNK))  # st.just values are shared: never mutate them
        elif kind in ("cycle", "type", "duplicate") and isinstance(definition, dict):
            steps = [s for s in definition.get("Steps", []) if isinstance(s, dict)] if isinstance(definition.get("Steps"), list) else []
            if not steps:
                continue
            a, b = draw(st.sampled_from(steps)), draw(st.sampled_from(steps))
            if kind == "cycle":
                a.setdefault("DependsOn", []) if isinstance(a.get("DependsOn", []), list) else None
                if isinstance(a.get("DependsOn", []), list):
                    a["DependsOn"] = [*a.get("DependsOn", []), b.get("Name")]
                if isinstance(b.get("DependsOn", []), list):
                    b["DependsOn"] = [*b.get("DependsOn", []), a.get("Name")]
            elif kind == "type":
                a["Type"] = draw(st.sampled_from(["Lambda", "Bogus", "", 7, None, "Condition", "Processing"]))
            else:
                a["Name"] = b.get("Name")
        elif kind == "nest":
            definition = {"Steps": [definition] * 2} if draw(st.booleans()) else [[[definition]]]
            depth = draw(st.sampled_from([10, 1000, 100_000]))
            if depth > 10:
                return "[" * depth + "]" * depth
    if draw(st.integers(0, 9)) == 0:
        text = _json.dumps(definition)
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    return definition


# ---------------------------------------------------------------- the cache under attack
#: Everything a cached step's result can depend on (tests/local/test_cache_property.py writes a
#: project from these): its code, a helper it calls (in the pipeline's folder), a module imported
#: from elsewhere on sys.path, a value its closure captured, a default, a module-level value it
#: reads, a param, an input file, the pipeline's identity, a dependency's version.
CACHE_FACETS = ("code", "helper", "outside", "closure", "default", "module_value", "param", "input", "name", "dependency")

_small = st.integers(min_value=0, max_value=3)


@st.composite
def cache_worlds(draw: st.DrawFn) -> dict[str, Any]:
    """One state of a project whose step reads every facet of :data:`CACHE_FACETS`."""
    return {
        "code": draw(_small),
        "helper": draw(_small),
        "outside": draw(_small),
        "closure": draw(_small),
        "default": draw(_small),
        "module_value": draw(_small),
        "param": draw(_small),
        "input": draw(st.sampled_from(["", "a", "b", "a\n"])),
        "name": draw(st.sampled_from(["cache-one", "cache-two"])),
        "dependency": draw(st.sampled_from(["1.0", "1.1", "2.0"])),
    }


@st.composite
def cache_changes(draw: st.DrawFn, world: dict[str, Any]) -> dict[str, Any]:
    """``world`` with one or more facets changed (sometimes to the same value: a no-op change)."""
    changed = dict(world)
    other = draw(cache_worlds())
    for facet in draw(st.lists(st.sampled_from(CACHE_FACETS), min_size=1, max_size=3, unique=True)):
        changed[facet] = other[facet]
    return changed


# ---------------------------------------------------------------- metrics reports (dagml.spec.reports)
#: Report keys: no dots (a dot separates the keys of a path), some SageMaker's own.
REPORT_KEYS = st.one_of(
    st.sampled_from(["regression_metrics", "mse", "value", "standard_deviation", "accuracy", "0", "1"]),
    st.text(st.characters(blacklist_characters=".", blacklist_categories=("Cs",)), min_size=1, max_size=8),
)
REPORT_NUMBERS = st.one_of(st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False))
REPORT_LEAVES = st.one_of(
    REPORT_NUMBERS,
    st.text(max_size=8),
    st.lists(st.one_of(REPORT_NUMBERS, st.text(max_size=4)), max_size=4),
)


def metrics_reports(max_leaves: int = 12) -> st.SearchStrategy[dict[str, Any]]:
    """A metrics report: a non-empty JSON object of numbers, strings and lists, nested as objects."""
    return st.dictionaries(
        REPORT_KEYS,
        st.recursive(REPORT_LEAVES, lambda inner: st.dictionaries(REPORT_KEYS, inner, min_size=1, max_size=3), max_leaves=max_leaves),
        min_size=1,
        max_size=4,
    )
