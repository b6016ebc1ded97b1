"""Metrics reports and the paths that read them.

A report is a JSON object: string keys; values that are finite numbers,
strings, lists (of numbers, strings or lists) or objects of the same kind,
nested as deep as needed. A condition, a Fail message or a registration reads
one number of it by a dotted path of keys, ``regression_metrics.mse.value``:
exactly the ``Path`` of SageMaker's ``Std:JsonGet``, as in the SDK's abalone
example (``JsonGet(step_name=..., property_file=...,
json_path="regression_metrics.mse.value")``). A flat report's path is its key.

This module only reads reports; writing one (and refusing NaN) is
:func:`dagml.runtime.artifacts.metrics_report`'s job.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from dagml.errors import did_you_mean
from dagml.spec.errors import MetricLookupError

__all__ = [
    "SEPARATOR",
    "MetricLookupError",
    "is_number",
    "number_at",
    "number_leaves",
    "path_problem",
    "paths_below",
    "resolve",
    "split_path",
]

#: What joins the keys of a path.
SEPARATOR = "."


def split_path(path: str) -> tuple[str, ...]:
    """``"a.b.c"`` -> ``("a", "b", "c")``."""
    return tuple(path.split(SEPARATOR))


def path_problem(path: str) -> str | None:
    """Why ``path`` reads nothing in any report (an empty key: ``"a..b"``, ``".a"``), or None."""
    if not path:
        return "is empty"
    if "" in split_path(path):
        return "has an empty key (two dots in a row, or a dot at an end)"
    return None


def is_number(value: object) -> bool:
    """A real number that is not a boolean (JSON's true/false are no numbers here)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _leaves(node: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for key, value in node.items():
        path = f"{prefix}{SEPARATOR}{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            yield from _leaves(value, path)
        else:
            yield path, value


def number_leaves(report: Mapping[str, Any]) -> dict[str, Any]:
    """Every number of the report by its path, in the report's order: what a condition can read.

    ``{"regression_metrics": {"mse": {"value": 0.3}}}`` -> ``{"regression_metrics.mse.value": 0.3}``;
    a flat report is its own result. Numbers inside lists are not listed (no path reads them).
    """
    return {path: value for path, value in _leaves(report, "") if is_number(value)}


def paths_below(paths: Iterable[str], path: str) -> list[str]:
    """The paths under ``path`` (an object, not a number), its ``value`` first (model-quality metrics)."""
    below = [p for p in paths if p.startswith(path + SEPARATOR)]
    return sorted(below, key=lambda p: (p != f"{path}{SEPARATOR}value", p))


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "null"
    return f"{value!r}" if is_number(value) else f"a {type(value).__name__}"


def _keys(node: Mapping[str, Any]) -> str:
    return ", ".join(repr(k) for k in sorted(node, key=str)) or "nothing"


def resolve(report: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` in ``report``.

    Raises :class:`MetricLookupError` saying where the path stops, what that level holds and,
    when a number of the report is spelled alike, "did you mean".
    """
    node: Any = report
    walked: list[str] = []
    for key in split_path(path):
        here = SEPARATOR.join(walked)
        if not isinstance(node, Mapping):
            raise MetricLookupError(
                f"has no {path!r}: {here!r} is {_kind(node)}, which holds no {key!r}"
                f"{did_you_mean(path, number_leaves(report))}",
                path,
            )
        if key not in node:
            level = f"{here!r} holds" if walked else "its top level holds"
            raise MetricLookupError(
                f"has no {path!r} ({level} {_keys(node)}){did_you_mean(path, number_leaves(report))}", path
            )
        node = node[key]
        walked.append(key)
    return node


def number_at(report: Mapping[str, Any], path: str) -> Any:
    """The number at ``path``: :func:`resolve`, refusing an object, a list, a string or a boolean."""
    value = resolve(report, path)
    if not is_number(value):
        inside = f" (holding {_keys(value)})" if isinstance(value, Mapping) else ""
        deeper = paths_below(number_leaves(report), path)
        hint = f" (did you mean {deeper[0]!r}?)" if deeper else did_you_mean(path, number_leaves(report))
        raise MetricLookupError(f"has {_kind(value)} at {path!r}{inside}, not a number{hint}", path)
    return value
