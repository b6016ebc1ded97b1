"""Run one step of a pipeline inside a SageMaker job (or a local stand-in for one).

``dagml_entry.py`` (the bundle's bootstrap) calls :func:`main`. It loads the
pipeline, validates it, binds the step function's parameters with the same
wiring rule as everything else (``graph.bindings``), reads the inputs from the
container paths of :mod:`dagml.contract`, calls the function and writes
its return value:

- Processing (``--mode processing --target T --step S [--param NAME=VALUE]...``):
  inputs in ``<root>/processing/input/<parameter>/``, the value to
  ``<root>/processing/output/output.pkl``, a metrics report also to
  ``<root>/processing/metrics/evaluation.json``.
- Training (no ``--mode``: the training toolkit passes hyperparameters as
  ``--key value`` arguments, which are ignored): everything comes from
  ``<root>/input/config/hyperparameters.json``; inputs in
  ``<root>/input/data/<parameter>/``; the model to ``<root>/model/model.pkl``.

Any failure prints the reason (and the traceback of the user's code) to stderr,
writes it to ``<root>/output/failure`` (a training job's FailureReason; the
training toolkit keeps a failure file it finds, see the container contract in
docs/sagemaker.md) and ``<root>/output/message`` (a processing job's
ExitMessage), and returns 1.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pathlib
import sys
import traceback
import types
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import attrs

from dagml._package import PACKAGE_DIR
from dagml.contract import (
    CSV_FILE,
    DEFAULT_ROOT,
    FAILURE_FILE,
    HP_MODE,
    HP_STEP,
    HP_TARGET,
    HYPERPARAMETERS_FILE,
    MESSAGE_FILE,
    MODEL_DIR,
    PROCESSING_CSV_DIR,
    PROCESSING_INPUT_DIR,
    PROCESSING_METRICS_DIR,
    PROCESSING_OUTPUT_DIR,
    PROCESSING_OUTPUTS_DIR,
    ROOT_ENV,
    TRAINING_CHANNEL_DIR,
)
from dagml.errors import DagmlError, did_you_mean
from dagml.graph.build import build_graph
from dagml.graph.model import PipelineGraph
from dagml.graph.wiring import CONSTANT, DATASET, OUTPUT, OUTPUT_DIRS, PARAM, STEP
from dagml.runtime import artifacts
from dagml.runtime.errors import StepRuntimeError, StepUsageError
from dagml.spec import model_quality
from dagml.spec.params import TEXT_FORMS, Param, ParamValue, parse_param_text
from dagml.spec.pipeline import PipelineDeclaration
from dagml.spec.specs import FunctionSpec, RegisterSpec

__all__ = [
    "FAILURE_FILE",
    "MESSAGE_FILE",
    "Invocation",
    "StepRuntimeError",
    "StepUsageError",
    "bundle_root",
    "container_root",
    "convert_param",
    "execute",
    "load_pipeline",
    "main",
    "param_text",
    "parse_invocation",
    "run",
    "step_failed",
    "unquote",
]

#: SageMaker keeps the first 1 KB of a failure reason or an exit message.
_MAX_REASON = 1024


class _UserCodeError(Exception):
    """The user's function raised ``__cause__``."""


@attrs.frozen
class Invocation:
    """What to run: ``mode`` (processing | training), pipeline ``target``, ``step``, param values."""

    mode: str
    target: str
    step: str
    values: Mapping[str, object] = attrs.field(factory=dict)


def container_root() -> str:
    """``$DAGML_CONTAINER_ROOT``, or ``/opt/ml``."""
    return os.environ.get(ROOT_ENV) or DEFAULT_ROOT


def bundle_root() -> str:
    """The directory holding the imported ``dagml`` package (the extracted bundle)."""
    return os.path.dirname(PACKAGE_DIR)


# --------------------------------------------------------------------- arguments
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise StepUsageError(f"dagml step runtime: {message}. Fix: {self.format_usage().strip()}")


@functools.cache
def _parser() -> _Parser:
    """The argument parser (built once: a local run calls the runtime once per step)."""
    parser = _Parser(prog="dagml_entry.py", allow_abbrev=False, add_help=False)
    parser.add_argument("--mode", choices=("processing", "training"))
    parser.add_argument("--target")
    parser.add_argument("--step")
    return parser


def _split_params(argv: list[str]) -> tuple[list[str], dict[str, object]]:
    """Take ``--param NAME=VALUE`` and ``--param NAME VALUE`` out of ``argv``.

    Done by hand, not by argparse, so a value may start with ``-`` or be empty.
    Param names never contain ``=``, so the two forms cannot be confused.
    """
    rest: list[str] = []
    values: dict[str, object] = {}
    usage = "Fix: pass --param NAME=VALUE or --param NAME VALUE."
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg != "--param" and not arg.startswith("--param="):
            rest.append(arg)
            i += 1
            continue
        if arg == "--param":
            if i + 1 >= len(argv):
                raise StepUsageError(f"dagml step runtime: the last --param has no value. {usage}")
            item, i = argv[i + 1], i + 2
        else:
            item, i = arg[len("--param=") :], i + 1
        name, sep, value = item.partition("=")
        if not sep:
            if arg != "--param" or i >= len(argv):
                raise StepUsageError(f"dagml step runtime: --param {item!r} has no value. {usage}")
            value, i = argv[i], i + 1
        if not name:
            raise StepUsageError(f"dagml step runtime: --param {item!r} has no name. {usage}")
        values[name] = value
    return rest, values


def unquote(value: object) -> object:
    """SageMaker passes hyperparameters as strings, sometimes JSON-quoted: ``"\\"10\\""``."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, str):
            return decoded
    return value


def _training_invocation(root: str) -> Invocation:
    path = os.path.join(root, HYPERPARAMETERS_FILE)
    if not os.path.isfile(path):
        raise StepUsageError(
            f"dagml step runtime: no --mode argument and no {path!r}. Fix: run a processing step with "
            "--mode processing --target T --step S, or a training step with hyperparameters "
            f"{HP_MODE}, {HP_TARGET} and {HP_STEP}."
        )
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError) as exc:
        raise StepUsageError(f"dagml step runtime: cannot read {path!r} as JSON ({exc}).") from exc
    if not isinstance(raw, dict):
        raise StepUsageError(f"dagml step runtime: {path!r} is not a JSON object.")
    values = {str(k): unquote(v) for k, v in raw.items()}
    missing = [k for k in (HP_MODE, HP_TARGET, HP_STEP) if not values.get(k)]
    if missing:
        raise StepUsageError(
            f"dagml step runtime: {path!r} lacks {', '.join(missing)}. Fix: the training job's "
            f"hyperparameters must set {HP_MODE}='training', {HP_TARGET} and {HP_STEP}."
        )
    if values[HP_MODE] != "training":
        raise StepUsageError(
            f"dagml step runtime: {HP_MODE}={values[HP_MODE]!r} in {path!r}; only 'training' runs from "
            "hyperparameters. Fix: run processing steps with --mode processing."
        )
    params = {k: v for k, v in values.items() if k not in (HP_MODE, HP_TARGET, HP_STEP)}
    return Invocation("training", str(values[HP_TARGET]), str(values[HP_STEP]), params)


def parse_invocation(argv: Sequence[str], root: str) -> Invocation:
    """What the job asks for, from its arguments (processing) or hyperparameters (training)."""
    argv = list(argv)
    # The training toolkit passes every hyperparameter as --key value: never parse those.
    toolkit = any(a == f"--{HP_MODE}" or a.startswith(f"--{HP_MODE}=") for a in argv)
    has_mode = any(a == "--mode" or a.startswith("--mode=") for a in argv)
    if toolkit or not has_mode:
        return _training_invocation(root)
    rest, values = _split_params(argv)
    args, unknown = _parser().parse_known_args(rest)
    if args.mode == "training":
        return _training_invocation(root)
    if unknown:
        print(f"dagml step runtime: ignoring unknown arguments {unknown!r}", file=sys.stderr)
    if not args.target or not args.step:
        raise StepUsageError(
            "dagml step runtime: --mode processing needs --target and --step. "
            "Fix: --mode processing --target file.py --step NAME [--param NAME=VALUE]..."
        )
    return Invocation("processing", args.target, args.step, values)


# --------------------------------------------------------------------- values
def param_text(value: object) -> str:
    """A param value as SageMaker passes it to a job: a string (``true``, ``42``, ``0.5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def convert_param(param: Param, raw: object, step: str = "?") -> ParamValue:
    """A param's value as its type (Integer, Float, Boolean, String), from a string or a value.

    Text is parsed by :func:`dagml.spec.params.parse_param_text`, the parser the
    local runner uses for ``-p NAME=VALUE`` too.
    """
    value = unquote(raw)
    result: ParamValue
    if param.type == "String":
        result = value if isinstance(value, str) else json.dumps(value)
    else:
        try:
            result = parse_param_text(param.type, value if isinstance(value, str) else param_text(value))
        except ValueError:
            article = "an" if param.type[0] in "IA" else "a"
            raise StepRuntimeError(
                f"step {step!r}: pipeline param {param.name!r} is {param.type} but got {raw!r}. "
                f"Fix: pass {article} {param.type} value ({TEXT_FORMS[param.type]})."
            ) from None
    if param.enum is not None and result not in param.enum:
        raise StepRuntimeError(
            f"step {step!r}: pipeline param {param.name!r} is {result!r}, not one of {list(param.enum)!r}. "
            "Fix: start the execution with one of the allowed values."
        )
    return result


def load_pipeline(target: str) -> PipelineDeclaration:
    """The pipeline ``target`` names, a path relative to the bundle root (or the cwd, or absolute).

    A file inside a package (its directory has ``__init__.py``) is imported as
    ``package.module``, so its relative imports work.
    """
    from dagml.spec.target import load_target, split_target

    spec, attr = split_target(target)
    root = bundle_root()
    if not spec.endswith(".py") or os.path.isabs(spec) or not os.path.isfile(os.path.join(root, spec)):
        return load_target(target)
    path = os.path.join(root, spec)
    if root not in sys.path:
        sys.path.insert(0, root)
    if os.path.isfile(os.path.join(os.path.dirname(path), "__init__.py")):
        module = os.path.splitext(spec)[0].replace("/", ".").replace(os.sep, ".")
        return load_target(module + (f":{attr}" if attr else ""))
    return load_target(path + (f":{attr}" if attr else ""))


def _step_spec(graph: PipelineGraph, invocation: Invocation) -> FunctionSpec:
    name, mode = invocation.step, invocation.mode
    if name not in graph:
        raise StepRuntimeError(
            f"pipeline {graph.name!r} has no step {name!r}{did_you_mean(name, graph.nodes)}. "
            "Fix: recompile the pipeline so the job names an existing step."
        )
    spec = graph[name]
    if not isinstance(spec, FunctionSpec):
        raise StepRuntimeError(
            f"pipeline {graph.name!r}: step {name!r} is a {spec.kind} step, not a function; "
            "SageMaker runs it without dagml. Fix: recompile the pipeline."
        )
    if spec.kind != mode:
        raise StepRuntimeError(
            f"pipeline {graph.name!r}: step {name!r} is a {spec.kind} step but runs in a {mode} job. "
            "Fix: recompile the pipeline."
        )
    return spec


def _input_dir(root: str, mode: str, parameter: str) -> str:
    base = PROCESSING_INPUT_DIR if mode == "processing" else TRAINING_CHANNEL_DIR
    return os.path.join(root, base, parameter)


def output_dirs(root: str, spec: FunctionSpec) -> dict[str, str]:
    """Where the step's named outputs go: ``<root>/processing/outputs/<name>`` (created)."""
    dirs = {o.name: os.path.join(root, PROCESSING_OUTPUTS_DIR, o.name) for o in spec.outputs}
    for directory in dirs.values():
        os.makedirs(directory, exist_ok=True)
    return dirs


def _kwargs(
    graph: PipelineGraph, spec: FunctionSpec, invocation: Invocation, root: str, dirs: dict[str, str]
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for binding in graph.bindings[spec.name]:
        where = _input_dir(root, invocation.mode, binding.parameter)
        if binding.source == OUTPUT_DIRS:
            kwargs[binding.parameter] = types.MappingProxyType({k: pathlib.Path(v) for k, v in dirs.items()})
        elif binding.source == OUTPUT:
            kwargs[binding.parameter] = artifacts.load_named_output(where, spec.name, binding.parameter)
        elif binding.source == STEP:
            upstream = graph[binding.ref or binding.parameter]
            value = artifacts.load_input(upstream.kind, where, spec.name, binding.parameter)
            kwargs[binding.parameter] = value
        elif binding.source == DATASET:
            kwargs[binding.parameter] = artifacts.load_input("dataset", where, spec.name, binding.parameter)
        elif binding.source == PARAM:
            param = graph.param(binding.ref or "")
            if param.name not in invocation.values:
                how = f"--param {param.name}=VALUE" if invocation.mode == "processing" else "a hyperparameter"
                raise StepRuntimeError(
                    f"step {spec.name!r}: input {binding.parameter!r} is bound to pipeline param "
                    f"{param.name!r}, but the job passed no value for it. Fix: pass {how} "
                    f"keyed {param.name!r} (recompile the pipeline)."
                )
            kwargs[binding.parameter] = convert_param(param, invocation.values[param.name], spec.name)
        elif binding.source != CONSTANT:
            raise StepRuntimeError(
                f"step {spec.name!r}: parameter {binding.parameter!r} is unbound. Fix: validate the pipeline."
            )
    return kwargs


def run(invocation: Invocation, root: str, graph: PipelineGraph | None = None) -> Any:
    """Run the step ``invocation`` names, reading and writing under ``root``; return its value.

    ``graph``: the pipeline's validated graph when the caller has it already (the local runner's
    workers: built once per run, not loaded and validated again for every step); None loads and
    validates ``invocation.target``, as a job does.
    """
    if graph is None:
        graph = build_graph(load_pipeline(invocation.target))
    spec = _step_spec(graph, invocation)
    dirs = output_dirs(root, spec)  # the named outputs' directories, empty, before the function runs
    kwargs = _kwargs(graph, spec, invocation, root, dirs)
    try:
        value = spec.fn(**kwargs)
    except Exception as exc:
        raise _UserCodeError() from exc
    if invocation.mode == "training":
        artifacts.save_model(value, os.path.join(root, MODEL_DIR), spec.name)
        return value
    if spec.outputs:  # named outputs are all it produces (dagml.spec.outputs)
        artifacts.save_named_outputs(value, dirs, spec.name)
        return value
    table = artifacts.csv_text(value, spec.name) if spec.name in graph.scored else None
    report = None
    if spec.name in graph.reports_read:  # a condition or a registration reads it: it must be a report
        report = artifacts.metrics_report(value, spec.name)
        registered = [n.name for n in graph.nodes.values() if isinstance(n, RegisterSpec) and n.metrics == spec.name]
        found = model_quality.problems(report) if registered else []
        if found:  # SageMaker accepts any JSON; only Studio's model-quality view needs the shape: warn, go on
            print(
                f"dagml step runtime: warning: {registered[0]!r} registers this report as the model's quality "
                f"metrics, but it is not in SageMaker's model-quality format, the only one Studio shows: "
                f"{'; '.join(found)}. Fix: return e.g. {model_quality.EXAMPLE} (dagml.model_quality builds it).",
                file=sys.stderr,
            )
    elif spec.name in graph.reports:
        try:
            report = artifacts.metrics_report(value, spec.name)
        except artifacts.ArtifactError as exc:
            print(f"dagml step runtime: not writing a metrics report: {exc}", file=sys.stderr)
    artifacts.save_output(value, os.path.join(root, PROCESSING_OUTPUT_DIR), spec.name)
    if report is not None:
        artifacts.save_metrics(report, os.path.join(root, PROCESSING_METRICS_DIR), spec.name)
    if table is not None:
        artifacts.atomic_write(os.path.join(root, PROCESSING_CSV_DIR, CSV_FILE), table.encode("utf-8"))
    return value


# --------------------------------------------------------------------- main
def step_failed(step: str) -> str:
    """How the reason for a failed step starts: ``step 'prepare' failed: ``.

    The runtime writes it for SageMaker, where the reason stands alone; the local
    runner shows a step's reason under the step's name, without it, and puts it
    in front of the run's error once.
    """
    return f"step {step!r} failed: "


def _write_failure(root: str, reason: str) -> None:
    data = reason.encode("utf-8")[:_MAX_REASON].decode("utf-8", "ignore")
    for name in (FAILURE_FILE, MESSAGE_FILE):
        try:
            artifacts.atomic_write(os.path.join(root, name), data.encode("utf-8"))
        except OSError as exc:
            print(f"dagml step runtime: cannot write the failure reason to {name} ({exc})", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the step the job asks for; 0 on success, 1 on failure, 2 on bad arguments."""
    root = container_root()
    try:
        invocation = parse_invocation(sys.argv[1:] if argv is None else argv, root)
    except StepUsageError as exc:
        print(str(exc), file=sys.stderr)
        _write_failure(root, str(exc))
        return 2
    return execute(invocation, root)


def execute(invocation: Invocation, root: str, graph: PipelineGraph | None = None) -> int:
    """Run ``invocation`` under ``root`` as :func:`main` does, without arguments to parse: 0 on
    success, 1 on failure (its reason written for SageMaker, see :func:`main`), 2 on a usage error.

    The local runner's workers call it with the run's ``graph`` (see :func:`run`)."""
    step = invocation.step
    try:
        run(invocation, root, graph)
    except StepUsageError as exc:
        print(str(exc), file=sys.stderr)
        _write_failure(root, str(exc))
        return 2
    except _UserCodeError as exc:
        error = exc.__cause__
        assert error is not None
        traceback.print_exception(error, file=sys.stderr)
        _write_failure(root, f"{step_failed(step)}{type(error).__name__}: {error}")
        return 1
    except DagmlError as exc:
        print(str(exc), file=sys.stderr)
        _write_failure(root, str(exc))
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug of dagml's: its reason still reaches SageMaker
        traceback.print_exc(file=sys.stderr)
        _write_failure(root, f"step {step!r}: dagml step runtime error: {type(exc).__name__}: {exc}")
        return 1
    return 0
