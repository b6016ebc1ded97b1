"""The validation rules. Each function adds problems to the builder; none raises.

Every problem names the step (first in ``steps``), says what is wrong, and
says how to fix it.

A rule that rejects an *imported* definition (``b.imported``) must rest on what
the SageMaker service does: a documented limit, an SDK integration test that
asserts the service's answer, an AWS page. Each such rule cites its source
here; a rule that only the published JSON schema states (it is stale:
tests/sagemaker/data/README.md, tests/sagemaker/schema_allowlist.py) is at most
a warning for imported definitions. dagml's own pipelines may keep stricter rules where dagml needs
them (names that become S3 keys and job arguments, comparisons the local runner
must decide the way SageMaker would); those say so. docs/deploy.md ("What dagml
refuses, and why") lists every rule with its source.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING

import networkx as nx

from dagml.graph import jobchecks
from dagml.graph import names as naming
from dagml.graph.model import DATA, OTHERWISE, THEN, Edge
from dagml.graph.wiring import DATASET, PARAM
from dagml.spec.conditions import Compare, In, MetricRef, describe, iter_compares, operand_type, operands
from dagml.spec.params import Dataset, Param
from dagml.spec.specs import (
    APPROVAL_STATUSES,
    ConditionSpec,
    ContainerSpec,
    FailSpec,
    FunctionSpec,
    RegisterSpec,
    ScriptSpec,
    TransformSpec,
    imported_condition,
    imported_step,
)
from dagml.spec.step import Node

if TYPE_CHECKING:
    from dagml.errors import Severity
    from dagml.graph.protocols import Builder

#: What a comparison sees of an imported reference (a Std:JsonGet, a step property): any type.
ANY = "any"
#: Types the ordering comparisons (< <= > >=) order: two numbers, or two strings by code point
#: (dagml/local/decide.py). The service orders strings: the SDK's integration test
#: test_ppl_var_to_string_and_add (tests/integ/sagemaker/workflow/test_pipeline_var_behaviors.py,
#: sagemaker-python-sdk v2.257) runs GreaterThan on a String parameter and a Join and asserts the outcome.
ORDERED_TYPES = ("number", "string")
ORDERING = ("<", "<=", ">", ">=")


def duplicates(b: Builder) -> None:
    origins: dict[str, list[str]] = {}
    for spec in b.pipe.nodes:
        origins.setdefault(spec.name, []).append(spec.origin or "?")
    for name, where in origins.items():
        if len(where) > 1:
            b.problem(
                "duplicate-step",
                (name,),
                f"{len(where)} steps are named {name!r} (declared at {', '.join(where)}).",
                "Give each step a unique name (@pipe.step(name=...) or the first argument).",
            )
    counts = Counter([p.name for p in b.pipe.params] + [d.name for d in b.pipe.datasets])
    for name, count in counts.items():
        if count > 1:
            b.problem(
                "duplicate-param",
                (name,),
                f"{count} params or datasets are named {name!r}; they share SageMaker's Parameters.",
                "Give each param and dataset a unique name.",
            )


def names(b: Builder) -> None:
    """Names SageMaker accepts (dagml/graph/names.py says which rule binds whom)."""
    pipe = b.pipe
    if not b.specs:
        # dagml's own rule: a pipeline with nothing to run is a mistake. Nothing documents that the
        # service refuses an empty Steps list (the schema allows one), so an imported one is a warning.
        b.problem(
            "empty-pipeline",
            (),
            f"pipeline {pipe.name!r} has no steps, so it does nothing.",
            "Declare a step: @pipe.step on a function." if not b.imported else "Add a step to Steps.",
            severity="warning" if b.imported else "error",
        )
    pipeline_rule = "service-pipeline" if b.imported else "pipeline"
    if not naming.check_name(pipeline_rule, pipe.name):
        b.problem(
            "invalid-name",
            (),
            f"pipeline name {pipe.name!r} is not accepted by SageMaker ({naming.rule_text(pipeline_rule)}).",
            f"Rename it, e.g. Pipeline({naming.suggest(pipeline_rule, pipe.name)!r}).",
        )
    for name in b.specs:
        if not naming.check_name("step", name):
            if b.imported:  # schema-only (StepName): a warning
                b.problem(
                    "invalid-name",
                    (name,),
                    f"step name {name!r} does not match the published schema's StepName "
                    f"({naming.rule_text('step')}); the API documents no pattern for step names, "
                    "so SageMaker may accept it.",
                    f"If SageMaker refuses it, rename it, e.g. {naming.suggest('step', name)!r}.",
                    severity="warning",
                )
                continue
            b.problem(
                "invalid-name",
                (name,),
                f"step name {name!r} is not accepted by SageMaker ({naming.rule_text('step')}).",
                f"Rename it, e.g. name={naming.suggest('step', name)!r}.",
            )
    items: list[Param | Dataset] = [*pipe.params, *pipe.datasets]
    for item in items:
        if not naming.check_name("param", item.name):
            what = "param" if isinstance(item, Param) else "dataset"
            if b.imported:  # API_Parameter: an execution can only pass [A-Za-z0-9\-_]{1,256}; a warning
                b.problem(
                    "invalid-name",
                    (item.name,),
                    f"parameter name {item.name!r} does not match the published schema "
                    f"({naming.rule_text('param')}); StartPipelineExecution takes overrides only for "
                    "names of letters, digits, '-' and '_' (up to 256), so an execution may not be able to set it.",
                    f"Rename it, e.g. {naming.suggest('param', item.name)!r}.",
                    severity="warning",
                )
                continue
            b.problem(
                "invalid-name",
                (item.name,),
                f"{what} name {item.name!r} is not accepted by SageMaker ({naming.rule_text('param')}).",
                f"Rename it, e.g. {naming.suggest('param', item.name)!r}.",
            )


def _edge_reason(g: nx.DiGraph, source: str, target: str) -> str:
    reasons: tuple[Edge, ...] = g.edges[source, target]["reasons"]
    return "; ".join(r.reason() for r in reasons)


def cycles(b: Builder, g: nx.DiGraph) -> None:
    """Report each cycle as its path, with why each edge exists."""
    index = b.index
    for component in sorted(nx.strongly_connected_components(g), key=lambda c: min(index[n] for n in c)):
        if len(component) == 1:
            (only,) = component
            if not g.has_edge(only, only):
                continue
        start = min(component, key=index.__getitem__)
        cycle = nx.find_cycle(g.subgraph(component), source=start)
        path = [u for u, _ in cycle] + [cycle[0][0]]
        why = ", ".join(_edge_reason(g, u, v) for u, v in cycle)
        b.problem(
            "cycle",
            path[:-1],
            f"cycle {' -> '.join(path)}: {why}.",
            "Remove one of these dependencies (rename the parameter, drop the after=, or move the step out of the branch).",
        )


def branches(b: Builder, g: nx.DiGraph) -> None:
    """Branch membership. Any step type may be in a branch, conditions included (nested conditions).

    The published schema allows only Training, Fail, Processing, Transform and RegisterModel steps
    in IfSteps / ElseSteps; the service runs others there: apache/airflow's SageMaker pipeline
    system test (providers/amazon/tests/system/amazon/aws/example_sagemaker_pipeline.py) creates
    and runs 31 nested conditions, AWS's Lambda step example notebook
    (aws/amazon-sagemaker-examples, sagemaker-pipelines/tabular/lambda-step/) puts a Lambda step
    in IfSteps and waits for the endpoint it deploys, and the SDK nests Model steps there
    (tests/integ/sagemaker/workflow/test_workflow.py). So dagml refuses no step type in a branch.
    """
    membership: dict[str, list[tuple[str, str]]] = {}
    for spec in b.specs.values():
        if not isinstance(spec, ConditionSpec):
            continue
        if not spec.then and not spec.otherwise and not _read_by_others(g, spec.name):
            # The service runs a condition with no branch steps: the SDK's integration test
            # test_two_step_fail_pipeline_with_join_fn (tests/integ/sagemaker/workflow/test_fail_steps.py)
            # creates one, reads its Outcome and asserts it Succeeded. It decides nothing unless a
            # step reads its Outcome (which a dagml step cannot), so it is a warning.
            b.problem(
                "empty-condition",
                (spec.name,),
                "condition has no steps in then= or otherwise= and nothing reads its outcome, so it decides nothing.",
                "List the steps it gates: pipe.condition(name, expr, then=[...], otherwise=[...]), or drop it."
                if not b.imported
                else "List the steps it gates in IfSteps / ElseSteps, or drop it.",
                severity="warning",
            )
        for kind, members in ((THEN, spec.then), (OTHERWISE, spec.otherwise)):
            for member in dict.fromkeys(members):
                if member in b.specs:
                    membership.setdefault(member, []).append((spec.name, kind))
    for member, places in membership.items():
        if len(places) > 1:
            # A step runs from one place: in a definition, a name in two branches is two steps with
            # one name, which the SDK refuses ("Pipeline steps cannot have duplicate names",
            # src/sagemaker/workflow/pipeline.py) and which Get Steps.X / DependsOn cannot tell apart.
            where = ", ".join(f"{kind} of {cond!r}" for cond, kind in places)
            same = len({cond for cond, _ in places}) == 1
            b.problem(
                "branch-conflict",
                (member, *sorted({cond for cond, _ in places})),
                f"step is listed in more than one branch ({where}); SageMaker runs each step from one place.",
                "Duplicate the step under another name for the other branch."
                if same
                else "Keep it in one condition's branch; gate it on the other with a combined expression (&, |).",
            )
    _branch_escapes(b, g, membership)


def _read_by_others(g: nx.DiGraph, name: str) -> bool:
    """Whether another step reads ``name`` (an imported step's Get of Steps.<condition>.Outcome)."""
    return any(r.kind == DATA for _, _, reasons in g.out_edges(name, data="reasons") for r in reasons)


def _branch_escapes(b: Builder, g: nx.DiGraph, membership: dict[str, list[tuple[str, str]]]) -> None:
    """What SageMaker cannot express around branches.

    A step outside a branch may read or run after a branch step: it runs when
    that branch is taken and is skipped with it otherwise. What can never work:

    * ``after=`` (DependsOn) a condition step: the service refuses the definition
      ("A condition step cannot be added as an explicit dependency in a subsequent
      step (pipeline creation will fail with an error)", aws/sagemaker-python-sdk#3565);
    * a condition step that DependsOn a Fail step: the service refuses it ("CondStep can
      not depends on FailStep": the SDK's integration test
      test_invalid_pipeline_depended_on_fail_step, tests/integ/sagemaker/workflow/test_fail_steps.py);
    * a step that needs steps of *both* branches of one condition (directly or
      through its upstream steps) never runs, since DependsOn is an AND and only
      one branch ever runs (#3565). The service accepts such a definition, so for an
      imported one this is a warning; a dagml pipeline refuses it (a step that can
      never run is a mistake).

    A step inside a nested condition's branch runs only under every enclosing branch too.
    """
    # Only a condition or a fail step can be a refused DependsOn target: a set intersection per step
    # finds them, instead of a look-up per DependsOn entry (millions in a large definition).
    targets = {name for name, spec in b.specs.items() if isinstance(spec, ConditionSpec) or spec.kind == "fail"}
    for spec in b.specs.values():
        if not targets.intersection(spec.after):
            continue
        for name in spec.after:
            target = b.specs.get(name)
            if isinstance(target, ConditionSpec):
                b.problem(
                    "after-condition",
                    (spec.name, name),
                    f"runs after= condition {name!r}; SageMaker cannot make a step depend on a condition step.",
                    f"Put {spec.name!r} in a branch of {name!r} (then=[...] or otherwise=[...]), "
                    "or depend on the steps the condition reads.",
                )
            elif isinstance(spec, ConditionSpec) and target is not None and target.kind == "fail":
                b.problem(
                    "after-fail",
                    (spec.name, name),
                    f"condition runs after= fail step {name!r}; SageMaker refuses a condition step that "
                    "depends on a Fail step (a Fail step ends the execution).",
                    f"Drop {name!r} from its after= (DependsOn), or put the fail step in one of its branches.",
                )
    if not membership:
        return
    try:
        order = list(nx.topological_sort(g))
    except nx.NetworkXUnfeasible:
        return  # cycles are reported on their own; gates need an order
    home = {member: places[0] for member, places in membership.items()}
    # A step's gates are the (condition, side) pairs it runs only under: its own, its upstream
    # steps' and (for a step in a branch) its condition's, so a nested branch inherits every
    # enclosing one. Each pair is one bit of an int (then = 2i, otherwise = 2i + 1, conditions by
    # name), so inheriting them is one C-level OR per edge; sets of pairs, with a dict saying which
    # step brought each, grew with steps x conditions (docs/performance.md).
    conds = sorted({cond for cond, _ in home.values()})
    index = {cond: i for i, cond in enumerate(conds)}
    own_bit = {m: 1 << (2 * index[cond] + (side == OTHERWISE)) for m, (cond, side) in home.items()}
    evens = ((1 << (2 * len(conds))) - 1) // 3  # the then-bits: 0b...010101
    severity: Severity = "warning" if b.imported else "error"

    def upstream(node: str) -> list[str]:
        return list(g.pred[node])

    def via(node: str, bit: int) -> str:
        """The branch step that brought ``bit`` to ``node``: itself, or through its first upstream step."""
        while own_bit.get(node) != bit:
            node = next(pred for pred in upstream(node) if gates[pred] & bit)
        return node

    gates: dict[str, int] = {}
    for node in order:
        own = own_bit.get(node, 0)
        for pred in upstream(node):
            own |= gates[pred]
        gates[node] = own
        both = own & (own >> 1) & evens
        while both:
            low = both & -both
            cond = conds[low.bit_length() // 2]
            both ^= low
            then_step, else_step = via(node, low), via(node, low << 1)
            b.problem(
                "never-runs",
                (node, cond),
                f"needs {then_step!r} (then branch of {cond!r}) and {else_step!r} (otherwise branch), "
                "but only one branch ever runs, so this step never would.",
                f"Make {node!r} depend on one branch only, or split it into one step per branch.",
                severity=severity,
            )
            gates[node] = own & ~(low | low << 1)  # report once per chain


def _type_problem(b: Builder, cond: str, text: str, fix: str, severity: Severity) -> None:
    b.problem("condition-type", (cond,), text, fix, severity=severity)


def condition_types(b: Builder) -> None:
    """Comparisons dagml can decide the way SageMaker does (dagml/local/decide.py).

    Ordering takes two numbers, or two strings (by code point: the service orders strings,
    test_ppl_var_to_string_and_add); equality takes two values of one type. Anything else in
    a dagml pipeline is an error: its local decision would be an error (a mix) or a constant
    (never equal), and SageMaker documents no meaning for ordering booleans. In an imported
    definition it is a warning: the service accepts such definitions (the SDK's
    test_workflow.py compares a training job's HyperParameters string with 6.0), and a
    reference (Std:JsonGet, a step property, Execution.StartDateTime) may hold any type.
    """
    for spec in b.specs.values():
        if not isinstance(spec, ConditionSpec):
            continue
        severity: Severity = "warning" if imported_condition(spec) else "error"
        for leaf in iter_compares(spec.expression):
            if isinstance(leaf, Compare):
                lt, rt = operand_type(leaf.left), operand_type(leaf.right)
                known = {lt, rt} - {ANY}
                shown = f"`{describe(leaf, defaults=False)}`"
                if leaf.op in ORDERING:
                    unordered = sorted(known - set(ORDERED_TYPES))
                    if unordered or len(known) > 1:
                        _type_problem(
                            b,
                            spec.name,
                            f"{shown} orders a {lt} and a {rt}; dagml orders two numbers, or two strings "
                            "(by code point), never booleans or a mix.",
                            "Compare two numbers (metrics, Integer/Float params, number literals) or two strings; "
                            "use == for booleans.",
                            severity,
                        )
                elif len(known) > 1:
                    _type_problem(
                        b,
                        spec.name,
                        f"{shown} compares a {lt} with a {rt}, which is never equal.",
                        "Compare values of the same type (e.g. a String param with a string).",
                        severity,
                    )
            elif isinstance(leaf, In):
                vt = operand_type(leaf.value)
                bad = [o for o in leaf.options if ANY not in (vt, operand_type(o)) and operand_type(o) != vt]
                if bad:
                    _type_problem(
                        b,
                        spec.name,
                        f"`{describe(leaf, defaults=False)}` checks a {vt} against {', '.join(map(repr, bad))}.",
                        f"Give isin() only {vt} values.",
                        severity,
                    )
        if not any(isinstance(o, (MetricRef, Param)) for o in operands(spec.expression)):
            b.problem(
                "constant-condition",
                (spec.name,),
                "condition compares only literals, so its outcome never changes.",
                "Compare a metric or a param, or drop the condition.",
                severity="warning",
            )


def _not_finite(value: object) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def finite_numbers(b: Builder) -> None:
    """NaN and infinities: JSON cannot hold them, so the compiled definition would be invalid."""
    for param in b.pipe.params:
        if _not_finite(param.default):
            b.problem(
                "non-finite",
                (param.name,),
                f"param {param.name!r} has the default {param.default!r}; JSON has no NaN or Infinity, so "
                "SageMaker would reject the compiled definition.",
                f"Give it a finite default, e.g. pipe.param({param.name!r}, 0.0).",
            )
        bad = [v for v in param.enum or () if _not_finite(v)]
        if bad:
            b.problem(
                "non-finite",
                (param.name,),
                f"param {param.name!r} has the enum values {bad!r}; JSON has no NaN or Infinity.",
                "List only finite numbers in enum=.",
            )
    for spec in b.specs.values():
        if not isinstance(spec, ConditionSpec):
            continue
        for leaf in iter_compares(spec.expression):
            values = (leaf.left, leaf.right) if isinstance(leaf, Compare) else (leaf.value, *leaf.options)
            for value in values:
                if _not_finite(value):
                    b.problem(
                        "non-finite",
                        (spec.name,),
                        f"`{describe(leaf, defaults=False)}` compares with {value!r}; JSON has no NaN or "
                        "Infinity, and nothing compares meaningfully with them (NaN is never equal, greater "
                        "or less).",
                        "Compare with a finite number (e.g. 0.9) or a Float param; drop a comparison with "
                        "infinity, which always has the same outcome.",
                    )


def step_defaults(b: Builder) -> None:
    """A step as a parameter's default: the wiring rule reads names, not defaults, so it makes no edge."""
    for spec in b.specs.values():
        if not isinstance(spec, FunctionSpec):
            continue
        for p in spec.parameters:
            if isinstance(p.default, Node):
                step = p.default.name
                b.problem(
                    "step-default",
                    (spec.name, step),
                    f"parameter {p.name!r} has step {step!r} as its default; a step as a default value "
                    f"does not make a dependency (the step would receive the step object, not its output).",
                    f"Name the parameter after the step (def {spec.name}({step}): ...) to read its output, "
                    f"or use after=[{step!r}] to only run after it.",
                )


def register_options(b: Builder) -> None:
    for spec in b.specs.values():
        if not isinstance(spec, RegisterSpec):
            continue
        if isinstance(spec.approval, str) and spec.approval not in APPROVAL_STATUSES:
            b.problem(
                "invalid-option",
                (spec.name,),
                f"approval={spec.approval!r} is not a SageMaker approval status.",
                f"Use one of {', '.join(map(repr, APPROVAL_STATUSES))}.",
            )
        if isinstance(spec.approval, Param) and (
            spec.approval.type != "String" or spec.approval.default not in APPROVAL_STATUSES
        ):
            b.problem(
                "invalid-option",
                (spec.name, spec.approval.name),
                f"approval param {spec.approval.name!r} (default {spec.approval.default!r}) must be a "
                "String param whose default is an approval status.",
                f"Declare it as pipe.param({spec.approval.name!r}, 'PendingManualApproval', enum=[...]).",
            )
        if isinstance(spec.group, str) and not naming.check_name("group", spec.group):
            b.problem(
                "invalid-name",
                (spec.name,),
                f"model package group {spec.group!r} is not accepted by SageMaker ({naming.rule_text('group')}).",
                f"Use e.g. group={naming.suggest('group', spec.group)!r}.",
            )
        if isinstance(spec.group, Param) and spec.group.type != "String":
            b.problem(
                "invalid-option",
                (spec.name, spec.group.name),
                f"group param {spec.group.name!r} is a {spec.group.type} param; a group name is a string.",
                "Bind a String param.",
            )


#: API reference, Channel: ChannelName is 1 to 64 of ``[A-Za-z0-9\.\-_]``.
_CHANNEL = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")


def container_inputs(b: Builder) -> None:
    """A container's or training script's channel names, as CreateTrainingJob accepts them (API
    reference, Channel)."""
    for spec in b.specs.values():
        if not isinstance(spec, (ContainerSpec, ScriptSpec)) or (isinstance(spec, ScriptSpec) and not spec.trains):
            continue
        for channel, _ in spec.inputs:
            if not _CHANNEL.match(channel):
                suggestion = re.sub(r"[^A-Za-z0-9.\-_]", "_", channel)[:64] or "train"
                b.problem(
                    "invalid-option",
                    (spec.name, channel),
                    f"input channel {channel!r} is not a SageMaker channel name (1 to 64 letters, digits, '.', '-', '_').",
                    f"Rename it, e.g. {suggestion!r}.",
                )


def option_types(b: Builder) -> None:
    for spec in b.specs.values():
        if not isinstance(spec, (FunctionSpec, ContainerSpec, ScriptSpec, TransformSpec)):
            continue
        opts = spec.options
        itype, icount = opts.instance_type, opts.instance_count
        if opts.display_name is not None and not naming.check_name("step", opts.display_name):
            b.problem(
                "invalid-option",
                (spec.name,),
                f"display_name={opts.display_name!r} is not accepted by SageMaker ({naming.rule_text('step')}).",
                f"Use e.g. display_name={naming.suggest('step', opts.display_name)!r}.",
            )
        if isinstance(itype, str) and not itype.startswith("ml."):
            b.problem(
                "invalid-option",
                (spec.name,),
                f"instance_type={itype!r} is not a SageMaker instance type.",
                f"Use an 'ml.' instance type, e.g. 'ml.{itype}'." if "." in itype else "Use e.g. 'ml.m5.xlarge'.",
            )
        if isinstance(itype, Param) and itype.type != "String":
            b.problem(
                "invalid-option",
                (spec.name, itype.name),
                f"instance_type is bound to {itype.type} param {itype.name!r}.",
                "Bind a String param (e.g. pipe.param('TrainInstanceType', 'ml.m5.xlarge')).",
            )
        if isinstance(icount, Param) and icount.type != "Integer":
            b.problem(
                "invalid-option",
                (spec.name, icount.name),
                f"instance_count is bound to {icount.type} param {icount.name!r}.",
                "Bind an Integer param.",
            )
        if isinstance(spec, FunctionSpec):
            _data_options(b, spec)
    jobchecks.check(b)  # role, network, encryption, spot, warm pool (dagml.spec.jobs)


def _data_options(b: Builder, spec: FunctionSpec) -> None:
    """Named outputs' destinations and datasets' delivery options a job of this kind accepts."""
    for output in spec.outputs:
        if isinstance(output.s3, Param) and output.s3.type != "String":
            b.problem(
                "invalid-option",
                (spec.name, output.s3.name),
                f"output {output.name!r} goes to s3= {output.s3.type} param {output.s3.name!r}.",
                "Bind a String param holding an s3:// URI.",
            )
    if spec.kind != "processing":
        return
    for binding in b.bindings.get(spec.name, ()):
        if binding.source != DATASET or binding.ref is None:
            continue
        dataset = next((d for d in b.pipe.datasets if d.name == binding.ref), None)
        if dataset is not None and dataset.input_mode == "FastFile":
            # API reference, ProcessingS3Input: S3InputMode takes File or Pipe; FastFile is a training
            # channel's InputMode only (API reference, Channel).
            b.problem(
                "invalid-option",
                (spec.name, dataset.name),
                f"parameter {binding.parameter!r} reads dataset {dataset.name!r} with input_mode='FastFile', which a "
                "processing job does not accept (its S3InputMode is File or Pipe).",
                "Declare the dataset with input_mode='File', or read it in a training step.",
            )


def unused(b: Builder) -> None:
    used: set[str] = set()
    for spec in b.specs.values():
        used.update(p.name for p in jobchecks.params_of(spec))
        if isinstance(spec, FunctionSpec):
            used.update(bd.ref for bd in b.bindings.get(spec.name, ()) if bd.source in (PARAM, DATASET) and bd.ref)
            used.update(p.name for p in spec.options.params())
            used.update(o.s3.name for o in spec.outputs if isinstance(o.s3, Param))
        elif isinstance(spec, (ContainerSpec, ScriptSpec)):
            used.update(bd.ref for bd in b.bindings.get(spec.name, ()) if bd.source == DATASET and bd.ref)
            used.update(p.name for p in spec.options.params())
            used.update(v.name for _, v in spec.hyperparameters if isinstance(v, Param))
            if isinstance(spec, ScriptSpec):
                used.update(v.name for v in spec.arguments if isinstance(v, Param))
                used.update(o.s3.name for o in spec.outputs if isinstance(o.s3, Param))
        elif isinstance(spec, TransformSpec):
            used.update(p.name for p in spec.options.params())
            if spec.data_is_dataset:
                used.add(spec.data)
        elif isinstance(spec, RegisterSpec):
            used.update(v.name for v in (spec.group, spec.approval) if isinstance(v, Param))
        elif isinstance(spec, FailSpec):
            used.update(p.name for p in spec.message if isinstance(p, Param))
        elif imported_step(spec):
            used.update(spec.params)
        elif isinstance(spec, ConditionSpec):
            used.update(o.name for o in operands(spec.expression) if isinstance(o, Param))
    declared: list[Param | Dataset] = [*b.pipe.params, *b.pipe.datasets]
    for item in declared:
        if item.name not in used:
            what = "param" if isinstance(item, Param) else "dataset"
            b.problem(
                f"unused-{what}",
                (item.name,),
                f"{what} {item.name!r} is declared but no step, option or condition uses it.",
                "Bind it as a step parameter's default, use it in a condition, or remove it.",
                severity="warning",
            )
    in_branch = {m for s in b.specs.values() if isinstance(s, ConditionSpec) for m in (*s.then, *s.otherwise)}
    for spec in b.specs.values():
        if isinstance(spec, FailSpec) and spec.name not in in_branch:
            b.problem(
                "unconditional-fail",
                (spec.name,),
                "fail step is in no condition branch, so every execution fails when it is reached.",
                "Put it in a branch: pipe.condition(..., otherwise=[...]).",
                severity="warning",
            )
