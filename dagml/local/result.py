"""What a local run returns: its status, each step's status, outputs, metrics and timings."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import attrs

from dagml import contract as c
from dagml.graph.model import PipelineGraph
from dagml.local.status import DONE, STATUSES
from dagml.local.store import RunRecord, RunStore, StepRecord, iso

__all__ = ["PREDICTIONS_DIR", "STATUSES", "RunResult"]


#: Where a batch transform writes its predictions (relative to its step's directory).
PREDICTIONS_DIR = "predictions"


@attrs.frozen(eq=False)
class RunResult:
    """A run, read back from the run store."""

    run: RunRecord
    steps: Mapping[str, StepRecord]
    order: tuple[str, ...]
    store: RunStore = attrs.field(repr=False)
    #: The graph that ran, when known: a notebook then shows the run drawn over it.
    graph: PipelineGraph | None = attrs.field(default=None, repr=False)

    @classmethod
    def load(
        cls, store: RunStore, run_id: str, order: tuple[str, ...] | None = None, graph: PipelineGraph | None = None
    ) -> RunResult:
        record = store.run(run_id)
        steps = store.steps(run_id)
        known = tuple(order) if order else tuple(sorted(steps, key=lambda s: (steps[s].started or float("inf"), s)))
        return cls(record, steps, known, store, graph)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """What Jupyter shows: the summary table, and the run drawn over its graph (when Graphviz is there)."""
        from dagml.errors import DagmlError
        from dagml.local.progress import summary_table

        bundle = {"text/plain": summary_table(self)}
        if self.graph is not None:
            from dagml.local.overlay import render_run

            try:
                bundle["image/svg+xml"] = render_run(self.graph, self).svg()
            except DagmlError:  # no Graphviz: the table says it all
                pass
        return bundle

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def status(self) -> str:
        """``Succeeded``, ``Failed`` or ``Running`` (a run killed before it finished)."""
        return self.run.status

    @property
    def ok(self) -> bool:
        return self.run.status == "Succeeded"

    @property
    def error(self) -> str | None:
        return self.run.error

    def step_dir(self, step: str) -> str:
        return self.store.step_dir(self.run_id, step)

    def metrics(self, step: str) -> dict[str, Any] | None:
        """The metrics report step ``step`` wrote (a JSON object, maybe nested), or None."""
        path = os.path.join(self.step_dir(step), c.PROCESSING_METRICS_DIR, c.METRICS_FILE)
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as f:
            report: dict[str, Any] = json.load(f)
        return report

    def output(self, step: str, name: str | None = None) -> Any:
        """The value a function step returned (loaded from this run's store); with ``name``, what a
        parameter bound to that named output receives (the value, or the directory's path)."""
        from dagml.runtime import artifacts

        if name is not None:
            return artifacts.load_named_output(os.path.join(self.step_dir(step), c.PROCESSING_OUTPUTS_DIR, name), step, name)
        record = self.steps[step]
        if record.kind == "training":
            return artifacts.load_model(os.path.join(self.step_dir(step), c.MODEL_DIR), step, "output")
        if record.kind in ("container", "script"):  # what a step reading it receives: the model directory
            return os.path.join(self.step_dir(step), c.MODEL_DIR)
        return artifacts.load_output(
            os.path.join(self.step_dir(step), c.PROCESSING_OUTPUT_DIR), step, "output"
        )

    def outputs(self, step: str) -> dict[str, str]:
        """What step ``step`` left, by name -> path: a function step's return value (``output``) and
        report (``metrics``), a model (``model``), a batch transform's ``predictions`` (each file), a
        registered version's ``artifact``, each named output's directory (``outputs/<name>``).
        Empty for a step that produced nothing or did not finish."""
        record = self.steps.get(step)
        if record is None or record.status not in DONE:
            return {}
        root = self.step_dir(step)
        try:  # what is there, read once: a stat per candidate costs more on a run of thousands of steps
            present = set(os.listdir(root))
        except OSError:
            present = set()
        candidates: list[tuple[str, str]] = [
            (name, os.path.join(root, folder, file))
            for name, folder, file in (
                ("output", c.PROCESSING_OUTPUT_DIR, c.OUTPUT_FILE),
                ("metrics", c.PROCESSING_METRICS_DIR, c.METRICS_FILE),
                ("csv", c.PROCESSING_CSV_DIR, c.CSV_FILE),
                ("model", c.MODEL_DIR, c.MODEL_FILE),
            )
            if folder.split("/")[0] in present
        ]
        predictions = os.path.join(root, PREDICTIONS_DIR)
        if PREDICTIONS_DIR in present and os.path.isdir(predictions):
            files = sorted(os.listdir(predictions))
            candidates += [("predictions" if len(files) == 1 else f"predictions/{f}", os.path.join(predictions, f)) for f in files]
        found = {name: path for name, path in candidates if os.path.isfile(path)}
        kind_dir = c.SCRIPT_OUTPUT_DIR if record.kind == "script" else c.PROCESSING_OUTPUTS_DIR
        named = os.path.join(root, kind_dir)
        if kind_dir.split("/")[0] in present and os.path.isdir(named):  # named outputs: each its directory
            found.update({f"outputs/{n}": os.path.join(named, n) for n in sorted(os.listdir(named))})
        if record.kind in ("container", "script") and os.path.isdir(os.path.join(root, c.MODEL_DIR)):
            found["model"] = os.path.join(root, c.MODEL_DIR)
        if record.kind == "model" and record.detail.get("model_dir"):
            model_dir = str(record.detail["model_dir"])
            pickled = os.path.join(model_dir, c.MODEL_FILE)
            found["model"] = pickled if os.path.isfile(pickled) else model_dir
        if record.kind == "register" and record.detail.get("artifact"):
            found["artifact"] = str(record.detail["artifact"])
        return found

    @property
    def conditions(self) -> dict[str, dict[str, Any]]:
        """Condition step -> {"outcome": bool, "values": "0.97 >= 0.9", "branch": "then"|"otherwise"}."""
        return {name: dict(r.detail) for name, r in self.steps.items() if r.kind == "condition" and r.detail}

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pipeline": self.run.pipeline,
            "target": self.run.target,
            "status": self.status,
            "error": self.error,
            "params": self.run.params,
            "started": iso(self.run.started),
            "finished": iso(self.run.finished),
            "steps": [self._step_dict(name, r) for name in self.order if (r := self.steps.get(name)) is not None],
        }

    def _step_dict(self, name: str, r: StepRecord) -> dict[str, Any]:
        outputs = self.outputs(name)
        return {
            "name": name,
            "kind": r.kind,
            "status": r.status,
            "duration": None if r.duration is None else round(r.duration, 3),
            "cached_from": r.cached_from,
            "error": r.error,
            "detail": r.detail,
            "metrics": self.metrics(name) if r.kind == "processing" and "metrics" in outputs else None,
            "dir": self.step_dir(name),
            "outputs": outputs,
        }
