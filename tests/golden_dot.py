"""Golden DOT drawings: one function shared by the golden test and `make golden`.

Each golden pipeline (``tests/pipelines/NAME.py``, and ``NAME`` for each
``examples/NAME_pipeline.py``) is drawn with the default options and compared
byte for byte with ``tests/pipelines/NAME.dot``.
"""

from __future__ import annotations

from tests.golden_json import golden_sources, write_goldens

__all__ = ["dot_golden", "golden_sources", "write_dot_goldens"]


def dot_golden(source: str) -> str:
    """The DOT text of the pipeline in ``source``, as `dagml render SOURCE -o NAME.dot` writes it."""
    from dagml.drawing import to_dot
    from dagml.spec.target import load_target

    return to_dot(load_target(source).validate())


def write_dot_goldens() -> list[str]:
    return write_goldens("dot", dot_golden)
