import json
import os

from dagml.cli.main import main
from tests.golden_json import GOLDEN_SETTINGS, PIPELINES, compile_golden, golden_sources

SETTINGS = [
    "--role-arn",
    GOLDEN_SETTINGS["role_arn"],
    "--bucket",
    GOLDEN_SETTINGS["bucket"],
    "--region",
    GOLDEN_SETTINGS["region"],
]


def test_the_same_pipeline_exits_0(tmp_path, capsys):
    compiled = tmp_path / "iris.json"
    compiled.write_text(compile_golden(golden_sources()["iris"]).replace("<bundle-sha256>", "0" * 64))
    assert main(["diff", str(compiled), str(compiled)]) == 0
    assert capsys.readouterr().out.startswith("no differences between")


def test_a_target_against_its_golden_differs_only_in_the_code_hash(capsys):
    assert (
        main(["diff", golden_sources()["iris"], os.path.join(PIPELINES, "iris.json"), *SETTINGS, "--json"])
        == 1
    )
    data = json.loads(capsys.readouterr().out)
    paths = {d.split(":")[0] for c in data["changes"] for d in c["details"]}
    assert {c["section"] for c in data["changes"]} == {"step"}
    assert "Arguments.ProcessingInputs['code'].S3Input.S3Uri" in paths
    assert "Arguments.HyperParameters.sagemaker_submit_directory" in paths


def test_two_pipelines_list_what_changed(capsys):
    assert main(["diff", os.path.join(PIPELINES, "minimal.json"), os.path.join(PIPELINES, "iris.json")]) == 1
    out = capsys.readouterr().out
    assert "+ CheckAccuracy: Condition, top level" in out and "- hello: Processing, top level" in out
    assert "+ prepare -> train: data" in out and "+ AccuracyThreshold: Float = 0.9" in out


def test_a_target_needs_the_settings(capsys, monkeypatch, tmp_path):
    for key in ("DAGML_ROLE_ARN", "DAGML_BUCKET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["diff", golden_sources()["minimal"], os.path.join(PIPELINES, "minimal.json")]) == 2
    assert "missing required settings" in capsys.readouterr().err
