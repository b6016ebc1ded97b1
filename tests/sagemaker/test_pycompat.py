"""Compile refuses user code that would not import on the image's Python, naming step, file and line."""

import os
import sys
import textwrap

import pytest

from dagml.api import graph_of
from dagml.graph.errors import PipelineValidationError
from dagml.sagemaker import Settings, compile_pipeline
from dagml.sagemaker.pycompat import check_sources
from dagml.spec.target import load_target

SETTINGS = Settings(role_arn="arn:aws:iam::111122223333:role/R", bucket="b-1", region="us-east-1")

HEAD = "from dagml import Pipeline\npipe = Pipeline('compat')\n"


def _pipeline(tmp_path, body: str, helper: str | None = None) -> str:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "flow.py").write_text(HEAD + textwrap.dedent(body))
    if helper is not None:
        (root / "helper.py").write_text(textwrap.dedent(helper))
    return str(root / "flow.py")


def _problems(path):
    with pytest.raises(PipelineValidationError) as info:
        compile_pipeline(graph_of(load_target(path)), SETTINGS)
    return info.value.problems


def test_a_module_new_in_a_later_python_fails_compile_with_step_file_line_and_python(tmp_path):
    path = _pipeline(
        tmp_path,
        """
        @pipe.step
        def load():
            import tomllib
            return tomllib.loads("a = 1")
        """,
    )
    (problem,) = _problems(path)
    assert problem.kind == "image-python" and problem.steps == ("load",)
    assert problem.message.startswith("flow.py, line 6: ") and "'tomllib' is new in Python 3.11" in problem.message
    assert "Python 3.10" in problem.message and problem.fix


def test_syntax_the_image_cannot_parse_is_refused(tmp_path):
    path = _pipeline(
        tmp_path,
        """
        @pipe.step
        def load():
            result = 1
            try:
                result = 2
            except* ValueError:
                result = 3
            return result
        """,
    )
    (problem,) = _problems(path)
    assert problem.steps == ("load",) and "flow.py, line 11" in problem.message and "3.10" in problem.message


def test_names_added_later_and_helpers_are_checked_too(tmp_path):
    path = _pipeline(
        tmp_path,
        """
        import helper
        from typing import Self

        @pipe.step
        def load():
            return helper.now()
        """,
        helper="""
        import datetime
        def now():
            return datetime.datetime.now(datetime.UTC)
        """,
    )
    problems = _problems(path)
    messages = sorted(p.message for p in problems)
    assert any("helper.py, line 4: `datetime.UTC`: datetime.UTC is new in Python 3.11" in m for m in messages)
    assert any("flow.py, line 5: `from typing import Self`" in m for m in messages)


def test_code_for_the_image_python_passes_and_newer_images_see_removed_modules(tmp_path):
    path = _pipeline(
        tmp_path,
        """
        import distutils
        from typing import TypeAlias  # 3.10

        @pipe.step
        def load(x: int | None = None):
            match x:
                case None:
                    return 0
            return x
        """,
    )
    graph = load_target(path).validate()
    files = [("flow.py", path)]
    assert check_sources(graph, files, (3, 10)) == []
    (removed,) = check_sources(graph, files, (3, 12))
    assert "module 'distutils' was removed in Python 3.12" in removed.message
    assert os.path.basename(path) in removed.message


def test_only_code_the_pipeline_can_import_is_checked(tmp_path):
    path = _pipeline(
        tmp_path,
        """
        @pipe.step
        def load():
            from pkg import helper
            return helper.ok()
        """,
    )
    root = os.path.dirname(path)
    os.makedirs(os.path.join(root, "pkg"))
    open(os.path.join(root, "pkg", "__init__.py"), "w").close()
    with open(os.path.join(root, "pkg", "helper.py"), "w") as f:
        f.write("from .deep import value\ndef ok():\n    return value\n")
    with open(os.path.join(root, "pkg", "deep.py"), "w") as f:
        f.write("import tomllib\nvalue = 1\n")
    with open(os.path.join(root, "unrelated_script.py"), "w") as f:
        f.write("import tomllib\n")
    (problem,) = _problems(path)
    assert problem.message.startswith("pkg/deep.py, line 1: `import tomllib`")


def test_a_helper_imported_from_outside_the_bundle_folder_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "far_helper.py").write_text("VALUE = 1\n")
    import sys

    path = _pipeline(
        tmp_path,
        f"""
        import sys
        sys.path.insert(0, {str(elsewhere)!r})
        import far_helper

        @pipe.step
        def load():
            return far_helper.VALUE
        """,
    )
    saved = list(sys.path)
    try:
        sys.modules.pop("far_helper", None)
        (problem,) = _problems(path)
    finally:
        sys.path[:] = saved
        sys.modules.pop("far_helper", None)
    assert problem.kind == "outside-bundle"
    assert "imports 'far_helper' from" in problem.message and "would not have it" in problem.message


def test_a_file_the_image_cannot_parse_still_leads_to_the_helpers_it_imports(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "helper", raising=False)  # another test's helper module
    path = _pipeline(
        tmp_path,
        """
        import helper

        @pipe.step
        def load():
            result = 0
            try:
                result = helper.VALUE
            except* ValueError:
                result = 1
            return result
        """,
        helper="import tomllib\nVALUE = 1\n",
    )
    flow, helper = sorted(_problems(path), key=lambda p: p.message)
    assert flow.message.startswith("flow.py, line ") and "a syntax error on the image's Python 3.10" in flow.message
    assert helper.message.startswith("helper.py, line 1: `import tomllib`")  # reached through flow.py all the same


def test_each_reached_file_is_read_and_parsed_once(tmp_path, monkeypatch):
    import ast

    monkeypatch.delitem(sys.modules, "helper", raising=False)
    path = _pipeline(
        tmp_path,
        """
        import helper

        @pipe.step
        def load():
            return helper.VALUE
        """,
        helper="VALUE = 1\n",
    )
    graph = graph_of(load_target(path))
    parsed = []
    real_parse = ast.parse

    def counting(source, filename="<unknown>", *args, **kwargs):
        parsed.append(str(filename))
        return real_parse(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    compile_pipeline(graph, SETTINGS)
    assert sorted(os.path.basename(f) for f in parsed if f.startswith(str(tmp_path))) == ["flow.py", "helper.py"]
