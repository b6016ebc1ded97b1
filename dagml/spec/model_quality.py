"""SageMaker's model-quality report: the shape Studio shows for a registered model's metrics.

A ``RegisterModel`` step passes its metrics report as the model package's
``ModelMetrics.ModelQuality.Statistics``. SageMaker accepts any JSON there, but
Studio's model-quality view only shows the report Model Monitor writes: one
object per problem type, ``regression_metrics``, ``binary_classification_metrics``
or ``multiclass_classification_metrics``, each metric an object
``{"value": number, "standard_deviation": number}`` (Model Monitor writes the
string ``"NaN"`` for a standard deviation of fewer than 200 samples), beside a
few entries that are not one number: ``confusion_matrix`` (actual label ->
predicted label -> count), ``receiver_operating_characteristic_curve``
(``false_positive_rates``, ``true_positive_rates``) and ``precision_recall_curve``
(``precisions``, ``recalls``). Other top-level keys (Model Monitor's
``version`` and ``dataset``) are allowed. Source, with an example of each problem
type: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html

:func:`problems` says what keeps a report from that shape (validation warns with
it, the step runtime prints it); :func:`model_quality` builds a report in it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from dagml.spec.errors import ReportError
from dagml.spec.reports import SEPARATOR, is_number, split_path

__all__ = [
    "EXAMPLE",
    "PROBLEM_TYPES",
    "SECTIONS",
    "UNKNOWN",
    "model_quality",
    "problems",
    "problems_of_paths",
    "short_key",
]

#: Problem type -> the report's top-level key for it.
PROBLEM_TYPES = {
    "regression": "regression_metrics",
    "binary": "binary_classification_metrics",
    "multiclass": "multiclass_classification_metrics",
}
SECTIONS = tuple(PROBLEM_TYPES.values())
#: Entries of a section that are not a metric object, and the lists each holds (None: any object).
_NOT_METRICS: dict[str, tuple[str, ...] | None] = {
    "confusion_matrix": None,
    "receiver_operating_characteristic_curve": ("false_positive_rates", "true_positive_rates"),
    "precision_recall_curve": ("precisions", "recalls"),
}
_METRIC_FIELDS = ("value", "standard_deviation")
#: What a warning shows as the shape to return.
EXAMPLE = '{"regression_metrics": {"mse": {"value": 0.31, "standard_deviation": 0.01}}}'


class _Unknown:
    """A value known to exist but not what it is (validation knows a report's paths, not its values)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def _shown(value: Any) -> str:
    """A report's value in a message: a number or a string as itself, a list as "a list"."""
    if isinstance(value, (list, tuple)):
        return "a list"
    return "null" if value is None else repr(value)


def _metric(path: str, entry: Any) -> list[str]:
    if entry is UNKNOWN:
        return []
    if not isinstance(entry, Mapping):
        return [f"{path!r} is {_shown(entry)}, not an object {{'value': number, 'standard_deviation': number}}"]
    found = []
    if "value" not in entry:
        found.append(f"{path!r} has no 'value'")
    elif entry["value"] is not UNKNOWN and not is_number(entry["value"]):
        found.append(f"'{path}.value' is {entry['value']!r}, not a number")
    deviation = entry.get("standard_deviation", 0)
    if deviation is not UNKNOWN and not (is_number(deviation) or isinstance(deviation, str)):
        found.append(f"'{path}.standard_deviation' is {deviation!r}, not a number (or \"NaN\")")
    found += [f"'{path}.{k}' is not a field of a metric (only 'value' and 'standard_deviation')" for k in entry if k not in _METRIC_FIELDS]
    return found


def _other(path: str, name: str, entry: Any) -> list[str]:
    lists = _NOT_METRICS[name]
    if entry is UNKNOWN:
        return []
    if not isinstance(entry, Mapping):
        return [f"{path!r} is {_shown(entry)}, not an object"]
    return [
        f"'{path}.{field}' is missing or not a list"
        for field in lists or ()
        if field not in entry or not (entry[field] is UNKNOWN or isinstance(entry[field], (list, tuple)))
    ]


def problems(report: Mapping[str, Any]) -> list[str]:
    """What keeps ``report`` from the model-quality shape (module docstring); empty when it has it.

    A value may be :data:`UNKNOWN` (a path validation knows without the value): it passes.
    """
    sections = [k for k in SECTIONS if k in report]
    if not sections:
        keys = ", ".join(repr(k) for k in sorted(report)) or "nothing"
        return [f"it has no top-level {' or '.join(map(repr, SECTIONS))} (it has {keys})"]
    if len(sections) > 1:
        return [f"it has {len(sections)} problem types ({', '.join(map(repr, sections))}); Studio shows one"]
    (name,) = sections
    section = report[name]
    if section is UNKNOWN:
        return []
    if not isinstance(section, Mapping) or not section:
        return [f"{name!r} is not an object of metrics"]
    found: list[str] = []
    for key, entry in section.items():
        path = f"{name}{SEPARATOR}{key}"
        found += _other(path, key, entry) if key in _NOT_METRICS else _metric(path, entry)
    return found


def short_key(path: str) -> str:
    """A model-quality metric's path as drawings show it: ``regression_metrics.mse.value`` -> ``mse``;
    any other path as it is."""
    parts = split_path(path)
    if len(parts) == 3 and parts[0] in SECTIONS and parts[2] == "value":
        return parts[1]
    return path


def problems_of_paths(paths: Iterable[str]) -> list[str]:
    """:func:`problems` of a report known only by its leaf paths (``"a.b.c"``; values :data:`UNKNOWN`)."""
    skeleton: dict[str, Any] = {}
    for path in paths:
        *parents, last = split_path(path)
        node = skeleton
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node.setdefault(last, UNKNOWN)
    return problems(skeleton)


def _number(problem: str, name: str, value: object) -> float | int:
    if not is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        raise ReportError(
            f"model_quality({problem!r}): {name} is {value!r}; a metric is a finite number. "
            f"Fix: pass {name}=number, or {name}=(value, standard_deviation)."
        )
    return int(value) if isinstance(value, numbers.Integral) else float(value)  # type: ignore[arg-type]


def model_quality(problem: str, **metrics: Any) -> dict[str, Any]:
    """A metrics report in SageMaker's model-quality shape, for a step to return.

    ``problem`` is ``"regression"``, ``"binary"`` or ``"multiclass"``; each metric is a number,
    or ``(value, standard_deviation)``; a ``confusion_matrix`` or curve (an object) is kept as is::

        dagml.model_quality("regression", mse=0.3, r2=(0.8, 0.01))
        # {"regression_metrics": {"mse": {"value": 0.3}, "r2": {"value": 0.8, "standard_deviation": 0.01}}}

    A condition reads ``evaluate["regression_metrics"]["mse"]["value"]``.
    """
    if problem not in PROBLEM_TYPES:
        raise ReportError(
            f"model_quality({problem!r}): unknown problem type. Fix: use one of {', '.join(map(repr, PROBLEM_TYPES))}."
        )
    if not metrics:
        raise ReportError(f"model_quality({problem!r}): no metrics. Fix: pass them by name, e.g. mse=0.3.")
    section: dict[str, Any] = {}
    for name, given in metrics.items():
        if name in _NOT_METRICS and isinstance(given, Mapping):
            section[name] = dict(given)
        elif isinstance(given, tuple) and len(given) == 2:
            section[name] = {"value": _number(problem, name, given[0]), "standard_deviation": _number(problem, name, given[1])}
        else:
            section[name] = {"value": _number(problem, name, given)}
    return {PROBLEM_TYPES[problem]: section}
