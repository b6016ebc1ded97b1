"""Named outputs and raw inputs (issue #15, part 2): declared, validated, run locally, compiled.

The same pipelines run in SageMaker's images in tests/containers/test_bed.py.
"""

from __future__ import annotations

import json
import os
import pickle

import pytest

from dagml import DeclarationError, Output, Pipeline, PipelineValidationError
from dagml.api import graph_of
from dagml.local.runner import run_pipeline
from dagml.runtime.artifacts import ArtifactError, load_named_output, save_named_outputs
from dagml.sagemaker import Settings, compile_pipeline
from dagml.spec.target import load_target
from tests.conftest import ROOT
from tests.local.test_runner import write_pipeline

DATAFLOW = os.path.join(ROOT, "tests", "pipelines", "dataflow.py")
SETTINGS = Settings(role_arn="arn:aws:iam::111122223333:role/R", bucket="example-bucket", region="us-east-1")


def compiled_steps(pipe) -> dict:
    definition = json.loads(compile_pipeline(graph_of(pipe), SETTINGS).json)
    steps = {}
    todo = list(definition["Steps"])
    while todo:
        step = todo.pop()
        steps[step["Name"]] = step
        todo += step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", [])
    return steps


# ------------------------------------------------------------------ declaring
def test_named_outputs_are_declared_and_read_by_name():
    pipe = Pipeline("p")

    @pipe.step(outputs=["train", Output("test", s3="s3://bucket/test/")])
    def split(outputs):
        return None

    assert list(split.outputs) == ["train", "test"]
    ref = split.outputs["train"]
    assert (ref.step, ref.name, str(ref)) == ("split", "train", "split.outputs['train']")
    with pytest.raises(DeclarationError, match=r"has no output 'tset' \(did you mean 'test'\?\)"):
        split.outputs["tset"]


@pytest.mark.parametrize(
    "options, match",
    [
        ({"outputs": ["a"], "kind": "training"}, "outputs= is for processing steps"),
        ({"outputs": ["a"], "metrics": True}, "returns them, not a metrics report"),
        ({"outputs": ["output"]}, "'output' is reserved"),
        ({"outputs": ["a", "a"]}, "declared twice"),
        ({"outputs": ["bad name"]}, "must start with a letter"),
        ({"outputs": []}, "declares no output"),
        ({"outputs": "train"}, "must be a list of names"),
    ],
)
def test_bad_outputs_fail_at_the_decorator_line(options, match):
    pipe = Pipeline("p")
    with pytest.raises(DeclarationError, match=match):
        pipe.step(**options)(lambda outputs=None: None)


def test_a_step_with_outputs_is_read_by_output_not_as_a_whole():
    pipe = Pipeline("p")

    @pipe.step(outputs=["train"])
    def split():
        return {"train": 1}

    @pipe.step
    def fit(split):
        return split

    with pytest.raises(PipelineValidationError) as info:
        pipe.validate()
    (problem,) = info.value.problems
    assert problem.kind == "not-data" and "split.outputs['train']" in problem.fix


def test_an_output_of_another_pipeline_is_refused():
    other = Pipeline("other")

    @other.step(outputs=["train"])
    def split():
        return None

    pipe = Pipeline("p")
    with pytest.raises(DeclarationError, match="not an output of a step of pipeline 'p'"):

        @pipe.step
        def fit(data=split.outputs["train"]):
            return data


def test_a_chosen_destination_must_be_an_s3_uri():
    with pytest.raises(DeclarationError, match="'bucket/x' is not an S3 URI"):
        Output("a", s3="bucket/x")


def test_datasets_take_delivery_options_and_file_urls(tmp_path):
    pipe = Pipeline("p")
    data = pipe.dataset("D", local=(tmp_path / "x.csv").as_uri(), s3="s3://b/k/", input_mode="FastFile", distribution="ShardedByS3Key")
    assert data.local == str(tmp_path / "x.csv")
    with pytest.raises(DeclarationError, match="Pipe mode streams the data through a FIFO"):
        pipe.dataset("E", s3="s3://b/k", input_mode="Pipe")
    with pytest.raises(DeclarationError, match="distribution='Sharded'"):
        pipe.dataset("F", s3="s3://b/k", distribution="Sharded")
    with pytest.raises(DeclarationError, match="names host 'server'"):
        pipe.dataset("G", local="file://server/share/x.csv")


def test_a_processing_step_cannot_read_a_fastfile_dataset():
    pipe = Pipeline("p")
    data = pipe.dataset("D", s3="s3://b/k/", input_mode="FastFile")

    @pipe.step
    def load(raw=data):
        return raw

    with pytest.raises(PipelineValidationError, match="S3InputMode is File or Pipe"):
        pipe.validate()


# ------------------------------------------------------------------ the runtime
def test_outputs_are_filled_by_files_or_by_returned_values(tmp_path):
    dirs = {n: str(tmp_path / n) for n in ("files", "value")}
    for d in dirs.values():
        os.makedirs(d)
    (tmp_path / "files" / "a.csv").write_text("1\n")
    assert save_named_outputs({"value": [1, 2]}, dirs, "s") == {"files": "files", "value": "value"}
    assert load_named_output(dirs["value"]) == [1, 2]
    assert load_named_output(dirs["files"]) == dirs["files"]  # files: the directory's path


@pytest.mark.parametrize(
    "returned, write, match",
    [
        (None, False, "output 'a' is empty"),
        ({"a": 1}, True, "got both files and a returned value"),
        ({"b": 1}, False, r"'b', which is not one of its outputs"),
        ([1], False, "returned a list"),
    ],
)
def test_an_output_filled_wrongly_fails_the_step_with_the_fix(tmp_path, returned, write, match):
    directory = tmp_path / "a"
    directory.mkdir()
    if write:
        (directory / "x").write_text("x")
    with pytest.raises(ArtifactError, match=match) as info:
        save_named_outputs(returned, {"a": str(directory)}, "split")
    assert "Fix:" in str(info.value) or "empty" in str(info.value)


# ------------------------------------------------------------------ local runs
def test_the_dataflow_pipeline_runs_locally_and_each_reader_gets_its_output(tmp_path):
    result = run_pipeline(graph_of(load_target(DATAFLOW)), home=str(tmp_path / "home"))
    assert result.ok, result.error
    assert result.output("describe") == {"rows": 6, "slope": 2.0}
    assert result.output("split", "summary") == {"rows": 6}
    features = result.output("split", "features")
    assert os.path.isdir(features) and os.listdir(features) == ["features.csv"]
    outputs = result.outputs("split")
    assert sorted(outputs) == ["outputs/features", "outputs/holdout", "outputs/summary"]
    with open(result.outputs("ScoreHoldout")["predictions"]) as f:
        assert [float(x) for x in f.read().split()] == pytest.approx([11.0, 13.0])


def test_a_cached_step_brings_its_named_outputs_back(tmp_path):
    graph = graph_of(load_target(DATAFLOW))
    home = str(tmp_path / "home")
    first = run_pipeline(graph, home=home)
    second = run_pipeline(graph, home=home)
    assert first.ok and second.ok
    assert second.steps["split"].status == "cached"
    with open(os.path.join(second.outputs("split")["outputs/summary"], "output.pkl"), "rb") as f:
        assert pickle.load(f) == {"rows": 6}


def test_an_empty_output_fails_the_step_and_names_it(tmp_path):
    pipe = write_pipeline(
        tmp_path,
        """
        pipe = Pipeline("empty-output")

        @pipe.step(outputs=["train", "test"])
        def split(outputs):
            (outputs["train"] / "t.csv").write_text("1")
        """,
    )
    result = run_pipeline(graph_of(pipe), home=str(tmp_path / "home"))
    assert not result.ok
    assert "output 'test' is empty" in result.error and "split" in result.error


# ------------------------------------------------------------------ compiled
def test_each_named_output_is_its_own_processing_output_and_input():
    steps = compiled_steps(load_target(DATAFLOW))
    outputs = {o["OutputName"]: o["S3Output"] for o in steps["split"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]}
    assert sorted(outputs) == ["features", "holdout", "summary"]
    assert outputs["features"]["LocalPath"] == "/opt/ml/processing/outputs/features"
    assert {"Get": "Execution.PipelineExecutionId"} in outputs["features"]["S3Uri"]["Std:Join"]["Values"]
    assert outputs["summary"]["S3Uri"] == {"Get": "Parameters.ExportUri"}  # the chosen destination
    channels = {c["ChannelName"]: c for c in steps["fit"]["Arguments"]["InputDataConfig"]}
    assert channels["features"]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.split.ProcessingOutputConfig.Outputs['features'].S3Output.S3Uri"
    }
    extra = channels["extra"]
    assert extra["InputMode"] == "FastFile"
    assert extra["DataSource"]["S3DataSource"]["S3DataDistributionType"] == "ShardedByS3Key"
    (summary,) = [i for i in steps["describe"]["Arguments"]["ProcessingInputs"] if i["InputName"] == "summary"]
    assert summary["S3Input"]["S3Uri"] == {"Get": "Steps.split.ProcessingOutputConfig.Outputs['summary'].S3Output.S3Uri"}
    source = steps["ScoreHoldout"]["Arguments"]["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    assert source == {"Get": "Steps.split.ProcessingOutputConfig.Outputs['holdout'].S3Output.S3Uri"}
