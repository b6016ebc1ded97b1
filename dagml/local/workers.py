"""Worker processes: each step runs in a process of its own, so a step that raises,
crashes, segfaults, calls ``os._exit`` or hangs past its timeout fails alone
and the runner carries on.

Workers are forked once and reused (the user's pipeline module is already
imported, so a step costs no interpreter start-up); one that dies is replaced.
A worker never runs user code itself: for each step it forks a fresh child, as
SageMaker starts a fresh container for each job, so

- the step starts with the worker's pristine environment variables and working
  directory, whatever an earlier step changed;
- the step leads its own process group, and everything it started is killed as
  a group when it ends, times out, or the runner stops (Ctrl-C, SIGTERM);
- the step may start processes of its own (``multiprocessing.Pool``): workers
  are not daemonic, and the step's SIGINT is the default one.
"""

from __future__ import annotations

import ctypes
import faulthandler
import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection, wait
from typing import Any

import attrs

__all__ = ["Outcome", "Task", "WorkerPool"]


@attrs.frozen
class Task:
    """One unit of work: a step function through the runtime entry point, or a batch transform."""

    step: str
    kind: str  # "function" | "transform"
    root: str  # the container root the step sees
    log: str  # stdout and stderr go here
    argv: tuple[str, ...] = ()
    transform: tuple[str, str, str] | None = None  # (model dir, input path, output dir)
    timeout: float | None = None


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
    from dagml.runtime.contract import ROOT_ENV

    os.makedirs(os.path.dirname(task.log), exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    with open(task.log, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        # sys.stdout may not write to fd 1 (pytest, Jupyter): point both at the log.
        sys.stdout = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
        faulthandler.enable(file=sys.stderr)  # a crash leaves its Python stack in the step's log
        try:
            if task.kind == "transform":
                assert task.transform is not None
                return _transform(task)
            os.environ[ROOT_ENV] = task.root
            from dagml.runtime.entry import main

            code = main(list(task.argv))
            if code == 0:
                return Outcome(task.step, True)
            return Outcome(task.step, False, _failure_reason(task.root) or f"exited with status {code}")
        except BaseException as exc:  # the runtime catches user errors; this is a last resort
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


def _transform(task: Task) -> Outcome:
    from dagml.runtime.inference import transform_file

    model_dir, source, out_dir = task.transform  # type: ignore[misc]
    try:
        os.makedirs(out_dir, exist_ok=True)
        inputs = (
            [os.path.join(source, f) for f in sorted(os.listdir(source)) if not f.startswith(".")]
            if os.path.isdir(source)
            else [source]
        )
        if not inputs:
            return Outcome(task.step, False, f"batch transform input {source!r} holds no files")
        for path in inputs:
            transform_file(model_dir, path, out_dir)
        return Outcome(task.step, True)
    except Exception as exc:
        traceback.print_exc()
        return Outcome(task.step, False, f"{type(exc).__name__}: {exc}")


def _failure_reason(root: str) -> str | None:
    path = os.path.join(root, "output", "failure")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().strip() or None
    except OSError:
        return None


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _run_step(task: Task, conn: Connection) -> Outcome:
    """Fork the step's own process (its own group), wait for it, then kill what it left behind."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the step: a fresh "container"
        try:
            os.close(read)
            os.setpgid(0, 0)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _die_with_parent()
            outcome = _execute(task)
            with os.fdopen(write, "wb") as out:
                pickle.dump(outcome, out)
        finally:
            os._exit(0)
    os.close(write)
    try:
        os.setpgid(pid, pid)  # also here: no race with the pool reading the group before the child set it
    except OSError:
        pass
    try:
        conn.send(("started", pid))
    except (BrokenPipeError, OSError):
        _kill_group(pid)
    with os.fdopen(read, "rb") as result:
        data = result.read()
    _, status = os.waitpid(pid, 0)
    _kill_group(pid)  # the step's own children do not outlive it
    if data:
        try:
            return pickle.loads(data)  # type: ignore[no-any-return]
        except Exception:
            pass
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return Outcome(task.step, False, f"the step's process {_describe_exit(code)}")


def _worker_main(conn: Connection, environment: dict[str, str], cwd: str) -> None:
    _die_with_parent()
    # Not the runner's process group's: Ctrl-C in a terminal reaches the runner, which stops the steps.
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
        outcome = _run_step(task, conn)
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
    #: The running step's process (and process group) id.
    step_pid: int | None = None

    def kill(self) -> None:
        """Kill the running step's process group, then the worker's own."""
        if self.step_pid is not None:
            _kill_group(self.step_pid)
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
        worker.task, worker.started, worker.step_pid = task, time.monotonic(), None
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
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    message = None
                if isinstance(message, tuple) and message[0] == "started":
                    worker.step_pid = message[1]
                    message = worker.conn.recv() if worker.conn.poll(0) else None
                if isinstance(message, Outcome):
                    results.append(message)
                    worker.task, worker.step_pid = None, None
                    continue
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
