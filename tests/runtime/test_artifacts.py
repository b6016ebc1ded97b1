"""Saving and loading step values, models, metrics reports and CSV tables."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import tarfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagml import DagmlError
from dagml.contract import CSV_FILE, METRICS_FILE, MODEL_FILE, OUTPUT_FILE
from dagml.runtime import artifacts
from dagml.runtime.artifacts import ArtifactError, MissingInputError
from tests.strategies import metrics_reports


def _files(directory: str) -> list[str]:
    return sorted(os.listdir(directory))


def test_every_file_is_fsynced_except_inside_deferred_sync(tmp_path, monkeypatch):
    """A job syncs each file; the local runner defers it (it verifies hashes and syncs once at the end)."""
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    artifacts.save_output([1, 2], str(tmp_path / "a"), "a")
    assert len(synced) == 1
    with artifacts.deferred_sync():
        artifacts.save_output([3], str(tmp_path / "b"), "b")
        artifacts.atomic_write(str(tmp_path / "c" / "c.txt"), b"c")
    assert len(synced) == 1  # still atomic: renamed into place, no temporary file left
    assert _files(str(tmp_path / "b")) == [OUTPUT_FILE] and artifacts.load_output(str(tmp_path / "b")) == [3]
    artifacts.save_output([4], str(tmp_path / "d"), "d")
    assert len(synced) == 2  # only inside the block


def test_output_round_trips_with_pickle_protocol_5_and_leaves_no_temp_files(tmp_path):
    value = {"a": np.arange(6).reshape(2, 3), "b": [1, "x"]}
    path = artifacts.save_output(value, str(tmp_path / "out"), "prepare")
    with open(path, "rb") as handle:
        assert handle.read(2) == b"\x80\x05"
    artifacts.save_output({"again": True}, str(tmp_path / "out"), "prepare")  # replaces
    assert _files(str(tmp_path / "out")) == [OUTPUT_FILE]
    assert artifacts.load_output(str(tmp_path / "out")) == {"again": True}


def test_an_unpicklable_value_names_the_step():
    with pytest.raises(ArtifactError, match="step 'prepare' returned .* cannot be pickled"):
        artifacts.save_output(lambda: 1, "unused", "prepare")


def test_a_training_step_returning_none_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="training step 'train' returned None"):
        artifacts.save_model(None, str(tmp_path), "train")
    assert _files(str(tmp_path)) == []


def test_metrics_are_written_sorted_with_plain_numbers(tmp_path):
    report = {"recall": np.float32(0.5), "accuracy": 0.97, "n": np.int64(3)}
    path = artifacts.save_metrics(report, str(tmp_path), "ev")
    assert os.path.basename(path) == METRICS_FILE
    with open(path) as handle:
        text = handle.read()
    assert text.endswith("\n") and list(json.loads(text)) == ["accuracy", "n", "recall"]
    assert json.loads(text) == {"accuracy": 0.97, "n": 3, "recall": 0.5}


def test_a_nested_report_is_written_sorted_at_every_level_as_plain_json(tmp_path):
    report = {
        "regression_metrics": {"r2": {"value": np.float32(0.5)}, "mse": {"value": 0.3, "standard_deviation": "NaN"}},
        "curve": np.array([0.25, 0.5]),
        "matrix": [[np.int64(3), 1], [0, 4]],
        "labels": ("a", "b"),
    }
    text = open(artifacts.save_metrics(report, str(tmp_path), "ev")).read()
    assert list(json.loads(text)) == ["curve", "labels", "matrix", "regression_metrics"]
    assert list(json.loads(text)["regression_metrics"]) == ["mse", "r2"]
    assert list(json.loads(text)["regression_metrics"]["mse"]) == ["standard_deviation", "value"]
    assert json.loads(text) == {
        "regression_metrics": {"r2": {"value": 0.5}, "mse": {"value": 0.3, "standard_deviation": "NaN"}},
        "curve": [0.25, 0.5],
        "matrix": [[3, 1], [0, 4]],
        "labels": ["a", "b"],
    }


@pytest.mark.parametrize(
    "value, says",
    [
        ([0.9], "returned a list"),
        ({}, "empty dict"),
        ({"ok": True}, "metric 'ok' is True, not a number"),
        ({"ok": None}, "metric 'ok' is None, not a number"),
        ({"ok": float("nan")}, "finite"),
        ({"ok": math.inf}, "finite"),
        ({1: 0.5}, "not a non-empty string"),
        ({"a": {"b": {"c": float("nan")}}}, "metric 'a.b.c' is nan"),
        ({"a": {"": 1}}, "metrics key '' in 'a' is not a non-empty string"),
        ({"curve": [0.1, math.inf]}, r"metric 'curve\[1\]' is inf"),
        ({"rows": [{"a": 1}]}, r"metric 'rows\[0\]' is an object inside a list"),
        ({"ok": {1, 2}}, "metric 'ok' is {1, 2} .a set., not a number, a string, a list or an object"),
    ],
)
def test_anything_but_a_report_of_finite_json_values_is_refused(tmp_path, value, says):
    with pytest.raises(ArtifactError, match=says) as info:
        artifacts.save_metrics(value, str(tmp_path), "evaluate")
    assert "'evaluate'" in str(info.value) and "Fix:" in str(info.value)
    assert isinstance(info.value, DagmlError) and isinstance(info.value, ValueError)
    assert _files(str(tmp_path)) == []


NUMBERS = st.floats(allow_nan=False, allow_infinity=False) | st.integers()


@given(st.dictionaries(st.text(min_size=1), NUMBERS, min_size=1))
def test_any_report_of_finite_numbers_survives_json(report):
    text = json.dumps(artifacts.metrics_report(report, "s"), sort_keys=True, allow_nan=False)
    assert json.loads(text) == report


@given(metrics_reports())
def test_any_nested_report_is_saved_and_read_back_unchanged(tmp_path_factory, report):
    directory = str(tmp_path_factory.mktemp("report"))
    with open(artifacts.save_metrics(report, directory, "s"), encoding="utf-8") as handle:
        assert json.load(handle) == report


def _model_tar(directory: str, name: str, value: object) -> str:
    data = pickle.dumps(value, protocol=5)
    path = os.path.join(directory, "model.tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("member", [MODEL_FILE, f"./{MODEL_FILE}"])
def test_a_model_loads_from_sagemakers_model_tar_gz(tmp_path, member):
    _model_tar(str(tmp_path), member, {"weights": [1, 2]})
    assert artifacts.load_input("training", str(tmp_path), "evaluate", "train") == {"weights": [1, 2]}
    assert _files(str(tmp_path)) == ["model.tar.gz"]  # nothing extracted to disk


def test_a_model_loads_from_a_local_model_dir(tmp_path):
    artifacts.save_model({"w": 1}, str(tmp_path), "train")
    assert artifacts.load_model(str(tmp_path)) == {"w": 1}


def test_a_model_archive_without_model_pkl_is_a_clear_error(tmp_path):
    _model_tar(str(tmp_path), "other.pkl", 1)
    with pytest.raises(ArtifactError, match="holds no model.pkl"):
        artifacts.load_input("training", str(tmp_path), "evaluate", "train")


def test_missing_inputs_name_the_step_and_the_input(tmp_path):
    for kind in ("processing", "training", "dataset", "transform"):
        with pytest.raises(MissingInputError) as info:
            artifacts.load_input(kind, str(tmp_path / "absent"), "evaluate", "prepare")
        assert isinstance(info.value, FileNotFoundError)
        assert "'evaluate'" in str(info.value) and "'prepare'" in str(info.value)
    os.makedirs(tmp_path / "empty")
    with pytest.raises(MissingInputError, match=OUTPUT_FILE):
        artifacts.load_input("processing", str(tmp_path / "empty"), "evaluate", "prepare")
    with pytest.raises(MissingInputError, match="neither"):
        artifacts.load_input("training", str(tmp_path / "empty"), "evaluate", "train")


def test_dataset_dirs_give_the_one_file_or_the_dir(tmp_path):
    one = tmp_path / "one"
    (one / "nested").mkdir(parents=True)
    (one / "nested" / "data.csv").write_text("1\n")
    assert artifacts.load_input("dataset", str(one)) == str(one / "nested" / "data.csv")
    (one / "more.csv").write_text("2\n")
    assert artifacts.load_input("dataset", str(one)) == str(one)
    assert artifacts.load_input("transform", str(one)) == str(one)


def test_a_step_kind_without_output_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="a register step has no output"):
        artifacts.load_input("register", str(tmp_path), "s", "p")


def test_csv_text_writes_rows_of_numbers(tmp_path):
    assert artifacts.csv_text(np.array([[1.5, 2], [3, 4]])) == "1.5,2.0\n3.0,4.0\n"
    assert artifacts.csv_text([1, 2, 3]) == "1\n2\n3\n"
    path = artifacts.save_csv([[1, 2.5]], str(tmp_path), "features")
    assert os.path.basename(path) == CSV_FILE and open(path).read() == "1,2.5\n"


@pytest.mark.parametrize("value", [{"X": [[1]]}, "1,2", None, [["a", 1]], 3])
def test_csv_text_refuses_what_a_transform_cannot_score(value):
    with pytest.raises(ArtifactError, match="'features'.*Fix:"):
        artifacts.csv_text(value, "features")
