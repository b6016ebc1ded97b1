"""Run overlays: step colours by status, the branch not taken greyed, durations and actual values."""

from __future__ import annotations

import pytest

from dagml import DagmlError
from dagml.drawing import STATUSES, RunOverlayError, StepRun, to_dot, to_mermaid
from dagml.drawing.overlay import format_duration, normalize_run
from dagml.drawing.style import CLUSTER_STYLES, KIND_STYLES, NEUTRAL_FILL, STATUS_STYLES

from .conftest import parse_dot

RUN = {
    "prepare": StepRun("cached", duration=0.4),
    "train": StepRun("succeeded", duration=42.7),
    "evaluate": StepRun("succeeded", duration=3.1),
    "CheckAccuracy": StepRun("succeeded", duration=0.1, outcome=True, values="0.97 >= 0.9"),
    "RegisterModel": "succeeded",
    "BatchTransform": StepRun("failed", duration=65.0),
    "AccuracyTooLow": "skipped",
    # BatchTransformModel left out: "not run"
}


@pytest.fixture(scope="module")
def drawn(iris_graph):
    return parse_dot(to_dot(iris_graph, run=RUN, caption="example run"))


def test_each_step_is_coloured_by_its_status(drawn, iris_graph):
    expected = {name: (v if isinstance(v, str) else v.status) for name, v in RUN.items()}
    expected["BatchTransformModel"] = "not run"
    for name in iris_graph.nodes:
        fill, pen, _ = STATUS_STYLES[expected[name]]
        assert (drawn.nodes[name]["fillcolor"], drawn.nodes[name]["color"]) == (fill, pen), name
        assert drawn.nodes[name]["shape"] == KIND_STYLES[iris_graph[name].kind].shape  # the kind stays the shape
    assert "dashed" in drawn.nodes["BatchTransformModel"]["style"]


def test_the_branch_not_taken_is_greyed_and_the_taken_edge_is_bold(drawn):
    otherwise, _ = drawn.clusters["cluster_otherwise:CheckAccuracy"]
    then, _ = drawn.clusters["cluster_then:CheckAccuracy"]
    assert otherwise["label"] == "CheckAccuracy: otherwise (not taken)"
    assert otherwise["fillcolor"] == CLUSTER_STYLES["not-taken"][0]
    assert then["label"] == "CheckAccuracy: then" and then["fillcolor"] == CLUSTER_STYLES["then"][0]
    edges = {e["label"].strip(): e for a, _, e in drawn.visible_edges() if a == "CheckAccuracy"}
    assert float(edges["then"]["penwidth"]) > float(edges["otherwise"]["penwidth"])
    assert edges["otherwise"]["color"] == STATUS_STYLES["not run"][1]


def test_durations_and_the_conditions_actual_values_are_shown(drawn):
    assert "0.97 &gt;= 0.9 → then" in drawn.nodes["CheckAccuracy"]["label"]
    assert "42.7 s" in drawn.nodes["train"]["label"]
    assert "1 min 05 s" in drawn.nodes["BatchTransform"]["label"]
    assert "example run" in drawn.graph["label"]


def test_the_legend_explains_the_statuses_and_drops_kind_colours(drawn):
    _, legend = drawn.clusters["cluster_legend"]
    assert "legend:statuses" in legend  # one table of colour swatches (tests/drawing/test_legend.py)
    swatches = drawn.nodes["legend:statuses"]["label"]
    for status in STATUSES:
        fill, pen, _ = STATUS_STYLES[status]
        assert f'BGCOLOR="{fill}" COLOR="{pen}"' in swatches and f">{status}</FONT>" in swatches
    assert drawn.nodes["legend:processing"]["fillcolor"] == NEUTRAL_FILL


def test_a_condition_that_did_not_run_takes_neither_branch(iris_graph):
    parsed = parse_dot(to_dot(iris_graph, run={"prepare": "failed"}))
    for side in ("then", "otherwise"):
        assert parsed.clusters[f"cluster_{side}:CheckAccuracy"][0]["label"].endswith("(not taken)")


def test_mermaid_overlay_uses_status_classes(iris_graph):
    text = to_mermaid(iris_graph, run=RUN)
    assert ":::status_failed" in text and ":::status_not_run" in text
    assert "s_CheckAccuracy ==>" in text  # the branch taken is a thick arrow


@pytest.mark.parametrize(
    ("run", "words"),
    [
        ({"trian": "succeeded"}, ["'trian'", "did you mean 'train'"]),
        ({"train": "succeded"}, ["unknown status 'succeded'", "did you mean 'succeeded'"]),
        ({"train": StepRun("succeeded", outcome=True)}, ["describe a condition", "training step"]),
        ({"train": StepRun("succeeded", duration=-1)}, ["duration=-1"]),
        ({"train": 3}, ["status string or dagml.drawing.StepRun"]),
    ],
)
def test_bad_overlays_name_the_step_and_the_fix(iris_graph, run, words):
    with pytest.raises(RunOverlayError) as info:
        normalize_run(iris_graph, run)
    assert isinstance(info.value, DagmlError) and isinstance(info.value, ValueError)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0001, "<1 ms"),
        (0.0042, "4 ms"),
        (0.4, "400 ms"),
        (0.9996, "1.00 s"),
        (4.267, "4.27 s"),
        (12.34, "12.3 s"),
        (59.9, "59.9 s"),
        (59.96, "1 min 00 s"),
        (65, "1 min 05 s"),
        (3725, "1 h 02 min"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
