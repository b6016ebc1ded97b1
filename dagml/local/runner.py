"""Run a pipeline on this machine with the decisions SageMaker would make.

Function steps and batch transforms run in worker processes through the same
step runtime as the SageMaker containers (the step's directory in the run
store is its ``/opt/ml``); conditions are decided by interpreting the compiled
``Conditions``; the branch not taken, and everything that depends on it, is
skipped; a Fail step fails the run with its message; a step that fails stops
only what depends on it. Every status change is committed to the run store at
once, so ``resume`` finishes a run killed at any point without re-running a
finished step.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import heapq
import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from dagml import contract as c
from dagml.errors import ConfigurationError, DagmlError, did_you_mean
from dagml.graph.model import PipelineGraph
from dagml.graph.wiring import DATASET, PARAM, STEP
from dagml.local.decide import ConditionError, describe_values, evaluate_conditions
from dagml.local.fingerprint import Uncacheable, dependency_versions, function_fingerprint
from dagml.local.progress import Progress
from dagml.local.result import RunResult
from dagml.local.store import RunStore, StepRecord, StoreError, now
from dagml.local.workers import Outcome, Task, WorkerPool
from dagml.runtime.bundle import content_hash, user_files
from dagml.runtime.modules import user_modules
from dagml.spec.params import Dataset, Param, param_type_of
from dagml.spec.specs import (
    ConditionSpec,
    FailSpec,
    FunctionSpec,
    ModelSpec,
    NodeSpec,
    RegisterSpec,
    TransformSpec,
)

__all__ = ["ParamError", "RunBusyError", "RunStopped", "resolve_params", "run_pipeline"]

DONE = ("succeeded", "cached")
STOPPED = ("failed", "not run")


class ParamError(ConfigurationError):
    """A parameter override names no param or has the wrong type."""


def _coerce(param: Param, raw: Any, pipeline: str) -> Any:
    import math

    from dagml.spec.params import TEXT_FORMS, parse_param_text

    where = f"pipeline {pipeline!r}, param {param.name!r} ({param.type})"
    if isinstance(raw, str) and param.type != "String":
        try:
            value: Any = parse_param_text(param.type, raw)
        except ValueError:
            raise ParamError(
                f"{where}: {raw!r} is not a valid {param.type}; accepted: {TEXT_FORMS[param.type]}. "
                f"Fix: -p {param.name}=<{param.type.lower()}>."
            ) from None
    else:
        value = raw
        actual = param_type_of(value)
        if actual != param.type and not (param.type == "Float" and actual == "Integer"):
            raise ParamError(f"{where}: got {value!r} ({type(value).__name__}). Fix: pass a {param.type} value.")
        if param.type == "Float":
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(
                    f"{where}: got {value!r}; a Float param takes finite numbers only (SageMaker and JSON "
                    "have no NaN or Infinity). Fix: pass a finite number."
                )
    if param.enum is not None and value not in param.enum:
        raise ParamError(f"{where}: {value!r} is not one of {list(param.enum)!r}. Fix: pass one of them.")
    return value


def resolve_params(graph: PipelineGraph, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults, overridden with type checks; datasets resolve to absolute local paths."""
    values: dict[str, Any] = {p.name: p.default for p in graph.params}
    base = os.path.dirname(graph.source_file) if graph.source_file else os.getcwd()
    for d in graph.datasets:
        values[d.name] = os.path.normpath(os.path.join(base, d.local)) if d.local else None
    known = {p.name: p for p in graph.params} | {d.name: d for d in graph.datasets}
    for name, raw in (overrides or {}).items():
        item = known.get(name)
        if item is None:
            raise ParamError(
                f"pipeline {graph.name!r} has no param {name!r}{did_you_mean(name, known)}. "
                f"Its params: {', '.join(known) or 'none'}. Fix: override one of those, or declare {name!r} "
                "with pipe.param."
            )
        if isinstance(item, Dataset):
            values[name] = os.path.abspath(str(raw))
        else:
            values[name] = _coerce(item, raw, graph.name)
    for d in graph.datasets:
        path = values[d.name]
        if path is None:
            raise ParamError(
                f"pipeline {graph.name!r}, dataset {d.name!r} has only an S3 location ({d.s3}); a local run needs "
                f"a local copy. Fix: -p {d.name}=path/to/local/copy, or declare it with local=..."
            )
        if not os.path.exists(path):
            raise ParamError(f"pipeline {graph.name!r}, dataset {d.name!r}: {path!r} does not exist. Fix: create it or pass -p {d.name}=PATH.")
    return values


def _sm_string(value: Any) -> str:
    """A param value as SageMaker passes it to a job: a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _code_hash(source_file: str) -> str:
    """Hash of the user's code, for cache keys and lineage.

    Every .py file the bundle would ship, every other module of the user's the
    pipeline imported (see :mod:`dagml.runtime.modules`), and the versions of
    what that code imports (:func:`dagml.local.fingerprint.dependency_versions`).
    """
    digest = hashlib.sha256()
    shipped = sorted(user_files(source_file))
    known = {os.path.realpath(path) for _, path in shipped}
    elsewhere = sorted((path, path) for path in user_modules().values() if path not in known)
    for rel, path in shipped + elsewhere:
        with open(path, "rb") as f:
            digest.update(rel.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    versions = dependency_versions([path for _, path in shipped + elsewhere])
    digest.update(json.dumps(versions).encode())
    return digest.hexdigest()


#: What each step kind writes, relative to its directory: what an artifact hash covers.
_OUTPUTS = {
    "processing": (c.PROCESSING_OUTPUT_DIR, c.PROCESSING_METRICS_DIR, c.PROCESSING_CSV_DIR),
    "training": (c.MODEL_DIR,),
    "transform": ("predictions",),
}


def _artifact_hash(kind: str, root: str) -> str | None:
    """A content hash of what a finished step wrote (None for kinds that write nothing)."""
    parts = _OUTPUTS.get(kind)
    if parts is None:
        return None
    digest = hashlib.sha256()
    for part in parts:
        path = os.path.join(root, part)
        digest.update(part.encode() + b"\0" + (content_hash(path).encode() if os.path.exists(path) else b"-"))
    return digest.hexdigest()


def _warm_runtime(graph: PipelineGraph) -> None:
    """Fill, before the workers fork, the caches every step's runtime reads.

    Each step runs in a process forked for it (dagml/local/workers.py): what it caches dies with
    it, so what every step would otherwise build again (the argument parser, where the libraries
    live) is built here once and inherited. Facts about the steps are on the graph already.
    """
    from dagml.runtime import entry
    from dagml.runtime.modules import library_roots

    entry._parser()
    library_roots()


class RunBusyError(ConfigurationError):
    """Another runner has this run open."""


class RunStopped(KeyboardInterrupt):
    """The runner got SIGTERM or SIGHUP: the run stops like on Ctrl-C, and the process exits 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


@contextlib.contextmanager
def _run_lock(store: RunStore, run_id: str) -> Iterator[None]:
    """One runner per run: an exclusive lock on ``<run dir>/.lock`` for as long as it runs."""
    directory = store.run_dir(run_id)
    os.makedirs(directory, exist_ok=True)
    fd = os.open(os.path.join(directory, ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunBusyError(
                f"run {run_id!r} is being run by another dagml process right now. "
                "Fix: wait for it to finish (dagml runs show RUN_ID), or stop it, then resume."
            ) from None
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP stop the run as Ctrl-C does (steps killed, the run recorded as stopped)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise RunStopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _link_tree(src: str, dst: str) -> None:
    """Hard-link ``src`` into ``dst`` (copy where links are impossible): no extra copies of artifacts."""
    for directory, dirnames, files in os.walk(src):
        rel = os.path.relpath(directory, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in files:
            s, d = os.path.join(directory, name), os.path.join(dst, rel, name)
            if os.path.islink(s):
                os.symlink(os.readlink(s), d)
                continue
            try:
                os.link(s, d)
            except OSError:
                shutil.copy2(s, d)


class _Run:
    def __init__(
        self,
        graph: PipelineGraph,
        store: RunStore,
        run_id: str,
        target: str,
        params: dict[str, Any],
        code_hash: str,
        cache: bool,
        progress: Progress,
        home: str | None,
    ) -> None:
        self.graph, self.store, self.run_id, self.target = graph, store, run_id, target
        self.params, self.code_hash, self.cache, self.progress, self.home = params, code_hash, cache, progress, home
        self.state: dict[str, str] = dict.fromkeys(graph.order, "pending")
        self.records: dict[str, StepRecord] = {}
        self.branch: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        #: Steps whose result depends on a value without a stable fingerprint, and why.
        self.uncacheable: dict[str, str] = {}
        self._metrics: dict[str, dict[str, float]] = {}
        self._order = graph.order
        self._position = {n: i for i, n in enumerate(self._order)}
        self._upstream: dict[str, tuple[str, ...]] = {}
        #: Steps that reached a final status (the progress count).
        self._finished: set[str] = set()
        #: Pending steps whose verdict may have changed since it was last read, and a heap of
        #: their positions: a step is decided again only when a step it depends on (or its
        #: condition) changes, not on every pass over the whole pipeline (quadratic).
        self._dirty: set[str] = set(self._order)
        self._heap: list[int] = list(range(len(self._order)))

    # ------------------------------------------------------------ bookkeeping
    def dir(self, step: str) -> str:
        return self.store.step_dir(self.run_id, step)

    def mark(self, record: StepRecord) -> None:
        self.state[record.step] = record.status
        self.records[record.step] = record
        self.store.set_step(self.run_id, record)
        if record.status in ("pending", "running"):
            self._finished.discard(record.step)
        else:
            self._finished.add(record.step)
        for successor in self.graph.graph.successors(record.step):
            if successor not in self._dirty:
                self._dirty.add(successor)
                heapq.heappush(self._heap, self._position[successor])
        self.progress.step(record, len(self.state), len(self._finished))

    def restore(self, previous: Mapping[str, StepRecord]) -> None:
        """Resume: keep what finished, if its outputs are still on disk, unchanged (their recorded
        hash), and everything it read was kept too; everything else runs again."""
        for name in self._order:
            rec = previous.get(name)
            if rec is None or rec.status not in DONE or not os.path.isdir(self.dir(name)):
                continue
            if any(self.state[dep] not in DONE for dep in self.graph.upstream(name)):
                continue  # an input runs again: so does this step
            recorded = rec.detail.get("artifacts")
            if recorded is not None and recorded != _artifact_hash(rec.kind, self.dir(name)):
                continue  # its outputs changed or vanished since it finished
            self.state[name], self.records[name] = rec.status, rec
            self._finished.add(name)
            if rec.cache_key:
                self.keys[name] = rec.cache_key
            if rec.kind == "condition" and rec.detail.get("branch"):
                self.branch[name] = rec.detail["branch"]

    def metrics(self, step: str) -> dict[str, float]:
        if step not in self._metrics:
            path = os.path.join(self.dir(step), c.PROCESSING_METRICS_DIR, c.METRICS_FILE)
            try:
                with open(path, encoding="utf-8") as f:
                    self._metrics[step] = json.load(f)
            except FileNotFoundError:
                raise ConditionError(f"step {step!r} wrote no metrics report ({path}).") from None
        return self._metrics[step]

    # ------------------------------------------------------------ readiness
    def verdict(self, name: str) -> str:
        gate = self.graph.branch_of.get(name)
        if gate is not None:
            cond, side = gate
            status = self.state[cond]
            if status == "skipped":
                return "skip"
            if status in STOPPED:
                return "blocked"
            if status not in DONE:
                return "wait"
            if self.branch.get(cond) != side:
                return "skip"
        waiting = False
        if name not in self._upstream:
            self._upstream[name] = self.graph.upstream(name)
        for dep in self._upstream[name]:
            status = self.state[dep]
            if status in STOPPED:
                return "blocked"
            if status == "skipped":
                return "skip"
            if status not in DONE:
                waiting = True
        return "wait" if waiting else "ready"

    # ------------------------------------------------------------ function steps
    def cache_key(self, spec: FunctionSpec) -> str:
        try:
            function = function_fingerprint(spec.fn)
        except Uncacheable as exc:  # never a wrong hit: this step's key is this run's own
            self.uncacheable[spec.name] = f"not cached: {exc}"
            function = f"uncacheable:{self.run_id}"
        inputs = []
        for b in self.graph.bindings[spec.name]:
            if b.source == STEP:
                inputs.append((b.parameter, self.keys.get(b.ref or "", f"{self.run_id}/{b.ref}")))
            elif b.source == DATASET:
                inputs.append((b.parameter, content_hash(self.params[b.ref or ""])))
            elif b.source == PARAM:
                inputs.append((b.parameter, repr(self.params[b.ref or ""])))
        blob = json.dumps([self.code_hash, self.graph.name, spec.name, spec.kind, spec.qualname, function, inputs], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _input_path(self, source: NodeSpec) -> str:
        if source.kind == "training":
            return os.path.join(self.dir(source.name), c.MODEL_DIR)
        if source.kind == "transform":
            return os.path.join(self.dir(source.name), "predictions")
        return os.path.join(self.dir(source.name), c.PROCESSING_OUTPUT_DIR)

    def prepare(self, spec: FunctionSpec) -> Task:
        root = self.dir(spec.name)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        base = c.TRAINING_CHANNEL_DIR if spec.kind == "training" else c.PROCESSING_INPUT_DIR
        params: list[tuple[str, str]] = []
        for b in self.graph.bindings[spec.name]:
            link = os.path.join(root, base, b.parameter)
            if b.source == STEP:
                os.makedirs(os.path.dirname(link), exist_ok=True)
                os.symlink(self._input_path(self.graph[b.ref or ""]), link)
            elif b.source == DATASET:
                path = self.params[b.ref or ""]
                if os.path.isdir(path):
                    os.makedirs(os.path.dirname(link), exist_ok=True)
                    os.symlink(path, link)
                else:
                    os.makedirs(link)
                    os.symlink(path, os.path.join(link, os.path.basename(path)))
            elif b.source == PARAM:
                params.append((b.ref or "", _sm_string(self.params[b.ref or ""])))
        log = os.path.join(root, "log.txt")
        timeout = float(spec.options.timeout) if spec.options.timeout else None
        if spec.kind == "training":
            hyper = {c.HP_MODE: "training", c.HP_TARGET: self.target, c.HP_STEP: spec.name, **dict(params)}
            config = os.path.join(root, c.HYPERPARAMETERS_FILE)
            os.makedirs(os.path.dirname(config))
            with open(config, "w", encoding="utf-8") as f:
                json.dump(hyper, f, sort_keys=True)
            return Task(spec.name, "function", root, log, (), timeout=timeout)
        argv = ["--mode", "processing", "--target", self.target, "--step", spec.name]
        for name, value in params:
            argv += ["--param", name, value]
        return Task(spec.name, "function", root, log, tuple(argv), timeout=timeout)

    def try_cache(self, spec: FunctionSpec, key: str, started: float) -> bool:
        if not self.cache:
            return False
        hit = self.store.cached(key)
        if hit is None or hit == (self.run_id, spec.name):
            return False
        source = self.store.step_dir(*hit)
        recorded = self.store.steps(hit[0]).get(hit[1])
        expected = recorded.detail.get("artifacts") if recorded is not None else None
        if expected is None or expected != _artifact_hash(spec.kind, source):
            return False  # the cached outputs are gone or changed: run the step
        root = self.dir(spec.name)
        shutil.rmtree(root, ignore_errors=True)
        _link_tree(source, root)
        detail = {"artifacts": expected}
        self.mark(StepRecord(spec.name, spec.kind, "cached", started, now(), key, hit[0], detail=detail))
        return True

    def transform_task(self, spec: TransformSpec) -> Task:
        model = self.graph[spec.model]
        assert isinstance(model, ModelSpec)
        model_dir = os.path.join(self.dir(model.model), c.MODEL_DIR)
        if spec.data_is_dataset:
            source = self.params[spec.data]
        elif self.graph[spec.data].kind == "processing":
            source = os.path.join(self.dir(spec.data), c.PROCESSING_CSV_DIR, c.CSV_FILE)
        else:
            source = self._input_path(self.graph[spec.data])
        root = self.dir(spec.name)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        out = os.path.join(root, "predictions")
        return Task(spec.name, "transform", root, os.path.join(root, "log.txt"), transform=(model_dir, source, out))

    # ------------------------------------------------------------ inline steps
    def inline(self, spec: NodeSpec) -> None:
        started = now()
        try:
            if isinstance(spec, ConditionSpec):
                metrics = {}
                for leaf in _metric_steps(spec):
                    metrics[leaf] = self.metrics(leaf)
                where = f"pipeline {self.graph.name!r}, condition {spec.name!r}"
                outcome = evaluate_conditions(self.graph.lowered[spec.name], metrics, self.params, where)
                side = "then" if outcome else "otherwise"
                self.branch[spec.name] = side
                detail = {"outcome": outcome, "branch": side, "values": describe_values(spec.expression, metrics, self.params)}
                self.mark(StepRecord(spec.name, spec.kind, "succeeded", started, now(), detail=detail))
            elif isinstance(spec, FailSpec):
                message = "".join(_sm_string(self.params[p.name]) if isinstance(p, Param) else p for p in spec.message)
                self.mark(StepRecord(spec.name, spec.kind, "failed", started, now(), error=message or "Fail step reached"))
            elif isinstance(spec, ModelSpec):
                detail = {"model_dir": os.path.join(self.dir(spec.model), c.MODEL_DIR)}
                os.makedirs(self.dir(spec.name), exist_ok=True)
                self.mark(StepRecord(spec.name, spec.kind, "succeeded", started, now(), detail=detail))
            elif isinstance(spec, RegisterSpec):
                detail = self.register(spec)
                os.makedirs(self.dir(spec.name), exist_ok=True)
                self.mark(StepRecord(spec.name, spec.kind, "succeeded", started, now(), detail=detail))
        except DagmlError as exc:
            self.mark(StepRecord(spec.name, spec.kind, "failed", started, now(), error=str(exc)))

    def register(self, spec: RegisterSpec) -> dict[str, Any]:
        from dagml.local.registry import ModelRegistry

        registry = ModelRegistry(self.home)
        group = self.params[spec.group.name] if isinstance(spec.group, Param) else spec.group
        approval = self.params[spec.approval.name] if isinstance(spec.approval, Param) else spec.approval
        try:
            existing = registry.versions(group)
        except LookupError:  # a new group
            existing = []
        for version in existing:
            if version.run_id == self.run_id and version.step == spec.name:  # resumed after a kill
                return {"group": group, "version": version.version, "status": version.status}
        model = self.records.get(spec.model)
        expected = model.detail.get("artifacts") if model is not None else None
        artifact = os.path.join(self.dir(spec.model), c.MODEL_DIR, c.MODEL_FILE)
        if expected is None or expected != _artifact_hash("training", self.dir(spec.model)) or not os.path.isfile(artifact):
            raise DagmlError(
                f"pipeline {self.graph.name!r}, step {spec.name!r}: the model of {spec.model!r} ({artifact}) is "
                "missing or changed since that step finished, so it is not registered. "
                f"Fix: run the pipeline again without --resume (or with --no-cache) to retrain {spec.model!r}."
            )
        metrics = self.metrics(spec.metrics) if spec.metrics else {}
        registered = registry.register(
            group,
            approval=approval,
            metrics=metrics,
            artifact=os.path.join(self.dir(spec.model), c.MODEL_DIR, c.MODEL_FILE),
            pipeline=self.graph.name,
            run_id=self.run_id,
            step=spec.name,
            code_hash=self.code_hash,
            description=spec.description,
        )
        return {"group": group, "version": registered.version, "status": registered.status}

    # ------------------------------------------------------------ the loop
    def execute(self, workers: int) -> None:
        jobs = [n for n in self.graph.order if self.graph[n].kind in ("processing", "training", "transform")]
        size = max(1, min(workers, len([n for n in jobs if self.state[n] == "pending"]) or 1))
        starts: dict[str, float] = {}
        _warm_runtime(self.graph)
        with WorkerPool(size) as pool:
            try:
                while True:
                    self.decide(pool, starts)
                    if not pool.busy:
                        break
                    for outcome in pool.wait(timeout=1.0):
                        self.finish(outcome, starts)
            except BaseException:
                for name, status in self.state.items():
                    if status == "running":
                        self.mark(StepRecord(name, self.graph[name].kind, "failed", starts.get(name), now(), error="interrupted"))
                raise
        for name, status in self.state.items():
            if status == "pending":
                self.mark(StepRecord(name, self.graph[name].kind, "not run"))

    def decide(self, pool: WorkerPool, starts: dict[str, float]) -> None:
        """One pass in graph order over the steps whose verdict may have changed.

        Marking a step queues the steps after it, later in the same pass; a ready step
        with no idle worker waits for the next pass. The same decisions, in the same
        order, as scanning every step until nothing changes.
        """
        heap, waiting = self._heap, []
        heapq.heapify(heap)
        while heap:
            name = self._order[heapq.heappop(heap)]
            if name not in self._dirty:
                continue  # queued twice
            self._dirty.discard(name)
            if self.state[name] != "pending":
                continue
            verdict = self.verdict(name)
            spec = self.graph[name]
            if verdict == "skip":
                self.mark(StepRecord(name, spec.kind, "skipped"))
            elif verdict == "blocked":
                self.mark(StepRecord(name, spec.kind, "not run"))
            elif verdict == "ready":
                if spec.kind in ("condition", "fail", "model", "register"):
                    self.inline(spec)
                elif pool.idle:
                    self.launch(spec, pool, starts)
                else:
                    waiting.append(name)
        for name in waiting:
            self._dirty.add(name)
            heapq.heappush(heap, self._position[name])

    def launch(self, spec: NodeSpec, pool: WorkerPool, starts: dict[str, float]) -> None:
        started = now()
        if isinstance(spec, FunctionSpec):
            key = self.cache_key(spec)
            self.keys[spec.name] = key
            if self.try_cache(spec, key, started):
                return
            task = self.prepare(spec)
        else:
            assert isinstance(spec, TransformSpec)
            task = self.transform_task(spec)
        starts[spec.name] = started
        self.state[spec.name] = "running"
        record = StepRecord(spec.name, spec.kind, "running", started, None, self.keys.get(spec.name))
        self.records[spec.name] = record
        self.store.set_step(self.run_id, record)
        self.progress.step(record, len(self.state), len(self._finished))
        pool.submit(task)

    def finish(self, outcome: Outcome, starts: dict[str, float]) -> None:
        spec = self.graph[outcome.step]
        key = self.keys.get(outcome.step)
        if outcome.ok:
            detail: dict[str, Any] = {"artifacts": _artifact_hash(spec.kind, self.dir(spec.name))}
            if spec.name in self.uncacheable:
                detail["note"] = self.uncacheable[spec.name]
            self.mark(StepRecord(spec.name, spec.kind, "succeeded", starts.get(spec.name), now(), key, detail=detail))
            if key and self.cache and isinstance(spec, FunctionSpec):
                self.store.remember(key, self.run_id, spec.name)
        else:
            log = os.path.join(self.dir(spec.name), "log.txt")
            error = f"{outcome.error} (log: {log})" if outcome.error else f"failed (log: {log})"
            self.mark(StepRecord(spec.name, spec.kind, "failed", starts.get(spec.name), now(), key, error=error))

    def final_status(self) -> tuple[str, str | None]:
        failed = [n for n in self.graph.order if self.state[n] == "failed"]
        if not failed:
            return "Succeeded", None
        first = failed[0]
        kind = self.graph[first].kind
        why = self.records[first].error or "failed"
        if kind == "fail":
            return "Failed", f"{first}: {why}"
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return "Failed", f"step {first!r} failed: {why.splitlines()[0]}{more}"


def _metric_steps(spec: ConditionSpec) -> list[str]:
    from dagml.spec.conditions import MetricRef, operands

    return sorted({o.step for o in operands(spec.expression) if isinstance(o, MetricRef)})


def run_pipeline(
    graph: PipelineGraph,
    *,
    params: Mapping[str, Any] | None = None,
    workers: int | None = None,
    cache: bool = True,
    resume: str | None = None,
    home: str | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run a validated graph locally; return its :class:`RunResult` (``.ok``, ``.steps``, ``.output(step)``...).

    ``params`` override defaults (strings are parsed by type, as from the CLI);
    ``workers`` caps parallel steps (default: the CPU count); ``cache=False``
    re-runs every step; ``resume=RUN_ID`` finishes an earlier run, re-running
    only what did not succeed, with that run's params.
    """
    if not graph.source_file or not os.path.isfile(graph.source_file):
        raise DagmlError(
            f"pipeline {graph.name!r} was not declared in a .py file, so worker processes cannot load it. "
            "Fix: declare it in a module."
        )
    attr = graph.provenance.attribute
    target = os.path.abspath(graph.source_file) + (f":{attr}" if attr else "")
    store = RunStore(home)
    code_hash = _code_hash(graph.source_file)
    with contextlib.ExitStack() as stack:
        if resume:
            record = store.run(resume)
            if record.pipeline != graph.name:
                raise ConfigurationError(f"run {resume!r} is of pipeline {record.pipeline!r}, not {graph.name!r}.")
            if params:
                raise ConfigurationError(f"--resume reuses run {resume!r}'s params; drop -p (or start a new run).")
            stack.enter_context(_run_lock(store, resume))
            values = dict(record.params)
            run_id = resume
            store.reopen(run_id)
        else:
            values = resolve_params(graph, params)
            run_id = store.new_run(graph.name, target, values, code_hash)
            stack.enter_context(_run_lock(store, run_id))
        run = _Run(graph, store, run_id, target, values, code_hash, cache, progress or Progress(), home)
        if resume:
            run.restore(store.steps(run_id))
        try:
            with _stop_on_signals():
                run.execute(workers or os.cpu_count() or 1)
        except KeyboardInterrupt as exc:
            how = f"stopped by {exc}" if isinstance(exc, RunStopped) else "interrupted"
            store.finish_run(run_id, "Failed", f"{how}; finish it with: dagml run --resume {run_id}")
            raise
        except StoreError as exc:  # the store broke mid-run (a full disk): record it if it still can
            with contextlib.suppress(StoreError):
                store.finish_run(run_id, "Failed", str(exc))
            raise
        status, error = run.final_status()
        store.finish_run(run_id, status, error)
    return RunResult.load(store, run_id, graph.order)
