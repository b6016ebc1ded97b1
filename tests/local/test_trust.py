"""Local runs you can trust (issue 13): a complete cache key, verified artifacts, one runner per run,
steps that run like fresh containers, and a runner that stops cleanly on signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from dagml._gc import paused_gc
from dagml.api import graph_of
from dagml.local.registry import ModelRegistry
from dagml.local.runner import RunBusyError, _run_lock, run_pipeline
from dagml.local.store import RunStore
from dagml.spec.target import load_target

DAGML = os.path.join(os.path.dirname(sys.executable), "dagml")


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


def _load(path, name: str, source: str, attr: str | None = None):
    path.write_text(textwrap.dedent(source))
    sys.modules.pop(name, None)
    target = str(path) + (f":{attr}" if attr else "")
    return load_target(target)


def test_two_pipelines_from_one_factory_do_not_share_cached_results(tmp_path, home):
    source = """
    from dagml import Pipeline

    def make(name, rows):
        pipe = Pipeline(name)

        @pipe.step
        def count():
            return rows

        return pipe

    small = make("small", 10)
    large = make("large", 1000)
    """
    small = _load(tmp_path / "factory.py", "factory", source, "small")
    large = load_target(str(tmp_path / "factory.py") + ":large")
    assert run_pipeline(graph_of(small), home=home).output("count") == 10
    result = run_pipeline(graph_of(large), home=home)
    assert result.output("count") == 1000 and result.steps["count"].status == "succeeded"


def test_a_default_from_an_environment_dependent_constant_is_in_the_key(tmp_path, home, monkeypatch):
    source = """
    import os
    from dagml import Pipeline

    ROWS = int(os.environ.get("ROWS", "10"))
    SCALE = int(os.environ.get("SCALE", "1"))
    pipe = Pipeline("env-constant")

    @pipe.step
    def count(n=ROWS):
        return n * SCALE
    """
    monkeypatch.setenv("ROWS", "10")
    assert run_pipeline(graph_of(_load(tmp_path / "envconst.py", "envconst", source)), home=home).output("count") == 10
    monkeypatch.setenv("ROWS", "1000")
    assert run_pipeline(graph_of(_load(tmp_path / "envconst.py", "envconst", source)), home=home).output("count") == 1000
    monkeypatch.setenv("SCALE", "3")  # a module value the body reads, not a default
    assert run_pipeline(graph_of(_load(tmp_path / "envconst.py", "envconst", source)), home=home).output("count") == 3000
    again = run_pipeline(graph_of(_load(tmp_path / "envconst.py", "envconst", source)), home=home)
    assert again.steps["count"].status == "cached" and again.output("count") == 3000


def test_a_helper_imported_from_outside_the_pipeline_folder_is_in_the_key(tmp_path, home):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "outside_helper.py").write_text("def value():\n    return 1\n")
    project = tmp_path / "project"
    project.mkdir()
    source = f"""
    import sys
    sys.path.insert(0, {str(elsewhere)!r})
    import outside_helper
    from dagml import Pipeline

    pipe = Pipeline("outside-helper")

    @pipe.step
    def read():
        return outside_helper.value()
    """
    sys.modules.pop("outside_helper", None)
    assert run_pipeline(graph_of(_load(project / "flow.py", "flow", source)), home=home).output("read") == 1
    (elsewhere / "outside_helper.py").write_text("def value():\n    return 2\n")
    sys.modules.pop("outside_helper", None)
    assert run_pipeline(graph_of(_load(project / "flow.py", "flow", source)), home=home).output("read") == 2
    sys.modules.pop("outside_helper", None)


TRAIN = """
from dagml import Pipeline

pipe = Pipeline("verified")

@pipe.step(kind="training")
def fit():
    return {"weights": [1, 2, 3]}

@pipe.step(metrics=True)
def score(fit):
    return {"multiclass_classification_metrics": {"accuracy": {"value": 1.0}}}

pipe.register_model("Register", model=fit, group="Verified", approval="Approved", metrics=score)
"""


def test_a_cache_hit_whose_artifact_vanished_runs_the_step_again(tmp_path, home):
    pipe = _load(tmp_path / "verified.py", "verified", TRAIN)
    first = run_pipeline(graph_of(pipe), home=home)
    assert first.ok
    os.remove(os.path.join(first.step_dir("fit"), "model", "model.pkl"))
    second = run_pipeline(graph_of(pipe), home=home)
    assert second.ok, second.error
    assert second.steps["fit"].status == "succeeded"  # not "cached" from the damaged run
    versions = ModelRegistry(home).versions("Verified")
    assert [v.version for v in versions] == [1, 2]
    assert all(os.path.isfile(v.artifact) for v in versions if v.run_id == second.run_id)


def test_registration_refuses_a_model_changed_after_training(tmp_path, home):
    """A step between training and registering overwrites the trained model file: nothing is registered."""
    source = TRAIN.replace(
        "def score(fit):\n",
        "def score(fit):\n"
        "    import os\n"
        "    steps = os.path.dirname(os.environ['DAGML_CONTAINER_ROOT'])\n"
        "    open(os.path.join(steps, 'fit', 'model', 'model.pkl'), 'wb').write(b'not the model')\n",
    )
    result = run_pipeline(graph_of(_load(tmp_path / "tamper.py", "tamper", source)), home=home, cache=False)
    register = result.steps["Register"]
    assert register.status == "failed" and "missing or changed since that step finished" in register.error
    with pytest.raises(LookupError):
        ModelRegistry(home).versions("Verified")


def test_resume_reruns_a_finished_step_whose_output_was_deleted(tmp_path, home):
    marker = tmp_path / "allow"
    source = f"""
    import os
    from dagml import Pipeline

    pipe = Pipeline("resume-verified")

    @pipe.step
    def upstream():
        return 41

    @pipe.step
    def downstream(upstream):
        if not os.path.exists({str(marker)!r}):
            raise RuntimeError("not yet")
        return upstream + 1
    """
    pipe = _load(tmp_path / "resumev.py", "resumev", source)
    first = run_pipeline(graph_of(pipe), home=home, cache=False)
    assert first.steps["downstream"].status == "failed"
    os.remove(os.path.join(first.step_dir("upstream"), "processing", "output", "output.pkl"))
    marker.write_text("")
    resumed = run_pipeline(graph_of(pipe), home=home, resume=first.run_id)
    assert resumed.ok, resumed.error
    assert resumed.output("downstream") == 42
    assert resumed.steps["upstream"].finished != first.steps["upstream"].finished  # ran again


def test_one_runner_per_run(tmp_path, home):
    pipe = _load(tmp_path / "busy.py", "busy", "from dagml import Pipeline\npipe = Pipeline('busy')\n@pipe.step\ndef a():\n    return 1\n")
    first = run_pipeline(graph_of(pipe), home=home)
    store = RunStore(home)
    with _run_lock(store, first.run_id):  # another runner has it
        with pytest.raises(RunBusyError, match="being run by another dagml process"):
            run_pipeline(graph_of(pipe), home=home, resume=first.run_id)


STEPS_LIKE_CONTAINERS = """
import multiprocessing
import os
from dagml import Pipeline

pipe = Pipeline("fresh-containers")


def square(x):
    return x * x


@pipe.step
def pool():
    with multiprocessing.Pool(2) as p:
        return p.map(square, [1, 2, 3])


@pipe.step
def dirty():
    os.environ["LEAKED"] = "yes"
    os.chdir("/")
    return os.getcwd()


@pipe.step(after=["dirty"])
def clean():
    return os.environ.get("LEAKED"), os.getcwd()


@pipe.step
def collecting():
    import gc

    return gc.isenabled()
"""


def test_steps_start_like_fresh_containers(tmp_path, home):
    pipe = _load(tmp_path / "fresh.py", "fresh", STEPS_LIKE_CONTAINERS)
    here = os.getcwd()
    with paused_gc():  # a runner started with the collector off (the CLI pauses it while loading)
        result = run_pipeline(graph_of(pipe), home=home, workers=1, cache=False)
    assert result.ok, result.error
    assert result.output("pool") == [1, 4, 9]  # workers are not daemonic
    assert result.output("collecting") is True  # the user's code collects cycles
    assert result.output("clean") == (None, here)  # nothing leaks from the step before on the same worker


def _pid_dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:  # a zombie not yet reaped by init counts as dead
        return f.read().split(") ")[1].split()[0] == "Z"


def _wait_dead(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _pid_dead(pid):
            return True
        time.sleep(0.1)
    return False


def _spawner(tmp_path, timeout: str = "") -> str:
    pidfile = tmp_path / "child.pid"
    (tmp_path / "spawner.py").write_text(
        textwrap.dedent(
            f"""
            import subprocess, time
            from dagml import Pipeline

            pipe = Pipeline("spawner")

            @pipe.step({timeout})
            def spawn():
                child = subprocess.Popen(["sleep", "600"])
                with open({str(pidfile)!r}, "w") as f:
                    f.write(str(child.pid))
                time.sleep(600)
            """
        )
    )
    return str(pidfile)


def test_a_step_timeout_kills_the_processes_the_step_started(tmp_path, home):
    pidfile = _spawner(tmp_path, "timeout=3")
    sys.modules.pop("spawner", None)
    result = run_pipeline(graph_of(load_target(str(tmp_path / "spawner.py"))), home=home, cache=False)
    assert result.steps["spawn"].status == "failed" and "timed out" in result.steps["spawn"].error
    assert _wait_dead(int(open(pidfile).read()))


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_stops_the_run_records_it_and_kills_the_steps_processes(tmp_path, home, sig, code):
    pidfile = _spawner(tmp_path)
    env = {**os.environ, "DAGML_HOME": home}
    runner = subprocess.Popen([DAGML, "run", str(tmp_path / "spawner.py"), "--no-cache"], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(pidfile) or not open(pidfile).read():
        assert time.monotonic() < deadline and runner.poll() is None, runner.stderr.read() if runner.poll() is not None else "timeout"
        time.sleep(0.1)
    child = int(open(pidfile).read())
    runner.send_signal(sig)
    assert runner.wait(30) == code
    assert _wait_dead(child)
    (run,) = RunStore(home).runs()
    assert run.status == "Failed" and "dagml run --resume" in (run.error or "")
    assert RunStore(home).steps(run.run_id)["spawn"].status == "failed"


class Constant:
    """A model that predicts 7 (module level: the worker unpickles it)."""

    def predict(self, rows):
        return [7 for _ in rows]


def test_an_idle_worker_killed_from_outside_is_replaced(tmp_path, home):
    from dagml.local.workers import Task, WorkerPool

    out = tmp_path / "scored"
    with WorkerPool(2) as pool:
        victim = pool._workers[1].process
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(5)
        model = tmp_path / "model"
        model.mkdir()
        import pickle

        with open(model / "model.pkl", "wb") as f:
            pickle.dump(Constant(), f)
        data = tmp_path / "rows.csv"
        data.write_text("1,2\n3,4\n")
        for i in range(2):
            task = Task(f"t{i}", "transform", str(tmp_path / f"root{i}"), str(tmp_path / f"log{i}.txt"), transform=(str(model), str(data), str(out / str(i))))
            pool.submit(task)
        outcomes = []
        deadline = time.monotonic() + 30
        while len(outcomes) < 2 and time.monotonic() < deadline:
            outcomes += pool.wait(timeout=1)
    assert sorted((o.step, o.ok) for o in outcomes) == [("t0", True), ("t1", True)], outcomes
