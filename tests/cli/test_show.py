import json
import os

from dagml.cli.main import main
from tests.golden_json import PIPELINES

IRIS_JSON = os.path.join(PIPELINES, "iris.json")


def load_iris():
    with open(IRIS_JSON, encoding="utf-8") as f:
        return json.load(f)


def test_show_summarises_a_definition_file(capsys):
    assert main(["show", IRIS_JSON]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pipeline iris: valid, 8 steps, 5 params, 1 condition")
    assert "5  RegisterModel (register, then of CheckAccuracy)" in out
    assert "CheckAccuracy: evaluate.multiclass_classification_metrics.accuracy.value >= AccuracyThreshold (0.9)" in out


def test_show_draws_with_the_same_renderer(tmp_path, capsys):
    out = tmp_path / "iris.dot"
    assert main(["show", IRIS_JSON, "-o", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["summary"]["conditions"][0]["name"] == "CheckAccuracy"
    dot = out.read_text()
    assert '"CheckAccuracy" [label=' in dot and 'shape="diamond"' in dot and '"prepare" -> "train"' in dot


def test_a_malformed_definition_exits_1_naming_the_json_path(tmp_path, capsys):
    data = load_iris()
    del data["Steps"][3]["Arguments"]["IfSteps"][0]["Name"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    assert main(["show", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: definition {str(path)!r}: $.Steps[3].Arguments.IfSteps[0].Name: step has no Name"
    )
    assert err.count("\n") == 1


def test_an_invalid_definition_exits_1_with_every_problem(tmp_path, capsys):
    data = load_iris()
    data["Steps"][0]["DependsOn"] = ["evaluate"]
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(data))
    assert main(["show", str(path), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert [p["kind"] for p in result["problems"]] == ["cycle"]


def test_show_refuses_a_pipeline_file_and_a_missing_file(capsys):
    assert main(["show", "examples/iris_pipeline.py"]) == 2
    assert "use dagml validate or dagml render" in capsys.readouterr().err
    assert main(["show", "nope.json"]) == 2
    assert "no such definition file: 'nope.json'" in capsys.readouterr().err
