"""The local runner, with real worker processes and real files."""

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
from dagml.graph.errors import PipelineValidationError
from dagml.local.registry import ModelRegistry
from dagml.local.runner import ParamError, run_pipeline
from dagml.spec.target import load_target
from tests.conftest import EXAMPLES, ROOT

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")


def write_pipeline(tmp_path, body, name="flow"):
    path = tmp_path / f"{name}.py"
    path.write_text("from dagml import Pipeline\n" + textwrap.dedent(body))
    sys.modules.pop(name, None)
    return load_target(str(path))


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


def test_iris_end_to_end_registers_and_scores(home):
    result = run_pipeline(graph_of(load_target(IRIS)), home=home, workers=2)
    assert result.ok, result.error
    statuses = {n: r.status for n, r in result.steps.items()}
    assert statuses["AccuracyTooLow"] == "skipped"
    assert all(statuses[n] == "succeeded" for n in ("prepare", "train", "evaluate", "CheckAccuracy", "RegisterModel", "BatchTransform"))
    accuracy = result.metrics("evaluate")["multiclass_classification_metrics"]["accuracy"]["value"]
    (version,) = ModelRegistry(home).versions("SklearnIris")
    # the registry keeps the report's numbers by the path a condition reads them with
    assert version.version == 1 and version.status == "Approved"
    assert version.metrics == {"multiclass_classification_metrics.accuracy.value": accuracy}
    assert version.run_id == result.run_id and os.path.isfile(version.artifact)
    predictions = os.path.join(result.step_dir("BatchTransform"), "predictions", "iris_to_score.csv.out")
    with open(predictions) as f:
        lines = f.read().split()
    assert len(lines) == 30 and set(lines) <= {"0", "1", "2"}
    assert result.conditions["CheckAccuracy"]["branch"] == "then"
    assert result.output("train").predict([[5.1, 3.5, 1.4, 0.2]])[0] == 0


def test_the_run_summary_says_where_everything_went(home):
    """Issue #17: each step's outputs, the registered version's artifact, the predictions file."""
    from dagml.local.progress import summary_table

    result = run_pipeline(graph_of(load_target(IRIS)), home=home)
    outputs = {name: result.outputs(name) for name in result.order}
    assert set(outputs["prepare"]) == {"output"} and set(outputs["evaluate"]) == {"output", "metrics"}
    assert outputs["train"]["model"].endswith(os.path.join("train", "model", "model.pkl"))
    assert outputs["RegisterModel"]["artifact"] == outputs["train"]["model"]
    assert outputs["BatchTransform"]["predictions"].endswith("iris_to_score.csv.out")
    assert outputs["AccuracyTooLow"] == {}  # skipped: nothing
    assert all(os.path.isfile(p) for o in outputs.values() for p in o.values())
    table = summary_table(result)
    assert "\noutputs:\n" in table and "BatchTransform predictions" in table
    assert all(os.path.relpath(p) in table or p in table for o in outputs.values() for p in o.values())
    steps = {s["name"]: s for s in result.to_dict()["steps"]}
    assert steps["RegisterModel"]["outputs"] == outputs["RegisterModel"]
    assert steps["RegisterModel"]["detail"]["artifact"] == outputs["train"]["model"]


def test_the_drawing_of_a_run_shows_its_params_and_its_filled_message(home):
    """Issue #17: the diamond shows the value the run used, not the default; the Fail its real text."""
    from dagml.local.overlay import render_run

    graph = graph_of(load_target(IRIS))
    result = run_pipeline(graph, params={"AccuracyThreshold": "1.01"}, home=home)
    dot = render_run(graph, result).dot
    assert "AccuracyThreshold (1.01)" in dot and "AccuracyThreshold (0.9)" not in dot
    assert "{evaluate.multiclass_classification_metrics.accuracy.value}" not in dot and "{AccuracyThreshold}" not in dot
    message = result.steps["AccuracyTooLow"].error
    assert message.startswith("Held-out accuracy 0.") and message.split()[2] in dot
    assert " 0.0 s" not in dot  # durations keep two or three significant digits


def test_iris_below_the_threshold_fails_at_the_gate_and_registers_nothing(home):
    result = run_pipeline(graph_of(load_target(IRIS)), params={"AccuracyThreshold": "1.01"}, home=home)
    assert result.status == "Failed"
    # the message shows the accuracy the run measured, as the compiled Fail step's Std:JsonGet does
    report = json.loads(open(os.path.join(result.step_dir("evaluate"), "processing", "metrics", "evaluation.json")).read())
    accuracy = report["multiclass_classification_metrics"]["accuracy"]["value"]
    assert result.error.startswith(f"AccuracyTooLow: Held-out accuracy {accuracy!r} is below the threshold 1.01")
    assert {n: r.status for n, r in result.steps.items() if n in ("RegisterModel", "BatchTransform")} == {
        "RegisterModel": "skipped",
        "BatchTransform": "skipped",
    }
    assert ModelRegistry(home).groups() == []
    assert not os.path.exists(os.path.join(result.step_dir("BatchTransform"), "predictions"))


FAILURES = """
import os, time
pipe = Pipeline("failures")

@pipe.step
def boom():
    print("about to fail")
    raise ValueError("bad input row 7")

@pipe.step
def after_boom(boom):
    return 1

@pipe.step
def exits():
    os._exit(3)

@pipe.step
def segfault():
    import ctypes
    ctypes.string_at(0)

@pipe.step(timeout=1)
def hangs():
    time.sleep(60)

@pipe.step
def fine():
    return "ok"

@pipe.step
def after_fine(fine):
    return fine + "!"
"""


def test_each_failure_fails_alone_and_independent_steps_finish(tmp_path, home):
    result = run_pipeline(graph_of(write_pipeline(tmp_path, FAILURES)), home=home, workers=2, cache=False)
    s = result.steps
    assert result.status == "Failed" and result.error.startswith("step 'boom' failed: ")
    assert "ValueError: bad input row 7" in s["boom"].error
    assert s["after_boom"].status == "not run"
    assert "exited with status 3" in s["exits"].error
    assert "SIGSEGV" in s["segfault"].error
    with open(os.path.join(result.step_dir("segfault"), "log.txt")) as f:
        assert "Fatal Python error: Segmentation fault" in f.read()
    assert "timed out after 1 s" in s["hangs"].error
    assert s["fine"].status == "succeeded" and s["after_fine"].status == "succeeded"
    assert result.output("after_fine") == "ok!"
    with open(os.path.join(result.step_dir("boom"), "log.txt")) as f:
        log = f.read()
    assert "about to fail" in log and "Traceback" in log and "bad input row 7" in log


FAILING = """
pipe = Pipeline("failing")

@pipe.step
def prepare():
    raise ValueError("bad input row 7")

@pipe.step
def train(prepare):
    return prepare
"""


def test_a_step_failure_names_the_step_once(tmp_path, home):
    from dagml.local.progress import summary_table

    result = run_pipeline(graph_of(write_pipeline(tmp_path, FAILING)), home=home, cache=False)
    log = os.path.join(result.step_dir("prepare"), "log.txt")
    assert result.error == f"step 'prepare' failed: ValueError: bad input row 7 (log: {log})"
    assert result.steps["prepare"].error == f"ValueError: bad input row 7 (log: {log})"
    assert summary_table(result).count("step 'prepare' failed") == 1
    # SageMaker shows the failure file alone, so there it keeps the step's name.
    with open(os.path.join(result.step_dir("prepare"), "output", "failure")) as f:
        assert f.read() == "step 'prepare' failed: ValueError: bad input row 7"


def test_an_imported_definition_is_refused_before_anything_runs(home):
    from dagml.errors import ConfigurationError
    from dagml.sagemaker.importer import import_definition

    with open(os.path.join(ROOT, "tests", "pipelines", "minimal.json")) as f:
        graph = graph_of(import_definition(f.read(), name="minimal"))
    with pytest.raises(ConfigurationError, match="imported definition.*cannot run locally"):
        run_pipeline(graph, home=home)
    assert not os.path.exists(os.path.join(home, "runs"))


PARALLEL = """
import os, time
pipe = Pipeline("parallel")

def stamp(name):
    start = time.time()
    time.sleep(0.5)
    with open(os.environ["STAMPS"], "a") as f:
        f.write(f"{name} {start} {time.time()}\\n")

@pipe.step
def a():
    stamp("a")

@pipe.step
def b():
    stamp("b")
"""


def intervals(path):
    with open(path) as f:
        return {n: (float(s), float(e)) for n, s, e in (line.split() for line in f)}


@pytest.mark.parametrize("workers, overlap", [(2, True), (1, False)])
def test_independent_steps_run_at_once_up_to_the_worker_count(tmp_path, home, monkeypatch, workers, overlap):
    stamps = tmp_path / f"stamps{workers}"
    monkeypatch.setenv("STAMPS", str(stamps))
    assert run_pipeline(graph_of(write_pipeline(tmp_path, PARALLEL, f"par{workers}")), home=home, workers=workers, cache=False).ok
    (a0, a1), (b0, b1) = intervals(stamps)["a"], intervals(stamps)["b"]
    assert (a0 < b1 and b0 < a1) is overlap


COUNTED = """
import os
pipe = Pipeline("counted")
n = pipe.param("N", 1)

def count(name):
    with open(os.environ["COUNTS"], "a") as f:
        f.write(name + "\\n")

@pipe.step
def first():
    count("first")
    return 10

@pipe.step
def second(first, n=n):
    count("second")
    return first * n

@pipe.step
def third(second):
    count("third")
    return second + 1
"""


def counts(path):
    with open(path) as f:
        return f.read().split()


def test_cache_reuses_unchanged_steps_and_reruns_what_changed(tmp_path, home, monkeypatch):
    log = tmp_path / "counts"
    monkeypatch.setenv("COUNTS", str(log))
    pipe = write_pipeline(tmp_path, COUNTED)
    first = run_pipeline(graph_of(pipe), home=home)
    assert counts(log) == ["first", "second", "third"]
    again = run_pipeline(graph_of(pipe), home=home)
    assert counts(log) == ["first", "second", "third"]
    assert {r.status for r in again.steps.values()} == {"cached"} and again.output("third") == 11
    assert again.steps["third"].cached_from == first.run_id
    changed = run_pipeline(graph_of(pipe), params={"N": 2}, home=home)
    assert counts(log)[3:] == ["second", "third"] and changed.output("third") == 21
    assert changed.steps["first"].status == "cached"
    run_pipeline(graph_of(pipe), home=home, cache=False)
    assert counts(log)[5:] == ["first", "second", "third"]


def test_param_overrides_are_type_checked(tmp_path, home):
    pipe = write_pipeline(tmp_path, COUNTED)
    with pytest.raises(ParamError, match=r"param 'N' \(Integer\): 'abc' is not a valid Integer"):
        run_pipeline(graph_of(pipe), params={"N": "abc"}, home=home)
    with pytest.raises(ParamError, match="no param 'NN'.*did you mean 'N'"):
        run_pipeline(graph_of(pipe), params={"NN": "1"}, home=home)
    with pytest.raises(ParamError, match="got 1.5"):
        run_pipeline(graph_of(pipe), params={"N": 1.5}, home=home)


def _param_graph():
    from dagml import Pipeline

    pipe = Pipeline("params")
    n, x = pipe.param("N", 1), pipe.param("X", 0.5)

    @pipe.step
    def use(n=n, x=x):
        return n, x

    return pipe.validate()


@pytest.mark.parametrize(
    "name, raw",
    [("X", "nan"), ("X", "inf"), ("X", "-Infinity"), ("X", "1e999"), ("X", "١٢"), ("X", "1_0.5"),
     ("N", "1_000"), ("N", "١٢"), ("N", "1.0"), ("N", "nan"), ("X", float("nan")), ("X", float("-inf"))],
)
def test_param_overrides_accept_only_ascii_decimal_and_finite_numbers(name, raw):
    from dagml.local.runner import resolve_params

    with pytest.raises(ParamError) as info:
        resolve_params(_param_graph(), {name: raw})
    text = str(info.value)
    assert f"pipeline 'params', param {name!r}" in text and "Fix:" in text
    if isinstance(raw, str):
        assert ("ASCII digits" if name == "N" else "finite decimal number") in text


def test_param_overrides_in_the_accepted_forms_parse():
    from dagml.local.runner import resolve_params

    graph = _param_graph()
    assert resolve_params(graph, {"N": " -12 ", "X": "+1.5e-3"}) == {"N": -12, "X": 0.0015}
    assert resolve_params(graph, {"N": "+7", "X": ".5"}) == {"N": 7, "X": 0.5}
    assert resolve_params(graph, {"X": "3"}) == {"N": 1, "X": 3.0}


SLOW = """
import os, time
pipe = Pipeline("slow")

@pipe.step
def quick():
    with open(os.environ["COUNTS"], "a") as f:
        f.write("quick\\n")
    return 1

@pipe.step
def slow(quick):
    while not os.path.exists(os.environ["GO"]):
        time.sleep(0.05)
    with open(os.environ["COUNTS"], "a") as f:
        f.write("slow\\n")
    return quick + 1
"""


def query(home, sql, *args):
    """One row from the runner's database, or None while the runner is still creating it."""
    db = sqlite3.connect(os.path.join(home, "runs.db"), timeout=30)
    try:
        return db.execute(sql, args).fetchone()
    except sqlite3.OperationalError:  # e.g. "no such table" between file creation and schema
        return None
    finally:
        db.close()


def step_status(home, run_id, step):
    row = query(home, "SELECT status FROM steps WHERE run_id=? AND step=?", run_id, step)
    return row[0] if row else None


def test_resume_after_sigkill_finishes_without_rerunning_finished_steps(tmp_path, home):
    path = tmp_path / "slowflow.py"
    path.write_text("from dagml import Pipeline\n" + SLOW)
    env = {**os.environ, "COUNTS": str(tmp_path / "counts"), "GO": str(tmp_path / "go"), "DAGML_HOME": home}
    runner = subprocess.Popen(
        [sys.executable, "-m", "dagml.cli.main", "run", str(path), "--json"], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    run_id = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(home, "runs.db")):
            row = query(home, "SELECT run_id FROM runs")
            if row and step_status(home, row[0], "slow") == "running":
                run_id = row[0]
                break
        time.sleep(0.05)
    assert run_id, runner.stderr.read() if runner.poll() is not None else "the run never reached 'slow'"
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    assert step_status(home, run_id, "quick") == "succeeded"
    (tmp_path / "go").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "dagml.cli.main", "run", "--resume", run_id, "--json"], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "Succeeded" and data["run_id"] == run_id
    assert counts(tmp_path / "counts") == ["quick", "slow"]  # quick ran once, before the kill


def test_resume_refuses_new_params(tmp_path, home):
    pipe = write_pipeline(tmp_path, COUNTED)
    os.environ["COUNTS"] = str(tmp_path / "c")
    try:
        first = run_pipeline(graph_of(pipe), home=home)
        from dagml.errors import ConfigurationError

        with pytest.raises(ConfigurationError, match="reuses run"):
            run_pipeline(graph_of(pipe), params={"N": 3}, resume=first.run_id, home=home)
    finally:
        del os.environ["COUNTS"]


def test_resume_after_a_kill_between_registering_and_recording_does_not_register_twice(tmp_path, home):
    """The registry has the version but the run store never heard of it: resume reuses it."""
    flow = (
        "pipe = Pipeline('reg-once')\n"
        "@pipe.step(kind='training')\ndef fit():\n    return 1\n"
        "@pipe.step(metrics=True)\ndef score(fit):\n"
        "    return {'multiclass_classification_metrics': {'accuracy': {'value': 1.0}}}\n"
        "pipe.register_model('Register', model=fit, group='Once', metrics=score)\n"
    )
    pipe = write_pipeline(tmp_path, flow, "regonce")
    first = run_pipeline(graph_of(pipe), home=home)
    assert first.ok
    db = sqlite3.connect(os.path.join(home, "runs.db"))
    db.execute("UPDATE steps SET status='running' WHERE run_id=? AND step='Register'", (first.run_id,))
    db.execute("UPDATE runs SET status='Running' WHERE run_id=?", (first.run_id,))
    db.commit()
    db.close()
    resumed = run_pipeline(graph_of(pipe), home=home, resume=first.run_id)
    assert resumed.ok and resumed.steps["Register"].detail["version"] == 1
    assert [v.version for v in ModelRegistry(home).versions("Once")] == [1]


NESTED = """
mode = pipe.param("Mode", "fast")
limit = pipe.param("Limit", 0.5)

@pipe.step(metrics=True)
def score(m=mode):
    return {"accuracy": 0.9}

@pipe.step
def deep(score):
    return 1

@pipe.step
def shallow(score):
    return 2

@pipe.step
def other(score, l=limit):
    return 3

inner = pipe.condition("Inner", mode > "e", then=[deep], otherwise=[shallow])
pipe.condition("Outer", score["accuracy"] >= limit, then=[inner], otherwise=[other])
"""


@pytest.mark.parametrize(
    "params, ran",
    [
        ({}, {"deep"}),  # accuracy 0.9 >= 0.5, then "fast" > "e" by code point
        ({"Mode": "d"}, {"shallow"}),  # "d" > "e" is false: the inner otherwise
        ({"Limit": "0.95"}, {"other"}),  # the outer otherwise: the inner condition and its branches are skipped
    ],
)
def test_nested_conditions_run_locally_branch_within_branch(tmp_path, home, params, ran):
    """A condition in a branch runs only when that branch is taken; its branches only under it."""
    pipe = write_pipeline(tmp_path, "pipe = Pipeline('nested')\n" + NESTED, name="nested_flow")
    result = run_pipeline(graph_of(pipe), params=params, home=home)
    assert result.ok, result.error
    statuses = {n: r.status for n, r in result.steps.items()}
    assert {n for n in ("deep", "shallow", "other") if statuses[n] == "succeeded"} == ran
    if ran == {"other"}:
        assert statuses["Inner"] == "skipped" and statuses["deep"] == statuses["shallow"] == "skipped"


QUALITY_GATE = """
pipe = Pipeline("quality-gate")
limit = pipe.param("Limit", 0.5)

@pipe.step(kind="training")
def fit():
    return 1

@pipe.step(metrics=True)
def evaluate(fit):
    return {"regression_metrics": {"mse": {"value": 0.3, "standard_deviation": "NaN"}}}

mse = evaluate["regression_metrics"]["mse"][KEY]
register = pipe.register_model("Register", model=fit, group="Quality", approval="Approved", metrics=evaluate)
too_high = pipe.fail("TooHigh", ["MSE ", mse, " > ", limit])
pipe.condition("Gate", mse <= limit, then=[register], otherwise=[too_high])
"""


@pytest.mark.parametrize("limit, taken", [("0.5", "then"), ("0.1", "otherwise")])
def test_a_gate_on_a_nested_report_runs_locally_both_ways(tmp_path, home, limit, taken):
    pipe = write_pipeline(tmp_path, QUALITY_GATE.replace("KEY", "'value'"), name="quality_gate")
    result = run_pipeline(graph_of(pipe), params={"Limit": limit}, home=home)
    assert result.steps["Gate"].detail["branch"] == taken
    assert result.steps["Gate"].detail["values"] == f"0.3 <= {limit}"
    if taken == "then":
        assert result.ok, result.error
        (version,) = ModelRegistry(home).versions("Quality")
        assert dict(version.metrics) == {"regression_metrics.mse.value": 0.3}  # the report's numbers by path
    else:
        assert result.status == "Failed" and result.error.startswith(f"TooHigh: MSE 0.3 > {limit}")


def test_a_misspelled_path_of_a_literal_report_fails_validation_even_when_declared(tmp_path):
    """Issue #15: ``metrics=True`` and a literal return: the typo is caught before anything runs."""
    pipe = write_pipeline(tmp_path, QUALITY_GATE.replace("KEY", "'valeu'"), name="quality_typo_literal")
    with pytest.raises(PipelineValidationError) as info:
        graph_of(pipe)
    kinds = {p.kind for p in info.value.problems}
    assert kinds == {"unknown-metric"}
    assert "(did you mean 'regression_metrics.mse.value'?)" in str(info.value)


def test_a_path_the_report_lacks_fails_the_condition_naming_the_step_the_path_and_the_keys(tmp_path, home):
    """A report built at run time (no literal to read) is checked when the condition decides."""
    source = QUALITY_GATE.replace("KEY", "'valeu'").replace(
        '    return {"regression_metrics": {"mse": {"value": 0.3, "standard_deviation": "NaN"}}}',
        '    report = {"regression_metrics": {"mse": {"value": 0.3, "standard_deviation": "NaN"}}}\n    return report',
    )
    pipe = write_pipeline(tmp_path, source, name="quality_typo")
    result = run_pipeline(graph_of(pipe), home=home)
    gate = result.steps["Gate"]
    assert result.status == "Failed" and gate.status == "failed"
    assert "metrics report of 'evaluate' has no 'regression_metrics.mse.valeu'" in gate.error
    assert "('regression_metrics.mse' holds 'standard_deviation', 'value')" in gate.error
    assert "(did you mean 'regression_metrics.mse.value'?)" in gate.error
    assert result.steps["Register"].status == "not run"
