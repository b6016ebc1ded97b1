"""Random pipeline programs (tests/strategies.py) compile to deterministic, schema-valid JSON
whose every reference resolves."""

import json
import os
import re

import jsonschema
import pytest
from hypothesis import given, settings

from dagml.api import graph_of
from dagml.runtime.bundle import make_bundle
from dagml.sagemaker import Settings, compile_pipeline
from tests.conftest import examples
from tests.golden_json import GOLDEN_SETTINGS
from tests.sagemaker.schema_allowlist import normalize
from tests.strategies import build, programs

SCHEMA = os.path.join(os.path.dirname(__file__), "data", "sagemaker-pipeline-definition.schema.json")
STRATEGIES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "strategies.py")


@pytest.fixture(scope="module")
def context():
    with open(SCHEMA, encoding="utf-8") as f:
        validator = jsonschema.Draft4Validator(json.load(f))
    # Random programs are declared in tests/strategies.py: one bundle of it serves them all.
    return validator, make_bundle(STRATEGIES), Settings(**GOLDEN_SETTINGS)


def all_steps(steps):
    for s in steps:
        yield s
        if s["Type"] == "Condition":
            yield from all_steps(s["Arguments"]["IfSteps"])
            yield from all_steps(s["Arguments"]["ElseSteps"])


def references(node):
    if isinstance(node, dict):
        if set(node) == {"Get"}:
            yield node["Get"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


@settings(max_examples=examples(40, 1000))
@given(programs(max_steps=40))
def test_random_programs_compile_deterministically_to_valid_resolvable_json(context, program):
    validator, bundle, config = context
    first = compile_pipeline(graph_of(build(program)), config, bundle=bundle)
    second = compile_pipeline(graph_of(build(program)), config, bundle=bundle)
    assert first.json == second.json
    definition = json.loads(first.json)
    normalized, _ = normalize(definition)
    assert [e.message for e in validator.iter_errors(normalized)] == []
    steps = {s["Name"]: s for s in all_steps(definition["Steps"])}
    assert set(steps) == {s.final_name for s in program.steps} | {c.name for c in program.conditions}
    params = {p["Name"] for p in definition["Parameters"]}
    for path in references(definition):
        head, _, rest = path.partition(".")
        if head == "Parameters":
            assert rest in params, path
        elif head == "Steps":
            name, _, prop = rest.partition(".")
            assert name in steps, path
            if prop.startswith("PropertyFiles."):
                files = {f["PropertyFileName"] for f in steps[name].get("PropertyFiles", [])}
                assert prop.split(".")[1] in files, path
            if prop.startswith("ProcessingOutputConfig.Outputs["):
                output = re.match(r"ProcessingOutputConfig\.Outputs\['([^']+)'\]", prop).group(1)
                outputs = {o["OutputName"] for o in steps[name]["Arguments"]["ProcessingOutputConfig"]["Outputs"]}
                assert output in outputs, path
        else:
            assert head == "Execution", path
    for s in steps.values():
        for dep in s.get("DependsOn", []):
            assert dep in steps


def _output_locations(step):
    """(where, the value) of every location a step writes to."""
    args = step.get("Arguments", {})
    for output in args.get("ProcessingOutputConfig", {}).get("Outputs", []):
        yield f"{step['Name']}.{output['OutputName']}", output["S3Output"]["S3Uri"]
    for key in ("OutputDataConfig", "TransformOutput"):
        if key in args:
            yield f"{step['Name']}.{key}", args[key]["S3OutputPath"]


def _resolve(value, execution_id, properties):
    """A location for one execution: Joins joined, the execution id and step properties filled in."""
    if isinstance(value, str):
        return value
    if "Get" in value:
        return execution_id if value["Get"] == "Execution.PipelineExecutionId" else properties[value["Get"]]
    join = value["Std:Join"]
    return join["On"].join(_resolve(v, execution_id, properties) for v in join["Values"])


@settings(max_examples=examples(25, 500))
@given(programs(max_steps=30))
def test_two_executions_never_write_to_the_same_location(context, program):
    """Issue #15: every output location, and every registered version's metrics, is per execution."""
    _, bundle, config = context
    definition = json.loads(compile_pipeline(graph_of(build(program)), config, bundle=bundle).json)
    steps = list(all_steps(definition["Steps"]))
    written: dict[str, set[str]] = {"aaaaaaaaaaaa": set(), "bbbbbbbbbbbb": set()}
    for execution_id, uris in written.items():
        for step in steps:
            for _, value in _output_locations(step):
                uris.add(_resolve(value, execution_id, {}))
            statistics = step.get("Arguments", {}).get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics")
            if statistics:  # a Join over the metrics step's own output, which is per execution
                (source,) = [v for v in statistics["S3Uri"]["Std:Join"]["Values"] if isinstance(v, dict)]
                assert re.fullmatch(r"Steps\.[^.]+\.ProcessingOutputConfig\.Outputs\['metrics'\]\.S3Output\.S3Uri", source["Get"])
    assert not written["aaaaaaaaaaaa"] & written["bbbbbbbbbbbb"]
    assert all("/aaaaaaaaaaaa/" in uri for uri in written["aaaaaaaaaaaa"])
