import os
import textwrap

import pytest

from dagml import DeclarationError, Pipeline, TargetError
from dagml.spec.target import load_target, split_target

from ..conftest import EXAMPLES


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def test_split_target():
    assert split_target("a/b.py:pipe") == ("a/b.py", "pipe")
    assert split_target("pkg.mod") == ("pkg.mod", None)
    assert split_target("pkg.mod:p") == ("pkg.mod", "p")
    with pytest.raises(TargetError, match="not a Python attribute"):
        split_target("a.py:not-valid")


def test_loads_the_only_pipeline_of_a_file():
    pipe = load_target(os.path.join(EXAMPLES, "iris_pipeline.py"))
    assert isinstance(pipe, Pipeline) and pipe.name == "iris-classifier"


def test_several_pipelines_are_listed_and_attr_picks_one(tmp_path):
    path = write(tmp_path, "multi.py", """
        from dagml import Pipeline
        a = Pipeline("a")
        b = Pipeline("b")
        also_a = a
    """)
    with pytest.raises(TargetError, match=r"defines 2 pipelines; pick one: .*multi.py:a, .*multi.py:b"):
        load_target(path)
    assert load_target(f"{path}:b").name == "b"
    with pytest.raises(TargetError, match="did you mean 'b'"):
        load_target(f"{path}:bb")


def test_module_name_targets(tmp_path, monkeypatch):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "flows.py").write_text("from dagml import Pipeline\npipe = Pipeline('flows')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_target("mypkg.flows").name == "flows"
    with pytest.raises(TargetError, match="no module named 'mypkg.nope'"):
        load_target("mypkg.nope")


def test_missing_file_no_pipeline_and_wrong_attr(tmp_path):
    with pytest.raises(TargetError, match="no such file"):
        load_target(str(tmp_path / "nope.py"))
    path = write(tmp_path, "empty.py", "x = 1\n")
    with pytest.raises(TargetError, match="defines no dagml Pipeline"):
        load_target(path)
    with pytest.raises(TargetError, match="is a int, not a dagml Pipeline"):
        load_target(f"{path}:x")


def test_errors_in_user_code_show_the_users_traceback(tmp_path):
    path = write(tmp_path, "boom.py", """
        from dagml import Pipeline
        pipe = Pipeline("boom")
        1 / 0
    """)
    with pytest.raises(TargetError) as info:
        load_target(path)
    assert "ZeroDivisionError" in str(info.value) and "boom.py" in str(info.value)
    assert "importlib" not in str(info.value)


def test_declaration_errors_keep_their_type_and_say_where(tmp_path):
    path = write(tmp_path, "decl.py", """
        from dagml import Pipeline
        pipe = Pipeline("decl")
        pipe.param("X", None)
    """)
    with pytest.raises(DeclarationError) as info:
        load_target(path)
    assert any("decl.py:4" in note for note in info.value.__notes__)


@pytest.mark.parametrize("call", ["sys.exit(0)", "sys.exit(3)", "raise SystemExit"])
def test_a_target_that_exits_while_imported_is_a_clear_error(tmp_path, monkeypatch, call):
    body = f"import sys\nfrom dagml import Pipeline\npipe = Pipeline('leaves')\n{call}\n"
    path = write(tmp_path, "leaves.py", body)
    with pytest.raises(TargetError) as info:
        load_target(path)
    text = str(info.value)
    assert "leaves.py" in text and "exited" in text and "while being imported" in text
    assert text.endswith('Fix: guard the code that exits with `if __name__ == "__main__":`.')
    (tmp_path / "leaving_pkg").mkdir()
    (tmp_path / "leaving_pkg" / "__init__.py").write_text("")
    (tmp_path / "leaving_pkg" / "flows.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TargetError, match=r"'leaving_pkg.flows'.*exited"):
        load_target("leaving_pkg.flows")


def test_validate_of_a_target_that_exits_0_fails_with_exit_2(tmp_path, capsys):
    from dagml.cli.main import main

    path = write(tmp_path, "quits.py", "import sys\nfrom dagml import Pipeline\npipe = Pipeline('quits')\nsys.exit(0)\n")
    assert main(["validate", path]) == 2
    assert "exited" in capsys.readouterr().err
