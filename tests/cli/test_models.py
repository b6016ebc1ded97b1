import json
import os

import pytest

from dagml.cli.main import main
from dagml.local.registry import ModelRegistry


def register(home, group="SklearnIris", run_id="r1", approval="PendingManualApproval", metrics=None):
    return ModelRegistry(home).register(
        group,
        approval=approval,
        metrics={"accuracy": 0.9667, "f1": 0.95} if metrics is None else metrics,
        artifact=f"/runs/{run_id}/steps/train/model.tar.gz",
        pipeline="iris-classifier",
        run_id=run_id,
        step="RegisterModel",
        code_hash="abc123",
        description="iris model",
    )


@pytest.fixture
def home(tmp_path):
    register(tmp_path, run_id="r1", approval="Approved")
    register(tmp_path, run_id="r2")
    register(tmp_path, "Churn", run_id="r3", metrics={"auc": 0.8, "b": 1, "c": 2, "d": 3})
    return str(tmp_path)


def models(*args, home=None):
    return main(["models", *args, *(["--home", home] if home else [])])


def test_list_shows_every_version_as_a_table(home, capsys):
    assert models("list", home=home) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["GROUP", "VERSION", "STATUS", "METRICS", "PIPELINE", "RUN", "CREATED", "(UTC)"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["Churn", "1", "PendingManualApproval"],
        ["SklearnIris", "1", "Approved"],
        ["SklearnIris", "2", "PendingManualApproval"],
    ]
    assert "auc=0.8 b=1 c=2 (+1 more)" in lines[1]
    assert "accuracy=0.9667 f1=0.95" in lines[2] and "iris-classifier" in lines[2] and " r1 " in lines[2]


def test_list_one_group(home, capsys):
    assert models("list", "SklearnIris", home=home) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [r.split()[:2] for r in rows] == [["SklearnIris", "1"], ["SklearnIris", "2"]]


def test_list_json(home, capsys):
    assert models("list", "--json", home=home) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    got = [(v["group"], v["version"]) for v in data["versions"]]
    assert got == [("Churn", 1), ("SklearnIris", 1), ("SklearnIris", 2)]
    assert [g["name"] for g in data["groups"]] == ["Churn", "SklearnIris"]
    assert data["groups"][1]["counts"] == {"Approved": 1, "PendingManualApproval": 1, "Rejected": 0}


def test_list_of_an_empty_registry_says_how_to_fill_it(tmp_path, capsys):
    assert models("list", home=str(tmp_path)) == 0
    assert "RegisterModel step registers one" in capsys.readouterr().out


def test_show(home, capsys):
    assert models("show", "SklearnIris", "1", home=home) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "SklearnIris version 1: Approved"
    assert "  artifact     /runs/r1/steps/train/model.tar.gz" in out
    assert "  description  iris model" in out
    assert "    accuracy  0.9667" in out


def test_show_json(home, capsys):
    assert models("show", "SklearnIris", "2", "--json", home=home) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["version"]["run_id"] == "r2"
    assert data["version"]["metrics"] == {"accuracy": 0.9667, "f1": 0.95}


@pytest.mark.parametrize("action, status", [("approve", "Approved"), ("reject", "Rejected")])
def test_approve_and_reject_change_only_the_status(home, capsys, action, status):
    before = ModelRegistry(home).get("SklearnIris", 2)
    assert models(action, "SklearnIris", "2", home=home) == 0
    assert capsys.readouterr().out.strip() == f"SklearnIris version 2: PendingManualApproval -> {status}"
    after = ModelRegistry(home).get("SklearnIris", 2)
    assert after.status == status
    assert (after.metrics, after.artifact, after.run_id, after.created_at) == (
        before.metrics, before.artifact, before.run_id, before.created_at
    )


def test_approve_json(home, capsys):
    assert models("approve", "SklearnIris", "2", "--json", home=home) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["previous_status"] == "PendingManualApproval" and data["version"]["status"] == "Approved"


def test_unknown_group_exits_1_with_did_you_mean(home, capsys):
    assert models("show", "SklearnIirs", "1", home=home) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no model group 'SklearnIirs'") and "did you mean 'SklearnIris'?" in err
    assert "Traceback" not in err
    assert models("list", "Chrun", home=home) == 1
    assert "did you mean 'Churn'?" in capsys.readouterr().err


def test_unknown_version_exits_1_listing_the_versions(home, capsys):
    assert models("approve", "SklearnIris", "9", home=home) == 1
    assert "has no version 9; it has versions 1-2" in capsys.readouterr().err
    assert ModelRegistry(home).get("SklearnIris", 1).status == "Approved"


def test_unknown_group_json(home, capsys):
    assert models("show", "Nope", "1", "--json", home=home) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and "no model group 'Nope'" in data["error"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["show", "bad_name", "1"], "use 'bad-name'"),
        (["show", "SklearnIris", "0"], "invalid version '0'"),
        (["show", "SklearnIris", "x"], "invalid version 'x'"),
        (["approve", "SklearnIris"], "required: VERSION"),
        ([], "required: ACTION"),
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, args, words):
    assert models(*args, home=str(tmp_path) if args else None) == 2
    assert words in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "registry.db")


def test_home_defaults_to_dagml_home(tmp_path, monkeypatch, capsys):
    register(tmp_path)
    monkeypatch.setenv("DAGML_HOME", str(tmp_path))
    assert main(["models", "list"]) == 0
    assert "SklearnIris" in capsys.readouterr().out


@pytest.mark.parametrize("version", ["99999999999999999999999", "9223372036854775808", "١٢", "1_0", "+1"])
def test_a_version_no_registry_can_hold_is_a_usage_error(home, capsys, version):
    for action in ("show", "approve", "reject"):
        assert models(action, "SklearnIris", version, home=home) == 2
        err = capsys.readouterr().err
        assert f"invalid version {version!r}" in err and "Fix:" in err and "Traceback" not in err


def test_the_largest_version_sqlite_holds_is_simply_not_found(home, capsys):
    assert models("show", "SklearnIris", "9223372036854775807", home=home) == 1
    assert "has no version 9223372036854775807" in capsys.readouterr().err
