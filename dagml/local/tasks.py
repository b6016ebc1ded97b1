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

from dagml import contract as c
from dagml.graph.wiring import CONSTANT, DATASET, OUTPUT, OUTPUT_DIRS, PARAM, STEP, UNBOUND
from dagml.local.context import RunContext
from dagml.local.result import PREDICTIONS_DIR
from dagml.local.workers import Task
from dagml.runtime.entry import param_text
from dagml.spec.specs import FunctionSpec, ModelSpec, NodeSpec, TransformSpec

__all__ = ["LOG_FILE", "PREDICTIONS_DIR", "function_task", "output_path", "transform_task"]

#: Where a job step's stdout and stderr go (relative to its step's directory).
LOG_FILE = "log.txt"


def output_path(context: RunContext, source: NodeSpec, output: str | None = None) -> str:
    """Where the output of step ``source`` (or its named output ``output``) is, for a step that reads it."""
    root = context.dir(source.name)
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
    raise AssertionError(f"step {source.name!r} is a {source.kind} step: it has no output to read")


def _fresh_dir(context: RunContext, step: str) -> str:
    root = context.dir(step)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    return root


def _link(path: str, link: str) -> None:
    """A dataset as its job sees it: a directory as that directory, a file inside a directory."""
    if os.path.isdir(path):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(path, link)
    else:
        os.makedirs(link)
        os.symlink(path, os.path.join(link, os.path.basename(path)))


def function_task(context: RunContext, spec: FunctionSpec) -> Task:
    """Lay out the step's inputs and return the task that runs it through the step runtime."""
    root = _fresh_dir(context, spec.name)
    base = c.TRAINING_CHANNEL_DIR if spec.kind == "training" else c.PROCESSING_INPUT_DIR
    params: list[tuple[str, str]] = []
    for b in context.graph.bindings[spec.name]:
        link = os.path.join(root, base, b.parameter)
        if b.source in (STEP, OUTPUT):
            os.makedirs(os.path.dirname(link), exist_ok=True)
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
        hyper = {c.HP_MODE: "training", c.HP_TARGET: context.target, c.HP_STEP: spec.name, **dict(params)}
        config = os.path.join(root, c.HYPERPARAMETERS_FILE)
        os.makedirs(os.path.dirname(config))
        with open(config, "w", encoding="utf-8") as f:
            json.dump(hyper, f, sort_keys=True)
        return Task(spec.name, "function", root, log, (), timeout=timeout)
    argv = ["--mode", "processing", "--target", context.target, "--step", spec.name]
    for name, value in params:
        argv += ["--param", name, value]
    return Task(spec.name, "function", root, log, tuple(argv), timeout=timeout)


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
    return Task(spec.name, "transform", root, os.path.join(root, LOG_FILE), transform=(model_dir, source, out))
