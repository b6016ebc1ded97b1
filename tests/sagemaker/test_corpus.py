"""Real SageMaker pipeline definitions, written elsewhere, through dagml's import, draw, compile and diff.

``tests/sagemaker/corpus/`` holds definitions gathered from public sources (the SageMaker
Python SDK's own integration and unit tests run offline, AWS example notebooks, the
CloudFormation documentation); ``manifest.json`` says where each came from, whether the
service's acceptance is evidenced, its step types and what dagml should do with it, and
``PROVENANCE.md`` explains how they were obtained. For each definition the service accepts,
dagml must import it, validate it, draw it, compile it back to the same JSON object and
find no difference between it and itself. For one the service refuses, dagml must refuse it
too, with the problem kind the manifest names.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from dagml.drawing import render
from dagml.drawing.dot import quote
from dagml.errors import DagmlError, DagmlWarning
from dagml.graph.errors import PipelineValidationError
from dagml.graph.model import AFTER
from dagml.sagemaker import compile_pipeline
from dagml.sagemaker.diff import diff_pipelines
from dagml.sagemaker.importer import import_definition, load_definition

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
MINIMUM = 40
#: Besides the definitions, the folder holds only these (tools/ is how the definitions were obtained).
OTHER_FILES = {"manifest.json", "PROVENANCE.md", "tools"}
#: Definitions larger than this do not belong in the corpus (keep the repository small).
MAX_BYTES = 300 * 1024


def manifest() -> dict[str, Any]:
    with open(os.path.join(CORPUS, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]


ENTRIES = manifest()["definitions"]
ACCEPTED = [e for e in ENTRIES if e["expected"] == "accept"]
REJECTED = [e for e in ENTRIES if e["expected"].startswith("reject:")]


def path_of(entry: dict[str, Any]) -> str:
    return os.path.join(CORPUS, entry["file"])


def original(entry: dict[str, Any]) -> Any:
    with open(path_of(entry), encoding="utf-8") as f:
        return json.load(f)


def walk(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every step of a definition, the steps in a condition's branches included."""
    for step in steps:
        yield step
        if step.get("Type") == "Condition":
            yield from walk(step.get("Arguments", {}).get("IfSteps", []))
            yield from walk(step.get("Arguments", {}).get("ElseSteps", []))


def quiet(function: Any, *args: Any) -> Any:
    """Call ``function`` with dagml's warnings silenced, as ``dagml show`` does (it prints them itself)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DagmlWarning)
        return function(*args)


# ---------------------------------------------------------------- the corpus itself


def test_the_corpus_is_large_enough_and_covers_every_step_type():
    data = manifest()
    assert len(ENTRIES) >= MINIMUM
    covered = set().union(*(e["step_types"] for e in ENTRIES))
    assert set(data["required_step_types"]) <= covered, sorted(set(data["required_step_types"]) - covered)
    constructs = set().union(*(e["sdk_constructs"] for e in ENTRIES))
    assert set(data["required_sdk_constructs"]) <= constructs
    # a type listed as not covered must really be missing (move it to required_step_types once found)
    assert not {gap["step_type"] for gap in data["not_covered"]} & covered


def test_every_file_is_in_the_manifest_and_every_entry_has_its_file():
    files = set(os.listdir(CORPUS)) - OTHER_FILES
    listed = [e["file"] for e in ENTRIES]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    unlisted, missing = sorted(files - set(listed)), sorted(set(listed) - files)
    assert not unlisted and not missing, {"not in the manifest": unlisted, "no such file": missing}
    assert all(e["file"] == f"{e['slug']}.json" for e in ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["slug"] for e in ENTRIES])
def test_each_entry_has_its_provenance_and_true_step_types(entry):
    source = entry["source"]
    assert source["repository"] and source["path"] and len(source["commit"]) == 40
    assert entry["obtained"] and entry["service_acceptance"]
    assert entry["expected"] == "accept" or (entry["expected"].startswith("reject: ") and entry["citation"])
    assert os.path.getsize(path_of(entry)) <= MAX_BYTES
    assert entry["step_types"] == sorted({s["Type"] for s in walk(original(entry)["Steps"])})


# ---------------------------------------------------------------- what the service accepts, dagml accepts


@pytest.mark.parametrize("entry", ACCEPTED, ids=[e["slug"] for e in ACCEPTED])
def test_an_accepted_definition_imports_validates_draws_compiles_back_and_diffs_clean(entry):
    data = original(entry)
    steps = list(walk(data["Steps"]))

    graph = quiet(load_definition, path_of(entry))
    assert sorted(s.name for s in graph) == sorted(s["Name"] for s in steps)
    after = {(e.source, e.target) for e in graph.edges(AFTER)}
    assert {(dep, s["Name"]) for s in steps for dep in s.get("DependsOn", [])} <= after

    dot = render(graph).dot  # what `dagml show FILE.json -o x.dot` writes
    assert dot.startswith("digraph") and all(f"{quote(s['Name'])} [" in dot for s in steps)

    compiled = quiet(compile_pipeline, graph, None)
    assert json.loads(compiled.json) == data  # the same definition, after JSON normalisation
    again = quiet(lambda: import_definition(compiled.json, name=graph.name))
    # compile -> import -> compile gives the same bytes
    assert quiet(compile_pipeline, again, None).json == compiled.json

    for other in (quiet(load_definition, path_of(entry)), again):  # itself, and itself compiled back
        difference = diff_pipelines(quiet(load_definition, path_of(entry)), other)
        assert difference.same, difference.format()


# ---------------------------------------------------------------- what the service refuses, dagml refuses


@pytest.mark.parametrize("entry", REJECTED, ids=[e["slug"] for e in REJECTED])
def test_a_definition_the_service_refuses_is_refused_with_its_problem_kind(entry):
    kind = entry["expected"].split(":", 1)[1].strip()
    with pytest.raises(DagmlError) as info:
        quiet(load_definition, path_of(entry))
    assert isinstance(info.value, PipelineValidationError), str(info.value)
    assert kind in info.value.kinds, str(info.value)
