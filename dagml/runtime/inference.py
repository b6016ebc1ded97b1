"""The default inference handler: CSV rows of numbers in, one CSV line of predictions per row out.

SageMaker endpoints and batch transforms load the bundle's ``dagml_inference.py``
(``SAGEMAKER_PROGRAM``), which exports :func:`model_fn` and :func:`transform_fn`.
The scikit-learn image's serving stack (``sagemaker_containers``' Flask worker)
wraps a user's ``input_fn``/``output_fn`` so that any error they raise becomes
an HTTP 500 and a returned string is labelled ``text/html``; ``transform_fn``
therefore answers for itself: 200 ``text/csv``, 415 for a content type it
cannot read, 406 for an Accept it cannot write (with the stack's JSON error
body), 400 for CSV that is not rows of numbers. A missing or ``*/*`` Accept
means CSV (model containers also set ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``).

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
from typing import Any

from dagml.runtime import artifacts
from dagml.runtime.errors import InferenceError

__all__ = [
    "CSV",
    "InferenceError",
    "input_fn",
    "model_fn",
    "output_fn",
    "predict_fn",
    "transform_file",
    "transform_fn",
]

#: The one content type the default handler reads and writes.
CSV = "text/csv"
#: Suffix SageMaker batch transform appends to each scored input file's name.
OUTPUT_SUFFIX = ".out"


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def model_fn(model_dir: str) -> Any:
    """Load the model a training step returned: ``<model_dir>/model.pkl`` (or ``model.tar.gz``)."""
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


def _response(body: str, status: int, mimetype: str) -> Any:
    """A response of the serving stack (Flask, inside SageMaker's image); a tuple where Flask is absent."""
    try:
        from flask import Response
    except ImportError:
        if status != 200:
            raise InferenceError(body, status) from None
        return body, mimetype
    return Response(body, status=status, mimetype=mimetype)


def transform_fn(model: Any, body: bytes | bytearray | str, content_type: str | None, accept: str | None) -> Any:
    """One ``/invocations`` request: CSV rows in, one CSV line per row out (no trailing newline)."""
    try:
        _check_accept(accept)  # before any work
        data = input_fn(body, content_type)
        text = output_fn(predict_fn(data, model), CSV) if len(data) else ""
    except InferenceError as exc:
        error = {"error": type(exc).__name__, "error-message": str(exc)}
        return _response(json.dumps(error), exc.status, "application/json")
    return _response(text[:-1] if text.endswith("\n") else text, 200, CSV)


def transform_file(model_dir: str, input_path: str, output_path: str) -> str:
    """Score the CSV file ``input_path`` with the model in ``model_dir``, like a batch transform.

    ``output_path`` is a file, or an existing directory (then the result is
    ``<output_path>/<input basename>.out``, as SageMaker names it). Returns the
    path written.
    """
    if os.path.isdir(output_path):
        output_path = os.path.join(output_path, os.path.basename(input_path) + OUTPUT_SUFFIX)
    model = model_fn(model_dir)
    try:
        with open(input_path, "rb") as handle:
            body = handle.read()
    except OSError as exc:
        raise InferenceError(f"cannot read the data to score, {input_path!r} ({exc}).") from exc
    data = input_fn(body, CSV)
    text = output_fn(predict_fn(data, model), CSV) if len(data) else ""
    return artifacts.atomic_write(output_path, text.encode("utf-8"))
