"""Facts about the steps are derived once, at build, and every consumer reads the same ones."""

from __future__ import annotations

import json
import os

from dagml import Metrics, Pipeline
from dagml.contract import METRICS_OUTPUT_NAME, PROPERTY_FILE_NAME
from dagml.graph.lowered import lower_conditions
from dagml.sagemaker import Settings, compile_pipeline
from dagml.spec.target import load_target

from ..conftest import EXAMPLES

SETTINGS = Settings(role_arn="arn:aws:iam::111122223333:role/R", bucket="dagml-facts-bucket", region="us-east-1")


def _kinds_pipeline() -> Pipeline:
    pipe = Pipeline("kinds")
    data = pipe.dataset("Raw", local="raw.csv")

    @pipe.step
    def features(raw=data) -> list:
        return [[1.0]]

    @pipe.step
    def report(features):  # a dict literal, neither declared a report nor read: data
        return {"rows": len(features)}

    @pipe.step
    def declared(features) -> Metrics:
        return {"rows": len(features)}

    @pipe.step(kind="training")
    def fit(features):
        return object()

    pipe.batch_transform("Score", model=fit, data=features)
    return pipe


def test_iris_facts():
    graph = load_target(os.path.join(EXAMPLES, "iris_pipeline.py")).validate()
    assert graph.reports == graph.reports_read == {"evaluate"}
    assert graph.scored == frozenset()
    (condition,) = graph.conditions
    assert list(graph.lowered[condition.name]) == lower_conditions(condition.expression)


def test_reports_are_declared_or_read_and_a_dict_literal_alone_is_data():
    graph = _kinds_pipeline().validate()
    assert graph.reports == {"declared"} and graph.reports_read == frozenset()
    assert graph.scored == {"features"}


def _steps(definition: dict) -> dict:
    out = {}

    def walk(steps: list) -> None:
        for s in steps:
            out[s["Name"]] = s
            walk(s.get("Arguments", {}).get("IfSteps", []) + s.get("Arguments", {}).get("ElseSteps", []))

    walk(definition["Steps"])
    return out


def test_the_compiler_declares_a_report_for_exactly_the_graphs_reports(tmp_path):
    source = tmp_path / "kinds.py"
    source.write_text(
        "from dagml import Metrics, Pipeline\n"
        "pipe = Pipeline('kinds')\n"
        "@pipe.step\n"
        "def prepare():\n    return [[1.0]]\n"
        "@pipe.step\n"
        "def evaluate(prepare):\n    return {'accuracy': 0.9}\n"
        "@pipe.step\n"
        "def audit(prepare) -> Metrics:\n    return {'rows': 1.0}\n"
    )
    graph = load_target(str(source)).validate()
    assert graph.reports == {"audit"}
    steps = _steps(json.loads(compile_pipeline(graph, SETTINGS).json))
    for name in ("prepare", "evaluate", "audit"):
        outputs = {o["OutputName"] for o in steps[name]["Arguments"]["ProcessingOutputConfig"]["Outputs"]}
        has_files = any(f["PropertyFileName"] == PROPERTY_FILE_NAME for f in steps[name].get("PropertyFiles", []))
        assert (METRICS_OUTPUT_NAME in outputs) == has_files == (name in graph.reports), name
