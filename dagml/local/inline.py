"""The steps a local run decides itself, without a worker: conditions, Fail, Model and RegisterModel.

A condition is decided by interpreting its compiled ``Conditions``
(``graph.lowered``, :mod:`dagml.local.decide`), so it takes the branch the
compiled pipeline would; a Fail step fails with its message; a Model step
points at its training step's artifact; a RegisterModel step adds a version to
the local model registry (:mod:`dagml.local.registry`).
"""

from __future__ import annotations

import json
import os
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
from dagml.spec.specs import ConditionSpec, FailSpec, ModelSpec, RegisterSpec

__all__ = ["INLINE", "InlineSpec", "InlineSteps"]

#: The specs of the steps decided inline.
InlineSpec = Union[ConditionSpec, FailSpec, ModelSpec, RegisterSpec]
INLINE = (ConditionSpec, FailSpec, ModelSpec, RegisterSpec)


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
            else:
                raise AssertionError(f"unhandled inline step {spec!r}")
        except DagmlError as exc:
            return StepRecord(spec.name, spec.kind, "failed", started, now(), error=str(exc))
        return StepRecord(spec.name, spec.kind, "succeeded", started, now(), detail=detail)

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
        artifact = os.path.join(model_root, c.MODEL_DIR, c.MODEL_FILE)
        if expected is None or expected != artifact_hash("training", model_root) or not os.path.isfile(artifact):
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
