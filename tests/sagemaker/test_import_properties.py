"""Importing is the inverse of compiling, and any malformed definition gets a clear error."""

import json
import os
import signal
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagml.api import graph_of
from dagml.errors import DagmlError, DagmlWarning
from dagml.graph.model import AFTER, DATA
from dagml.runtime.bundle import make_bundle
from dagml.sagemaker import Settings, compile_pipeline
from dagml.sagemaker.importer import import_definition
from tests.conftest import examples
from tests.golden_json import GOLDEN_SETTINGS, PIPELINES, golden_sources
from tests.strategies import build, mutated_definitions, programs

STRATEGIES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "strategies.py")


@pytest.fixture(scope="module")
def context():
    return make_bundle(STRATEGIES), Settings(**GOLDEN_SETTINGS)


def shape(graph):
    """What must survive compile -> import: steps, kinds, params, branches and every edge."""
    kinds = {n: graph[n].kind for n in graph.order}
    edges = {(e.source, e.target, "order" if e.kind in (DATA, AFTER) else e.kind) for e in graph.edges()}
    params = [(p.name, p.type, p.default) for p in graph.params]
    return kinds, edges, params, dict(graph.branch_of)


@settings(max_examples=examples(40, 1000))
@given(programs(max_steps=40))
def test_import_of_compile_gives_the_programs_graph(context, program):
    bundle, config = context
    pipe = build(program)
    compiled = compile_pipeline(graph_of(pipe), config, bundle=bundle)
    imported = import_definition(compiled.json, name=pipe.name)
    original, back = shape(pipe.validate()), shape(imported)
    assert back[0] == original[0] and back[2] == original[2] and back[3] == original[3]
    assert back[1] == original[1]
    assert compile_pipeline(graph_of(imported), config).json == compiled.json


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang("the importer ran for 30 s on one input")


BASES = {name: json.load(open(os.path.join(PIPELINES, f"{name}.json"), encoding="utf-8")) for name in golden_sources()}


@settings(max_examples=examples(150, 5000), suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(sorted(BASES)).flatmap(lambda name: mutated_definitions(BASES[name])))
def test_mutated_definitions_get_only_clear_errors(definition):
    """No exception but DagmlError escapes, and no input hangs the importer (a 30 s watchdog)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)
    try:
        with warnings.catch_warnings():  # a mutation may leave a param unused: a warning, not an error
            warnings.simplefilter("ignore", DagmlWarning)
            graph = imported = import_definition(definition, name="fuzzed")
        compile_pipeline(graph_of(imported), Settings(**GOLDEN_SETTINGS))
        # no steps: nothing documents that the service refuses it, so it is a warning (docs/deploy.md)
        assert len(graph) >= 1 or [w.kind for w in graph.warnings] == ["empty-pipeline"]
    except DagmlError as exc:
        assert str(exc).strip()
        assert "Traceback" not in str(exc)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
