"""The public API (dagml/api.py): Pipeline's conveniences, dagml.run/render/compile, one input per consumer."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

import dagml
from dagml import Pipeline, PipelineGraph
from dagml.drawing import RenderError
from dagml.drawing import render as draw
from dagml.sagemaker import Settings, compile_pipeline
from dagml.spec.pipeline import PipelineDeclaration
from dagml.spec.target import load_target

from .conftest import EXAMPLES

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")
SETTINGS = {"role_arn": "arn:aws:iam::111122223333:role/R", "bucket": "dagml-api-bucket", "region": "us-east-1"}


def test_the_public_pipeline_is_the_declaration_plus_conveniences():
    assert issubclass(Pipeline, PipelineDeclaration)
    for name in ("validate", "run", "render", "_repr_mimebundle_"):
        assert hasattr(Pipeline, name) and not hasattr(PipelineDeclaration, name), name
    # the bundle is the only display method: IPython would call a _repr_svg_ of an invalid pipeline too
    assert not hasattr(Pipeline, "_repr_svg_")


def test_validate_keeps_the_graph_until_the_next_declaration():
    pipe = Pipeline("cached")

    @pipe.step
    def prepare():
        return 1

    first = pipe.validate()
    assert pipe.validate() is first

    @pipe.step
    def train(prepare):
        return prepare

    second = pipe.validate()
    assert second is not first and second.order == ("prepare", "train")


def test_run_render_and_compile_take_the_pipeline_or_its_graph(tmp_path):
    pipe = load_target(IRIS)
    graph = pipe.validate()
    for subject in (pipe, graph):
        compiled = dagml.compile(subject, **SETTINGS)
        assert compiled.json == compile_pipeline(graph, Settings(**SETTINGS)).json
        assert dagml.render(subject).dot == draw(graph).dot
    assert json.loads(dagml.compile(graph, Settings(**SETTINGS)).json)["Version"] == "2020-12-01"


def test_compile_refuses_an_unknown_setting_and_both_ways_of_giving_them():
    pipe = load_target(IRIS)
    with pytest.raises(TypeError, match=r"unknown setting 'bukcet' \(did you mean 'bucket'\?\)"):
        dagml.compile(pipe, role_arn=SETTINGS["role_arn"], bukcet="x", region="us-east-1")
    with pytest.raises(TypeError, match="not both"):
        dagml.compile(pipe, Settings(**SETTINGS), region="us-east-1")


def test_consumers_below_the_api_take_only_the_graph():
    pipe = load_target(IRIS)
    with pytest.raises(TypeError, match=r"takes a PipelineGraph \(pipe.validate\(\)\)"):
        compile_pipeline(pipe, Settings(**SETTINGS))  # type: ignore[arg-type]
    with pytest.raises(RenderError, match="pass pipe.validate"):
        draw(pipe)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a dagml Pipeline or its validated PipelineGraph"):
        dagml.render("examples/iris_pipeline.py")  # type: ignore[arg-type]


def test_the_graph_knows_where_it_was_declared(tmp_path):
    source = tmp_path / "two.py"
    source.write_text(
        textwrap.dedent(
            """
            from dagml import Pipeline
            first = Pipeline("first")
            second = Pipeline("second")
            for pipe in (first, second):
                @pipe.step
                def hello():
                    return 1
            del pipe  # otherwise the loop's name also names `second`, and either attribute loads it
            """
        )
    )
    pipe = load_target(f"{source}:second")
    provenance = pipe.validate().provenance
    assert (provenance.file, provenance.attribute) == (str(source), "second")
    assert provenance.target == f"{source}:second"

    one = tmp_path / "one.py"
    one.write_text("from dagml import Pipeline\np = Pipeline('one')\n@p.step\ndef a():\n    return 1\n")
    assert load_target(str(one)).validate().provenance.attribute is None  # the file alone names it


def test_an_imported_definition_is_a_graph_with_its_origin():
    from dagml.sagemaker.importer import definition_of, load_definition

    path = os.path.join(os.path.dirname(__file__), "pipelines", "minimal.json")
    graph = load_definition(path)
    assert isinstance(graph, PipelineGraph) and graph.imported
    assert graph.provenance.definition == f"definition {path!r}" and graph.provenance.file is None
    with open(path, encoding="utf-8") as f:
        assert json.loads(dagml.compile(graph).json) == json.load(f) == definition_of(graph)
