"""Worker processes: each step runs in a process of its own, so a step that raises,
crashes, segfaults, calls ``os._exit`` or hangs past its timeout fails alone
and the runner carries on.

Workers are forked once and reused (the user's pipeline module is already
imported, so a step costs no interpreter start-up); one that dies is replaced.
Each step starts as it would in a fresh container:

- with the runner's environment variables and working directory, restored
  before every step, whatever an earlier step on the same worker changed;
- in a worker that leads its own process group and adopts every process a step
  leaves behind (a child subreaper): when the step ends those are killed, and
  when it times out or the run stops (Ctrl-C, SIGTERM) the whole group is;
- able to start processes of its own (``multiprocessing.Pool``): workers are
  not daemonic, and SIGINT has its default action (a worker's group is not the
  terminal's, so Ctrl-C reaches the runner, which stops the steps).

A function task with a ``command`` (``dagml run --image-env``: another
interpreter running ``dagml_entry.py``, see :mod:`dagml.local.imageenv`) runs as
a child process of its worker, in the worker's process group, with the log as
its stdout and stderr: timeouts, stops, leftovers and the log work as for any
step, and it gets SIGKILL if its worker dies (as the worker does if the runner
dies), so nothing outlives the run to write into it.

A function step runs the runtime in the worker with its arguments already
parsed (``Task.invocation``) and the run's graph, inherited when the worker was
forked: nothing is loaded or validated again per step. A step queued behind the
worker's running one (:meth:`WorkerPool.follow`) starts the moment that one
succeeds, without a round trip through the runner, and is dropped if it fails.
When a step succeeds the worker hashes what it wrote (``Outcome.artifacts``).

(Forking a fresh process per step isolates more, module state too, but costs
about 8 ms a step, more than ten times a step's whole cost now (docs/performance.md).
Per-step isolation of that kind is left to SageMaker, where each job is a new container.)
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import math
import multiprocessing
import os
import select
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Literal

import attrs

from dagml.contract import FAILURE_FILE, ROOT_ENV

if TYPE_CHECKING:
    from dagml.graph.model import PipelineGraph
    from dagml.runtime.entry import Invocation

__all__ = ["FOLLOW_DEPTH", "Outcome", "Task", "WorkerPool"]

#: How many steps may be queued on a worker behind its running one (:meth:`WorkerPool.follow`): two,
#: so a chain's next step is there when the current one ends, even when the runner is slow to queue.
FOLLOW_DEPTH = 2


@attrs.frozen
class Task:
    """One unit of work: a step function through the runtime entry point, or a batch transform."""

    step: str
    kind: Literal["function", "transform", "script"]
    root: str  # the container root the step sees
    log: str  # stdout and stderr go here
    argv: tuple[str, ...] = ()
    transform: tuple[str, str, str] | None = None  # (model dir, input path, output dir)
    timeout: float | None = None
    #: A transform: (pipeline target, training step) whose inference handlers score, found as the
    #: model container finds them (dagml.runtime.inference.step_handlers); None: dagml's defaults.
    handlers: tuple[str, str] | None = None
    #: A transform's ContentType and Accept.
    content_type: str = "text/csv"
    #: A script step (kind "script"): its command's environment additions and working directory.
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    #: A function step run by another interpreter (``dagml run --image-env``): ``command + argv`` runs
    #: as a child process, with ``env`` added to the runner's environment; empty: the runtime in the worker.
    command: tuple[str, ...] = ()
    #: A function step run by the runtime in the worker: what ``argv`` says, already parsed (the job's
    #: command line, ``argv``, stays the record of it; the worker runs this, with the run's graph).
    invocation: Invocation | None = None
    #: The step's kind: when it succeeds, the worker hashes what it wrote (``dagml.local.cache.artifact_hash``).
    outputs: str | None = None


@attrs.frozen
class Outcome:
    step: str
    ok: bool
    error: str | None = None
    #: When the worker started and ended the step (``time.time()``; None when it never reported).
    started: float | None = None
    finished: float | None = None
    #: ``time.monotonic()`` when the worker ended it: a follow-up's clock starts there.
    ended: float | None = None
    #: The content hash of what a successful step wrote, when its task named its kind (``Task.outputs``).
    artifacts: str | None = None


@attrs.frozen
class _Follow:
    """Run ``task`` after the worker's step ``after`` if that succeeded; if it failed, drop it unrun."""

    task: Task
    after: str


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the runner dies, so no orphan writes into a resumed run."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _execute(task: Task) -> Outcome:
    if not os.path.isdir(os.path.dirname(task.log)):
        os.makedirs(os.path.dirname(task.log), exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    with open(task.log, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        # sys.stdout may not write to fd 1 (pytest, Jupyter): point both at the log.
        # Not closed: closefd=False, and the finally below puts the runner's own streams back.
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
        faulthandler.enable(file=sys.stderr)  # a crash leaves its Python stack in the step's log
        try:
            if task.kind == "transform":
                assert task.transform is not None
                from dagml.runtime.artifacts import deferred_sync

                with deferred_sync():  # as a function step's outputs (docs/local.md, Durability)
                    return _transform(task)
            if task.kind == "script":
                return _script(task)
            if task.command:
                return _child(task)
            os.environ[ROOT_ENV] = task.root
            if task.invocation is not None:
                from dagml.runtime.artifacts import deferred_sync
                from dagml.runtime.entry import execute

                with deferred_sync():  # the runner verifies hashes and syncs once (docs/local.md, Durability)
                    code = execute(task.invocation, task.root, _graph(task.invocation.target))
            else:
                from dagml.runtime.entry import main

                code = main(list(task.argv))
            if code == 0:
                return Outcome(task.step, True)
            return Outcome(task.step, False, _failure_reason(task.root, task.step) or f"exited with status {code}")
        except BaseException as exc:  # noqa: BLE001 - the runtime catches user errors; this is a last resort
            traceback.print_exc()
            return Outcome(task.step, False, f"{type(exc).__name__}: {exc}")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = saved_streams
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


#: The run's graph, as the runner built it, inherited when the worker was forked.
_RUN_GRAPH: PipelineGraph | None = None
#: Target -> the graph this worker runs its steps with (found on its first step).
_GRAPHS: dict[str, PipelineGraph] = {}


def _graph(target: str) -> PipelineGraph | None:
    """The graph to run ``target``'s steps with, found on the worker's first step of it.

    The runner's, if this worker's load of ``target`` is the very declaration it was built from (a
    forked worker finds the module the runner loaded); else this worker's own build of what it loaded
    (a pipeline declared in ``__main__``, loaded again from its file), as a job builds it once. None
    when loading or validating fails: the runtime then does both again and reports why, as a job would.
    """
    if target not in _GRAPHS:
        from dagml.graph.build import build_graph
        from dagml.runtime.entry import load_pipeline

        try:
            declaration = load_pipeline(target)
            graph = _RUN_GRAPH
            nodes = declaration.nodes
            same = (
                graph is not None
                and declaration.name == graph.name
                and len(nodes) == len(graph.nodes)
                and all(graph.nodes.get(spec.name) is spec for spec in nodes)
                and declaration.params == graph.params
                and declaration.datasets == graph.datasets
            )
            _GRAPHS[target] = graph if same and graph is not None else build_graph(declaration)
        except Exception:  # noqa: BLE001 - the runtime loads it again and reports why, as a job would
            return None
    return _GRAPHS[target]


def _script(task: Task) -> Outcome:
    """A script step: its command in a subprocess, its output in the step's log (fds 1 and 2 are it)."""
    import subprocess

    done = subprocess.run(list(task.argv), env={**os.environ, **dict(task.env)}, cwd=task.cwd, stdin=subprocess.DEVNULL)
    if done.returncode == 0:
        return Outcome(task.step, True)
    return Outcome(task.step, False, f"the script exited with status {done.returncode}")


def _child(task: Task) -> Outcome:
    """A function step in another interpreter: its command, the log as its stdout and stderr (fds 1 and 2)."""
    import subprocess

    environment = {**os.environ, **dict(task.env), ROOT_ENV: task.root}
    code = subprocess.call(
        [*task.command, *task.argv],
        env=environment,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,  # a worker runs one thread: preexec_fn is safe here
    )
    if code == 0:
        return Outcome(task.step, True)
    reason = _failure_reason(task.root, task.step)
    return Outcome(task.step, False, reason or f"the step's process {_describe_exit(code)}")


def _transform(task: Task) -> Outcome:
    from dagml.runtime.inference import step_handlers, transform_file

    assert task.transform is not None
    step, (model_dir, source, out_dir) = task.step, task.transform
    try:
        handlers = step_handlers(*task.handlers) if task.handlers is not None else None
        os.makedirs(out_dir, exist_ok=True)
        inputs = (
            [os.path.join(source, f) for f in sorted(os.listdir(source)) if not f.startswith(".")]
            if os.path.isdir(source)
            else [source]
        )
        if not inputs:
            return Outcome(step, False, f"batch transform input {source!r} holds no files")
        for path in inputs:
            transform_file(model_dir, path, out_dir, handlers=handlers, content_type=task.content_type)
        return Outcome(step, True)
    except Exception as exc:  # noqa: BLE001 - whatever the model or the data raise fails this step alone
        traceback.print_exc()
        return Outcome(step, False, f"{type(exc).__name__}: {exc}")


def _failure_reason(root: str, step: str) -> str | None:
    """Why the step failed, as the runtime wrote it for SageMaker, without the step's name in front:
    the run's error names the step once (``step 'prepare' failed: ValueError: ...``)."""
    from dagml.runtime.entry import step_failed

    try:
        with open(os.path.join(root, FAILURE_FILE), encoding="utf-8", errors="replace") as f:
            reason = f.read().strip()
    except OSError:
        return None
    for prefix in (step_failed(step), f"step {step!r}: "):
        if reason.startswith(prefix):
            reason = reason[len(prefix) :]
            break
    return reason or None


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _subreaper() -> None:
    """Linux: adopt the processes a step orphans, so they can be found and killed when it ends."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _children() -> list[int]:
    """This process's children (with the subreaper set: every process a step left behind)."""
    pids: list[int] = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return pids
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except (OSError, ValueError):
            pass
    return pids


def _no_children() -> bool:
    """True when this process has no child at all, running or not (one system call)."""
    try:
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    except (OSError, AttributeError):  # no waitid here (macOS): look in /proc
        return False
    return False


def _kill_leftovers() -> None:
    """Kill and reap every process the last step left running (its own children and orphans)."""
    if _no_children():  # the usual case: the step started nothing, or waited for all it started
        return
    for _ in range(100):  # a killed child's orphans are adopted next: a few rounds at most
        pids = _children()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _restore_environment(environment: dict[str, str]) -> None:
    """Make ``os.environ`` exactly ``environment`` again, changing only what a step changed."""
    current = dict(os.environ)
    if current == environment:
        return
    for key in current.keys() - environment.keys():
        del os.environ[key]
    for key, value in environment.items():
        if current.get(key) != value:
            os.environ[key] = value


def _worker_main(conn: Connection, environment: dict[str, str], cwd: str, graph: PipelineGraph | None = None) -> None:
    global _RUN_GRAPH
    _RUN_GRAPH = graph
    _die_with_parent()
    # A group of its own, not the terminal's: Ctrl-C reaches the runner, which stops the steps; the
    # steps keep SIGINT's default action, and so do the processes they start. SIGTERM and SIGHUP too:
    # the runner's handlers (they raise RunStopped) are not a step's. A multiprocessing.Pool in a step
    # terminates its workers with SIGTERM; with the runner's handler inherited, a worker blocked on
    # the pool's queue lock could outlive it, and the step hang in Pool.__exit__ (seen once in CI).
    os.setpgid(0, 0)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    gc.enable()  # the user's code collects cycles, as in a fresh interpreter, whatever the runner paused
    _subreaper()
    last: Outcome | None = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:  # the pool is closing
            return
        if isinstance(message, _Follow):
            if last is None or last.step != message.after or not last.ok:
                continue  # what it follows failed: the runner knows, and does not wait for it
            task = message.task
        else:
            task = message
        _restore_environment(environment)
        os.chdir(cwd)
        started = time.time()
        outcome = _execute(task)
        _kill_leftovers()
        digest = None
        if outcome.ok and task.outputs is not None:  # hashed here, once nothing can write to it any more
            from dagml.local.cache import artifact_hash

            try:
                digest = artifact_hash(task.outputs, task.root)
            except OSError:  # unreadable: the runner hashes it again, and says why it cannot
                digest = None
        last = attrs.evolve(outcome, started=started, finished=time.time(), ended=time.monotonic(), artifacts=digest)
        try:
            conn.send(last)
        except (BrokenPipeError, OSError):
            return


@attrs.define
class _Worker:
    process: Any
    conn: Connection
    task: Task | None = None
    started: float = 0.0
    #: Tasks queued behind ``task``, each to start when the one before it succeeds
    #: (:meth:`WorkerPool.follow`), with when each was sent.
    queued: list[tuple[Task, float]] = attrs.field(factory=list)

    def kill(self) -> None:
        """Kill the worker's process group: the worker, its step and what the step started."""
        if self.process.pid is not None:
            _kill_group(self.process.pid)
        if self.process.is_alive():
            self.process.kill()


def _wait(fds: list[int], timeout: float | None) -> set[int]:
    """The file descriptors readable (or closed) within ``timeout`` seconds (None: no limit).

    ``multiprocessing.connection.wait`` does the same through a new selector each call, which
    cost more than the rest of the runner's wait for a step to end.
    """
    poll = select.poll()
    for fd in fds:
        poll.register(fd, select.POLLIN)
    return {fd for fd, _ in poll.poll(None if timeout is None else math.ceil(timeout * 1000))}


def _last(worker: _Worker) -> Task:
    """The task the worker will run last, as queued now."""
    assert worker.task is not None
    return worker.queued[-1][0] if worker.queued else worker.task


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class WorkerPool:
    """``size`` worker processes running :class:`Task` objects.

    ``graph``: the run's graph, inherited by the forked workers, so a function step's
    ``Task.invocation`` runs without loading and validating the pipeline again (see :func:`_graph`).
    """

    def __init__(self, size: int, graph: PipelineGraph | None = None) -> None:
        self.size = max(1, size)
        self._ctx = multiprocessing.get_context("fork")
        #: What every step starts from: the runner's environment and working directory now.
        self._environment, self._cwd = dict(os.environ), os.getcwd()
        self._graph = graph
        self._workers: list[_Worker] = [self._spawn() for _ in range(self.size)]

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        # Not daemonic: a step may start processes of its own (multiprocessing.Pool).
        args = (child, self._environment, self._cwd, self._graph)
        process = self._ctx.Process(target=_worker_main, args=args, daemon=False)
        process.start()
        child.close()
        return _Worker(process, parent)

    @property
    def idle(self) -> int:
        return sum(1 for w in self._workers if w.task is None)

    @property
    def busy(self) -> int:
        return self.size - self.idle

    def submit(self, task: Task) -> None:
        worker = next(w for w in self._workers if w.task is None)
        if not worker.process.is_alive():  # an idle worker that died (killed from outside): replace it
            worker = self._replace(worker)
        worker.task, worker.started = task, time.monotonic()
        try:
            worker.conn.send(task)
        except (BrokenPipeError, OSError):  # it died just now: one fresh worker, one more try
            worker = self._replace(worker)
            worker.task, worker.started = task, time.monotonic()
            worker.conn.send(task)

    def follow(self, after: str, task: Task) -> bool:
        """Queue ``task`` on the worker of step ``after`` (running it, or the last queued behind its
        running step), to start the moment ``after`` succeeds.

        The worker starts it without a round trip through the runner, and drops it unrun if
        ``after`` fails, or was dropped itself; :meth:`wait` then reports ``after``'s outcome, and
        ``task`` is the worker's (running) task exactly when that outcome is ``ok``. False (nothing
        queued) when no worker ends with ``after`` or its worker has :data:`FOLLOW_DEPTH` queued.
        """
        worker = next((w for w in self._workers if w.task is not None and _last(w).step == after), None)
        if worker is None or len(worker.queued) >= FOLLOW_DEPTH:
            return False
        try:
            worker.conn.send(_Follow(task, after))
        except (BrokenPipeError, OSError):  # it died: wait() reports its running step failed
            return False
        worker.queued.append((task, time.monotonic()))
        return True

    def _receive(self, worker: _Worker, results: list[Outcome], ready: bool = False) -> bool:
        """Take one outcome the worker sent, if there is one (False: none, or the pipe is closed).
        ``ready``: the pipe was found readable just now."""
        try:
            if not ready and not worker.conn.poll():
                return False
            outcome = worker.conn.recv()
        except (EOFError, OSError):
            return False
        results.append(outcome)
        self._received(worker, outcome)
        return True

    def _drain(self, worker: _Worker, results: list[Outcome]) -> Task | None:
        """Take every outcome the worker sent; return the task it is still running (None: idle)."""
        while worker.task is not None and self._receive(worker, results):
            pass
        return worker.task

    def reported(self) -> list[Outcome]:
        """The outcomes workers have sent that :meth:`wait` has not taken yet, taken without waiting:
        on a stop, the steps that ended (and the ones queued behind them that started) before it."""
        results: list[Outcome] = []
        for worker in self._workers:
            self._drain(worker, results)
        return results

    def _received(self, worker: _Worker, outcome: Outcome) -> None:
        """The worker reported its task: it starts the first task queued behind it if that task
        succeeded; else it drops them all (each follows the one before) and idles."""
        if outcome.ok and worker.queued:
            task, sent = worker.queued.pop(0)
            worker.task, worker.started = task, max(sent, outcome.ended or 0.0)
        else:
            worker.task = None
            worker.queued.clear()

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        worker.process.join(5)
        worker.conn.close()
        fresh = self._spawn()
        self._workers[self._workers.index(worker)] = fresh
        return fresh

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        """Outcomes of tasks that finished, died or timed out (waits up to ``timeout``)."""
        busy = [w for w in self._workers if w.task is not None]
        if not busy:
            return []
        deadlines = [w.started + w.task.timeout - time.monotonic() for w in busy if w.task and w.task.timeout]
        candidates = ([timeout] if timeout is not None else []) + [max(0.0, d) for d in deadlines]
        limit = min(candidates) if candidates else None
        ready = _wait([fd for w in busy for fd in (w.conn.fileno(), w.process.sentinel)], limit)
        results: list[Outcome] = []
        for worker in busy:
            received = worker.conn.fileno() in ready and self._receive(worker, results, ready=True)
            if worker.task is None:
                continue
            if worker.process.sentinel in ready or (not received and not worker.process.is_alive()):
                task = self._drain(worker, results)  # what it sent before it died
                if task is not None:
                    worker.process.join(1)
                    results.append(Outcome(task.step, False, f"the step's process {_describe_exit(worker.process.exitcode)}"))
                    self._replace(worker)
            elif (task := worker.task).timeout and time.monotonic() - worker.started > task.timeout:
                results.append(Outcome(task.step, False, f"timed out after {task.timeout:g} s (timeout=); the process was killed"))
                self._replace(worker)
        return results

    def close(self) -> None:
        for w in self._workers:
            try:
                if w.task is None:
                    w.conn.send(None)  # siblings hold copies of this pipe, so EOF alone would not arrive
            except OSError:
                pass
        for w in self._workers:
            if w.task is not None:
                w.kill()  # a step still running: its whole process group
            w.process.join(2)
            if w.process.is_alive():
                w.kill()
                w.process.join(1)
            try:
                w.conn.close()
            except OSError:
                pass

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
