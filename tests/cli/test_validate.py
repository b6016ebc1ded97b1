import json
import os
import subprocess
import sys
import textwrap

from dagml.cli.main import main

from ..conftest import EXAMPLES, ROOT

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")


def test_valid_pipeline_exits_0_with_a_summary(capsys):
    assert main(["validate", IRIS]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pipeline iris-classifier: valid, 8 steps, 4 params, 1 condition")
    assert "steps by generation:" in out and "1  prepare (processing)" in out
    assert "CheckAccuracy: evaluate.multiclass_classification_metrics.accuracy.value >= AccuracyThreshold (0.9)" in out
    assert "AccuracyThreshold  Float    = 0.9" in out


def test_json_summary(capsys):
    assert main(["validate", IRIS, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert data["summary"]["generations"][0] == ["prepare"]
    assert data["summary"]["conditions"][0]["then"] == ["RegisterModel", "BatchTransformModel", "BatchTransform"]


def write_broken(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text(textwrap.dedent("""
        from dagml import Pipeline
        pipe = Pipeline("broken")

        @pipe.step
        def prepare():
            pass

        @pipe.step(after=["prepair"])
        def train(prepar):
            pass
    """))
    return str(path)


def test_invalid_pipeline_exits_1_with_one_problem_per_line(tmp_path, capsys):
    assert main(["validate", write_broken(tmp_path)]) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[0] == "error: pipeline 'broken' is invalid (2 problems):"
    assert all(line.startswith("  - train: ") for line in lines[1:]) and len(lines) == 3
    assert "Traceback" not in err


def test_invalid_pipeline_json(tmp_path, capsys):
    assert main(["validate", write_broken(tmp_path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert sorted(p["kind"] for p in data["problems"]) == ["unbound-input", "unknown-step"]


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["validate"]) == 2
    assert main(["validate", str(tmp_path / "nope.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


def test_declaration_error_in_the_pipeline_file_exits_1_and_points_at_the_line(tmp_path, capsys):
    path = tmp_path / "decl.py"
    path.write_text("from dagml import Pipeline\npipe = Pipeline('d')\npipe.param('X', [1])\n")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "param 'X'" in err and "decl.py:3" in err and "Traceback" not in err


def test_console_script_runs_in_a_fresh_process():
    result = subprocess.run(
        [sys.executable, "-m", "dagml.cli.main", "validate", IRIS], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "valid, 8 steps" in result.stdout
