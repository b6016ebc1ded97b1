"""The definition streamed to a file (issue #18): the same bytes, linted as it goes; and its size limit."""

import io
import os
import re

import pytest

from dagml.api import graph_of
from dagml.cli.main import main
from dagml.graph.errors import PipelineValidationError
from dagml.sagemaker import compile_pipeline
from dagml.sagemaker.lint import MAX_DEFINITION_CHARS, size_problems
from dagml.spec.target import load_target
from tests.golden_json import GOLDEN_SETTINGS, golden_sources

FLAGS = [f"--{k.replace('_', '-')}={v}" for k, v in GOLDEN_SETTINGS.items()]

CHAIN = '''"""A chain of {n} steps (tests/sagemaker/test_definition.py)."""

import inspect

from dagml import Pipeline

pipe = Pipeline("long-chain")


def _step(name, upstream):
    def fn(**inputs):
        return None

    fn.__name__ = fn.__qualname__ = name
    params = [inspect.Parameter(upstream, inspect.Parameter.POSITIONAL_OR_KEYWORD)] if upstream else []
    fn.__signature__ = inspect.Signature(params)
    return fn


for i in range({n}):
    pipe.step(_step(f"s{{i}}", f"s{{i - 1}}" if i else None))
'''


def chain(directory, n):
    directory.mkdir(exist_ok=True)
    path = directory / "long_chain.py"
    path.write_text(CHAIN.format(n=n))
    return str(path)


@pytest.mark.parametrize("name", sorted(golden_sources()))
def test_streamed_text_is_the_whole_definitions_text(name, settings):
    graph = graph_of(load_target(golden_sources()[name]))
    whole = compile_pipeline(graph, settings)
    out = io.StringIO()
    streamed = compile_pipeline(graph, settings, write=out.write)
    assert out.getvalue() == whole.json
    assert streamed.size == len(whole.json)
    assert [str(n) for n in streamed.notes] == [str(n) for n in whole.notes]
    assert (streamed.wheels, streamed.scripts, streamed.datasets) == (whole.wheels, whole.scripts, whole.datasets)
    # Made again on request, the same: what deploy and the SDK oracle read.
    assert streamed.definition == whole.definition
    assert streamed.json == whole.json


def test_a_streamed_compile_lints_every_step(tmp_path, settings, monkeypatch):
    import dagml.sagemaker.lint as lint

    monkeypatch.setattr(lint, "MAX_ARGUMENT_CHARS", 1)  # every job argument is now too long
    graph = graph_of(load_target(chain(tmp_path / "p", 3)))
    with pytest.raises(PipelineValidationError) as caught:
        compile_pipeline(graph, settings, write=io.StringIO().write)
    assert {(p.kind, p.subject) for p in caught.value.problems} == {("argument-too-long", f"s{i}") for i in range(3)}


def test_too_large_says_the_size_the_limit_its_source_how_many_fit_and_what_to_do():
    (problem,) = size_problems(2_000_000, 1000)
    assert problem.kind == "definition-too-large" and problem.severity == "error"
    text = str(problem)
    assert "2,000,000 characters" in text and f"{MAX_DEFINITION_CHARS:,}" in text
    assert "API reference: CreatePipeline's" in text and "PipelineDefinitionS3Location, lifts that" in text
    assert "average 2,000 characters" in text and "about 524 steps" in text
    assert "split it into 2 or more pipelines" in text and "pipe.param" in text and "one step" in text


def _fits(message):
    return int(re.search(r"about ([\d,]+) steps of this pipeline fit", message).group(1).replace(",", ""))


def test_the_cli_refuses_a_definition_over_the_limit_and_writes_no_file(tmp_path, capsys):
    path = chain(tmp_path / "big", 460)
    out = tmp_path / "big.json"
    assert main(["compile", path, "-o", str(out), *FLAGS]) == 1
    err = capsys.readouterr().err
    assert "definition-too-large" not in err  # the message, not the kind, is what a user reads
    assert re.search(r"the definition is 1,[\d,]+ characters; SageMaker accepts at most 1,048,576", err)
    assert "API reference: CreatePipeline's and UpdatePipeline's PipelineDefinition" in err
    assert "Its 460 steps average" in err and "Fix: split it into 2 or more pipelines" in err
    assert not out.exists() and not (tmp_path / "big.json.tmp").exists()

    # deploy compiles first: the same refusal, before any AWS call.
    assert main(["deploy", path, "--dry-run", *FLAGS]) == 1
    deploy_err = capsys.readouterr().err
    assert "SageMaker accepts at most 1,048,576" in deploy_err and "Its 460 steps average" in deploy_err

    # The estimate is right: that many steps of the same pipeline compile.
    fits = _fits(err)
    small = chain(tmp_path / "small", fits - 1)
    assert main(["compile", small, "-o", str(tmp_path / "small.json"), *FLAGS]) == 0
    assert os.path.getsize(tmp_path / "small.json") <= MAX_DEFINITION_CHARS


def test_the_limit_is_in_the_structured_problems(tmp_path, settings):
    graph = graph_of(load_target(chain(tmp_path / "p", 460)))
    with pytest.raises(PipelineValidationError) as caught:
        compile_pipeline(graph, settings, write=io.StringIO().write)
    assert [p.kind for p in caught.value.problems] == ["definition-too-large"]
