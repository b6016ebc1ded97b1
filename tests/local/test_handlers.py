"""`dagml run` scores a batch transform with the training step's own inference handlers."""

from __future__ import annotations

import os

import pytest

from dagml.api import graph_of
from dagml.local.runner import run_pipeline
from dagml.spec.target import load_target
from tests.conftest import ROOT
from tests.local.test_runner import write_pipeline

HANDLERS = os.path.join(ROOT, "tests", "pipelines", "handlers.py")


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


def test_the_golden_pipeline_scores_rows_with_words_through_its_handlers(home):
    result = run_pipeline(graph_of(load_target(HANDLERS)), home=home)
    assert result.ok, result.error
    with open(os.path.join(result.step_dir("PriceRows"), "predictions", "to_score.csv.out")) as f:
        assert f.read() == "3.5\n4.0\n6.0\n1.0\n"  # Red 1.25, blue 0.5, green 2.0, red 0.0


BODY = """
pipe = Pipeline("scored")
rows = pipe.dataset("Rows", local="rows.csv")


@pipe.step(kind="training")
def train():
    return {"a": 1.0, "b": 2.0}


@train.model_fn
def load(model_dir):
    import os, pickle
    with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
        return pickle.load(f)


@train.input_fn
def parse(body, content_type):
    return [line.strip() for line in body.decode().split() if line.strip()]


@train.predict_fn
def lookup(words, model):
    return [model[w] for w in words]


pipe.batch_transform("Score", model=train, data=rows)
"""


def test_every_handler_runs_in_the_local_transform_and_an_error_names_the_function(tmp_path, home):
    (tmp_path / "rows.csv").write_text("a\nb\na\n")
    result = run_pipeline(graph_of(write_pipeline(tmp_path, BODY, "scored_ok")), home=home)
    assert result.ok, result.error
    with open(os.path.join(result.step_dir("Score"), "predictions", "rows.csv.out")) as f:
        assert f.read() == "1.0\n2.0\n1.0\n"  # their model_fn, input_fn, predict_fn; dagml's output_fn

    (tmp_path / "rows.csv").write_text("a\nz\n")
    failed = run_pipeline(graph_of(write_pipeline(tmp_path, BODY, "scored_bad")), home=home)
    assert not failed.ok and failed.steps["Score"].status == "failed"
    assert "predict_fn scored_bad.lookup raised KeyError: 'z'" in failed.steps["Score"].error
