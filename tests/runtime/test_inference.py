"""The default CSV inference handler and local batch scoring."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagml import DagmlError
from dagml.runtime import artifacts
from dagml.runtime.inference import InferenceError, input_fn, model_fn, output_fn, predict_fn, transform_file

from ..conftest import EXAMPLES

SCORING = os.path.join(EXAMPLES, "data", "iris_to_score.csv")


class RowSum:
    """A picklable stand-in model: predicts the sum of each row."""

    def predict(self, data):
        return np.asarray(data).sum(axis=1)


@pytest.mark.parametrize("body", [b"1,2\n3,4\n", "1,2\r\n3,4", b"\xef\xbb\xbf1,2\n\n3,4\n"])
def test_input_fn_reads_rows_of_numbers(body):
    data = input_fn(body, "text/csv; charset=utf-8")
    assert np.asarray(data).shape == (2, 2)
    assert np.asarray(data).tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    "body, says",
    [("a,b\n1,2\n", "line 1"), ("1,2\n3\n", "line 2 has 1 values"), ("1,,2\n", "line 1")],
)
def test_input_fn_refuses_headers_and_ragged_rows(body, says):
    with pytest.raises(InferenceError, match=says) as info:
        input_fn(body, "text/csv")
    assert isinstance(info.value, ValueError) and isinstance(info.value, DagmlError)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_input_fn_refuses_other_content_types(content_type):
    with pytest.raises(ValueError, match="unsupported content type.*text/csv"):
        input_fn(b"1,2\n", content_type)


def test_predict_fn_calls_predict_and_refuses_a_model_without_it():
    assert predict_fn(np.array([[1.0, 2.0]]), RowSum()).tolist() == [3.0]
    with pytest.raises(InferenceError, match="without a predict"):
        predict_fn([[1.0]], object())


def test_output_fn_writes_one_line_per_row():
    assert output_fn(np.array([0, 2, 1]), "text/csv") == "0\n2\n1\n"
    assert output_fn(np.array([[0.25, 0.75], [1.0, 0.0]]), "text/csv") == "0.25,0.75\n1.0,0.0\n"
    assert output_fn(["setosa", "a,b"], None) == 'setosa\n"a,b"\n'
    with pytest.raises(ValueError, match="unsupported accept type"):
        output_fn([1], "application/json")


@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=3, max_size=3), min_size=1))
def test_rows_round_trip_through_the_handlers(rows):
    data = input_fn(output_fn(np.array(rows), "text/csv").encode(), "text/csv")
    assert np.asarray(data).tolist() == rows


def test_model_fn_loads_model_pkl(tmp_path):
    artifacts.save_model(RowSum(), str(tmp_path), "train")
    assert isinstance(model_fn(str(tmp_path)), RowSum)


def test_transform_file_scores_every_line_like_batch_transform(tmp_path):
    artifacts.save_model(RowSum(), str(tmp_path / "model"), "train")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    path = transform_file(str(tmp_path / "model"), SCORING, str(out_dir))
    assert path == str(out_dir / "iris_to_score.csv.out")
    lines = open(path).read().splitlines()
    rows = open(SCORING).read().split()
    assert len(lines) == len(rows)
    assert [float(x) for x in lines] == pytest.approx([sum(map(float, r.split(","))) for r in rows])
    explicit = transform_file(str(tmp_path / "model"), SCORING, str(tmp_path / "scores.csv"))
    assert open(explicit).read() == open(path).read()


def test_transform_file_of_an_empty_file_writes_an_empty_file(tmp_path):
    artifacts.save_model(RowSum(), str(tmp_path), "train")
    (tmp_path / "empty.csv").write_text("")
    path = transform_file(str(tmp_path), str(tmp_path / "empty.csv"), str(tmp_path / "empty.out"))
    assert open(path).read() == ""
