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
