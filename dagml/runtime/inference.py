"""Serving a training step's model: dagml's default handler, and the user's own functions.

SageMaker endpoints and batch transforms load the bundle's ``dagml_inference.py``
(``SAGEMAKER_PROGRAM``), which exports :func:`model_fn` and :func:`transform_fn`.
The defaults read CSV rows of numbers (:func:`input_fn`), call ``model.predict``
(:func:`predict_fn`) and write one CSV line of predictions per row
(:func:`output_fn`); the model is ``model.pkl`` (:func:`load_model`).

A training step may declare its own ``model_fn``, ``input_fn``, ``predict_fn``
and ``output_fn`` (``@train.input_fn``, :mod:`dagml.spec.handlers`); the parts
it does not declare stay these defaults. The compiler then writes
``DAGML_TARGET`` and ``DAGML_STEP`` into the model container's environment:
:func:`model_fn` loads that pipeline from the bundle, takes the step's
handlers (:func:`step_handlers`) and returns the model with them
(:class:`Served`), which :func:`transform_fn` receives on every request.

The scikit-learn image's serving stack (``sagemaker_containers``' Flask worker)
wraps a user's ``input_fn``/``output_fn`` so that any error they raise becomes
an HTTP 500 and a returned string is labelled ``text/html``; ``transform_fn``
therefore answers for itself: 200 ``text/csv``, 415 for a content type the
default ``input_fn`` cannot read, 406 for an Accept the default ``output_fn``
cannot write (with the stack's JSON error body), 400 for CSV that is not rows of
numbers. A missing or ``*/*`` Accept means CSV (model containers also set
``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``). With the user's functions: an
:class:`InferenceError` they raise answers with its ``status``; a ``ValueError``
from their ``input_fn`` is a 400 (the request could not be read), anything else
they raise a 500 naming the function; their ``output_fn`` returns ``str`` or
``bytes`` (labelled with the Accept) or ``(body, content_type)``.

The response has no trailing newline: a batch transform with
``AssembleWith: Line`` adds one after each response, so a trailing newline
would leave a blank line per request. :func:`transform_file` runs the same
functions over a file, as a batch transform would, for local runs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import attrs

from dagml.errors import DagmlError, did_you_mean
from dagml.runtime import artifacts
from dagml.runtime.errors import InferenceError
from dagml.spec.handlers import InferenceHandlers, describe
from dagml.spec.specs import FunctionSpec

__all__ = [
    "CSV",
    "STEP_ENV",
    "TARGET_ENV",
    "InferenceError",
    "Served",
    "input_fn",
    "load_model",
    "model_fn",
    "output_fn",
    "predict_fn",
    "serving_handlers",
    "step_handlers",
    "transform_file",
    "transform_fn",
]

#: The one content type the default handler reads and writes.
CSV = "text/csv"
#: Suffix SageMaker batch transform appends to each scored input file's name.
OUTPUT_SUFFIX = ".out"
#: A model container's environment names the pipeline (the bundle's target) and the training step
#: whose handlers serve its model; the compiler writes them only for a step that declares some.
TARGET_ENV = "DAGML_TARGET"
STEP_ENV = "DAGML_STEP"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def load_model(model_dir: str) -> Any:
    """The default ``model_fn``: the model a training step returned, ``<model_dir>/model.pkl`` (or
    from ``model.tar.gz``). A user's ``model_fn`` may call it."""
    return artifacts.load_model(model_dir, step="inference", parameter="model_dir")


def input_fn(body: bytes | bytearray | str, content_type: str | None = CSV) -> Any:
    """Parse ``text/csv`` rows of numbers (no header) into a 2-D numpy array (a list without numpy)."""
    if _media_type(content_type) != CSV:
        raise InferenceError(
            f"unsupported content type {content_type!r}: dagml's default inference handler reads "
            f"{CSV} (rows of numbers, no header). Fix: send {CSV}, or set ContentType='{CSV}' on the "
            "transform or request.",
            status=415,
        )
    text = bytes(body).decode("utf-8") if isinstance(body, (bytes, bytearray)) else str(body)
    rows: list[list[float]] = []
    for number, cells in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), 1):
        if not cells or all(not c.strip() for c in cells):
            continue
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise InferenceError(
                f"CSV line {number} ({','.join(cells)[:80]!r}) is not all numbers. Fix: send rows of "
                "numbers only, without a header line or an index column."
            ) from None
        if len(rows[-1]) != len(rows[0]):
            raise InferenceError(
                f"CSV line {number} has {len(rows[-1])} values but the first row has {len(rows[0])}. "
                "Fix: send rows of the same width."
            )
    try:
        import numpy
    except ImportError:
        return rows
    return numpy.asarray(rows, dtype=float).reshape(len(rows), len(rows[0]) if rows else 0)


def predict_fn(data: Any, model: Any) -> Any:
    """``model.predict(data)``."""
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise InferenceError(
            f"the model is a {type(model).__name__} without a predict() method. Fix: return a fitted "
            "estimator from the training step, or write your own inference script.",
            status=500,
        )
    return predict(data)


def _cell(value: Any) -> Any:
    item = getattr(value, "item", None)
    value = item() if callable(item) and getattr(value, "ndim", 0) == 0 else value
    return repr(value) if isinstance(value, float) else value


def _check_accept(accept: str | None) -> None:
    if _media_type(accept) not in (CSV, "", "*/*"):
        raise InferenceError(
            f"unsupported accept type {accept!r}: dagml's default inference handler writes {CSV}. "
            f"Fix: set Accept='{CSV}' on the transform or request.",
            status=406,
        )


def output_fn(prediction: Any, accept: str | None = CSV) -> str:
    """Predictions as CSV text: one line per row (a 2-D prediction's row is comma-separated)."""
    _check_accept(accept)
    rows = prediction.tolist() if hasattr(prediction, "tolist") else prediction
    if not isinstance(rows, (list, tuple)):
        rows = [rows]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        cells = row if isinstance(row, (list, tuple)) else [row]
        writer.writerow([_cell(c) for c in cells])
    return out.getvalue()


@attrs.frozen
class Served:
    """A model and the user's handlers that serve it: what :func:`model_fn` returns for a container
    whose environment names a step with handlers; :func:`transform_fn` takes it apart."""

    model: Any
    handlers: InferenceHandlers


def step_handlers(target: str, step: str) -> InferenceHandlers:
    """The inference handlers training step ``step`` of the pipeline ``target`` declares.

    The pipeline is loaded as a job loads it (:func:`dagml.runtime.entry.load_pipeline`: a path
    relative to the bundle), not validated: only the step's declaration is read.
    """
    from dagml.runtime.entry import load_pipeline

    try:
        pipeline = load_pipeline(target)
    except DagmlError as exc:
        raise InferenceError(
            f"the model is served by the inference handlers of step {step!r} of {target!r} ({TARGET_ENV}, "
            f"{STEP_ENV}), but loading that pipeline failed: {exc}",
            status=500,
        ) from exc
    spec = next((s for s in pipeline.nodes if s.name == step), None)
    if not isinstance(spec, FunctionSpec) or spec.kind != "training":
        names = [s.name for s in pipeline.nodes if isinstance(s, FunctionSpec) and s.kind == "training"]
        raise InferenceError(
            f"the model is served by the inference handlers of step {step!r} ({STEP_ENV}), but pipeline "
            f"{pipeline.name!r} ({target!r}) has no training step {step!r}{did_you_mean(step, names)}. "
            "Fix: recompile and redeploy the pipeline, so the model container names the step that trained it.",
            status=500,
        )
    return spec.handlers


def serving_handlers() -> InferenceHandlers | None:
    """The handlers the model container's environment names (``DAGML_TARGET``, ``DAGML_STEP``), or None."""
    target, step = os.environ.get(TARGET_ENV), os.environ.get(STEP_ENV)
    if not target and not step:
        return None
    if not (target and step):
        raise InferenceError(
            f"the model container sets {TARGET_ENV if target else STEP_ENV} but not "
            f"{STEP_ENV if target else TARGET_ENV}; dagml writes both for a step with inference handlers. "
            "Fix: recompile and redeploy the pipeline, or set both.",
            status=500,
        )
    return step_handlers(target, step)


def _call(role: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run one of the user's handlers: an error it raises becomes an InferenceError naming it."""
    try:
        return fn(*args)
    except InferenceError:
        raise  # the user's (or a default's they called): its status stands
    except Exception as exc:  # the user's code: answered as an HTTP error that names it
        traceback.print_exc()  # the whole story in the container's log
        status = 400 if role == "input_fn" and isinstance(exc, ValueError) else 500
        raise InferenceError(f"{role} {describe(fn)} raised {type(exc).__name__}: {exc}", status) from exc


def _load(model_dir: str, handlers: InferenceHandlers | None) -> Any:
    if handlers is not None and handlers.model_fn is not None:
        return _call("model_fn", handlers.model_fn, model_dir)
    return load_model(model_dir)


def model_fn(model_dir: str) -> Any:
    """The serving container's ``model_fn``: the model, with the user's handlers when its environment
    names a step that has some (a :class:`Served`)."""
    try:
        handlers = serving_handlers()
    except InferenceError as exc:
        print(f"dagml: {exc}", file=sys.stderr)
        raise
    if not handlers:
        return load_model(model_dir)
    return Served(_load(model_dir, handlers), handlers)


def _label(accept: str | None) -> str:
    """What a user's output is labelled when they return only a body: the Accept asked for (CSV for
    none or a wildcard, as the container's default Accept)."""
    first = (accept or "").split(",", 1)[0].strip()
    return first if first and "*" not in first else CSV


def _user_output(fn: Callable[..., Any], prediction: Any, accept: str | None) -> tuple[str | bytes, str]:
    result = _call("output_fn", fn, prediction, accept)
    body, content_type = result if isinstance(result, tuple) and len(result) == 2 else (result, _label(accept))
    if not isinstance(body, (str, bytes, bytearray)) or not isinstance(content_type, str) or not content_type:
        raise InferenceError(
            f"output_fn {describe(fn)} returned {type(result).__name__} {str(result)[:80]!r}. Fix: return the "
            "response body as str or bytes, or (body, content_type), e.g. (json.dumps(...), 'application/json').",
            status=500,
        )
    return bytes(body) if isinstance(body, bytearray) else body, content_type


def _answer(
    model: Any, handlers: InferenceHandlers, body: bytes | bytearray | str, content_type: str | None, accept: str | None
) -> tuple[str | bytes, str]:
    """(response body, its content type) of one request: the user's handlers, dagml's for the rest."""
    if handlers.output_fn is None:
        _check_accept(accept)  # before any work
    if handlers.input_fn is None:
        data = input_fn(body, content_type)
        if not len(data):
            return "", CSV if handlers.output_fn is None else _label(accept)
    else:
        data = _call("input_fn", handlers.input_fn, body, content_type)
    prediction = predict_fn(data, model) if handlers.predict_fn is None else _call("predict_fn", handlers.predict_fn, data, model)
    if handlers.output_fn is None:
        return output_fn(prediction, CSV), CSV
    return _user_output(handlers.output_fn, prediction, accept)


def _strip_newline(body: str | bytes) -> str | bytes:
    if isinstance(body, str):
        return body[:-1] if body.endswith("\n") else body
    return body[:-1] if body.endswith(b"\n") else body


def _response(body: str | bytes, status: int, content_type: str) -> Any:
    """A response of the serving stack (Flask, inside SageMaker's image); a tuple where Flask is absent."""
    try:
        from flask import Response
    except ImportError:
        if status != 200:
            raise InferenceError(body.decode("utf-8", "replace") if isinstance(body, bytes) else body, status) from None
        return body, content_type
    if ";" in content_type:  # parameters given (a charset): as they are
        return Response(body, status=status, content_type=content_type)
    return Response(body, status=status, mimetype=content_type)


def transform_fn(model: Any, body: bytes | bytearray | str, content_type: str | None, accept: str | None) -> Any:
    """One ``/invocations`` request: the user's handlers for the parts a step declares (``model`` is
    then a :class:`Served`), dagml's CSV handler for the rest; no trailing newline."""
    handlers = model.handlers if isinstance(model, Served) else InferenceHandlers()
    model = model.model if isinstance(model, Served) else model
    try:
        text, media = _answer(model, handlers, body, content_type, accept)
    except InferenceError as exc:
        error = {"error": type(exc).__name__, "error-message": str(exc)}
        return _response(json.dumps(error), exc.status, "application/json")
    return _response(_strip_newline(text), 200, media)


def transform_file(
    model_dir: str,
    input_path: str,
    output_path: str,
    *,
    handlers: InferenceHandlers | None = None,
    content_type: str = CSV,
) -> str:
    """Score the file ``input_path`` with the model in ``model_dir``, like a batch transform whose
    ``ContentType`` and ``Accept`` are ``content_type`` (one request for the whole file, a newline
    after the response: ``AssembleWith: Line``), with the step's ``handlers`` (None: dagml's).

    ``output_path`` is a file, or an existing directory (then the result is
    ``<output_path>/<input basename>.out``, as SageMaker names it). Returns the
    path written. An error is an :class:`InferenceError` naming the function that raised it.
    """
    if os.path.isdir(output_path):
        output_path = os.path.join(output_path, os.path.basename(input_path) + OUTPUT_SUFFIX)
    handlers = handlers or InferenceHandlers()
    model = _load(model_dir, handlers)
    try:
        with open(input_path, "rb") as handle:
            body = handle.read()
    except OSError as exc:
        raise InferenceError(f"cannot read the data to score, {input_path!r} ({exc}).") from exc
    text, _ = _answer(model, handlers, body, content_type, content_type)
    data = _strip_newline(text)
    data = data.encode("utf-8") if isinstance(data, str) else data
    return artifacts.atomic_write(output_path, data + b"\n" if data else b"")
