"""What a worker runs for a job step, and the step's directory laid out as its container's ``/opt/ml``.

A function step's inputs are symlinks where its job would find them
(:mod:`dagml.contract`): upstream outputs and datasets under
``processing/input/<parameter>`` or ``input/data/<parameter>``; params are
``--param`` arguments of a processing job or hyperparameters of a training
job, as strings, as SageMaker passes them. A batch transform reads the model's
directory and the data, and writes ``predictions/``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

from dagml import contract as c
from dagml.graph.wiring import CONSTANT, DATASET, OUTPUT, OUTPUT_DIRS, PARAM, STEP, UNBOUND
from dagml.local.context import RunContext
from dagml.local.result import PREDICTIONS_DIR
from dagml.local.workers import Task
from dagml.runtime.entry import Invocation, param_text, unquote
from dagml.spec.params import Param
from dagml.spec.specs import ContainerSpec, FunctionSpec, ModelSpec, NodeSpec, ScriptSpec, TransformSpec

__all__ = ["LOG_FILE", "PREDICTIONS_DIR", "ScriptCannotRun", "function_task", "output_path", "script_task", "transform_task"]

#: Where a job step's stdout and stderr go (relative to its step's directory).
LOG_FILE = "log.txt"


def output_path(context: RunContext, source: NodeSpec, output: str | None = None) -> str:
    """Where the output of step ``source`` (or its named output ``output``) is, for a step that reads it."""
    root = context.dir(source.name)
    if isinstance(source, ScriptSpec):  # SageMaker's own layout: what the script wrote, where it wrote it
        return os.path.join(root, c.SCRIPT_OUTPUT_DIR, output) if output is not None else os.path.join(root, c.MODEL_DIR)
    if output is not None:
        return os.path.join(root, c.PROCESSING_OUTPUTS_DIR, output)
    if isinstance(source, FunctionSpec):
        if source.kind == "training":
            return os.path.join(root, c.MODEL_DIR)
        if source.kind == "processing":
            return os.path.join(root, c.PROCESSING_OUTPUT_DIR)
        raise AssertionError(f"unhandled function kind {source.kind!r}")
    if isinstance(source, TransformSpec):
        return os.path.join(root, PREDICTIONS_DIR)
    if isinstance(source, ContainerSpec):
        return os.path.join(root, c.MODEL_DIR)
    raise AssertionError(f"step {source.name!r} is a {source.kind} step: it has no output to read")


def _fresh_dir(context: RunContext, step: str, inside: str | None = None) -> str:
    """The step's directory, emptied (with ``inside``, a directory in it, made too)."""
    root = context.dir(step)
    try:
        os.mkdir(root)  # a new run's step: no directory yet
    except FileExistsError:  # resumed, or laid out before: start again from nothing
        shutil.rmtree(root, ignore_errors=True)
        os.mkdir(root)
    except FileNotFoundError:  # no steps/ folder (a step directory that is never made otherwise)
        os.makedirs(root)
    if inside:
        os.makedirs(os.path.join(root, inside))
    return root


def _link(path: str, link: str) -> None:
    """A dataset as its job sees it: a directory as that directory, a file inside a directory."""
    if os.path.isdir(path):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(path, link)
    else:
        os.makedirs(link)
        os.symlink(path, os.path.join(link, os.path.basename(path)))


def function_task(context: RunContext, spec: FunctionSpec, target: str | None = None) -> Task:
    """Lay out the step's inputs and return the task that runs it through the step runtime.

    ``target``: what the runtime loads, if not the run's (``--image-env``: the code bundle's).
    """
    target = target or context.target
    bindings = context.graph.bindings[spec.name]
    base = c.TRAINING_CHANNEL_DIR if spec.kind == "training" else c.PROCESSING_INPUT_DIR
    linked = any(b.source in (STEP, OUTPUT) for b in bindings)
    root = _fresh_dir(context, spec.name, base if linked else None)
    params: list[tuple[str, str]] = []
    for b in bindings:
        link = os.path.join(root, base, b.parameter)
        if b.source in (STEP, OUTPUT):
            os.symlink(output_path(context, context.graph[b.ref or ""], b.output), link)
        elif b.source == DATASET:
            _link(context.params[b.ref or ""], link)
        elif b.source == PARAM:
            params.append((b.ref or "", param_text(context.params[b.ref or ""])))
        elif b.source not in (CONSTANT, UNBOUND, OUTPUT_DIRS):  # a constant stays the function's default
            raise AssertionError(f"step {spec.name!r}: unhandled binding source {b.source!r}")
    log = os.path.join(root, LOG_FILE)
    timeout = float(spec.options.timeout) if spec.options.timeout else None
    if spec.kind == "training":
        hyper = {c.HP_MODE: "training", c.HP_TARGET: target, c.HP_STEP: spec.name, **dict(params)}
        config = os.path.join(root, c.HYPERPARAMETERS_FILE)
        os.makedirs(os.path.dirname(config))
        with open(config, "w", encoding="utf-8") as f:
            json.dump(hyper, f, sort_keys=True)
        # What the runtime reads from that file (dagml.runtime.entry.parse_invocation), already read.
        invocation = Invocation("training", target, spec.name, {k: unquote(v) for k, v in params})
        return Task(spec.name, "function", root, log, (), timeout=timeout, invocation=invocation, outputs=spec.kind)
    argv = ["--mode", "processing", "--target", target, "--step", spec.name]
    for name, value in params:
        argv += ["--param", name, value]
    invocation = Invocation("processing", target, spec.name, dict(params))
    return Task(spec.name, "function", root, log, tuple(argv), timeout=timeout, invocation=invocation, outputs=spec.kind)


def transform_task(context: RunContext, spec: TransformSpec) -> Task:
    """The task that scores the transform's data with its model's artifact."""
    graph = context.graph
    model = graph[spec.model]
    assert isinstance(model, ModelSpec)  # validation: a transform's model= is a model step
    model_dir = os.path.join(context.dir(model.model), c.MODEL_DIR)
    if spec.data_is_dataset:
        source = context.params[spec.data]
    elif spec.data_output is not None:  # a named output: the files as the step wrote them
        source = output_path(context, graph[spec.data], spec.data_output)
    elif spec.data in graph.scored:  # a processing step: the CSV copy of its return value
        source = os.path.join(context.dir(spec.data), c.PROCESSING_CSV_DIR, c.CSV_FILE)
    else:
        source = output_path(context, graph[spec.data])
    root = _fresh_dir(context, spec.name)
    out = os.path.join(root, PREDICTIONS_DIR)
    trained = graph[model.model]
    handlers = (context.target, trained.name) if isinstance(trained, FunctionSpec) and trained.handlers else None
    return Task(
        spec.name,
        "transform",
        root,
        os.path.join(root, LOG_FILE),
        transform=(model_dir, source, out),
        handlers=handlers,
        content_type=spec.content_type,
        outputs=spec.kind,
    )


class ScriptCannotRun(Exception):
    """A script step that this machine cannot run as SageMaker would (the message says why)."""


#: Inside a private mount namespace: the step's directory becomes /opt/ml (made if it can be, as root),
#: or, where /opt/ml cannot be made (not root), a directory holding ``ml`` is bound over /opt.
_MOUNT = (
    'if [ -d /opt/ml ] || mkdir -p /opt/ml 2>/dev/null; then mount --bind "$1" /opt/ml; '
    'else mount --bind "$2" /opt; fi && shift 2 && exec "$@"'
)


def _opt_ml(root: str, where: str) -> list[str]:
    """The command prefix that shows ``root`` to a script as ``/opt/ml``, the absolute paths
    SageMaker-style scripts use: a private mount namespace (``unshare``, Linux; unprivileged through a
    user namespace). Where that is impossible, :class:`ScriptCannotRun` says so."""
    import shutil

    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        raise ScriptCannotRun(
            f"{where}: a SageMaker-style script reads and writes /opt/ml/...; dagml runs it locally in a private "
            "mount namespace where /opt/ml is the step's directory, which needs Linux and util-linux's unshare. "
            "Fix: run the pipeline on SageMaker (dagml deploy), or locally on Linux."
        )
    opt = os.path.join(os.path.dirname(root), os.path.basename(root) + ".opt")
    os.makedirs(opt, exist_ok=True)
    link = os.path.join(opt, "ml")
    if not os.path.islink(link):
        os.symlink(root, link)
    if os.path.realpath(sys.executable).startswith("/opt/") and os.geteuid() != 0 and not os.path.isdir("/opt/ml"):
        raise ScriptCannotRun(
            f"{where}: this Python lives under /opt, which dagml would have to hide to show the step as /opt/ml. "
            "Fix: create /opt/ml once (sudo mkdir /opt/ml), or use a Python installed elsewhere."
        )
    flags = ["--mount", "--propagation", "private"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    return [unshare, *flags, "/bin/sh", "-c", _MOUNT, "sh", root, opt]


def script_task(context: RunContext, spec: ScriptSpec) -> Task:
    """A script step as SageMaker runs it: its inputs and outputs under ``/opt/ml`` (the step's
    directory, see :func:`_opt_ml`), this interpreter for the image's ``python3``.

    Processing: ``python3 <script> <arguments>`` with inputs at ``processing/input/<name>`` and
    outputs at ``processing/output/<name>``. Training: script mode as the training toolkit runs it
    (sagemaker_training/environment.py and mapping.py, ``to_cmd_args``): channels at
    ``input/data/<name>``, ``SM_CHANNEL_<NAME>``, ``SM_MODEL_DIR``, ``SM_HPS``, ``SM_HP_<NAME>`` and
    the hyperparameters as ``--name value`` arguments.
    """
    where = f"pipeline {context.graph.name!r}, step {spec.name!r}"
    root = _fresh_dir(context, spec.name)
    prefix = _opt_ml(root, where)
    base = c.TRAINING_CHANNEL_DIR if spec.trains else c.PROCESSING_INPUT_DIR
    for b in context.graph.bindings[spec.name]:
        link = os.path.join(root, base, b.parameter)
        if b.source in (STEP, OUTPUT):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(output_path(context, context.graph[b.ref or ""], b.output), link)
        elif b.source == DATASET:
            _link(context.params[b.ref or ""], link)

    def text(value: object) -> str:
        return param_text(context.params[value.name]) if isinstance(value, Param) else str(value)

    env: dict[str, str] = {}
    if spec.trains:
        for part in (c.MODEL_DIR, "output/data"):
            os.makedirs(os.path.join(root, part), exist_ok=True)
        hyper = {key: text(v) for key, v in spec.hyperparameters}
        channels = [b.parameter for b in context.graph.bindings[spec.name]]
        env = {
            "SM_MODEL_DIR": "/opt/ml/model",
            "SM_INPUT_DIR": "/opt/ml/input",
            "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
            "SM_CHANNELS": json.dumps(sorted(channels)),
            "SM_HPS": json.dumps(hyper, sort_keys=True),
            **{f"SM_CHANNEL_{name.upper()}": f"/opt/ml/input/data/{name}" for name in channels},
            **{f"SM_HP_{key.upper()}": value for key, value in hyper.items()},
        }
        argv = [arg for key, value in sorted(hyper.items()) for arg in (f"--{key}", value)]
    else:
        for output in spec.outputs:
            os.makedirs(os.path.join(root, c.SCRIPT_OUTPUT_DIR, output.name), exist_ok=True)
        argv = [text(a) for a in spec.arguments]
    command = (*prefix, sys.executable, spec.path, *argv)
    timeout = float(spec.options.timeout) if spec.options.timeout else None
    log = os.path.join(root, LOG_FILE)
    return Task(
        spec.name,
        "script",
        root,
        log,
        command,
        timeout=timeout,
        env=tuple(sorted(env.items())),
        cwd=os.path.dirname(spec.path),
        outputs=spec.kind,
    )
