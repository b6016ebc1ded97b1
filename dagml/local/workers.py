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

(Forking a fresh process per step isolates more, module state too, but costs
about 8 ms a step; docs/performance.md's goal is 5 ms. Per-step isolation of
that kind is left to SageMaker, where each job is a new container.)
"""

from __future__ import annotations

import ctypes
import faulthandler
import multiprocessing
import os
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection, wait
from typing import Any, Literal

import attrs

from dagml.contract import FAILURE_FILE, ROOT_ENV

__all__ = ["Outcome", "Task", "WorkerPool"]


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


@attrs.frozen
class Outcome:
    step: str
    ok: bool
    error: str | None = None


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the runner dies, so no orphan writes into a resumed run."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _execute(task: Task) -> Outcome:
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
                return _transform(task)
            if task.kind == "script":
                return _script(task)
            if task.command:
                return _child(task)
            os.environ[ROOT_ENV] = task.root
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


def _kill_leftovers() -> None:
    """Kill and reap every process the last step left running (its own children and orphans)."""
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


def _worker_main(conn: Connection, environment: dict[str, str], cwd: str) -> None:
    _die_with_parent()
    # A group of its own, not the terminal's: Ctrl-C reaches the runner, which stops the steps; the
    # steps keep SIGINT's default action, and so do the processes they start.
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _subreaper()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:  # the pool is closing
            return
        os.environ.clear()
        os.environ.update(environment)
        os.chdir(cwd)
        outcome = _execute(task)
        _kill_leftovers()
        try:
            conn.send(outcome)
        except (BrokenPipeError, OSError):
            return


@attrs.define
class _Worker:
    process: Any
    conn: Connection
    task: Task | None = None
    started: float = 0.0

    def kill(self) -> None:
        """Kill the worker's process group: the worker, its step and what the step started."""
        if self.process.pid is not None:
            _kill_group(self.process.pid)
        if self.process.is_alive():
            self.process.kill()


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
    """``size`` worker processes running :class:`Task` objects."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._ctx = multiprocessing.get_context("fork")
        #: What every step starts from: the runner's environment and working directory now.
        self._environment, self._cwd = dict(os.environ), os.getcwd()
        self._workers: list[_Worker] = [self._spawn() for _ in range(self.size)]

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        # Not daemonic: a step may start processes of its own (multiprocessing.Pool).
        process = self._ctx.Process(target=_worker_main, args=(child, self._environment, self._cwd), daemon=False)
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
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], limit)
        results: list[Outcome] = []
        for worker in busy:
            task = worker.task
            assert task is not None
            if worker.conn in ready:
                try:
                    results.append(worker.conn.recv())
                    worker.task = None
                    continue
                except (EOFError, OSError):
                    pass
            if worker.process.sentinel in ready or not worker.process.is_alive():
                worker.process.join(1)
                results.append(Outcome(task.step, False, f"the step's process {_describe_exit(worker.process.exitcode)}"))
                self._replace(worker)
            elif task.timeout and time.monotonic() - worker.started > task.timeout:
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
