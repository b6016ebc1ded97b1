"""Formats and files: SVG and PNG through Graphviz, what happens without it, notebooks."""

from __future__ import annotations

import sys

import pytest

import dagml
from dagml import DagmlError, Pipeline
from dagml.drawing import Drawing, GraphvizNotFoundError, RenderError, format_for, render

from .conftest import svg_titles


@pytest.mark.parametrize(
    ("path", "fmt", "expected"),
    [
        ("a.svg", None, "svg"),
        ("a.PNG", None, "png"),
        ("a.dot", None, "dot"),
        ("a.gv", None, "dot"),
        ("a.mmd", None, "mmd"),
        ("a.md", None, "md"),
        ("a.txt", "svg", "svg"),
        (None, None, "dot"),
        (None, ".MMD", "mmd"),
    ],
)
def test_format_from_the_extension_or_given(path, fmt, expected):
    assert format_for(path, fmt) == expected


def test_unknown_formats_say_which_exist():
    with pytest.raises(RenderError, match=r"\.svg, \.png, \.dot, \.mmd or \.md"):
        format_for("out.jpeg")
    with pytest.raises(RenderError, match="use one of svg, png, dot, mmd, md"):
        format_for("out.svg", "gif")
    assert issubclass(RenderError, DagmlError) and issubclass(RenderError, ValueError)


def test_svg_has_a_node_for_every_step_and_a_group_for_every_branch(tmp_path, iris_graph):
    path = tmp_path / "iris.svg"
    render(iris_graph, path)
    titles = svg_titles(path.read_text())
    assert set(iris_graph.nodes) <= titles["node"]
    branches = {"cluster_then:CheckAccuracy", "cluster_otherwise:CheckAccuracy"}
    assert branches | {"cluster_legend", "cluster_drawing"} == titles["cluster"]
    assert "prepare->train" in titles["edge"]


def test_png_is_a_png(tmp_path, iris_graph):
    path = render(iris_graph).save(tmp_path / "iris.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_directory_is_refused_not_created(tmp_path, iris_graph):
    missing = tmp_path / "deep" / "er"
    for name in ("iris.dot", "iris.png"):
        with pytest.raises(RenderError, match=r"directory .*deep/er' does not exist\. Fix: create it first"):
            render(iris_graph).save(missing / name)
    assert not (tmp_path / "deep").exists()
    missing.mkdir(parents=True)
    assert render(iris_graph, missing / "iris.dot") and (missing / "iris.dot").read_text()


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """Graphviz's dot is not on PATH."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


def test_without_dot_svg_and_png_fail_saying_how_to_install_while_dot_and_mermaid_work(no_dot, tmp_path, iris_graph):
    for name in ("iris.svg", "iris.png"):
        with pytest.raises(GraphvizNotFoundError) as info:
            render(iris_graph, tmp_path / name)
        message = str(info.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert not (tmp_path / name).exists()  # nothing half-written
    assert isinstance(info.value, DagmlError) and isinstance(info.value, RuntimeError)
    for name in ("iris.dot", "iris.mmd", "iris.md"):
        assert render(iris_graph, tmp_path / name) and (tmp_path / name).read_text()


def test_without_the_graphviz_package_svg_fails_saying_how_to_install(monkeypatch, iris_graph):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(GraphvizNotFoundError, match=r"pip install 'dagml\[viz\]'"):
        render(iris_graph).svg()


def test_a_dot_error_is_reported_not_swallowed(monkeypatch):
    from dagml.drawing.output import run_dot

    with pytest.raises(RenderError, match="could not draw"):
        run_dot("digraph { this is not dot", "svg")


def test_pipeline_render_and_notebook_display(tmp_path, iris_graph):
    from dagml.spec.target import load_target
    from tests.drawing.conftest import IRIS

    pipe = load_target(IRIS)
    drawing = pipe.render(tmp_path / "iris.dot", params=True)
    assert isinstance(drawing, Drawing) and "param:TestSize" in (tmp_path / "iris.dot").read_text()
    bundle = pipe._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"} and bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert "<svg" in bundle["image/svg+xml"] and not hasattr(pipe, "_repr_svg_")  # the bundle only (docs/notebooks.md)
    # the graph layer sits below drawing (docs/architecture.md): a graph is drawn by dagml.render
    assert not hasattr(iris_graph, "_repr_svg_") and "<svg" in dagml.render(iris_graph).svg()
    assert "<svg" in drawing._repr_svg_() and "image/svg+xml" in drawing._repr_mimebundle_()
    assert repr(drawing) == "<Drawing of pipeline 'iris-classifier': 8 steps>"


def test_an_invalid_pipeline_displays_its_problems():
    pipe = Pipeline("broken")

    @pipe.step
    def train(prepare):
        return prepare

    bundle = pipe._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "train: parameter 'prepare' has no default" in bundle["text/plain"]


def test_render_refuses_what_is_not_a_pipeline():
    with pytest.raises(RenderError, match="Pipeline"):
        render("examples/iris_pipeline.py")  # type: ignore[arg-type]


def test_unknown_direction(iris_graph):
    with pytest.raises(RenderError, match="'TB'"):
        render(iris_graph, direction="BT")
