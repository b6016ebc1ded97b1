"""Import any SageMaker pipeline definition JSON into dagml's graph, and compile it back.

A definition from the SageMaker SDK, Studio's editor, ``describe-pipeline`` or
``dagml compile`` becomes an :class:`ImportedPipeline`: its parameters are
:class:`~dagml.spec.params.Param` objects, its conditions real
:class:`~dagml.spec.specs.ConditionSpec` trees, every other step an
:class:`~dagml.spec.imported.ImportedSpec` holding its JSON. ``validate()``
builds the same :class:`~dagml.graph.model.PipelineGraph` as for a dagml
pipeline, with the same rules, so it draws and diffs the same way. Edges come
from the JSON: each ``Get`` / ``Std:JsonGet`` of ``Steps.X...`` is a data edge
from X (its JSON path is the edge's ``via``), ``DependsOn`` an ordering edge,
``IfSteps`` / ``ElseSteps`` the branches.

Compiling an imported pipeline re-emits each step's JSON unchanged, re-nested
by the graph's branches, with the definition's other top-level keys as they
were, so compile -> import -> compile gives the same bytes.

A malformed definition raises :class:`DefinitionError` naming the JSON path of
the problem (``$.Steps[3].Arguments.IfSteps[0].Name``) and the fix.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from dagml._gc import paused_gc
from dagml.errors import Problem, did_you_mean
from dagml.graph import names as naming
from dagml.graph.build import build_graph
from dagml.graph.model import PipelineGraph
from dagml.sagemaker.definition import CompiledPipeline, finish
from dagml.sagemaker.errors import DefinitionError
from dagml.spec.conditions import And, Compare, Expr, In, Not, Operand, Or
from dagml.spec.errors import DeclarationError
from dagml.spec.imported import (
    KIND_OF_TYPE,
    OTHER,
    STEP_TYPES,
    ImportedCondition,
    ImportedDeclarations,
    ImportedRef,
    ImportedSpec,
)
from dagml.spec.params import Param
from dagml.spec.specs import NodeSpec

__all__ = [
    "DefinitionError",
    "compile_imported",
    "definition_of",
    "import_definition",
    "load_definition",
    "read_definition",
]

PARAM_TYPES = ("String", "Integer", "Float", "Boolean")
#: The default dagml shows for a parameter without ``DefaultValue`` (an execution must then pass one).
PLACEHOLDER: Mapping[str, Any] = {"String": "", "Integer": 0, "Float": 0.0, "Boolean": False}
#: Definition comparison type -> dagml operator.
COMPARISONS = {
    "Equals": "==",
    "NotEquals": "!=",
    "GreaterThan": ">",
    "GreaterThanOrEqualTo": ">=",
    "LessThan": "<",
    "LessThanOrEqualTo": "<=",
}
CONDITION_TYPES = (*COMPARISONS, "In", "Not", "Or")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STEP_REF = re.compile(r"^Steps\.([^.\[\]]+)")
#: ``Steps.X.PropertyFiles.Name`` (or ``['Name']``): the property file a Std:JsonGet reads.
_PROPERTY_FILE = re.compile(r"^Steps\.([^.\[\]]+)\.PropertyFiles(?:\.(.+)|\['(.+)'\])$")


def _steps_named(value: Any) -> list[str]:
    """The steps every ``Get`` of ``Steps.X...`` inside ``value`` names, in document order."""
    if isinstance(value, dict):
        found = []
        get = value.get("Get")
        match = _STEP_REF.match(get) if isinstance(get, str) else None
        if match is not None:
            found.append(match.group(1))
        for item in value.values():
            found += _steps_named(item)
        return found
    if isinstance(value, list):
        return [name for item in value for name in _steps_named(item)]
    return []


def _dict(value: Any) -> dict[str, Any]:
    """Only what has the right shape: a definition can hold anything anywhere."""
    return value if isinstance(value, dict) else {}


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{key!r}]"


def definition_of(graph: PipelineGraph) -> dict[str, Any]:
    """An imported graph's definition again: each step's JSON as imported, nested by the branches."""
    if graph.definition_top is None:
        raise TypeError(f"pipeline {graph.name!r} was declared in Python, not imported; compile it instead")

    def emit(name: str) -> dict[str, Any]:
        spec = graph[name]
        assert isinstance(spec, (ImportedSpec, ImportedCondition))
        step = copy.deepcopy(dict(spec.raw))
        if isinstance(spec, ImportedCondition):
            args = step["Arguments"]
            for key, members in (("IfSteps", spec.then), ("ElseSteps", spec.otherwise)):
                if key in args:
                    args[key] = [emit(m) for m in members]
        return step

    top_level = [name for name in graph.declaration_order if name not in graph.branch_of]
    return {**copy.deepcopy(dict(graph.definition_top)), "Steps": [emit(name) for name in top_level]}


def _same(value: dict[str, Any]) -> dict[str, Any]:
    return value


class _Reader:
    """One pass over a definition; raises at the first malformed spot.

    Its cost is linear in the definition's size, with a small constant: a definition can hold
    millions of DependsOn entries (2,000 steps, each after every earlier one), so a DependsOn list
    is kept as one tuple of interned names and checked in one pass, and JSON the reader parsed
    itself (``owned``) is not copied again (benchmarks/bench_import.py, docs/performance.md).
    """

    def __init__(self, source: str, owned: bool = False) -> None:
        self.source = source
        #: The parsed JSON belongs to this reader (it parsed the text): keep it instead of copying it.
        self.copy: Callable[[dict[str, Any]], dict[str, Any]] = _same if owned else copy.deepcopy
        self.params: dict[str, Param] = {}
        self.nodes: list[NodeSpec | None] = []
        self.names: set[str] = set()
        #: (owner step, step named, JSON path), or (owner, its DependsOn names, the DependsOn path),
        #: checked once every step is known.
        self.step_refs: list[tuple[str, str | tuple[str, ...], str]] = []
        #: (owner, step, property file, JSON path) of each Std:JsonGet of a PropertyFile.
        self.json_gets: list[tuple[str, str, str, str]] = []
        #: Step -> {PropertyFileName: (OutputName, JSON path)}, and step -> its processing output names.
        self.property_files: dict[str, dict[str, tuple[Any, str]]] = {}
        self.outputs: dict[str, set[str]] = {}

    def fail(self, path: str, message: str, fix: str) -> NoReturn:
        raise DefinitionError(self.source, path, message, fix)

    # ------------------------------------------------------------ parameters
    def parameter(self, item: Any, path: str) -> Param:
        if not isinstance(item, dict):
            self.fail(
                path,
                f"a parameter must be an object with Name and Type, got {item!r}.",
                'Write {"Name": ..., "Type": ...}.',
            )
        name = item.get("Name")
        if not isinstance(name, str) or not name:
            self.fail(
                _at(path, "Name"),
                f"parameter has no Name (got {name!r}).",
                "Give every parameter a Name (a string).",
            )
        # The schema makes Type optional for a String parameter (StringParameter requires only Name),
        # and the AWS::SageMaker::Pipeline CloudFormation example omits it
        # ({"Name": "InputDataSource", "DefaultValue": ""}): no Type is a String.
        ptype = item.get("Type", "String")
        if ptype not in PARAM_TYPES:
            self.fail(
                _at(path, "Type"),
                f"parameter {name!r} has Type {ptype!r}{did_you_mean(str(ptype), PARAM_TYPES)}.",
                f"Use one of {', '.join(PARAM_TYPES)}.",
            )
        enum = item.get("EnumValues")
        if enum is not None:
            if not isinstance(enum, list) or not enum:
                self.fail(
                    _at(path, "EnumValues"),
                    f"parameter {name!r}: EnumValues must be a non-empty list.",
                    "List the allowed values.",
                )
            enum = [self.value(v, ptype, _at(_at(path, "EnumValues"), i), name) for i, v in enumerate(enum)]
        if item.get("DefaultValue") is not None:
            default = self.value(item["DefaultValue"], ptype, _at(path, "DefaultValue"), name)
        else:  # allowed by SageMaker: an execution must pass a value
            default = enum[0] if enum else PLACEHOLDER[ptype]
        try:
            return Param(name, default, enum=enum)
        except DeclarationError as exc:
            self.fail(
                path,
                str(exc).split(" Fix:")[0],
                "Make DefaultValue one of EnumValues, of the parameter's Type.",
            )

    def value(self, value: Any, ptype: str, path: str, name: str) -> Any:
        if ptype == "String" and isinstance(value, str):
            return value
        if ptype == "Boolean" and isinstance(value, bool):
            return value
        if ptype in ("Integer", "Float") and isinstance(value, (int, float)) and not isinstance(value, bool):
            if ptype == "Float":
                return float(value)
            if isinstance(value, int) or value.is_integer():
                return int(value)
        self.fail(
            path, f"parameter {name!r} is {ptype}, but this value is {value!r}.", f"Give a {ptype} value."
        )

    # ------------------------------------------------------------ references
    def references(
        self, value: Any, path: str, owner: str, reads: list[tuple[str, str]], params: list[str]
    ) -> None:
        """Collect the ``Steps.X`` and ``Parameters.X`` references inside ``value``."""
        if isinstance(value, dict):
            json_get = value.get("Std:JsonGet")
            if isinstance(json_get, dict) and isinstance(json_get.get("PropertyFile"), dict):
                target = _PROPERTY_FILE.match(str(json_get["PropertyFile"].get("Get", "")))
                if target is not None:
                    file = target.group(2) if target.group(2) is not None else target.group(3)
                    self.json_gets.append((owner, target.group(1), file, _at(path, "Std:JsonGet")))
            if "Get" in value:
                get = value["Get"]
                if not isinstance(get, str):
                    self.fail(
                        _at(path, "Get"),
                        f"step {owner!r}: a Get must be a string, got {get!r}.",
                        'Write e.g. {"Get": "Parameters.X"}.',
                    )
                if get.startswith("Parameters."):
                    self.param_ref(get[len("Parameters.") :], path, owner)
                    params.append(get[len("Parameters.") :])
                elif get.startswith("Steps."):
                    match = _STEP_REF.match(get)
                    if match is None:
                        self.fail(
                            _at(path, "Get"),
                            f"step {owner!r}: {get!r} names no step.",
                            "Write Steps.<step name>.<property>.",
                        )
                    reads.append((match.group(1), path))
                    self.step_refs.append((owner, match.group(1), _at(path, "Get")))
            for key, item in value.items():
                self.references(item, _at(path, key), owner, reads, params)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.references(item, _at(path, i), owner, reads, params)

    def param_ref(self, name: str, path: str, owner: str) -> Param:
        if name not in self.params:
            self.fail(
                _at(path, "Get"),
                f"step {owner!r} reads parameter {name!r}, which the definition does not declare{did_you_mean(name, self.params)}.",
                "Declare it under Parameters, or correct the name.",
            )
        return self.params[name]

    # ------------------------------------------------------------ steps
    def steps(self, items: Any, path: str) -> list[str]:
        if not isinstance(items, list):
            self.fail(
                path,
                f"expected a list of steps, got {type(items).__name__}.",
                "Write a JSON list of step objects.",
            )
        return [self.step(item, _at(path, i)) for i, item in enumerate(items)]

    def step(self, step: Any, path: str) -> str:
        if not isinstance(step, dict):
            self.fail(
                path,
                f"a step must be an object with Name, Type and Arguments, got {step!r}.",
                'Write {"Name": ..., "Type": ..., "Arguments": {...}}.',
            )
        name = step.get("Name")
        if not isinstance(name, str) or not name:
            self.fail(
                _at(path, "Name"), f"step has no Name (got {name!r}).", "Give every step a Name (a string)."
            )
        step_type = step.get("Type")
        if step_type not in STEP_TYPES:
            self.fail(
                _at(path, "Type"),
                f"step {name!r} has Type {step_type!r}, which is not a SageMaker Pipelines step type"
                f"{did_you_mean(str(step_type), STEP_TYPES)}.",
                f"Use one of {', '.join(STEP_TYPES)}.",
            )
        if "Arguments" in step and not isinstance(step["Arguments"], dict):
            self.fail(
                _at(path, "Arguments"),
                f"step {name!r}: Arguments must be an object.",
                "Write Arguments as a JSON object.",
            )
        after = step.get("DependsOn", [])
        if not isinstance(after, list):
            self.fail(
                _at(path, "DependsOn"),
                f"step {name!r}: DependsOn must be a list of step names.",
                'Write ["step", ...].',
            )
        for i, other in enumerate(after):
            if not isinstance(other, str):
                self.fail(
                    _at(_at(path, "DependsOn"), i),
                    f"step {name!r}: DependsOn holds {other!r}, not a step name.",
                    "List step names.",
                )
        # One entry per list, not per name, and each name interned: the same step name repeated a
        # million times is one string, shared by the spec and the JSON compiled back.
        after = tuple(map(sys.intern, after))
        if after:
            self.step_refs.append((name, after, _at(path, "DependsOn")))
        name = sys.intern(name)
        self.names.add(name)
        slot = len(self.nodes)
        self.nodes.append(None)  # document order: the condition before its branches
        reads: list[tuple[str, str]] = []
        params: list[str] = []
        if step_type == "Condition":
            self.nodes[slot] = self.condition(step, path, name, tuple(after))
        else:
            self.references({k: v for k, v in step.items() if k != "DependsOn"}, path, name, reads, params)
            self.declared_files(step, path, name)
            raw = self.copy(step)
            if after:
                raw["DependsOn"] = list(after)  # the same names, interned
            self.nodes[slot] = ImportedSpec(
                name,
                KIND_OF_TYPE.get(step_type, OTHER),
                step_type,
                raw,
                after=after,
                reads=tuple(reads),
                params=tuple(dict.fromkeys(params)),
                origin=path,
            )
        return name

    def condition(
        self, step: dict[str, Any], path: str, name: str, after: tuple[str, ...]
    ) -> ImportedCondition:
        args = step.get("Arguments")
        args_path = _at(path, "Arguments")
        if not isinstance(args, dict):
            self.fail(
                args_path,
                f"condition {name!r} has no Arguments.",
                "Give it Arguments with Conditions, IfSteps and ElseSteps.",
            )
        conditions = args.get("Conditions")
        if not isinstance(conditions, list) or not conditions:
            self.fail(
                _at(args_path, "Conditions"),
                f"condition {name!r} has no Conditions.",
                "List at least one condition.",
            )
        terms = [
            self.expression(c, _at(_at(args_path, "Conditions"), i), name) for i, c in enumerate(conditions)
        ]
        reads: list[tuple[str, str]] = []
        self.references(conditions, _at(args_path, "Conditions"), name, reads, [])
        then = self.steps(args.get("IfSteps", []), _at(args_path, "IfSteps"))
        otherwise = self.steps(args.get("ElseSteps", []), _at(args_path, "ElseSteps"))
        raw = self.copy({k: v for k, v in step.items() if k != "Arguments"})
        if after:
            raw["DependsOn"] = list(after)  # the same names, interned
        raw["Arguments"] = {
            **self.copy({k: v for k, v in args.items() if k not in ("IfSteps", "ElseSteps")}),
            **({"IfSteps": then} if "IfSteps" in args else {}),
            **({"ElseSteps": otherwise} if "ElseSteps" in args else {}),
        }
        return ImportedCondition(
            name,
            terms[0] if len(terms) == 1 else And(tuple(terms)),
            then=tuple(then),
            otherwise=tuple(otherwise),
            after=after,
            origin=path,
            raw=raw,
            reads=tuple(reads),
        )

    # ------------------------------------------------------------ conditions
    def expression(self, cond: Any, path: str, owner: str) -> Expr:
        ctype = cond.get("Type") if isinstance(cond, dict) else None
        if ctype not in CONDITION_TYPES:
            self.fail(
                _at(path, "Type") if isinstance(cond, dict) else path,
                f"condition {owner!r}: {ctype if ctype is not None else cond!r} is not a condition type"
                f"{did_you_mean(str(ctype), CONDITION_TYPES)}.",
                f"Use one of {', '.join(CONDITION_TYPES)}.",
            )
        if ctype in COMPARISONS:
            left = self.operand(cond.get("LeftValue"), _at(path, "LeftValue"), owner)
            right = self.operand(cond.get("RightValue"), _at(path, "RightValue"), owner)
            return Compare(COMPARISONS[ctype], left, right)
        if ctype == "In":
            values = cond.get("Values")
            if not isinstance(values, list) or not values:
                self.fail(
                    _at(path, "Values"),
                    f"condition {owner!r}: In needs a non-empty list of Values.",
                    "List the values.",
                )
            query = self.operand(cond.get("QueryValue"), _at(path, "QueryValue"), owner)
            return In(
                query,
                tuple(self.operand(v, _at(_at(path, "Values"), i), owner) for i, v in enumerate(values)),
            )
        if ctype == "Or":
            items = cond.get("Conditions")
            if not isinstance(items, list) or not items:
                self.fail(
                    _at(path, "Conditions"),
                    f"condition {owner!r}: Or needs a non-empty list of Conditions.",
                    "List the alternatives.",
                )
            return Or(
                tuple(self.expression(c, _at(_at(path, "Conditions"), i), owner) for i, c in enumerate(items))
            )
        inner = cond.get("Condition")
        term = self.expression(inner, _at(path, "Condition"), owner)
        if isinstance(term, Compare) and inner.get("Type") == "Equals":
            return Compare("!=", term.left, term.right)
        if isinstance(term, Or) and all(isinstance(t, Not) for t in term.terms):
            return And(
                tuple(t.term for t in term.terms if isinstance(t, Not))
            )  # how dagml writes `a & b` inside | and ~
        return Not(term)

    def operand(self, value: Any, path: str, owner: str) -> Operand:
        if isinstance(value, (str, bool, int, float)):
            return value
        if isinstance(value, dict) and isinstance(value.get("Get"), str):
            get = value["Get"]
            if get.startswith("Parameters."):
                return self.param_ref(get[len("Parameters.") :], path, owner)
            match = _STEP_REF.match(get)
            if match:
                return ImportedRef(
                    match.group(1), get[match.end() :].lstrip("."), text=get[len("Steps.") :], raw=value
                )
            return ImportedRef("", get, text=get, raw=value)
        if isinstance(value, dict) and isinstance(value.get("Std:JsonGet"), dict):
            spec = value["Std:JsonGet"]
            file = spec.get("PropertyFile")
            match = (
                _STEP_REF.match(file.get("Get", ""))
                if isinstance(file, dict) and isinstance(file.get("Get"), str)
                else None
            )
            key = str(spec.get("Path", ""))
            if match is None and "S3Uri" in spec:
                # A JsonGet over an S3 URI (the SDK's @step return values: the Join of a step's
                # OutputDataConfig.S3OutputPath and results.json) reads the file of the steps the URI names.
                steps = list(dict.fromkeys(_steps_named(spec["S3Uri"])))
                if len(steps) == 1:
                    return ImportedRef(steps[0], key, text=f"{steps[0]}.{key}", raw=value)
                if steps:
                    return ImportedRef("", key, text=f"json({', '.join(steps)}: {key})", raw=value)
            return ImportedRef(
                match.group(1) if match else "",
                key,
                text=f"{match.group(1)}.{key}" if match else f"json({key})",
                raw=value,
            )
        if isinstance(value, dict) and "Std:Join" in value:
            return ImportedRef("", "", text="join(...)", raw=value)
        self.fail(
            path,
            f"condition {owner!r}: {value!r} is not a condition operand.",
            "Use a literal (string, number, boolean), a Get, a Std:JsonGet or a Std:Join.",
        )

    # ------------------------------------------------------------ the whole definition
    def definition(self, data: Any) -> tuple[tuple[Param, ...], tuple[NodeSpec, ...], dict[str, Any]]:
        if not isinstance(data, dict):
            self.fail(
                "$",
                f"a pipeline definition is a JSON object, got {type(data).__name__}.",
                "Give the object with Version, Parameters and Steps.",
            )
        parameters = data.get("Parameters", [])
        if not isinstance(parameters, list):
            self.fail("$.Parameters", "Parameters must be a list.", "Write a JSON list of parameter objects.")
        params = []
        for i, item in enumerate(parameters):
            param = self.parameter(item, _at("$.Parameters", i))
            self.params.setdefault(param.name, param)
            params.append(param)
        if "Steps" not in data:
            self.fail("$", "the definition has no Steps.", "Give the list of steps under Steps.")
        self.steps(data["Steps"], "$.Steps")
        names = self.names
        for owner, targets, path in self.step_refs:
            if isinstance(targets, str):  # one Get, at its own path
                missing = [] if targets in names else [(path, targets)]
            elif all(t in names for t in targets):  # a whole DependsOn list at C speed
                continue
            else:
                missing = [(_at(path, i), t) for i, t in enumerate(targets) if t not in names]
            for where, target in missing[:1]:
                self.fail(
                    where,
                    f"step {owner!r} names step {target!r}, which the definition does not have{did_you_mean(target, names)}.",
                    "Correct the step name, or add the step.",
                )
        nodes = tuple(n for n in self.nodes if n is not None)
        return tuple(params), nodes, self.copy({k: v for k, v in data.items() if k != "Steps"})

    # ------------------------------------------------------------ property files
    def declared_files(self, step: dict[str, Any], path: str, name: str) -> None:
        """Remember the step's PropertyFiles and its processing outputs, for :meth:`property_file_problems`."""
        files = step.get("PropertyFiles")
        if isinstance(files, list):
            declared = self.property_files.setdefault(name, {})
            for i, item in enumerate(files):
                if isinstance(item, dict) and isinstance(item.get("PropertyFileName"), str):
                    where = _at(_at(path, "PropertyFiles"), i)
                    declared[item["PropertyFileName"]] = (item.get("OutputName"), where)
        outputs = _dict(_dict(step.get("Arguments")).get("ProcessingOutputConfig")).get("Outputs")
        if isinstance(outputs, list):
            self.outputs[name] = {
                o["OutputName"] for o in outputs if isinstance(o, dict) and isinstance(o.get("OutputName"), str)
            }

    def property_file_problems(self) -> list[Problem]:
        """Dangling property files: a Std:JsonGet of a file the step does not declare, a file of no output.

        Both can never resolve: SageMaker reads a Std:JsonGet's PropertyFile from the step's declared
        PropertyFiles, and a PropertyFile from the processing output its OutputName names (the SDK's
        PropertyFile: "output_name: the name of the processing job output channel",
        src/sagemaker/workflow/properties.py), so the condition or argument reading it cannot be decided.
        """
        problems = []
        for owner, step, file, path in self.json_gets:
            if step not in self.names:
                continue  # reported as an unknown step
            declared = self.property_files.get(step, {})
            if file not in declared:
                known = ", ".join(map(repr, sorted(declared))) or "none"
                problems.append(
                    Problem(
                        "unknown-property-file",
                        (owner, step),
                        f"{path} reads property file {file!r} of step {step!r}, which declares no such "
                        f"property file (its PropertyFiles: {known}){did_you_mean(file, declared)}.",
                        f"Add {file!r} to the PropertyFiles of {step!r}, or read one it declares.",
                    )
                )
        for step, declared in self.property_files.items():
            outputs = self.outputs.get(step)
            for file, (output, path) in sorted(declared.items()):
                if outputs is not None and output not in outputs:
                    problems.append(
                        Problem(
                            "unknown-output",
                            (step,),
                            f"{path}: property file {file!r} reads output {output!r}, which step {step!r} does "
                            f"not have (its outputs: {', '.join(map(repr, sorted(outputs))) or 'none'})"
                            f"{did_you_mean(str(output), outputs)}.",
                            "Set OutputName to one of the step's ProcessingOutputConfig outputs.",
                        )
                    )
        return problems


def import_definition(
    definition: str | bytes | Mapping[str, Any],
    *,
    name: str,
    description: str | None = None,
    source: str | None = None,
) -> PipelineGraph:
    """Import a definition (its JSON text or the parsed object) as pipeline ``name``: its validated graph.

    Raises :class:`DefinitionError` for malformed input and
    :class:`~dagml.PipelineValidationError` listing every rule the pipeline breaks
    (the rules the SageMaker service enforces; schema-only ones are warnings).
    """
    return build_graph(read_definition(definition, name=name, description=description, source=source))


def read_definition(
    definition: str | bytes | Mapping[str, Any], *, name: str, description: str | None = None, source: str | None = None
) -> ImportedDeclarations:
    """Read a definition into the declarations the graph is built from (no rules checked yet).

    :func:`import_definition` is this plus :func:`dagml.graph.build.build_graph`; the benchmark of
    importing times the two apart.
    """
    with paused_gc():  # json.loads and the reader build millions of acyclic objects: see dagml/_gc.py
        return _read(definition, name, description, source or f"definition of {name!r}")


def _read(
    definition: str | bytes | Mapping[str, Any], name: str, description: str | None, source: str
) -> ImportedDeclarations:
    owned = isinstance(definition, (str, bytes))  # parsed here: nobody else holds the objects
    if isinstance(definition, (str, bytes)):
        try:
            data = json.loads(definition)
        except RecursionError:
            raise DefinitionError(
                source, "$", "nested too deeply to be a pipeline definition.", "Give a pipeline definition in JSON."
            ) from None
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
            where = (
                f"{exc.msg} at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            )
            raise DefinitionError(source, "$", f"not JSON: {where}.", "Give a pipeline definition in JSON (UTF-8).") from None
    else:
        data = definition
    reader = _Reader(source, owned=owned)
    try:
        params, nodes, top = reader.definition(data)
    except RecursionError:
        raise DefinitionError(
            source, "$", "nested too deeply to be a pipeline definition.", "Give a pipeline definition in JSON."
        ) from None
    return ImportedDeclarations(
        name, description, params, nodes, top, source, reading_problems=tuple(reader.property_file_problems())
    )


def load_definition(path: str, name: str | None = None) -> PipelineGraph:
    """Import a definition file; the pipeline is named after the file unless ``name`` is given.

    A definition holds no pipeline name, so the file's stem is used, spelled as
    SageMaker accepts (``my_flow.json`` -> ``my-flow``).
    """
    from dagml.errors import ConfigurationError

    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read definition {path!r}: {exc.strerror}. Fix: check the path."
        ) from None
    stem = os.path.splitext(os.path.basename(path))[0]
    if name is None:
        name = stem if naming.check_name("pipeline", stem) else naming.suggest("pipeline", stem)
    return import_definition(text, name=name, source=f"definition {path!r}")


def compile_imported(imported: PipelineGraph) -> CompiledPipeline:
    """A :class:`~dagml.sagemaker.compiler.CompiledPipeline` of the re-emitted definition.

    Same canonical text and pre-flight lint as a compiled dagml pipeline; there
    is no code bundle and no dataset to upload (``bundle`` is None).
    """
    return finish(imported.name, definition_of(imported))
