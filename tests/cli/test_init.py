"""`dagml init`: the scaffold validates, runs down both branches, compiles and passes its own tests;
init never overwrites without --force, and names the pipeline validly (issue #17)."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from dagml.cli import init
from dagml.cli.main import main
from tests.conftest import ROOT

WRITTEN = ["README.md", "pipeline.py", "pyproject.toml", "tests/test_pipeline.py"]
NEXT = "dagml validate pipeline.py && dagml run pipeline.py && dagml compile pipeline.py -o pipeline.json"


@pytest.fixture(autouse=True)
def clean_slate(monkeypatch, tmp_path):
    """Settings come from the scaffold's pyproject.toml alone, and its `pipeline` module is forgotten after."""
    for name in ("ROLE_ARN", "BUCKET", "REGION", "PREFIX", "IMAGE_URI", "FRAMEWORK_VERSION", "INSTANCE_TYPE"):
        monkeypatch.delenv(f"DAGML_{name}", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))  # loading a TARGET puts its directory on sys.path
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_scaffold_validates_runs_both_branches_and_compiles(tmp_path, monkeypatch, capsys):
    project = tmp_path / "churn-model"
    assert main(["init", str(project)]) == 0
    out = capsys.readouterr().out
    assert files_under(project) == WRITTEN
    for path in WRITTEN:
        assert f"created   {project / path}" in out
    assert "The pipeline is named 'churn-model'." in out
    assert out.rstrip().endswith(f"cd {project} && {NEXT}")

    monkeypatch.chdir(project)  # settings are read from the pyproject.toml nearest the current directory
    assert main(["validate", "pipeline.py", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["generations"][:4] == [["prepare"], ["train"], ["evaluate"], ["CheckR2"]]
    assert summary["warnings"] == []

    home = str(tmp_path / "home")
    assert main(["run", "pipeline.py", "--home", home, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    statuses = {step["name"]: step["status"] for step in result["steps"]}
    assert statuses["RegisterModel"] == "succeeded" and statuses["R2TooLow"] == "skipped"
    assert main(["models", "list", "churn-model-models", "--home", home, "--json"]) == 0
    (version,) = json.loads(capsys.readouterr().out)["versions"]
    assert version["status"] == "PendingManualApproval"
    assert 0.4 <= version["metrics"]["regression_metrics.r2.value"] < 1

    assert main(["run", "pipeline.py", "--home", home, "-p", "MinR2=0.99"]) == 1  # the other branch
    assert "Failed: R2TooLow: Test R2 0.4" in capsys.readouterr().out

    assert main(["compile", "pipeline.py", "-o", "pipeline.json"]) == 0  # the placeholders in [tool.dagml]
    definition = (project / "pipeline.json").read_text()
    assert "arn:aws:iam::111122223333:role/replace-with-your-role" in definition
    assert "s3://replace-with-your-bucket/dagml/code/" in definition
    assert {s["Name"] for s in json.loads(definition)["Steps"]} >= {"prepare", "train", "evaluate", "CheckR2"}


def test_the_scaffold_passes_its_own_tests(tmp_path):
    project = tmp_path / "demo"
    assert main(["init", str(project)]) == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_the_output_is_deterministic(tmp_path, monkeypatch, capsys):
    outputs = []
    for where in ("a", "b"):
        (tmp_path / where).mkdir()
        monkeypatch.chdir(tmp_path / where)
        assert main(["init", "proj"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert [(tmp_path / "a" / "proj" / p).read_bytes() for p in WRITTEN] == [
        (tmp_path / "b" / "proj" / p).read_bytes() for p in WRITTEN
    ]
    assert init.project_files("proj") == init.project_files("proj")


def test_dir_defaults_to_the_current_directory(tmp_path, monkeypatch, capsys):
    project = tmp_path / "Forecast2"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    monkeypatch.chdir(project)
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert files_under(project) == sorted([*WRITTEN, "notes.txt"])
    assert "created   pipeline.py " in out and "The pipeline is named 'Forecast2'." in out
    assert out.rstrip().endswith(f"\n  {NEXT}")  # no `cd` when DIR is here
    assert 'Pipeline("Forecast2"' in (project / "pipeline.py").read_text()


def test_refuses_when_any_file_it_would_write_exists(tmp_path, capsys):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "README.md").write_text("my own readme\n")
    assert main(["init", str(project)]) == 2
    err = capsys.readouterr().err
    assert f"{str(project / 'README.md')!r} already exists" in err
    assert "--force" in err and "dagml init NEW_DIR" in err
    assert files_under(project) == ["README.md"]  # nothing written, not even the other files
    assert (project / "README.md").read_text() == "my own readme\n"


def test_force_overwrites_and_says_so(tmp_path, capsys):
    project = tmp_path / "proj"
    (project / "tests").mkdir(parents=True)
    (project / "pipeline.py").write_text("broken\n")
    (project / "tests" / "test_other.py").write_text("kept\n")
    assert main(["init", str(project), "--force"]) == 0
    out = capsys.readouterr().out
    assert f"overwrote {project / 'pipeline.py'}" in out and f"created   {project / 'README.md'}" in out
    assert (project / "pipeline.py").read_text() == init.project_files("proj")["pipeline.py"]
    assert (project / "tests" / "test_other.py").read_text() == "kept\n"


def test_a_bad_name_gets_a_valid_spelling(tmp_path, capsys):
    assert main(["init", str(tmp_path / "proj"), "--name", "my_project"]) == 2
    err = capsys.readouterr().err
    assert "--name 'my_project' is not a valid pipeline name" in err and "Fix: --name my-project." in err
    assert not (tmp_path / "proj").exists()


def test_a_directory_name_that_is_no_pipeline_name_is_made_one_and_said(tmp_path, capsys):
    assert main(["init", str(tmp_path / "my_project")]) == 0
    out = capsys.readouterr().out
    assert "The pipeline is named 'my-project', after the directory 'my_project'" in out
    assert main(["init", str(tmp_path / "other"), "--name", "Chosen-1"]) == 0
    assert "The pipeline is named 'Chosen-1'." in capsys.readouterr().out
    assert 'group="Chosen-1-models"' in (tmp_path / "other" / "pipeline.py").read_text()


@pytest.mark.parametrize("case", ["dir-is-a-file", "parent-missing", "tests-is-a-file", "pipeline-is-a-dir"])
def test_other_usage_errors_exit_2_and_write_nothing(tmp_path, capsys, case):
    project = tmp_path / "proj"
    if case == "dir-is-a-file":
        project.write_text("")
    elif case == "parent-missing":
        project = tmp_path / "missing" / "proj"
    elif case == "tests-is-a-file":
        project.mkdir()
        (project / "tests").write_text("")
    else:
        (project / "pipeline.py").mkdir(parents=True)
    before = files_under(tmp_path)
    assert main(["init", str(project), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Fix: " in err and "Traceback" not in err
    assert files_under(tmp_path) == before


def test_says_how_to_install_scikit_learn_when_it_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(init, "sklearn_installed", lambda: False)
    assert main(["init", str(tmp_path / "proj")]) == 0
    assert "pip install 'dagml[examples]'" in capsys.readouterr().out


def test_the_templates_are_package_data():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        patterns = tomllib.load(f)["tool"]["setuptools"]["package-data"]["dagml"]
    templates = Path(ROOT, "dagml", "cli", "templates")
    shipped = [p.relative_to(Path(ROOT, "dagml")).as_posix() for p in templates.iterdir()]
    assert sorted(t for _, t, _ in init.FILES) == sorted(p.name for p in templates.iterdir())
    assert all(any(fnmatch.fnmatch(p, pattern) for pattern in patterns) for p in shipped)


def test_a_closed_pipe_ends_init_quietly_after_writing(tmp_path):
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "dagml.cli.main", "init", str(tmp_path / "proj")],
            stdout=write, stderr=subprocess.PIPE, cwd=ROOT, timeout=120,
        )
    finally:
        os.close(write)
    assert done.returncode == 141 and b"Traceback" not in done.stderr, done.stderr.decode()
