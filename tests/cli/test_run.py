"""`dagml run`, `dagml runs`, the run overlay, and eight concurrent runs into one registry group."""

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

from dagml.cli.main import main
from dagml.local.progress import Progress
from dagml.local.registry import ModelRegistry
from dagml.local.store import StepRecord
from tests.conftest import EXAMPLES, ROOT

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")

TINY = """
from dagml import Pipeline

pipe = Pipeline("tiny-register")


@pipe.step(kind="training")
def fit():
    return {"weights": [1, 2, 3]}


@pipe.step(metrics=True)
def score(fit):
    return {"accuracy": 1.0}


pipe.register_model("Register", model=fit, group="TinyModels", approval="PendingManualApproval", metrics=score)
"""


def test_run_exit_codes_json_and_runs_commands(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["run", IRIS, "--home", home, "--json", "--workers", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "Succeeded" and data["steps"][0]["name"] == "prepare"
    run_id = data["run_id"]
    assert main(["run", IRIS, "--home", home, "-p", "AccuracyThreshold=1.01"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"Failed: AccuracyTooLow: Held-out accuracy 0\.\d+ is below the threshold 1\.01", out)
    assert re.search(r"CheckAccuracy\s+condition\s+succeeded\s+\S+\s+0\.9\d* >= 1\.01 -> otherwise", out)
    assert main(["runs", "list", "--home", home]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 2 and "Failed" in listing[0] and "Succeeded" in listing[1]
    assert main(["runs", "show", run_id, "--home", home, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == run_id
    assert main(["runs", "show", "nope", "--home", home]) == 1
    assert "no run 'nope'" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["run", IRIS, "--home", home, "-p", "NEstimators=many"]) == 2
    assert "'many' is not a valid Integer" in capsys.readouterr().err
    assert main(["run", IRIS, "--home", home, "-p", "novalue"]) == 2
    assert main(["run", IRIS, "--home", home, "--workers", "0"]) == 2


def svg_titles_and_fills(path):
    tree = ET.parse(path)
    ns = {"s": "http://www.w3.org/2000/svg"}
    found = {}
    for g in tree.getroot().iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") == "node":
            title = g.find("s:title", ns).text
            shape = next((c for c in g if c.tag.endswith(("polygon", "path", "ellipse"))), None)
            found[title] = shape.get("fill") if shape is not None else None
    return found


def test_run_overlay_from_run_render_and_runs_show(tmp_path, capsys):
    home = str(tmp_path / "home")
    graph_one = tmp_path / "run.svg"
    assert main(["run", IRIS, "--home", home, "-p", "AccuracyThreshold=1.01", "--graph", str(graph_one), "--json"]) == 1
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    fills = svg_titles_and_fills(graph_one)
    assert fills["AccuracyTooLow"] != fills["CheckAccuracy"]  # failed vs succeeded
    assert fills["RegisterModel"] == fills["BatchTransform"]  # both skipped: the branch not taken
    dot = tmp_path / "run.dot"
    assert main(["render", IRIS, "--run", run_id, "--home", home, "-o", str(dot)]) == 0
    text = dot.read_text()
    assert "1.01" in text and "otherwise" in text and f"run {run_id}: Failed" in text
    assert main(["runs", "show", run_id, "--home", home, "--graph", str(tmp_path / "show.dot")]) == 0
    assert (tmp_path / "show.dot").read_text() == text


def test_live_progress_on_a_terminal_and_quiet_otherwise():
    record = StepRecord("train", "training", "succeeded", 1.0, 3.5)
    live = io.StringIO()
    Progress(live, live=True).step(record, 8, 2)
    assert live.getvalue() == "[2/8] ✓ train                    succeeded (2.50s)\n"
    quiet = io.StringIO()
    Progress(quiet).step(record, 8, 2)  # StringIO is not a terminal
    assert quiet.getvalue() == ""


def _failures(procs, outputs) -> str:
    """Each failed process's exit code and whole stderr (a list of them all is cut short by pytest)."""
    return "\n".join(
        f"--- exit {p.returncode}:\n{err}" for p, (_, err) in zip(procs, outputs) if p.returncode != 0
    )


def test_eight_concurrent_runs_register_versions_1_to_8(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(textwrap.dedent(TINY))
    home = str(tmp_path / "home")
    env = {**os.environ, "DAGML_HOME": home}
    procs = [
        subprocess.Popen([sys.executable, "-m", "dagml.cli.main", "run", str(path), "--no-cache", "--json"],
                         env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), _failures(procs, results)
    run_ids = {json.loads(out)["run_id"] for out, _ in results}
    versions = ModelRegistry(home).versions("TinyModels")
    assert [v.version for v in versions] == list(range(1, 9))
    assert {v.run_id for v in versions} == run_ids and len(run_ids) == 8


OTHER = """
from dagml import Pipeline

pipe = Pipeline("other-flow")


@pipe.step
def a():
    return [1, 2, 3]


@pipe.step
def b(a):
    return sum(a)
"""


def test_runs_of_different_pipelines_at_once_leave_a_consistent_store(tmp_path):
    import sqlite3

    (tmp_path / "tiny.py").write_text(textwrap.dedent(TINY))
    (tmp_path / "other.py").write_text(textwrap.dedent(OTHER))
    home = str(tmp_path / "home")
    env = {**os.environ, "DAGML_HOME": home}
    files = ["tiny.py", "other.py"] * 4
    procs = [
        subprocess.Popen([sys.executable, "-m", "dagml.cli.main", "run", str(tmp_path / f), "--json", "--workers", "1"],
                         env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for f in files
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), _failures(procs, outs)
    runs = [json.loads(o) for o, _ in outs]
    assert sorted(r["pipeline"] for r in runs) == ["other-flow"] * 4 + ["tiny-register"] * 4
    for db in ("runs.db", "registry.db"):
        con = sqlite3.connect(os.path.join(home, db))
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
    con = sqlite3.connect(os.path.join(home, "runs.db"))
    rows = con.execute("SELECT run_id, status FROM runs").fetchall()
    steps = con.execute("SELECT COUNT(*) FROM steps WHERE status IN ('succeeded', 'cached')").fetchone()[0]
    con.close()
    assert sorted(r[0] for r in rows) == sorted(r["run_id"] for r in runs)
    assert {r[1] for r in rows} == {"Succeeded"} and steps == 4 * 3 + 4 * 2
    assert [v.version for v in ModelRegistry(home).versions("TinyModels")] == [1, 2, 3, 4]
