"""DOT drawings: golden bytes, and structure read back through Graphviz."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings

from dagml import Pipeline, __version__
from dagml.drawing import to_dot
from dagml.drawing.scene import ROW, auto_direction
from dagml.drawing.style import EDGE_STYLES, KIND_STYLES
from dagml.graph.model import AFTER, DATA
from dagml.spec.target import load_target
from tests.conftest import ROOT
from tests.golden_dot import dot_golden, golden_sources
from tests.strategies import build, programs

from .conftest import PIPELINES, parse_dot, require_dot, svg_titles


@pytest.mark.parametrize("name", sorted(golden_sources()))
def test_golden_dot(name):
    """`make golden` regenerates these; a diff here is a change in what dagml draws."""
    with open(os.path.join(PIPELINES, f"{name}.dot"), encoding="utf-8") as f:
        expected = f.read()
    assert dot_golden(golden_sources()[name]) == expected


def test_iris_nodes_have_their_kinds_shape_and_colour(iris_graph):
    parsed = parse_dot(to_dot(iris_graph))
    assert parsed.steps() == set(iris_graph.nodes)
    for name, spec in iris_graph.nodes.items():
        node = parsed.nodes[name]
        style = KIND_STYLES[spec.kind]
        assert (node["shape"], node["fillcolor"], node["color"]) == (style.shape, style.fill, style.pen), name
        assert f"<B>{name}</B>" in node["label"]
    # the kinds are told apart by shape alone, not only by colour
    assert len({KIND_STYLES[k].shape for k in KIND_STYLES}) == len(KIND_STYLES)


def test_the_condition_is_a_diamond_carrying_its_expression_in_words(iris_graph):
    label = parse_dot(to_dot(iris_graph)).nodes["CheckAccuracy"]["label"]
    words = label.replace("<BR/>", " ")
    assert "evaluate.accuracy &gt;=" in words and "AccuracyThreshold (0.9)" in words  # a model-quality metric by its name


def test_branches_are_grouped_and_the_edges_out_of_the_condition_are_labelled(iris_graph):
    parsed = parse_dot(to_dot(iris_graph))
    then_attrs, then_members = parsed.clusters["cluster_then:CheckAccuracy"]
    otherwise_attrs, otherwise_members = parsed.clusters["cluster_otherwise:CheckAccuracy"]
    assert then_members == {"RegisterModel", "BatchTransformModel", "BatchTransform"}
    assert otherwise_members == {"AccuracyTooLow"}
    assert then_attrs["label"] == "CheckAccuracy: then" and otherwise_attrs["label"] == "CheckAccuracy: otherwise"
    out = {(e["label"].strip(), e["lhead"]) for a, _, e in parsed.visible_edges() if a == "CheckAccuracy"}
    assert out == {("then", "cluster_then:CheckAccuracy"), ("otherwise", "cluster_otherwise:CheckAccuracy")}


def test_data_edges_are_solid_and_after_edges_dashed():
    graph = load_target(os.path.join(PIPELINES, "options.py")).validate()
    drawn = {(a, b): e for a, b, e in parse_dot(to_dot(graph)).visible_edges() if not a.startswith("legend:")}
    for edge in graph.edges(DATA):
        assert drawn[(edge.source, edge.target)]["style"] == "solid"
    assert graph.edges(AFTER)  # options.py has after= edges
    for edge in graph.edges(AFTER):
        kinds = {r.kind for r in graph.graph.edges[edge.source, edge.target]["reasons"]}
        expected = "solid" if DATA in kinds else "dashed"  # a step that also reads its after= step reads it
        assert drawn[(edge.source, edge.target)]["style"] == expected
    assert drawn[("audit", "publish")]["style"] == "dashed"


def test_edge_labels_say_what_a_built_in_step_reads(iris_graph):
    labels = {(a, b): e.get("label", "").strip() for a, b, e in parse_dot(to_dot(iris_graph)).visible_edges()}
    assert labels[("train", "RegisterModel")] == "model"
    assert labels[("evaluate", "RegisterModel")] == "metrics"
    assert labels[("evaluate", "CheckAccuracy")] == "accuracy"  # a model-quality metric by its name
    assert labels[("prepare", "train")] == ""  # the parameter is named like the step: nothing to add


def test_title_is_the_pipeline_name_and_description(iris_graph):
    label = parse_dot(to_dot(iris_graph)).graph["label"]
    assert "<B>iris-classifier</B>" in label and "Train, gate on accuracy, register, batch-score" in label


def test_params_on_request_as_their_own_nodes(iris_graph):
    assert not any(n.startswith(("param:", "dataset:")) for n in parse_dot(to_dot(iris_graph)).nodes)
    parsed = parse_dot(to_dot(iris_graph, params=True))
    assert {n for n in parsed.nodes if n.startswith("param:")} == {f"param:{p.name}" for p in iris_graph.params}
    assert parsed.nodes["dataset:ScoringData"]["shape"] == "cylinder"
    assert parsed.nodes["param:AccuracyThreshold"]["shape"] == "ellipse"
    reads = {
        (a, b) for a, b, e in parsed.visible_edges() if e["style"] == EDGE_STYLES["param"].style and a[:7] != "legend:"
    }
    assert reads == {
        ("param:TestSize", "prepare"),
        ("param:NEstimators", "train"),
        ("param:MinSamplesLeaf", "train"),
        ("param:AccuracyThreshold", "CheckAccuracy"),
        ("param:AccuracyThreshold", "AccuracyTooLow"),
        ("dataset:ScoringData", "BatchTransform"),
    }


def test_dot_is_deterministic_and_independent_of_declaration_order():
    def declare(order):
        pipe = Pipeline("order", description="same graph, two declaration orders")

        def a():
            return 1

        def b(a):
            return a

        def c(a):
            return a

        for fn in [{"a": a, "b": b, "c": c}[n] for n in order]:
            pipe.step(fn)
        return pipe.validate()

    first, second = to_dot(declare("abc")), to_dot(declare("acb"))
    assert first == second == to_dot(declare("abc"))
    assert first.endswith("}\n")
    assert ROOT not in first and __version__ not in first


def test_to_dot_imports_no_graphviz():
    code = (
        "import sys\n"
        "from dagml.drawing import to_dot, to_mermaid\n"
        "from dagml.spec.target import load_target\n"
        "g = load_target('examples/iris_pipeline.py').validate()\n"
        "to_dot(g); to_mermaid(g)\n"
        "print('graphviz' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@given(programs(max_steps=30))
def test_random_pipelines_draw_every_step_edge_and_branch(program):
    graph = build(program).validate()
    parsed = parse_dot(to_dot(graph, legend=False))
    assert parsed.steps() == set(graph.nodes)
    drawn = {(a, b) for a, b, _ in parsed.visible_edges()}
    for edge in graph.edges():
        if edge.kind in (DATA, AFTER):
            assert (edge.source, edge.target) in drawn
    members = {name: cluster for cluster, (_, names) in parsed.branches().items() for name in names}
    for name, (condition, side) in graph.branch_of.items():
        assert members[name] == f"cluster_{side}:{condition}"


@settings(max_examples=3)
@given(programs(min_steps=190, max_steps=200, max_conditions=4))
def test_a_200_step_pipeline_lays_out_with_every_step_in_the_svg(program):
    graph = build(program).validate()
    text = to_dot(graph)
    svg = subprocess.run([require_dot(), "-Tsvg"], input=text.encode(), capture_output=True, check=True).stdout.decode()
    titles = svg_titles(svg)
    assert set(graph.nodes) <= titles["node"]
    assert parse_dot(text).graph["rankdir"] == auto_direction(graph)
    assert "size" not in parse_dot(text).graph  # never shrunk to fit: fonts stay legible, zoom to read


def test_a_wide_generation_is_wrapped_into_rows():
    pipe = Pipeline("wide")
    for i in range(30):
        pipe.step(name=f"s{i}")(lambda: None)
    graph = pipe.validate()
    assert auto_direction(graph) == "LR"
    parsed = parse_dot(to_dot(graph, direction="TB"))
    hidden = [(a, b) for a, b, e in parsed.edges if e.get("style") == "invis" and not b.startswith("legend:")]
    assert len(hidden) == 30 - ROW["TB"]  # every step after the first row hangs under one above it
    assert parse_dot(to_dot(graph)).graph["rankdir"] == "LR"


def test_a_step_outside_the_branches_says_which_branch_it_runs_under():
    pipe = Pipeline("gated")

    @pipe.step(metrics=True)
    def score() -> dict[str, float]:
        return {"acc": 1.0}

    @pipe.step
    def deploy(score):
        return score

    @pipe.step
    def announce(deploy):
        return deploy

    pipe.condition("Gate", score["acc"] >= pipe.param("Min", 0.5), then=[deploy])
    parsed = parse_dot(to_dot(pipe.validate()))
    assert "only if Gate: then" in parsed.nodes["announce"]["label"]
    assert "only if" not in parsed.nodes["deploy"]["label"]  # its group already says so
    assert "announce" not in parsed.clusters["cluster_then:Gate"][1]


@pytest.mark.parametrize(
    "name",
    [
        "BatchTransformModel",
        "sagemaker-pipelines-abalone-preprocessing-step-v2",
        "AbaloneEvaluateModelQualityAndBias",
        "x" * 64,
        "a_b_c_d_e_f_g_h_i_j_k_l_m_n_o_p_q_r_s_t",
    ],
)
def test_a_long_step_name_is_drawn_on_several_lines(name):
    """Issue #17: one long (often imported) name does not stretch its node across the page."""
    from dagml.drawing.scene import TITLE_WIDTH, title_lines
    from dagml.sagemaker.importer import import_definition

    lines = title_lines(name)
    assert "".join(lines) == name and all(0 < len(line) <= TITLE_WIDTH for line in lines)
    assert len(lines) == 1 or len(name) > TITLE_WIDTH
    definition = {"Version": "2020-12-01", "Steps": [{"Name": name, "Type": "Lambda", "Arguments": {}}]}
    dot = to_dot(import_definition(definition, name="long-names"))
    assert "<BR/>".join(f"<B>{line}</B>" for line in lines) in dot
