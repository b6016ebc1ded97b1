"""Saving and loading what steps hand each other inside a container.

A processing step's return value is ``output.pkl``, a training step's model is
``model.pkl`` (SageMaker uploads it as ``model.tar.gz``), and a metrics report
is ``evaluation.json``: a flat JSON object of finite numbers, keys sorted, which
conditions read with ``JsonGet``. Every file is written to a temporary file in
the same directory and moved into place with :func:`os.replace`, so a crash
never leaves half a file behind.

Nothing here imports numpy, scikit-learn or boto3; unpickling imports what the
pickled value needs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import numbers
import os
import pickle
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from dagml.contract import CSV_FILE, METRICS_FILE, MODEL_FILE, OUTPUT_FILE
from dagml.runtime.errors import ArtifactError, MissingInputError

__all__ = [
    "MODEL_ARCHIVE",
    "PICKLE_PROTOCOL",
    "ArtifactError",
    "MissingInputError",
    "atomic_write",
    "csv_text",
    "load_input",
    "load_model",
    "load_output",
    "metrics_report",
    "save_csv",
    "save_metrics",
    "save_model",
    "save_output",
]

#: Pickle protocol of output.pkl and model.pkl (Python 3.8+ reads it).
PICKLE_PROTOCOL = 5
#: What SageMaker names a training job's uploaded ``<root>/model`` directory.
MODEL_ARCHIVE = "model.tar.gz"


@contextlib.contextmanager
def _atomic_file(path: str) -> Iterator[BinaryIO]:
    """A file to write ``path`` through: a temporary file in the same directory, flushed to
    disk and renamed over ``path`` when the block succeeds, removed (with any directory made
    for it) when it fails."""
    directory = os.path.dirname(os.path.abspath(path))
    made = []
    parent = directory
    while not os.path.isdir(parent):
        made.append(parent)
        parent = os.path.dirname(parent)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        for empty in made:
            try:
                os.rmdir(empty)
            except OSError:
                break
        raise


def atomic_write(path: str, data: bytes) -> str:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    with _atomic_file(path) as handle:
        handle.write(data)
    return path


def _dump(value: object, path: str, step: str, what: str) -> str:
    """Pickle ``value`` straight into ``path`` (atomically).

    Streaming, not ``pickle.dumps`` then write: protocol 5 writes large bytes and
    array buffers directly from the object, so a 500 MB return value costs 500 MB,
    not twice that (docs/performance.md).
    """
    try:
        with _atomic_file(path) as handle:
            pickle.dump(value, handle, protocol=PICKLE_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise ArtifactError(
            f"step {step!r} returned {what} of type {type(value).__name__}, which cannot be pickled "
            f"({exc}). Fix: return plain data (dicts, lists, numpy arrays, fitted estimators), "
            "not open files, lambdas or local classes."
        ) from exc
    return path


def save_output(value: object, directory: str, step: str = "?") -> str:
    """Write a processing step's return value to ``<directory>/output.pkl``."""
    return _dump(value, os.path.join(directory, OUTPUT_FILE), step, "a value")


def save_model(model: object, directory: str, step: str = "?") -> str:
    """Write a training step's model to ``<directory>/model.pkl``."""
    if model is None:
        raise ArtifactError(
            f"training step {step!r} returned None, so there is no model to save. "
            "Fix: return the fitted model from the function."
        )
    return _dump(model, os.path.join(directory, MODEL_FILE), step, "a model")


def metrics_report(value: object, step: str = "?") -> dict[str, int | float]:
    """Check that ``value`` is a metrics report and return it as plain numbers.

    A report is a non-empty dict of string keys to finite real numbers (Python
    or numpy ints and floats; booleans are not numbers here).
    """
    fix = "Fix: return a flat dict of numbers, e.g. {'accuracy': 0.97}."
    if not isinstance(value, Mapping):
        raise ArtifactError(
            f"step {step!r} is a metrics step but returned a {type(value).__name__}, not a dict. {fix}"
        )
    if not value:
        raise ArtifactError(f"step {step!r} is a metrics step but returned an empty dict. {fix}")
    report: dict[str, int | float] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ArtifactError(f"step {step!r}: metrics key {key!r} is not a non-empty string. {fix}")
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise ArtifactError(
                f"step {step!r}: metric {key!r} is {item!r} (a {type(item).__name__}), not a number. {fix}"
            )
        number: int | float = int(item) if isinstance(item, numbers.Integral) else float(item)
        if not math.isfinite(number):
            raise ArtifactError(
                f"step {step!r}: metric {key!r} is {item!r}; JSON and SageMaker conditions need a finite "
                "number. Fix: replace NaN or infinity with a finite value before returning."
            )
        report[key] = number
    return report


def save_metrics(value: object, directory: str, step: str = "?") -> str:
    """Write a metrics report to ``<directory>/evaluation.json`` (keys sorted)."""
    report = metrics_report(value, step)
    text = json.dumps(report, sort_keys=True, indent=2, allow_nan=False) + "\n"
    return atomic_write(os.path.join(directory, METRICS_FILE), text.encode("utf-8"))


def csv_text(value: object, step: str = "?") -> str:
    """A step's return value as CSV rows of numbers, no header (what a batch transform reads).

    Accepts a 2-D array or list of rows (one line per row), a 1-D one (one
    value per line), or a pandas DataFrame (its values, without header or index).
    """
    fix = "Fix: return a 2-D numpy array or a list of rows of numbers from the step the transform reads."
    if isinstance(value, (Mapping, str, bytes)) or value is None:
        raise ArtifactError(
            f"step {step!r} feeds a batch transform, which needs rows of numbers, but returned a "
            f"{type(value).__name__}. {fix}"
        )
    table = value.to_numpy() if hasattr(value, "to_numpy") else value
    rows = table.tolist() if hasattr(table, "tolist") else table
    if not isinstance(rows, (list, tuple)):
        raise ArtifactError(
            f"step {step!r} feeds a batch transform but returned a {type(value).__name__}. {fix}"
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for number, row in enumerate(rows, 1):
        cells = list(row) if isinstance(row, (list, tuple)) else [row]
        for cell in cells:
            if isinstance(cell, bool) or not isinstance(cell, numbers.Real):
                raise ArtifactError(
                    f"step {step!r} feeds a batch transform, but row {number} of its return value holds "
                    f"{cell!r} (a {type(cell).__name__}), not a number. {fix}"
                )
        writer.writerow([repr(float(c)) if not isinstance(c, numbers.Integral) else int(c) for c in cells])
    return out.getvalue()


def save_csv(value: object, directory: str, step: str = "?") -> str:
    """Write a step's return value as ``<directory>/data.csv`` (see :func:`csv_text`)."""
    return atomic_write(os.path.join(directory, CSV_FILE), csv_text(value, step).encode("utf-8"))


def _unpickle(data: bytes | BinaryIO, where: str, step: str) -> Any:
    """Unpickle bytes, or straight from an open file (no extra copy of a large value)."""
    try:
        return pickle.loads(data) if isinstance(data, bytes) else pickle.load(data)
    except Exception as exc:
        raise ArtifactError(
            f"step {step!r}: cannot unpickle {where} ({type(exc).__name__}: {exc}). Fix: run the step "
            "with the same code bundle and library versions as the step that wrote it."
        ) from exc


def load_output(directory: str, step: str = "?", parameter: str = "?") -> Any:
    """The value a processing step returned, from ``<directory>/output.pkl``."""
    path = os.path.join(directory, OUTPUT_FILE)
    if not os.path.isfile(path):
        raise MissingInputError(
            f"step {step!r}, input {parameter!r}: {directory!r} holds no {OUTPUT_FILE}. Fix: map the "
            f"upstream step's '{parameter}' output (its {OUTPUT_FILE}) to this directory."
        )
    with open(path, "rb") as handle:
        return _unpickle(handle, path, step)


def _model_from_archive(path: str, step: str) -> bytes:
    """Read model.pkl out of SageMaker's model.tar.gz without extracting anything else."""
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar.getmembers():
                if member.isfile() and os.path.normpath(member.name) == MODEL_FILE:
                    source = tar.extractfile(member)
                    assert source is not None
                    with source:
                        return source.read()
            names = sorted(m.name for m in tar.getmembers())
    except tarfile.TarError as exc:
        raise ArtifactError(f"step {step!r}: {path!r} is not a readable tar archive ({exc}).") from exc
    raise ArtifactError(
        f"step {step!r}: {path!r} holds no {MODEL_FILE} at its top level (it holds {names[:10]!r}). "
        f"Fix: the training step must write its model to <root>/model/{MODEL_FILE}."
    )


def load_model(directory: str, step: str = "?", parameter: str = "model") -> Any:
    """A training step's model: ``<directory>/model.pkl``, or from ``<directory>/model.tar.gz``."""
    if not os.path.isdir(directory):
        raise MissingInputError(
            f"step {step!r}, input {parameter!r}: model directory {directory!r} does not exist. "
            "Fix: map the training step's model artifact to this directory."
        )
    path = os.path.join(directory, MODEL_FILE)
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            return _unpickle(handle, path, step)
    archive = os.path.join(directory, MODEL_ARCHIVE)
    if os.path.isfile(archive):
        return _unpickle(_model_from_archive(archive, step), f"{archive}:{MODEL_FILE}", step)
    raise MissingInputError(
        f"step {step!r}, input {parameter!r}: {directory!r} holds neither {MODEL_FILE} nor {MODEL_ARCHIVE}. "
        "Fix: map the training step's model artifact (S3ModelArtifacts) to this directory."
    )


def _dataset_path(directory: str) -> str:
    files = [os.path.join(d, f) for d, _, names in os.walk(directory) for f in names]
    return files[0] if len(files) == 1 else directory


def load_input(kind: str, directory: str, step: str = "?", parameter: str = "?") -> Any:
    """The value a step's parameter receives from an input directory.

    ``kind`` is the upstream step's kind (``processing``: its ``output.pkl``;
    ``training``: its model; ``transform``: the directory path) or ``dataset``
    (the one file's path when the directory holds exactly one file, otherwise
    the directory path).
    """
    if not os.path.isdir(directory):
        raise MissingInputError(
            f"step {step!r}, input {parameter!r}: the input directory {directory!r} does not exist. "
            f"Fix: map the input named {parameter!r} to it (a ProcessingInput or training channel)."
        )
    if kind == "processing":
        return load_output(directory, step, parameter)
    if kind == "training":
        return load_model(directory, step, parameter)
    if kind == "transform":
        return directory
    if kind == "dataset":
        return _dataset_path(directory)
    raise ArtifactError(
        f"step {step!r}, input {parameter!r}: a {kind} step has no output a function can read. "
        "Fix: read a processing, training or transform step, or a dataset."
    )
