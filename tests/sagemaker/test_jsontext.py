"""The canonical JSON writer: the standard library's text, byte for byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagml.api import graph_of
from dagml.sagemaker.jsontext import dumps, iter_dumps

from ..golden_json import GOLDEN_SETTINGS, golden_sources


def _stdlib(value: object) -> str:
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(values)
def test_any_json_value_gives_the_standard_librarys_text(value):
    assert dumps(value) == _stdlib(value)


@given(st.dictionaries(st.text().filter(lambda k: k != "Steps"), values, max_size=4), st.lists(values, max_size=4))
def test_streamed_pieces_join_to_the_standard_librarys_text(head, items):
    """What compile writes to a file a step at a time is the same text as the whole definition's."""
    pieces = list(iter_dumps(head, "Steps", iter(items), end="\n"))
    assert "".join(pieces) == _stdlib({**head, "Steps": items}) + "\n"
    assert len(pieces) == len(items) + 1  # one per item, and the closing one


@pytest.mark.parametrize("name", sorted(golden_sources()))
def test_golden_definitions_give_the_standard_librarys_text(name):
    from dagml.sagemaker import Settings, compile_pipeline
    from dagml.spec.target import load_target

    definition = compile_pipeline(graph_of(load_target(golden_sources()[name])), Settings(**GOLDEN_SETTINGS)).definition
    assert dumps(definition) == _stdlib(definition)


class _Str(str):
    pass


@pytest.mark.parametrize(
    "value",
    [{1: "int key"}, {"a": {2.5: [True]}}, [_Str("sub")], {"nan": float("nan"), "inf": [float("-inf")]}, {"": {}}, [[]]],
)
def test_unusual_values_fall_back_to_the_standard_library(value):
    assert dumps(value) == _stdlib(value)


def test_errors_are_the_standard_librarys():
    with pytest.raises(TypeError):
        dumps({"x": object()})
    with pytest.raises(TypeError):
        dumps({"a": 1, 2: 3})  # keys that cannot be sorted
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        dumps(loop)
