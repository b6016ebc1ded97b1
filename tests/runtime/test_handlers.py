"""Serving with a training step's own inference handlers (dagml.runtime.inference)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from dagml.runtime import artifacts
from dagml.runtime.inference import (
    STEP_ENV,
    TARGET_ENV,
    InferenceError,
    Served,
    model_fn,
    step_handlers,
    transform_file,
    transform_fn,
)
from dagml.spec.handlers import InferenceHandlers

from ..conftest import ROOT

HANDLERS = os.path.join(ROOT, "tests", "pipelines", "handlers.py")


class RowSum:
    """A picklable stand-in model: predicts the sum of each row."""

    def predict(self, data):
        return np.asarray(data).sum(axis=1)


def words(body, content_type):
    """``word,number`` rows: the number, times the word's length."""
    return [[len(w) * float(n)] for w, n in (line.split(",") for line in body.decode().split())]


def as_json(prediction, accept):
    return json.dumps([float(p) for p in prediction]), "application/json"


def as_text(prediction, accept):
    return "\n".join(str(float(p)) for p in prediction) + "\n"


def as_bytes(prediction, accept):
    return b"done\n"


def as_dict(prediction, accept):
    return {"predictions": list(prediction)}


def broken(input_data, model):
    raise KeyError("feature")


def picky(body, content_type):
    raise InferenceError("only on Tuesdays", status=422)


def loader(model_dir):
    return RowSum()


def answer(response):
    return response.status_code, response.content_type, response.get_data()


def test_an_input_fn_alone_reads_words_and_dagml_predicts_and_writes_csv():
    served = Served(RowSum(), InferenceHandlers(input_fn=words))
    assert answer(transform_fn(served, b"ab,1\nabc,2\n", "text/csv", "text/csv")) == (
        200,
        "text/csv; charset=utf-8",
        b"2.0\n6.0",
    )
    # dagml's output_fn still refuses an Accept it cannot write, before any work
    status, content_type, body = answer(transform_fn(served, b"ab,1\n", "text/csv", "application/json"))
    assert (status, content_type) == (406, "application/json") and b"unsupported accept" in body


def test_the_same_request_without_handlers_is_refused_by_dagmls_default():
    assert answer(transform_fn(RowSum(), b"ab,1\n", "text/csv", "text/csv"))[0] == 400


@pytest.mark.parametrize(
    "output, accept, expected",
    [
        (as_json, "text/csv", (200, "application/json", b"[2.0, 6.0]")),  # the content type it chose
        (as_text, "text/plain", (200, "text/plain; charset=utf-8", b"2.0\n6.0")),  # labelled with the Accept
        (as_text, "*/*", (200, "text/csv; charset=utf-8", b"2.0\n6.0")),  # a wildcard: the default Accept
        (as_bytes, "application/x-thing", (200, "application/x-thing", b"done")),
    ],
)
def test_a_users_output_fn_chooses_the_body_and_its_content_type(output, accept, expected):
    served = Served(RowSum(), InferenceHandlers(input_fn=words, output_fn=output))
    assert answer(transform_fn(served, b"ab,1\nabc,2\n", "text/csv", accept)) == expected


@pytest.mark.parametrize(
    "handlers, body, status, says",
    [
        (InferenceHandlers(input_fn=words), b"ab,x\n", 400, "input_fn tests.runtime.test_handlers.words raised ValueError"),
        (InferenceHandlers(input_fn=picky), b"1\n", 422, "only on Tuesdays"),
        (InferenceHandlers(predict_fn=broken), b"1\n", 500, "predict_fn tests.runtime.test_handlers.broken raised KeyError"),
        (InferenceHandlers(output_fn=as_dict), b"1\n", 500, "returned dict"),
        (InferenceHandlers(predict_fn=broken), b"a\n", 400, "not all numbers"),  # dagml's input_fn, before theirs
    ],
)
def test_errors_are_answered_with_a_status_and_a_message_naming_the_function(handlers, body, status, says):
    response = transform_fn(Served(RowSum(), handlers), body, "text/csv", "text/csv")
    assert (response.status_code, response.content_type) == (status, "application/json")
    assert says in json.loads(response.get_data())["error-message"]


def test_model_fn_serves_dagmls_default_unless_the_environment_names_a_step(tmp_path, monkeypatch):
    artifacts.save_model(RowSum(), str(tmp_path), "train")
    monkeypatch.delenv(TARGET_ENV, raising=False)
    monkeypatch.delenv(STEP_ENV, raising=False)
    assert isinstance(model_fn(str(tmp_path)), RowSum)
    monkeypatch.setenv(TARGET_ENV, HANDLERS)
    monkeypatch.setenv(STEP_ENV, "train")
    served = model_fn(str(tmp_path))
    assert isinstance(served, Served) and isinstance(served.model, RowSum)
    assert [role for role, _ in served.handlers.declared] == ["input_fn", "predict_fn", "output_fn"]


def test_model_fn_refuses_an_environment_that_names_half_a_step_or_a_missing_one(tmp_path, monkeypatch):
    monkeypatch.setenv(TARGET_ENV, HANDLERS)
    monkeypatch.delenv(STEP_ENV, raising=False)
    with pytest.raises(InferenceError, match="sets DAGML_TARGET but not DAGML_STEP") as info:
        model_fn(str(tmp_path))
    assert info.value.status == 500
    with pytest.raises(InferenceError, match="has no training step 'trian'.*did you mean 'train'"):
        step_handlers(HANDLERS, "trian")
    with pytest.raises(InferenceError, match="loading that pipeline failed"):
        step_handlers(str(tmp_path / "gone.py"), "train")


def test_a_users_model_fn_loads_the_model(tmp_path):
    served = Served(loader(str(tmp_path)), InferenceHandlers(model_fn=loader))
    assert answer(transform_fn(served, b"1,2\n", "text/csv", None))[2] == b"3.0"
    path = transform_file(str(tmp_path), _write(tmp_path, "x.csv", b"1,2\n3,4\n"), str(tmp_path / "x.out"), handlers=InferenceHandlers(model_fn=loader))
    assert open(path, "rb").read() == b"3.0\n7.0\n"


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_transform_file_scores_with_the_steps_handlers_like_the_container(tmp_path):
    artifacts.save_model(RowSum(), str(tmp_path), "train")
    handlers = InferenceHandlers(input_fn=words, output_fn=as_json)
    path = transform_file(str(tmp_path), _write(tmp_path, "rows.csv", b"ab,1\nabc,2\n"), str(tmp_path), handlers=handlers)
    assert path == str(tmp_path / "rows.csv.out")
    assert open(path, "rb").read() == b"[2.0, 6.0]\n"  # one response, then the newline AssembleWith Line adds


def test_transform_file_with_dagmls_handler_refuses_a_content_type_it_cannot_handle(tmp_path):
    """Locally as on SageMaker, where a transform's ContentType is also its Accept: refused, not read as CSV."""
    artifacts.save_model(RowSum(), str(tmp_path), "train")
    with pytest.raises(InferenceError, match="unsupported accept type 'application/json'"):
        transform_file(str(tmp_path), _write(tmp_path, "a.json", b"[]"), str(tmp_path / "o"), content_type="application/json")


def test_the_golden_pipelines_handlers_price_words(tmp_path):
    """tests/pipelines/handlers.py, as the container bed serves it, without a container."""
    from sklearn.linear_model import LinearRegression

    handlers = step_handlers(HANDLERS, "train")
    model = LinearRegression(fit_intercept=False).fit([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], [1, 2, 3, 2])
    served = Served(model, handlers)
    assert answer(transform_fn(served, b"Red,1.25\nblue,0.5\n", "text/csv", "application/json")) == (
        200,
        "application/json",
        b'{"predictions": [3.5, 4.0]}',
    )
    assert answer(transform_fn(served, b"Red,1.25\nblue,0.5\n", "text/csv", "text/csv"))[2] == b"3.5\n4.0"
    assert answer(transform_fn(served, b"purple,1\n", "text/csv", "text/csv"))[0] == 400
