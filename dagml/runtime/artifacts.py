"""Saving and loading what steps hand each other inside a container.

A processing step's return value is ``output.pkl``, a training step's model is
``model.pkl`` (SageMaker uploads it as ``model.tar.gz``), and a metrics report
is ``evaluation.json``: a JSON object of finite numbers (strings, lists, nested
objects too), keys sorted, which conditions read with ``JsonGet`` by a dotted path. Every file is written to a temporary file in
the same directory and moved into place with :func:`os.replace`, so a crash
never leaves half a file behind.

Nothing here imports numpy, scikit-learn or boto3; unpickling imports what the
pickled value needs.
"""

from __future__ import annotations

import contextlib
import contextvars
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
from dagml.errors import did_you_mean
from dagml.runtime.errors import ArtifactError, MissingInputError

__all__ = [
    "MODEL_ARCHIVE",
    "PICKLE_PROTOCOL",
    "ArtifactError",
    "MissingInputError",
    "atomic_write",
    "csv_text",
    "deferred_sync",
    "load_input",
    "load_model",
    "load_named_output",
    "load_output",
    "metrics_report",
    "save_csv",
    "save_metrics",
    "save_model",
    "save_named_outputs",
    "save_output",
]

#: Pickle protocol of output.pkl and model.pkl (Python 3.8+ reads it).
PICKLE_PROTOCOL = 5
#: What SageMaker names a training job's uploaded ``<root>/model`` directory.
MODEL_ARCHIVE = "model.tar.gz"


#: False inside :func:`deferred_sync`: files are renamed into place without an fsync each.
_SYNC: contextvars.ContextVar[bool] = contextvars.ContextVar("dagml_artifacts_sync", default=True)


@contextlib.contextmanager
def deferred_sync() -> Iterator[None]:
    """Write files in this block without an fsync each; the caller makes them durable later.

    Still atomic (a temporary file renamed into place: a killed process never leaves half a file
    under the final name), but after a power loss a file may be empty or torn. The local runner
    uses it (docs/local.md, "Durability"): it records each step's content hash, trusts a file only
    while it matches, and syncs the file system once when the run ends. A SageMaker job keeps an
    fsync per file.
    """
    token = _SYNC.set(False)
    try:
        yield
    finally:
        _SYNC.reset(token)


@contextlib.contextmanager
def _atomic_file(path: str) -> Iterator[BinaryIO]:
    """A file to write ``path`` through: a temporary file in the same directory, flushed to
    disk (unless in :func:`deferred_sync`) and renamed over ``path`` when the block succeeds,
    removed (with any directory made for it) when it fails."""
    directory = os.path.dirname(os.path.abspath(path))
    made = []
    try:
        os.mkdir(directory)  # usually its parent is there: one call, not a walk up
        made.append(directory)
    except FileExistsError:
        pass
    except FileNotFoundError:
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
            os.fchmod(handle.fileno(), 0o644)
            if _SYNC.get():
                os.fsync(handle.fileno())
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


def _report_value(value: object, path: str, step: str) -> Any:
    """One value of a report as plain JSON, or an ArtifactError naming its JSON path."""
    fix = (
        "Fix: a report's values are finite numbers, strings, lists of them or objects of the same, e.g. "
        "{'accuracy': 0.97} or SageMaker's {'regression_metrics': {'mse': {'value': 0.3}}}."
    )
    if isinstance(value, Mapping):
        report: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                where = f" in {path!r}" if path else ""
                raise ArtifactError(f"step {step!r}: metrics key {key!r}{where} is not a non-empty string. {fix}")
            report[key] = _report_value(item, f"{path}.{key}" if path else key, step)
        return report
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:  # JSON has them, but no condition could read them
        raise ArtifactError(f"step {step!r}: metric {path!r} is {value!r}, not a number. {fix}")
    if isinstance(value, numbers.Real):
        number: int | float = int(value) if isinstance(value, numbers.Integral) else float(value)
        if not math.isfinite(number):
            raise ArtifactError(
                f"step {step!r}: metric {path!r} is {value!r}; JSON and SageMaker conditions need a finite "
                "number. Fix: replace NaN or infinity with a finite value before returning (or the string "
                "'NaN', as Model Monitor writes an unknown standard deviation)."
            )
        return number
    items = value.tolist() if hasattr(value, "tolist") else value  # a numpy array
    if isinstance(items, (list, tuple)):  # a curve, a matrix row: numbers, strings or lists of them
        values = []
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                raise ArtifactError(f"step {step!r}: metric '{path}[{i}]' is an object inside a list. {fix}")
            values.append(_report_value(item, f"{path}[{i}]", step))
        return values
    raise ArtifactError(
        f"step {step!r}: metric {path!r} is {value!r} (a {type(value).__name__}), not a number, a string, "
        f"a list or an object. {fix}"
    )


def metrics_report(value: object, step: str = "?") -> dict[str, Any]:
    """Check that ``value`` is a metrics report and return it as plain JSON values.

    A report is a non-empty dict of string keys to finite real numbers (Python or
    numpy ints and floats; booleans are not numbers here), strings, lists of them
    (or numpy arrays) and dicts of the same, nested as deep as needed: a flat
    ``{"accuracy": 0.97}`` or SageMaker's model-quality format
    (``{"regression_metrics": {"mse": {"value": 0.3}}}``, dagml/spec/model_quality.py).
    An error names the JSON path of the bad value (``regression_metrics.mse.value``).
    """
    fix = "Fix: return a dict of numbers, e.g. {'accuracy': 0.97}, or a nested one such as {'regression_metrics': {'mse': {'value': 0.3}}}."
    if not isinstance(value, Mapping):
        raise ArtifactError(
            f"step {step!r} is a metrics step but returned a {type(value).__name__}, not a dict. {fix}"
        )
    if not value:
        raise ArtifactError(f"step {step!r} is a metrics step but returned an empty dict. {fix}")
    report: dict[str, Any] = _report_value(value, "", step)
    return report


def save_metrics(value: object, directory: str, step: str = "?") -> str:
    """Write a metrics report to ``<directory>/evaluation.json`` (keys sorted at every level)."""
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


def model_directory(directory: str, step: str = "?", parameter: str = "?") -> str:
    """What a parameter reading a container step (``pipe.container``) receives: the directory the
    image wrote its model into. SageMaker delivers it as ``model.tar.gz``, which is extracted next
    to it (regular files and directories only, nothing outside); a local stand-in is the directory."""
    archive = os.path.join(directory, MODEL_ARCHIVE)
    if not os.path.isfile(archive):
        return directory
    target = os.path.join(tempfile.gettempdir(), f"dagml-model-{step}-{parameter}")
    os.makedirs(target, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar.getmembers():
                parts = [p for p in member.name.replace("\\", "/").split("/") if p not in ("", ".")]
                if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
                    raise ArtifactError(
                        f"step {step!r}, input {parameter!r}: {archive!r} holds {member.name!r}, a link, a special "
                        "file or a path outside the archive, which dagml does not extract. Fix: have the image "
                        "write only regular files inside its model directory."
                    )
                path = os.path.join(target, *parts)
                if member.isdir():
                    os.makedirs(path, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(path), exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                with source, open(path, "wb") as out:
                    out.write(source.read())
    except tarfile.TarError as exc:
        raise ArtifactError(
            f"step {step!r}, input {parameter!r}: {archive!r} is not a readable tar archive ({exc})."
        ) from exc
    return target


def save_named_outputs(value: object, directories: Mapping[str, str], step: str = "?") -> dict[str, str]:
    """Finish a step with named outputs: store returned values, check every output has something.

    ``value`` is what the function returned: None, or a mapping from output names to
    values, each pickled as ``output.pkl`` into its output's directory. Every other
    output must hold the files the function wrote; an output filled both ways, or not
    at all, is an error (a consumer could not know what it reads). Returns name -> how
    it was filled ("value" or "files").
    """
    names = list(directories)
    if value is not None and not isinstance(value, Mapping):
        raise ArtifactError(
            f"step {step!r} declares named outputs ({', '.join(map(repr, names))}) but returned a "
            f"{type(value).__name__}. Fix: write files into outputs[name], or return a dict keyed by output "
            f"name, e.g. {{{names[0]!r}: value}}; return nothing else."
        )
    returned = dict(value or {})
    unknown = [k for k in returned if k not in directories]
    if unknown:
        key = unknown[0]
        raise ArtifactError(
            f"step {step!r} returned a value for {key!r}, which is not one of its outputs"
            f"{did_you_mean(str(key), names)}. Fix: declare it, @pipe.step(outputs=[..., {key!r}]), or return "
            f"only {', '.join(map(repr, names))}."
        )
    filled: dict[str, str] = {}
    for name, directory in directories.items():
        written = any(files for _, _, files in os.walk(directory))
        if name in returned and written:
            raise ArtifactError(
                f"step {step!r}: output {name!r} got both files and a returned value. Fix: either write files "
                f"into outputs[{name!r}] or return {{{name!r}: value}}, not both."
            )
        if name in returned:
            _dump(returned[name], os.path.join(directory, OUTPUT_FILE), step, f"output {name!r} as a value")
            filled[name] = "value"
        elif written:
            filled[name] = "files"
        else:
            raise ArtifactError(
                f"step {step!r}: output {name!r} is empty: the function neither wrote files into "
                f"outputs[{name!r}] nor returned {{{name!r}: value}}. Fix: fill every declared output "
                "(an empty output would leave the steps that read it with nothing)."
            )
    return filled


def load_named_output(directory: str, step: str = "?", parameter: str = "?") -> Any:
    """What a parameter bound to a named output receives: the value when the output holds a
    returned value (only ``output.pkl``), otherwise the directory's path."""
    if not os.path.isdir(directory):
        raise MissingInputError(
            f"step {step!r}, input {parameter!r}: the input directory {directory!r} does not exist. "
            f"Fix: map the named output the parameter reads to it (a ProcessingInput or training channel)."
        )
    entries = [e for e in os.listdir(directory) if not e.startswith(".")]
    if entries == [OUTPUT_FILE]:
        return load_output(directory, step, parameter)
    return directory


def _dataset_path(directory: str) -> str:
    files = [os.path.join(d, f) for d, _, names in os.walk(directory) for f in names]
    return files[0] if len(files) == 1 else directory


def load_input(kind: str, directory: str, step: str = "?", parameter: str = "?") -> Any:
    """The value a step's parameter receives from an input directory.

    ``kind`` is the upstream step's kind (``processing``: its ``output.pkl``;
    ``training``: its model; ``container``: its model directory's path; ``transform``:
    the directory path) or ``dataset``
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
    if kind in ("container", "script"):  # a model directory (a script read as a whole trains)
        return model_directory(directory, step, parameter)
    if kind == "transform":
        return directory
    if kind == "dataset":
        return _dataset_path(directory)
    raise ArtifactError(
        f"step {step!r}, input {parameter!r}: a {kind} step has no output a function can read. "
        "Fix: read a processing, training or transform step, or a dataset."
    )
