"""The steps a local run decides itself, without a worker: conditions, Fail, Model, RegisterModel,
and container steps (which dagml cannot run: their stand-in, or a failure that says so).

A condition is decided by interpreting its compiled ``Conditions``
(``graph.lowered``, :mod:`dagml.local.decide`), so it takes the branch the
compiled pipeline would; a Fail step fails with its message; a Model step
points at its training step's artifact; a RegisterModel step adds a version to
the local model registry (:mod:`dagml.local.registry`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from typing import Any, Union

from dagml import contract as c
from dagml.errors import DagmlError
from dagml.graph.lowered import lower_message
from dagml.graph.model import DATA
from dagml.local.cache import artifact_hash
from dagml.local.context import RunContext
from dagml.local.decide import describe_values, evaluate_conditions, join_text
from dagml.local.errors import ConditionError
from dagml.local.store import StepRecord, now
from dagml.spec.params import Param
from dagml.spec.reports import number_leaves
from dagml.spec.specs import ConditionSpec, ContainerSpec, FailSpec, ModelSpec, RegisterSpec

__all__ = ["INLINE", "InlineSpec", "InlineSteps", "cannot_run_container"]

#: The specs of the steps decided inline.
InlineSpec = Union[ConditionSpec, FailSpec, ModelSpec, RegisterSpec, ContainerSpec]
INLINE = (ConditionSpec, FailSpec, ModelSpec, RegisterSpec, ContainerSpec)


def cannot_run_container(pipeline: str, spec: ContainerSpec) -> str:
    """Why a local run cannot run a container step, and the way around it."""
    return (
        f"pipeline {pipeline!r}, step {spec.name!r}: a container step runs image {spec.image} with its own entry "
        "point, and dagml runs no containers locally (the rest of the pipeline runs as Python functions). "
        f"Fix: give it a stand-in for local runs, pipe.container({spec.name!r}, ..., local='path/to/model_dir'): a "
        "directory holding what the image would write to /opt/ml/model; or run it on SageMaker (dagml deploy)."
    )


class InlineSteps:
    """Runs inline steps for one run; reads (and keeps) the metrics reports they need."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self._metrics: dict[str, dict[str, Any]] = {}

    def run(self, spec: InlineSpec, records: Mapping[str, StepRecord]) -> StepRecord:
        """Run the step; return its final record (``failed`` with the reason on a DagmlError)."""
        started = now()
        try:
            if isinstance(spec, ConditionSpec):
                detail = self.decide(spec)
            elif isinstance(spec, FailSpec):
                return StepRecord(spec.name, spec.kind, "failed", started, now(), error=self.fail_message(spec))
            elif isinstance(spec, ModelSpec):
                detail = {"model_dir": os.path.join(self.context.dir(spec.model), c.MODEL_DIR)}
                os.makedirs(self.context.dir(spec.name), exist_ok=True)
            elif isinstance(spec, RegisterSpec):
                detail = self.register(spec, records)
                os.makedirs(self.context.dir(spec.name), exist_ok=True)
            elif isinstance(spec, ContainerSpec):
                detail = self.stand_in(spec)
            else:
                raise AssertionError(f"unhandled inline step {spec!r}")
        except DagmlError as exc:
            return StepRecord(spec.name, spec.kind, "failed", started, now(), error=str(exc))
        return StepRecord(spec.name, spec.kind, "succeeded", started, now(), detail=detail)

    def stand_in(self, spec: ContainerSpec) -> dict[str, Any]:
        """A container step in a local run: its stand-in model directory, copied into its step directory."""
        ctx = self.context
        if spec.local is None:
            raise DagmlError(cannot_run_container(ctx.graph.name, spec))
        if not os.path.isdir(spec.local):
            raise DagmlError(
                f"pipeline {ctx.graph.name!r}, step {spec.name!r}: the stand-in local={spec.local!r} is not a directory. "
                "Fix: point local= at a directory holding what the image writes to /opt/ml/model."
            )
        root = ctx.dir(spec.name)
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(spec.local, os.path.join(root, c.MODEL_DIR))
        return {"stand_in": spec.local, "artifacts": artifact_hash(spec.kind, root)}

    def metrics(self, step: str) -> dict[str, Any]:
        """The metrics report step ``step`` wrote (a JSON object, maybe nested)."""
        if step not in self._metrics:
            path = os.path.join(self.context.dir(step), c.PROCESSING_METRICS_DIR, c.METRICS_FILE)
            try:
                with open(path, encoding="utf-8") as f:
                    report: dict[str, Any] = json.load(f)
            except FileNotFoundError:
                raise ConditionError(f"step {step!r} wrote no metrics report ({path}).") from None
            self._metrics[step] = report
        return self._metrics[step]

    def decide(self, spec: ConditionSpec) -> dict[str, Any]:
        """The condition's outcome, the branch it takes and its values (``0.97 >= 0.9``)."""
        graph, params = self.context.graph, self.context.params
        metrics = {leaf: self.metrics(leaf) for leaf in graph.upstream(spec.name, (DATA,))}
        where = f"pipeline {graph.name!r}, condition {spec.name!r}"
        outcome = evaluate_conditions(graph.lowered[spec.name], metrics, params, where)
        side = "then" if outcome else "otherwise"
        return {"outcome": outcome, "branch": side, "values": describe_values(spec.expression, metrics, params)}

    def fail_message(self, spec: FailSpec) -> str:
        """The message the compiled Fail step would fail with: the same lowered value, resolved here."""
        graph = self.context.graph
        metrics = {leaf: self.metrics(leaf) for leaf in graph.upstream(spec.name, (DATA,))}
        where = f"pipeline {graph.name!r}, fail {spec.name!r}"
        return join_text(lower_message(spec.message), metrics, self.context.params, where) or "Fail step reached"

    def register(self, spec: RegisterSpec, records: Mapping[str, StepRecord]) -> dict[str, Any]:
        """Register the model of ``spec.model`` (once, even when a resumed run registers again)."""
        from dagml.local.registry import ModelRegistry

        ctx = self.context
        registry = ModelRegistry(ctx.home)
        group = ctx.params[spec.group.name] if isinstance(spec.group, Param) else spec.group
        approval = ctx.params[spec.approval.name] if isinstance(spec.approval, Param) else spec.approval
        try:
            existing = registry.versions(group)
        except LookupError:  # a new group
            existing = []
        for version in existing:
            if version.run_id == ctx.run_id and version.step == spec.name:  # resumed after a kill
                return {"group": group, "version": version.version, "status": version.status, "artifact": version.artifact}
        model = records.get(spec.model)
        expected = model.detail.get("artifacts") if model is not None else None
        model_root = ctx.dir(spec.model)
        kind = ctx.graph[spec.model].kind
        # A container's model is its whole directory; dagml's own training writes model.pkl.
        artifact = os.path.join(model_root, c.MODEL_DIR, *((c.MODEL_FILE,) if kind == "training" else ()))
        if expected is None or expected != artifact_hash(kind, model_root) or not os.path.exists(artifact):
            raise DagmlError(
                f"pipeline {ctx.graph.name!r}, step {spec.name!r}: the model of {spec.model!r} ({artifact}) is "
                "missing or changed since that step finished, so it is not registered. "
                f"Fix: run the pipeline again without --resume (or with --no-cache) to retrain {spec.model!r}."
            )
        # The registry keeps the report's numbers by path (``multiclass_classification_metrics.accuracy.value``).
        metrics = number_leaves(self.metrics(spec.metrics)) if spec.metrics else {}
        registered = registry.register(
            group,
            approval=approval,
            metrics=metrics,
            artifact=artifact,
            pipeline=ctx.graph.name,
            run_id=ctx.run_id,
            step=spec.name,
            code_hash=ctx.code_hash,
            description=spec.description,
        )
        return {"group": group, "version": registered.version, "status": registered.status, "artifact": artifact}
