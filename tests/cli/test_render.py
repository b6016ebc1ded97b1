"""`dagml render`: golden pairs through the CLI, formats, exit codes, no dot."""

from __future__ import annotations

import os
import textwrap

from dagml.cli.main import main

from ..conftest import EXAMPLES, ROOT

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")
PIPELINES = os.path.join(ROOT, "tests", "pipelines")


def golden(name: str) -> str:
    with open(os.path.join(PIPELINES, f"{name}.dot"), encoding="utf-8") as f:
        return f.read()


def test_golden_pair_through_the_cli(tmp_path, capsys):
    out = tmp_path / "iris.dot"
    assert main(["render", IRIS, "-o", str(out)]) == 0
    assert out.read_text() == golden("iris")
    assert capsys.readouterr().out == f"wrote {out} (dot, 8 steps)\n"


def test_without_o_the_dot_is_printed(capsys):
    assert main(["render", os.path.join(PIPELINES, "branches.py")]) == 0
    assert capsys.readouterr().out == golden("branches")


def test_svg_from_the_extension(tmp_path):
    out = tmp_path / "iris.svg"
    assert main(["render", IRIS, "-o", str(out), "--params", "--no-legend"]) == 0
    text = out.read_text()
    assert "<svg" in text and "param:TestSize" in text and "cluster_legend" not in text


def test_format_flag_and_mermaid_markdown(tmp_path, capsys):
    assert main(["render", IRIS, "--format", "md"]) == 0
    assert "```mermaid\n---\ntitle: " in capsys.readouterr().out
    out = tmp_path / "drawing.txt"
    assert main(["render", IRIS, "-o", str(out), "--format", "mmd", "--direction", "LR"]) == 0
    assert "flowchart LR\n" in out.read_text()


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["render", IRIS, "-o", str(tmp_path / "x.jpeg")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    assert main(["render", IRIS, "--format", "png"]) == 2
    assert "-o FILE.png" in capsys.readouterr().err
    assert main(["render", "no/such/file.py"]) == 2


def test_without_dot_svg_exits_1_saying_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    out = tmp_path / "iris.svg"
    assert main(["render", IRIS, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: drawing SVG needs Graphviz's `dot`") and "apt-get install graphviz" in err
    assert not out.exists()
    assert main(["render", IRIS, "-o", str(tmp_path / "iris.mmd")]) == 0


def test_an_invalid_pipeline_exits_1(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text(textwrap.dedent("""
        from dagml import Pipeline
        pipe = Pipeline("broken")

        @pipe.step
        def train(prepare):
            pass
    """))
    assert main(["render", str(path), "-o", str(tmp_path / "b.svg")]) == 1
    assert "train: parameter 'prepare'" in capsys.readouterr().err


def test_a_missing_output_directory_is_a_usage_error_and_is_not_created(tmp_path, capsys):
    """render -o, compile -o, run --graph and runs show --graph all refuse it before any work."""
    missing = tmp_path / "nonexistent" / "dir"
    flags = ["--role-arn", "arn:aws:iam::111122223333:role/R", "--bucket", "bkt", "--region", "us-east-1"]
    home = str(tmp_path / "home")
    for argv in (
        ["render", IRIS, "-o", str(missing / "x.dot")],
        ["compile", IRIS, "-o", str(missing / "x.json"), *flags],
        ["run", IRIS, "--home", home, "--graph", str(missing / "run.svg")],
        ["runs", "show", "no-such-run", "--home", home, "--graph", str(missing / "run.svg")],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"the directory {str(missing)!r} does not exist" in err, err
        assert err.rstrip().endswith("or write the file elsewhere.") and "Fix: create it first" in err
    assert not (tmp_path / "nonexistent").exists() and not os.path.exists(home)
    (tmp_path / "file").write_text("")
    assert main(["render", IRIS, "-o", str(tmp_path / "file" / "x.dot")]) == 2
    assert "is not a directory" in capsys.readouterr().err
