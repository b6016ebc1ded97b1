"""A local run's param values: defaults, overrides checked by type, datasets as local paths.

Overrides given as text (``dagml run -p N=10``) are parsed by
:func:`dagml.spec.params.parse_param_text`, the one parser of param text (the
step runtime uses it too); values given as Python objects are checked against
the param's type. A job gets every value as a string, as SageMaker passes it
(:func:`dagml.runtime.entry.param_text`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from dagml.errors import did_you_mean
from dagml.graph.model import PipelineGraph
from dagml.local.errors import ParamError
from dagml.spec.params import TEXT_FORMS, Dataset, Param, param_type_of, parse_param_text

__all__ = ["ParamError", "coerce_param", "resolve_params"]


def coerce_param(param: Param, raw: object, pipeline: str) -> Any:
    """``raw`` (text from the command line, or a Python value) as a value of ``param``'s type."""
    where = f"pipeline {pipeline!r}, param {param.name!r} ({param.type})"
    value: Any
    if isinstance(raw, str) and param.type != "String":
        try:
            value = parse_param_text(param.type, raw)
        except ValueError:
            raise ParamError(
                f"{where}: {raw!r} is not a valid {param.type}; accepted: {TEXT_FORMS[param.type]}. "
                f"Fix: -p {param.name}=<{param.type.lower()}>."
            ) from None
    else:
        value = raw
        actual = param_type_of(value)
        if actual != param.type and not (param.type == "Float" and actual == "Integer"):
            raise ParamError(f"{where}: got {value!r} ({type(value).__name__}). Fix: pass a {param.type} value.")
        if param.type == "Float":
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(
                    f"{where}: got {value!r}; a Float param takes finite numbers only (SageMaker and JSON "
                    "have no NaN or Infinity). Fix: pass a finite number."
                )
    if param.enum is not None and value not in param.enum:
        raise ParamError(f"{where}: {value!r} is not one of {list(param.enum)!r}. Fix: pass one of them.")
    return value


def resolve_params(graph: PipelineGraph, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults, overridden with type checks; datasets resolve to absolute local paths."""
    values: dict[str, Any] = {p.name: p.default for p in graph.params}
    base = os.path.dirname(graph.source_file) if graph.source_file else os.getcwd()
    for d in graph.datasets:
        values[d.name] = os.path.normpath(os.path.join(base, d.local)) if d.local else None
    known: dict[str, Param | Dataset] = {p.name: p for p in graph.params} | {d.name: d for d in graph.datasets}
    for name, raw in (overrides or {}).items():
        item = known.get(name)
        if item is None:
            raise ParamError(
                f"pipeline {graph.name!r} has no param {name!r}{did_you_mean(name, known)}. "
                f"Its params: {', '.join(known) or 'none'}. Fix: override one of those, or declare {name!r} "
                "with pipe.param."
            )
        if isinstance(item, Dataset):
            values[name] = os.path.abspath(str(raw))
        else:
            values[name] = coerce_param(item, raw, graph.name)
    for d in graph.datasets:
        path = values[d.name]
        if path is None:
            raise ParamError(
                f"pipeline {graph.name!r}, dataset {d.name!r} has only an S3 location ({d.s3}); a local run needs "
                f"a local copy. Fix: -p {d.name}=path/to/local/copy, or declare it with local=..."
            )
        if not os.path.exists(path):
            raise ParamError(f"pipeline {graph.name!r}, dataset {d.name!r}: {path!r} does not exist. Fix: create it or pass -p {d.name}=PATH.")
    return values

