"""Sizes estimated before Graphviz lays a drawing out, checked against Graphviz's own layout."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from dagml.drawing.dot import scene_to_dot
from dagml.drawing.measure import drawing_width, layers, rank_room, text_width
from dagml.drawing.scene import build_scene
from tests.conftest import examples
from tests.strategies import build, programs

from .conftest import CASES, layout


@pytest.mark.parametrize(
    "text", ["processing", "AccuracyThreshold (0.9)", "Train, gate on accuracy, register, batch-score", "MMMM iiii 0123"]
)
def test_text_width_is_graphvizs(text):
    """Helvetica's widths, as Graphviz measures them (a plain node hugs its label)."""
    drawn = layout(f'digraph {{ node [fontname="Helvetica,Arial,sans-serif", fontsize=10, shape=plaintext, '
                   f'margin=0, width=0, height=0]; a [label="{text}"]; }}')
    assert text_width(text, 10) == pytest.approx(drawn.nodes["a"][2], rel=0.04)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_estimated_width_is_at_most_the_drawings(name):
    scene = build_scene(CASES[name](), legend=False)
    assert drawing_width(scene) <= layout(scene_to_dot(scene)).width


@settings(max_examples=examples(15, 200))
@given(programs(max_steps=40, max_conditions=4))
def test_the_estimated_width_of_a_random_pipeline_is_at_most_its_drawings(program):
    scene = build_scene(build(program).validate(), legend=False, direction="TB")
    assert drawing_width(scene) <= layout(scene_to_dot(scene)).width


def test_layers_and_the_room_of_each_column():
    scene = build_scene(CASES["fan-200 (left to right)"](), legend=False)
    layer = layers(scene)
    assert layer["s0"] == 0 and max(layer.values()) == 9  # 199 steps wrapped in rows of 24: 9 columns after s0
    room = rank_room(scene)
    assert len(room) == 10 and all(width > 0.5 for width in room)  # every column holds a whole step
