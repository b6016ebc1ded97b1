"""Run a pipeline on this machine with the decisions SageMaker would make.

Function steps and batch transforms run in worker processes through the same
step runtime as the SageMaker containers (the step's directory in the run
store is its ``/opt/ml``); conditions are decided by interpreting the compiled
``Conditions``; the branch not taken, and everything that depends on it, is
skipped; a Fail step fails the run with its message; a step that fails stops
only what depends on it. Status changes are committed to the run store before
the runner waits for a worker again, so ``resume`` finishes a run killed at any
point without re-running a step recorded as finished. A function step waiting
only for a running step is queued on that step's worker (:meth:`_Run.pipeline`),
which starts it as soon as that step succeeds.

This module schedules; the rest of a run lives beside it: the param values
(:mod:`dagml.local.params`), the statuses (:mod:`dagml.local.ledger`), cache
keys and hits (:mod:`dagml.local.cache`), what a worker runs for a job step
(:mod:`dagml.local.tasks`) and the steps decided without one: conditions, Fail,
Model and RegisterModel (:mod:`dagml.local.inline`).
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import os
import shutil
import signal
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from dagml.errors import ConfigurationError, DagmlError
from dagml.graph.model import PipelineGraph
from dagml.local.cache import StepCache, artifact_hash, code_hash
from dagml.local.context import RunContext
from dagml.local.errors import ParamError, RunBusyError, StoreError
from dagml.local.inline import INLINE, InlineSteps
from dagml.local.ledger import Ledger
from dagml.local.params import resolve_params
from dagml.local.progress import Progress
from dagml.local.requirements import missing_requirements
from dagml.local.result import RunResult
from dagml.local.status import DONE
from dagml.local.store import RunStore, StepRecord, now
from dagml.local.tasks import LOG_FILE, ScriptCannotRun, function_task, script_task, transform_task
from dagml.local.workers import FOLLOW_DEPTH, Outcome, WorkerPool
from dagml.spec.specs import ContainerSpec, FunctionSpec, ModelSpec, ScriptSpec, TransformSpec

if TYPE_CHECKING:  # imported when a run uses --image-env: most runs never do
    from dagml.local.imageenv import ImageEnvPlan, ImageEnvs

__all__ = ["FOLLOW_DEPTH", "ParamError", "RunBusyError", "RunStopped", "resolve_params", "run_pipeline"]


def _warm_runtime(graph: PipelineGraph) -> None:
    """Fill, before the workers fork, the caches every step's runtime reads.

    What every worker would otherwise find again (where the libraries live, the runtime's
    modules) is found here once and inherited. Facts about the steps are on the graph, which
    the workers inherit too (:class:`WorkerPool`): a step is never loaded and validated again.
    """
    from dagml.runtime import entry  # noqa: F401 - imported once, before the fork
    from dagml.runtime.modules import library_roots

    library_roots()


class RunStopped(KeyboardInterrupt):
    """The runner got SIGTERM or SIGHUP: the run stops like on Ctrl-C, and the process exits 128 + signal.

    Kept here, beside the signal handler that raises it, and not in :mod:`dagml.local.errors`: it is
    control flow (an interrupt with an exit code), not a DagmlError.
    """

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


class _Run:
    """The scheduler: which pending step runs next, on a worker or inline, and what its outcome is.

    The step statuses are the :class:`Ledger`'s; cache keys and hits the :class:`StepCache`'s.
    """

    def __init__(
        self, context: RunContext, cache: StepCache, progress: Progress, envs: ImageEnvs | None = None
    ) -> None:
        self.context, self.graph, self.cache = context, context.graph, cache
        #: ``--image-env``: which function steps run in their image's environment (None: all here).
        self.envs = envs
        self.ledger = Ledger(context, progress)
        self.inline = InlineSteps(context)
        self._order = self.graph.order
        self._position = {n: i for i, n in enumerate(self._order)}
        self._starts: dict[str, float] = {}
        #: Pending steps whose verdict may have changed since it was last read, and a heap of
        #: their positions: a step is decided again only when a step it depends on (or its
        #: condition) changes, not on every pass over the whole pipeline (quadratic).
        self._dirty: set[str] = set(self._order)
        self._heap: list[int] = list(range(len(self._order)))
        #: Pipelined steps: running step -> the pending step queued on its worker to start the moment
        #: it succeeds (:meth:`WorkerPool.follow`), and back.
        self._next: dict[str, str] = {}
        self._after: dict[str, str] = {}

    def mark(self, record: StepRecord) -> None:
        """Record a step's status, and queue the steps after it to be decided again."""
        self.ledger.mark(record)
        for successor in self.graph.graph.successors(record.step):
            if successor not in self._dirty:
                self._dirty.add(successor)
                heapq.heappush(self._heap, self._position[successor])

    def restore(self, previous: Mapping[str, StepRecord]) -> None:
        """Resume: keep what the earlier attempt finished (:meth:`Ledger.restore`), with its cache keys."""
        for record in self.ledger.restore(previous):
            if record.cache_key:
                self.cache.keys[record.step] = record.cache_key

    # ------------------------------------------------------------ the loop
    def execute(self, workers: int) -> None:
        state = self.ledger.state
        jobs = [n for n in self._order if isinstance(self.graph[n], (FunctionSpec, ScriptSpec, TransformSpec))]
        size = max(1, min(workers, len([n for n in jobs if state[n] == "pending"]) or 1))
        _warm_runtime(self.graph)
        with WorkerPool(size, self.graph) as pool:
            try:
                while True:
                    self.decide(pool)
                    self.save()  # what this pass changed, committed before waiting again
                    if not pool.busy:
                        break
                    for outcome in pool.wait(timeout=1.0):
                        self.finish(outcome)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):  # a stop: steps the workers ended already are kept
                    with contextlib.suppress(Exception):  # what could not be taken in runs again on --resume
                        for outcome in pool.reported():
                            self.finish(outcome)
                for name, status in state.items():
                    if status == "running":
                        kind = self.graph[name].kind
                        self.mark(StepRecord(name, kind, "failed", self._starts.get(name), now(), error="interrupted"))
                with contextlib.suppress(StoreError):  # a broken store is what is being raised
                    self.save()
                raise
        for name, status in state.items():
            if status == "pending":
                self.mark(StepRecord(name, self.graph[name].kind, "not run"))
        self.save()

    def save(self) -> None:
        """Commit the statuses changed, and the cache entries made, since the last save: one transaction."""
        cached = self.cache.take()
        try:
            self.ledger.save(cached)
        except BaseException:
            self.cache.give_back(cached)  # not committed: saved with the next changes
            raise

    def decide(self, pool: WorkerPool) -> None:
        """Passes in graph order over the steps whose verdict may have changed (:meth:`_pass`), again
        after a step was queued behind another (:meth:`pipeline`): the steps after it may be too."""
        while True:
            queued = [name for name, after in self._pass(pool) if self.pipeline(name, after, pool)]
            if not queued:
                return
            self._redecide([s for name in queued for s in self.graph.graph.successors(name)])

    def _redecide(self, names: list[str]) -> None:
        """Decide these steps again in the next pass."""
        for name in names:
            if name not in self._dirty:
                self._dirty.add(name)
                heapq.heappush(self._heap, self._position[name])

    def _pass(self, pool: WorkerPool) -> list[tuple[str, str]]:
        """One pass in graph order over the steps whose verdict may have changed; returns the
        (step, step it would follow) pairs that can be pipelined.

        Marking a step queues the steps after it, later in the same pass; a ready step
        with no idle worker waits for the next pass. The same decisions, in the same
        order, as scanning every step until nothing changes.
        """
        heap, waiting, follow = self._heap, [], []
        heapq.heapify(heap)
        while heap:
            name = self._order[heapq.heappop(heap)]
            if name not in self._dirty:
                continue  # queued twice
            self._dirty.discard(name)
            if self.ledger.state[name] != "pending" or name in self._after:
                continue  # a pipelined step is decided by how the step it follows ends
            verdict = self.ledger.verdict(name)
            spec = self.graph[name]
            if verdict == "skip":
                self.mark(StepRecord(name, spec.kind, "skipped"))
            elif verdict == "blocked":
                self.mark(StepRecord(name, spec.kind, "not run"))
            elif verdict == "wait":
                after = self._pipelines_after(name)  # else queued again when a step it waits for changes
                if after is not None:
                    follow.append((name, after))
            elif verdict == "ready":
                if isinstance(spec, INLINE):
                    self.mark(self.inline.run(spec, self.ledger.records))
                elif not isinstance(spec, (FunctionSpec, ScriptSpec, TransformSpec)):
                    raise AssertionError(f"step {name!r}: a {spec.kind} step of an imported definition cannot run")
                elif pool.idle:
                    self.launch(spec, pool)
                else:
                    waiting.append(name)
            else:
                raise AssertionError(f"unhandled verdict {verdict!r}")
        for name in waiting:
            self._dirty.add(name)
            heapq.heappush(heap, self._position[name])
        return [] if waiting else follow  # never ahead of a step that is ready and waits for a worker

    def _pipelines_after(self, name: str) -> str | None:
        """The step whose success alone would make pending function step ``name`` ready, if ``name``
        can be queued behind it (:meth:`pipeline`): a running step, or one queued behind a running
        step (at most :data:`FOLLOW_DEPTH` deep), with nothing queued behind it yet; else None."""
        spec = self.graph[name]
        if not isinstance(spec, FunctionSpec):
            return None
        state = self.ledger.state
        unfinished = [dep for dep in self.ledger.upstream(name) if state[dep] not in DONE]
        if len(unfinished) != 1 or unfinished[0] in self._next:
            return None
        after = unfinished[0]
        depth, ahead = 1, after
        while ahead in self._after:  # ``after`` is queued itself: behind what, how deep
            depth, ahead = depth + 1, self._after[ahead]
        if state[ahead] != "running" or depth > FOLLOW_DEPTH:
            return None
        return after if self.ledger.verdict(name, assume=after) == "ready" else None

    def pipeline(self, name: str, after: str, pool: WorkerPool) -> bool:
        """Queue function step ``name`` on the worker of ``after``, to start when ``after`` succeeds.

        Only a step the runner would then launch on a worker anyway: its requirements installed and
        no cache hit (those it decides when ``after`` ends, as always). The same decisions, without
        a round trip through the runner between the two steps; :meth:`finish` records either way.
        True when it was queued.
        """
        if after in self._next:  # another step of this pass was queued behind it first
            return False
        spec = self.graph[name]
        assert isinstance(spec, FunctionSpec)  # as _pipelines_after found it
        envs = self.envs if self.envs is not None and self.envs.environment(spec.name) is not None else None
        if envs is None and missing_requirements(spec.requirements):
            return False
        key = self.cache.key(spec, envs.identity(spec.name) if envs is not None else None)
        if self.cache.hit(spec, key) is not None:
            return False
        task = envs.task(self.context, spec) if envs is not None else function_task(self.context, spec)
        if not pool.follow(after, task):
            shutil.rmtree(self.context.dir(spec.name), ignore_errors=True)
            return False
        self._next[after], self._after[spec.name] = spec.name, after
        return True

    def launch(self, spec: FunctionSpec | ScriptSpec | TransformSpec, pool: WorkerPool) -> None:
        """Start a job step on an idle worker, or take a function step's outputs from the cache."""
        started = now()
        if isinstance(spec, FunctionSpec):
            envs = self.envs if self.envs is not None and self.envs.environment(spec.name) is not None else None
            missing = missing_requirements(spec.requirements) if envs is None else []  # there: the job's wheels
            if missing:
                self.refuse(spec, started, _not_installed(self.graph.name, spec.name, missing))
                return
            key = self.cache.key(spec, envs.identity(spec.name) if envs is not None else None)
            hit = self.cache.reuse(spec, key)
            if hit is not None:
                source, artifacts = hit
                detail = {"artifacts": artifacts, **self._where(spec.name)}
                self.mark(StepRecord(spec.name, spec.kind, "cached", started, now(), key, source, detail=detail))
                return
            task = envs.task(self.context, spec) if envs is not None else function_task(self.context, spec)
        elif isinstance(spec, ScriptSpec):
            try:
                task = script_task(self.context, spec)
            except ScriptCannotRun as exc:
                self.refuse(spec, started, str(exc))
                return
        else:
            model = self.graph[spec.model]
            served = self.graph[model.model] if isinstance(model, ModelSpec) else None
            if isinstance(served, (ContainerSpec, ScriptSpec)):
                self.refuse(spec, started, _not_served_here(self.graph.name, spec.name, served))
                return
            task = transform_task(self.context, spec)
        self._starts[spec.name] = started
        self.mark(StepRecord(spec.name, spec.kind, "running", started, None, self.cache.keys.get(spec.name)))
        pool.submit(task)

    def refuse(self, spec: FunctionSpec | ScriptSpec | TransformSpec, started: float, error: str) -> None:
        """A job step that cannot run here fails before it starts, saying why and what to do."""
        self.mark(StepRecord(spec.name, spec.kind, "failed", started, now(), error=error))

    def finish(self, outcome: Outcome) -> None:
        """Record how a job step ended; a function step that succeeded goes into the cache.

        A step pipelined after it (:meth:`pipeline`) started the moment it succeeded, and is now
        running; if it failed, that step never started, and is decided again like any other.
        """
        self._record(outcome)
        follower = self._next.pop(outcome.step, None)
        if follower is None:
            return
        del self._after[follower]
        if outcome.ok:
            started = outcome.finished or now()
            self._starts[follower] = started
            spec = self.graph[follower]
            self.mark(StepRecord(follower, spec.kind, "running", started, None, self.cache.keys.get(follower)))
            queued = follower
            while queued in self._next:  # one step less deep now: the steps after them may be queued too
                queued = self._next[queued]
            self._redecide(list(self.graph.graph.successors(queued)))
            return
        while follower is not None:  # it never started, nor did what was queued behind it
            shutil.rmtree(self.context.dir(follower), ignore_errors=True)  # laid out for it; it never ran
            self._after.pop(follower, None)
            self._redecide([follower])
            follower = self._next.pop(follower, None)

    def _record(self, outcome: Outcome) -> None:
        spec = self.graph[outcome.step]
        key, started = self.cache.keys.get(outcome.step), self._starts.get(outcome.step)
        if outcome.ok:
            digest = outcome.artifacts or artifact_hash(spec.kind, self.context.dir(spec.name))
            detail: dict[str, Any] = {"artifacts": digest}
            if spec.name in self.cache.uncacheable:
                detail["note"] = self.cache.uncacheable[spec.name]
            detail.update(self._where(spec.name))
            self.mark(StepRecord(spec.name, spec.kind, "succeeded", started, now(), key, detail=detail))
            if isinstance(spec, FunctionSpec):
                self.cache.remember(spec)
        else:
            log = os.path.join(self.context.dir(spec.name), LOG_FILE)
            error = f"{outcome.error} (log: {log})" if outcome.error else f"failed (log: {log})"
            self.mark(StepRecord(spec.name, spec.kind, "failed", started, now(), key, error=error, detail=self._where(spec.name)))

    def _where(self, step: str) -> dict[str, Any]:
        """``--image-env``: where the step ran, for its record (the run summary lists it)."""
        where = self.envs.where(step) if self.envs is not None else None
        if not where:
            return {}
        from dagml.local.imageenv import DETAIL

        return {DETAIL: where}


def _not_installed(pipeline: str, step: str, missing: list[str]) -> str:
    quoted = " ".join(f"'{r}'" for r in missing)
    return (
        f"pipeline {pipeline!r}, step {step!r} requires {', '.join(missing)}, which is not installed where dagml "
        f"runs (a local run uses this environment). Fix: pip install {quoted} (or dagml run --image-env)."
    )


def _not_served_here(pipeline: str, step: str, served: ContainerSpec | ScriptSpec) -> str:
    return (
        f"pipeline {pipeline!r}, step {step!r}: the model comes from {served.kind} step {served.name!r} and is "
        f"served by {_server(served)}, which dagml does not run locally. Fix: run this transform on SageMaker "
        "(dagml deploy); locally, score with a function step that reads the model directory."
    )


def _server(spec: ContainerSpec | ScriptSpec) -> str:
    """Who serves a container's or script's model on SageMaker, in words."""
    if isinstance(spec, ContainerSpec):
        return f"image {spec.image}'s own serving stack"
    return f"the image's serving stack running {os.path.basename(spec.path)}'s model_fn"


def run_pipeline(
    graph: PipelineGraph,
    *,
    params: Mapping[str, Any] | None = None,
    workers: int | None = None,
    cache: bool = True,
    resume: str | None = None,
    home: str | None = None,
    progress: Progress | None = None,
    image_envs: ImageEnvPlan | None = None,
) -> RunResult:
    """Run a validated graph locally; return its :class:`RunResult` (``.ok``, ``.steps``, ``.output(step)``...).

    ``params`` override defaults (strings are parsed by type, as from the CLI);
    ``workers`` caps parallel steps (default: the CPU count); ``cache=False``
    re-runs every step; ``resume=RUN_ID`` finishes an earlier run, re-running
    only what did not succeed, with that run's params. ``image_envs`` runs the
    function steps it places in their image's environment (``--image-env``,
    :mod:`dagml.local.imageenv`; :func:`dagml.api.image_env_plan` makes it).
    """
    if graph.imported:
        raise ConfigurationError(
            f"pipeline {graph.name!r} is an imported definition: its steps are SageMaker jobs, not Python "
            "functions, so it cannot run locally. Fix: run the pipeline's Python declaration."
        )
    if not graph.source_file or not os.path.isfile(graph.source_file):
        raise DagmlError(
            f"pipeline {graph.name!r} was not declared in a .py file, so worker processes cannot load it. "
            "Fix: declare it in a module."
        )
    attr = graph.provenance.attribute
    target = os.path.abspath(graph.source_file) + (f":{attr}" if attr else "")
    store = RunStore(home)
    code = code_hash(graph.source_file)
    envs = None
    if image_envs is not None:  # built before the run starts: a missing Python fails nothing half-way
        stream = (progress or Progress()).stream
        from dagml.local.imageenv import ImageEnvs

        envs = ImageEnvs(image_envs, lambda text: print(text, file=stream, flush=True))
        envs.build(graph.source_file, attr)
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
            run_id = store.new_run(graph.name, target, values, code)
            stack.enter_context(_run_lock(store, run_id))
        context = RunContext(graph, store, run_id, target, values, code, home)
        run = _Run(context, StepCache(context, cache), progress or Progress(), envs)
        if resume:
            run.restore(store.steps(run_id))
        try:
            with _stop_on_signals():
                run.execute(workers or os.cpu_count() or 1)
        except KeyboardInterrupt as exc:
            how = f"stopped by {exc}" if isinstance(exc, RunStopped) else "interrupted"
            store.sync(run_id)  # what finished is on disk before the run is recorded as stopped
            store.finish_run(run_id, "Failed", f"{how}; finish it with: dagml run --resume {run_id}")
            raise
        except StoreError as exc:  # the store broke mid-run (a full disk): record it if it still can
            with contextlib.suppress(StoreError):
                store.finish_run(run_id, "Failed", str(exc))
            raise
        status, error = run.ledger.final_status()
        store.sync(run_id)  # every step's files and record on disk before the run is recorded as ended
        store.finish_run(run_id, status, error)
    return RunResult.load(store, run_id, graph.order, graph)
