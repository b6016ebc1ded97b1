"""The legend: only what the drawing uses, small, under the drawing (or in its corner), never widening it.

Room is read from Graphviz's own layout (``dot -Tplain``, in inches): the same
pipeline drawn with and without its legend, compared.
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings

from dagml.drawing import STATUSES, StepRun, to_dot
from dagml.drawing.legend import LEGEND_PREFIX, legend_size
from dagml.drawing.scene import build_scene
from dagml.drawing.style import KIND_STYLES, NEUTRAL_FILL
from dagml.graph.model import PipelineGraph
from dagml.spec.target import load_target
from tests.conftest import examples
from tests.strategies import build, programs

from .conftest import CASES, PIPELINES, Layout, chain, layout, parse_dot


def _run(graph: PipelineGraph) -> dict[str, StepRun]:
    """A run where every status shows up."""
    statuses = ["succeeded", "cached", "failed", "skipped"]
    return {name: StepRun(statuses[i % 4], duration=0.01 * i) for i, name in enumerate(graph.order)}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    return request.param, CASES[request.param]()


def _legend(drawn: Layout) -> list[str]:
    return [n for n in drawn.nodes if n.startswith(LEGEND_PREFIX) and ":gap:" not in n]


def _steps(drawn: Layout) -> list[str]:
    return [n for n in drawn.nodes if not n.startswith(LEGEND_PREFIX)]


@pytest.mark.parametrize("run", [False, True], ids=["plain", "run"])
def test_the_legend_never_widens_the_drawing(case, run):
    """Issue #17: the legend goes under the drawing (or in its corner), never beside it."""
    name, graph = case
    options = {"run": _run(graph), "caption": "run 20260101-000000-abcdef: Failed"} if run else {}
    without, with_legend = layout(to_dot(graph, legend=False, **options)), layout(to_dot(graph, **options))
    assert with_legend.width <= without.width + 0.01, (name, without.width, with_legend.width)
    low, high = with_legend.span(_legend(with_legend))
    assert high - low <= without.width


def test_the_legend_is_under_the_drawing_or_in_its_top_left_corner(case):
    name, graph = case
    drawn = layout(to_dot(graph))
    legend_y, steps_y = drawn.span(_legend(drawn), axis=1), drawn.span(_steps(drawn), axis=1)
    if build_scene(graph).direction == "TB":
        assert legend_y[1] < steps_y[0], name  # y grows upwards: every sample below every step
    else:  # the top-left corner: from the first column, and above every step in the columns it takes
        legend_x = drawn.span(_legend(drawn))
        assert legend_x[0] <= drawn.span(_steps(drawn))[0] + 1.0, name
        for step in _steps(drawn):
            (x0, x1), (_, y1) = drawn.span([step]), drawn.span([step], axis=1)
            assert x1 < legend_x[0] or x0 > legend_x[1] or y1 < legend_y[0], (name, step)


def test_the_legend_shows_exactly_the_kinds_and_lines_the_drawing_uses(iris_graph):
    legend = parse_dot(to_dot(iris_graph)).clusters["cluster_legend"][1]
    assert {n.split(":")[1] for n in legend if n.count(":") == 1} == {spec.kind for spec in iris_graph}
    assert {n.split(":")[2] for n in legend if n.startswith("legend:edge:") and not n.endswith(":text")} == {
        "data",
        "then",
        "otherwise",
    }
    assert "legend:statuses" not in legend  # no run, no statuses
    minimal = parse_dot(to_dot(load_target(os.path.join(PIPELINES, "minimal.py")).validate()))
    assert minimal.clusters["cluster_legend"][1] == {"legend:processing"}  # one step: one sample, no line
    options = parse_dot(to_dot(load_target(os.path.join(PIPELINES, "options.py")).validate(), params=True))
    samples = options.clusters["cluster_legend"][1]
    assert {"legend:param", "legend:dataset", "legend:edge:after", "legend:edge:param"} <= samples
    assert not {f"legend:{kind}" for kind in ("condition", "fail", "model")} & samples


def test_a_runs_legend_shows_its_statuses_and_the_kinds_uncoloured(iris_graph):
    run = {"prepare": "succeeded", "train": "failed"}  # the rest: not run
    parsed = parse_dot(to_dot(iris_graph, run=run))
    swatches = parsed.nodes["legend:statuses"]["label"]
    assert re.findall(r">([a-z ]+)</FONT></TD>", swatches) == ["succeeded", "failed", "not run"]  # STATUSES order
    assert [s for s in STATUSES if s in swatches] == ["succeeded", "failed", "not run"]
    assert parsed.nodes["legend:training"]["fillcolor"] == NEUTRAL_FILL
    assert parsed.nodes["legend:training"]["shape"] == KIND_STYLES["training"].shape


def test_the_legend_can_be_left_out(iris_graph):
    parsed = parse_dot(to_dot(iris_graph, legend=False))
    assert "cluster_legend" not in parsed.clusters
    assert not [n for n in parsed.nodes if n.startswith(LEGEND_PREFIX)]


def test_the_legend_is_small_for_a_small_drawing_and_grows_with_a_large_one():
    sizes = [legend_size(build_scene(chain(n))) for n in (2, 16, 32, 100, 200, 1000)]
    assert sizes[0] == sizes[1] == 8.0  # a step's secondary lines are 10 points
    assert sizes == sorted(sizes) and sizes[-1] == 12.0  # up to a step's name, never past it
    parsed = parse_dot(to_dot(chain(2)))
    assert float(parsed.nodes["legend:processing"]["fontsize"]) == 8.0


def test_a_narrow_drawing_gets_a_short_grid_not_a_long_row():
    drawn = layout(to_dot(chain(2)))  # the title is the widest thing: 1.6 inches
    rows = {round(drawn.nodes[n][1], 2) for n in _legend(drawn)}
    assert len(rows) == 2  # the box, then the line: side by side they would be wider than the title


@settings(max_examples=examples(15, 200))
@given(programs(max_steps=30, max_conditions=3))
def test_a_random_pipelines_legend_is_narrower_than_its_drawing(program):
    """The rows are sized from an estimate of the drawing's width that stays on the low side."""
    graph = build(program).validate()
    without, drawn = layout(to_dot(graph, legend=False)), layout(to_dot(graph))
    low, high = drawn.span(_legend(drawn))
    assert high - low <= without.width
