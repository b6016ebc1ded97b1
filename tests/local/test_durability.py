"""Local runs that lose nothing while doing less per step (issue 18): outputs written without an fsync
each but trusted only while they match their recorded hash, statuses committed in batches, and a
step queued on the worker of the step it follows (pipelined), started or dropped as that one ends."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from dagml.api import graph_of
from dagml.local.runner import run_pipeline
from dagml.local.workers import FOLLOW_DEPTH, Outcome, Task, WorkerPool
from dagml.spec.target import load_target
from tests.conftest import ROOT


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


def _load(tmp_path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    sys.modules.pop(name, None)
    return load_target(str(path))


def _ran(path) -> list[str]:
    return path.read_text().split() if path.exists() else []


#: What the chains below start with: each step appends its name to the file $COUNTS names, a line each.
COUNTING = """
import os
import time
from dagml import Pipeline

def _count(name):
    with open(os.environ["COUNTS"], "a") as f:
        f.write(name + "\\n")
"""


COUNTED_CHAIN = COUNTING + """
pipe = Pipeline("counted-chain")

@pipe.step
def a():
    _count("a")
    return list(range(1000))

@pipe.step
def b(a):
    _count("b")
    if os.environ.get("FAIL_B"):
        raise RuntimeError("b is told to fail")
    return sum(a)
"""


def _tear(path: str, how: str) -> None:
    """What a power loss can leave of a file renamed into place before its data reached the disk."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        if how == "empty":
            f.truncate(0)
        elif how == "zeros":
            f.write(b"\0" * size)
        else:  # the first half only
            f.truncate(size // 2)


@pytest.mark.parametrize("how", ["empty", "zeros", "half"])
def test_a_torn_output_is_never_reused_from_the_cache(tmp_path, home, monkeypatch, how):
    counts = tmp_path / "counts"
    monkeypatch.setenv("COUNTS", str(counts))
    pipe = _load(tmp_path, f"torn_{how}", COUNTED_CHAIN)
    first = run_pipeline(graph_of(pipe), home=home)
    assert first.ok, first.error
    _tear(os.path.join(first.step_dir("a"), "processing", "output", "output.pkl"), how)
    second = run_pipeline(graph_of(pipe), home=home)
    assert second.ok, second.error
    assert second.steps["a"].status == "succeeded"  # ran again: the torn file never matches its hash
    assert second.steps["b"].status == "cached"  # its own output is intact
    assert second.output("a") == list(range(1000)) and second.output("b") == sum(range(1000))
    assert _ran(counts) == ["a", "b", "a"]


def test_resume_reruns_a_finished_step_whose_output_was_torn(tmp_path, home, monkeypatch):
    counts = tmp_path / "counts"
    monkeypatch.setenv("COUNTS", str(counts))
    monkeypatch.setenv("FAIL_B", "1")
    pipe = _load(tmp_path, "torn_resume", COUNTED_CHAIN)
    first = run_pipeline(graph_of(pipe), home=home, cache=False)
    assert first.steps["a"].status == "succeeded" and first.steps["b"].status == "failed"
    _tear(os.path.join(first.step_dir("a"), "processing", "output", "output.pkl"), "zeros")
    monkeypatch.delenv("FAIL_B")
    resumed = run_pipeline(graph_of(pipe), home=home, resume=first.run_id)
    assert resumed.ok, resumed.error
    assert resumed.output("b") == sum(range(1000))
    assert _ran(counts) == ["a", "b", "a", "b"]  # a ran again rather than hand b a torn input


def test_each_finished_step_records_the_hash_of_what_it_wrote(tmp_path, home, monkeypatch):
    from dagml.local.cache import artifact_hash

    monkeypatch.setenv("COUNTS", str(tmp_path / "counts"))
    result = run_pipeline(graph_of(_load(tmp_path, "hashed", COUNTED_CHAIN)), home=home, cache=False)
    for name in ("a", "b"):
        assert result.steps[name].detail["artifacts"] == artifact_hash("processing", result.step_dir(name))


# --------------------------------------------------------------------- pipelined steps
FAILING_CHAIN = COUNTING + """
pipe = Pipeline("failing-chain")

@pipe.step
def first():
    _count("first")
    return 1

@pipe.step
def second(first):
    _count("second")
    raise ValueError("second fails")

@pipe.step
def third(second):
    _count("third")
    return 3

@pipe.step
def fourth(third):
    _count("fourth")
    return 4
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_the_step_after_a_failed_one_never_starts(tmp_path, home, monkeypatch, workers):
    counts = tmp_path / "counts"
    monkeypatch.setenv("COUNTS", str(counts))
    result = run_pipeline(graph_of(_load(tmp_path, f"failing{workers}", FAILING_CHAIN)), home=home, workers=workers)
    assert not result.ok
    statuses = {n: r.status for n, r in result.steps.items()}
    assert statuses == {"first": "succeeded", "second": "failed", "third": "not run", "fourth": "not run"}
    assert _ran(counts) == ["first", "second"]
    assert "second fails" in result.steps["second"].error
    assert not os.path.exists(result.step_dir("third"))  # laid out for it, removed: it never ran


def _script(tmp_path, step: str, code: str, timeout: float | None = None) -> Task:
    root = tmp_path / step
    return Task(step, "script", str(root), str(root / "log.txt"), (sys.executable, "-c", code), timeout=timeout)


def _touch(path) -> str:
    return f"open({str(path)!r}, 'w').close()"


def _outcomes(pool: WorkerPool, count: int) -> list[Outcome]:
    found: list[Outcome] = []
    deadline = time.monotonic() + 60
    while len(found) < count and time.monotonic() < deadline:
        found += pool.wait(timeout=1)
    return found


def test_a_follow_up_starts_when_the_step_it_follows_succeeds(tmp_path):
    with WorkerPool(1) as pool:
        pool.submit(_script(tmp_path, "a", "import time; time.sleep(0.2)"))
        assert pool.follow("a", _script(tmp_path, "b", _touch(tmp_path / "b-ran")))
        assert not pool.follow("a", _script(tmp_path, "x", "pass"))  # a has its follow-up: b
        assert pool.follow("b", _script(tmp_path, "c", _touch(tmp_path / "c-ran")))  # behind b, FOLLOW_DEPTH deep
        assert FOLLOW_DEPTH == 2 and not pool.follow("c", _script(tmp_path, "x", "pass"))  # deep enough
        assert not pool.follow("nobody", _script(tmp_path, "x", "pass"))  # no worker runs it
        outcomes = _outcomes(pool, 3)
        assert [(o.step, o.ok) for o in outcomes] == [("a", True), ("b", True), ("c", True)]
        assert (tmp_path / "b-ran").exists() and (tmp_path / "c-ran").exists() and not pool.busy
        assert outcomes[1].started is not None and outcomes[0].finished is not None
        assert outcomes[1].started >= outcomes[0].finished


def test_a_follow_up_is_dropped_unrun_when_the_step_it_follows_fails(tmp_path):
    with WorkerPool(1) as pool:
        pool.submit(_script(tmp_path, "a", "import sys, time; time.sleep(0.2); sys.exit(3)"))
        assert pool.follow("a", _script(tmp_path, "b", _touch(tmp_path / "b-ran")))
        assert pool.follow("b", _script(tmp_path, "b2", _touch(tmp_path / "b-ran")))  # dropped with b
        outcomes = _outcomes(pool, 1)
        assert [(o.step, o.ok) for o in outcomes] == [("a", False)]
        assert not pool.busy  # idle at once: the runner does not wait for the dropped step
        pool.submit(_script(tmp_path, "c", _touch(tmp_path / "c-ran")))  # the same worker, next task
        assert [(o.step, o.ok) for o in _outcomes(pool, 1)] == [("c", True)]
    assert not (tmp_path / "b-ran").exists() and not os.path.exists(tmp_path / "b" / "log.txt")
    assert (tmp_path / "c-ran").exists()


def test_a_follow_up_is_dropped_when_the_step_it_follows_times_out(tmp_path):
    with WorkerPool(1) as pool:
        pool.submit(_script(tmp_path, "a", "import time; time.sleep(30)", timeout=0.5))
        assert pool.follow("a", _script(tmp_path, "b", _touch(tmp_path / "b-ran")))
        outcomes = _outcomes(pool, 1)
        assert [(o.step, o.ok) for o in outcomes] == [("a", False)] and "timed out" in (outcomes[0].error or "")
        assert not pool.busy
    assert not (tmp_path / "b-ran").exists()


def test_a_follow_up_whose_worker_dies_fails_itself_not_the_step_before(tmp_path):
    with WorkerPool(1) as pool:
        pool.submit(_script(tmp_path, "a", "import time; time.sleep(0.2)"))
        assert pool.follow("a", _script(tmp_path, "b", "import os, signal; os.kill(os.getppid(), signal.SIGKILL)"))
        outcomes = _outcomes(pool, 2)
        assert [(o.step, o.ok) for o in outcomes] == [("a", True), ("b", False)]
        assert "killed by SIGKILL" in (outcomes[1].error or "")
        pool.submit(_script(tmp_path, "c", "pass"))  # a fresh worker took its place
        assert [(o.step, o.ok) for o in _outcomes(pool, 1)] == [("c", True)]


# --------------------------------------------------------------------- a killed runner
KILLED_CHAIN = COUNTING + """
pipe = Pipeline("killed-chain")

@pipe.step
def one():
    _count("one")
    return 1

@pipe.step
def two(one):
    _count("two")
    return one + 1

@pipe.step
def three(two):
    while not os.path.exists(os.environ["GO"]):
        time.sleep(0.05)
    _count("three")
    return two + 1
"""


def _status(home: str, run_id: str, step: str) -> str | None:
    db = sqlite3.connect(os.path.join(home, "runs.db"), timeout=30)
    try:
        row = db.execute("SELECT status FROM steps WHERE run_id=? AND step=?", (run_id, step)).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return row[0] if row else None


def _run_id(home: str) -> str | None:
    if not os.path.exists(os.path.join(home, "runs.db")):
        return None
    db = sqlite3.connect(os.path.join(home, "runs.db"), timeout=30)
    try:
        row = db.execute("SELECT run_id FROM runs").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return row[0] if row else None


def test_a_sigkilled_runner_loses_no_finished_step_of_a_pipelined_chain(tmp_path, home):
    path = tmp_path / "killedchain.py"
    path.write_text(textwrap.dedent(KILLED_CHAIN))
    counts = tmp_path / "counts"
    env = {**os.environ, "COUNTS": str(counts), "GO": str(tmp_path / "go"), "DAGML_HOME": home}
    runner = subprocess.Popen(
        [sys.executable, "-m", "dagml.cli.main", "run", str(path), "--json", "--no-cache"], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    run_id = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and runner.poll() is None:
        run_id = _run_id(home)
        if run_id and _status(home, run_id, "three") == "running":  # what `dagml runs show` reads
            break
        time.sleep(0.05)
    assert run_id and _status(home, run_id, "three") == "running", runner.stderr.read() if runner.stderr else ""
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    assert _status(home, run_id, "one") == "succeeded" and _status(home, run_id, "two") == "succeeded"
    (tmp_path / "go").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "dagml.cli.main", "run", "--resume", run_id, "--json"], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "Succeeded"
    assert _ran(counts) == ["one", "two", "three"]  # nothing that finished ran twice


def test_a_stop_takes_in_what_the_workers_reported_without_waiting(tmp_path):
    with WorkerPool(2) as pool:
        pool.submit(_script(tmp_path, "quick", "pass"))
        pool.submit(_script(tmp_path, "slow", "import time; time.sleep(30)"))
        found: list[Outcome] = []
        deadline = time.monotonic() + 60
        while not found and time.monotonic() < deadline:
            found = pool.reported()  # never blocks on the step still running
            time.sleep(0.01)
        assert [(o.step, o.ok) for o in found] == [("quick", True)]
        assert pool.busy == 1 and pool.reported() == []


STOPPED_CHAIN = """
import time
from dagml import Pipeline

pipe = Pipeline("stopped-chain")

@pipe.step
def quick():
    return 1

@pipe.step
def slow(quick):
    time.sleep(30)
"""


def test_a_step_that_ended_before_a_stop_is_kept(tmp_path, home, monkeypatch):
    real = WorkerPool.wait

    def wait(self, timeout=None):
        for worker in self._workers:
            if worker.task is not None and worker.task.step == "quick" and worker.conn.poll(60):
                raise KeyboardInterrupt  # Ctrl-C with quick's end sent by its worker, not taken in yet
        return real(self, timeout)

    monkeypatch.setattr(WorkerPool, "wait", wait)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(graph_of(_load(tmp_path, "stopped", STOPPED_CHAIN)), home=home, workers=1, cache=False)
    db = sqlite3.connect(os.path.join(home, "runs.db"))
    rows = dict(db.execute("SELECT step, status || ':' || coalesce(error, '') FROM steps").fetchall())
    db.close()
    # quick is kept (resume will not run it again); slow, queued behind it, had started and was stopped
    assert rows == {"quick": "succeeded:", "slow": "failed:interrupted"}
