"""``dagml deploy`` end to end against moto's server: what a real service would also see.

Asserted: objects uploaded at the right keys, describe-pipeline returning exactly the
compiled definition, the start receiving the overrides. Known moto limits are met
head-on and named where they matter: it accepts any definition and marks executions
Succeeded at once; ListPipelineExecutionSteps answers HTTP 500; a definition loaded from
S3 is stored as Python repr text.
"""

from __future__ import annotations

import ast
import json
import os
import textwrap

import pytest

from dagml.api import graph_of
from dagml.cli.main import main
from dagml.sagemaker import Settings, compile_pipeline
from dagml.sagemaker.lint import S3_THRESHOLD_CHARS
from dagml.spec.target import load_target
from tests.conftest import EXAMPLES

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")
ABALONE = os.path.join(EXAMPLES, "abalone_pipeline.py")

FLOW = """
from dagml import Pipeline

pipe = Pipeline("flow-demo", description="a small flow")
threshold = pipe.param("Threshold", {default})
mode = pipe.param("Mode", "fast", enum=["fast", "full"])


@pipe.step(metrics=True)
def score(t=threshold, m=mode):
    return {{"accuracy": 0.9}}


stop = pipe.fail("TooLow", "too low")
pipe.condition("Check", score["accuracy"] >= threshold, otherwise=[stop])
"""


def write_flow(directory, default=0.5):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "flow.py"
    path.write_text(FLOW.format(default=default))
    return str(path)


def compiled_for(target, endpoint, bucket=None):
    settings = Settings(role_arn=endpoint.role, bucket=bucket or endpoint.bucket, region=endpoint.region)
    return compile_pipeline(graph_of(load_target(target)), settings)


def s3_body(endpoint, uri):
    bucket, _, key = uri[len("s3://") :].partition("/")
    return endpoint.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_deploying_iris_uploads_the_code_and_data_and_creates_exactly_the_compiled_pipeline(endpoint, capsys):
    assert main(["deploy", IRIS, *endpoint.settings_args()]) == 0
    out = capsys.readouterr().out
    compiled = compiled_for(IRIS, endpoint)
    assert compiled.code_prefix.startswith(f"s3://{endpoint.bucket}/dagml/code/")
    assert s3_body(endpoint, compiled.code_prefix + "sourcedir.tar.gz") == compiled.bundle.data
    assert s3_body(endpoint, compiled.code_prefix + "dagml_entry.py") == compiled.bundle.file(
        "dagml_entry.py"
    )
    (dataset,) = compiled.datasets
    with open(dataset.local_path, "rb") as f:
        assert s3_body(endpoint, dataset.uri) == f.read()
    described = endpoint.client("sagemaker").describe_pipeline(PipelineName="iris-classifier")
    assert described["PipelineDefinition"] == compiled.json
    assert described["RoleArn"] == endpoint.role
    assert described["PipelineDescription"] == "Train, gate on accuracy, register, batch-score"
    assert f"create pipeline iris-classifier ({endpoint.region} at {endpoint.url}; definition" in out
    assert out.count("\nupload ") == 3


@pytest.mark.parametrize(
    "target, name, count",
    [
        (IRIS, "iris-classifier", 5),  # prepare, train, evaluate (output, metrics), BatchTransform
        (ABALONE, "abalone", 7),  # preprocess (train, validation, test), train, evaluate (output, metrics), transform
    ],
)
def test_two_started_executions_of_the_deployed_definition_write_apart(endpoint, capsys, target, name, count):
    """Issue #15, through deploy/start: the deployed definition puts each output under the execution's
    id, and the service gives each started execution its own id (moto runs nothing, so the check is
    each output location resolved for each execution's id)."""
    assert main(["deploy", target, *endpoint.settings_args(), "--start"]) == 0
    assert main(["deploy", target, *endpoint.settings_args(), "--start"]) == 0
    capsys.readouterr()
    sm = endpoint.client("sagemaker")
    executions = sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]
    ids = {e["PipelineExecutionArn"].rsplit("/", 1)[1] for e in executions}
    assert len(ids) == 2
    definition = json.loads(sm.describe_pipeline(PipelineName=name)["PipelineDefinition"])

    def locations(steps):
        for step in steps:
            args = step["Arguments"]
            yield from (o["S3Output"]["S3Uri"] for o in args.get("ProcessingOutputConfig", {}).get("Outputs", []))
            yield from (args[k]["S3OutputPath"] for k in ("OutputDataConfig", "TransformOutput") if k in args)
            yield from locations(args.get("IfSteps", []) + args.get("ElseSteps", []))

    def resolved(value, execution_id):
        values = value["Std:Join"]["Values"]
        assert {"Get": "Execution.PipelineExecutionId"} in values, value
        parts = [execution_id if v == {"Get": "Execution.PipelineExecutionId"} else v for v in values]
        return value["Std:Join"]["On"].join(parts)

    found = list(locations(definition["Steps"]))
    assert len(found) == count
    first, second = ({resolved(v, i) for v in found} for i in sorted(ids))
    assert len(first) == len(second) == count and not first & second


def test_deploying_again_with_unchanged_code_is_no_change(endpoint, capsys):
    assert main(["deploy", IRIS, *endpoint.settings_args()]) == 0
    capsys.readouterr()
    assert main(["deploy", IRIS, *endpoint.settings_args()]) == 0
    out = capsys.readouterr().out
    assert "pipeline iris-classifier: no change" in out
    assert out.count("\nskip ") == 3 and "\nupload " not in out


def test_a_changed_default_shows_the_diff_then_updates(endpoint, tmp_path, capsys):
    first, second = write_flow(tmp_path / "a", 0.5), write_flow(tmp_path / "b", 0.7)
    assert main(["deploy", first, *endpoint.settings_args()]) == 0
    capsys.readouterr()
    assert main(["deploy", second, *endpoint.settings_args()]) == 0
    out = capsys.readouterr().out
    assert "~ Threshold: DefaultValue: 0.5 -> 0.7" in out
    assert (
        "Arguments.ProcessingInputs['code'].S3Input.S3Uri" in out and "[cache key]" in out
    )  # the code changed too
    assert "update pipeline flow-demo" in out
    assert out.index("~ Threshold") < out.index("update pipeline")  # the diff comes before the update
    described = endpoint.client("sagemaker").describe_pipeline(PipelineName="flow-demo")
    assert described["PipelineDefinition"] == compiled_for(second, endpoint).json


def test_start_passes_the_overrides_and_wait_exits_with_the_final_status(endpoint, tmp_path, capsys):
    flow = write_flow(tmp_path / "a")
    code = main(
        [
            "deploy",
            flow,
            *endpoint.settings_args(),
            "--start",
            "-p",
            "Threshold=0.9",
            "-p",
            "Mode=full",
            "--wait",
            "--poll",
            "0",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0  # moto marks every execution Succeeded at once
    assert "started execution arn:aws:sagemaker:us-east-1:" in out and "with Threshold=0.9, Mode=full" in out
    assert "per-step status is not available from this endpoint" in out  # moto: HTTP 500
    assert "execution Succeeded" in out
    sm = endpoint.client("sagemaker")
    (summary,) = sm.list_pipeline_executions(PipelineName="flow-demo")["PipelineExecutionSummaries"]
    received = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=summary["PipelineExecutionArn"])
    assert received["PipelineParameters"] == [
        {"Name": "Threshold", "Value": "0.9"},
        {"Name": "Mode", "Value": "full"},
    ]


def test_bad_overrides_are_refused_before_anything_is_deployed(endpoint, tmp_path, capsys):
    flow = write_flow(tmp_path / "a")
    assert main(["deploy", flow, *endpoint.settings_args(), "--start", "-p", "Treshold=1"]) == 2
    assert "has no parameter 'Treshold' (did you mean 'Threshold'?)" in capsys.readouterr().err
    assert main(["deploy", flow, *endpoint.settings_args(), "--start", "-p", "Mode=slow"]) == 2
    assert "not one of ['fast', 'full']" in capsys.readouterr().err
    assert main(["deploy", flow, *endpoint.settings_args(), "-p", "Mode=full"]) == 2
    assert "add --start" in capsys.readouterr().err
    assert endpoint.client("sagemaker").list_pipelines()["PipelineSummaries"] == []


def test_executions_and_status(endpoint, tmp_path, capsys):
    flow = write_flow(tmp_path / "a")
    aws = ["--region", endpoint.region, "--endpoint-url", endpoint.url]
    assert main(["executions", "flow-demo", *aws]) == 2  # no such pipeline
    assert "flow-demo" in capsys.readouterr().err
    assert main(["deploy", flow, *endpoint.settings_args()]) == 0
    assert main(["executions", "flow-demo", *aws]) == 0
    assert "has no executions yet" in capsys.readouterr().out
    assert main(["deploy", flow, *endpoint.settings_args(), "--start", "-p", "Mode=full"]) == 0
    arn = capsys.readouterr().out.split("started execution ")[1].split()[0]
    assert main(["executions", "flow-demo", *aws, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["arn"] == arn and listed["status"] == "Succeeded"
    assert main(["status", "flow-demo", *aws]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"execution {arn.rsplit('/', 1)[1]} of flow-demo: Succeeded")
    assert (
        "parameters: Mode=full" in out and "steps: per-step status is not available from this endpoint" in out
    )
    assert main(["status", "flow-demo", "--execution", arn, "--json", *aws]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parameters"] == {"Mode": "full"} and data["steps"] is None


def test_dry_run_changes_nothing_but_reads_what_is_there(endpoint, tmp_path, capsys):
    flow = write_flow(tmp_path / "a")
    assert main(["deploy", flow, *endpoint.settings_args(), "--dry-run", "--start"]) == 0
    out = capsys.readouterr().out
    assert "would upload s3://" in out and "would create pipeline flow-demo" in out
    assert "would start an execution of flow-demo with the defaults" in out
    assert endpoint.client("sagemaker").list_pipelines()["PipelineSummaries"] == []
    assert endpoint.client("s3").list_objects_v2(Bucket=endpoint.bucket).get("KeyCount") == 0


def test_dry_run_without_credentials_shows_the_whole_plan(endpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    flow = write_flow(tmp_path / "a")
    assert main(["deploy", flow, *endpoint.settings_args(), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run without AWS credentials" in out and "would create pipeline flow-demo" in out


BIG = """
from dagml import Pipeline

pipe = Pipeline("big-pipeline")


def make(i):
    def step():
        return i

    step.__name__ = step.__qualname__ = f"step_{{i:03d}}"
    return pipe.step(step)


for i in range({n}):
    make(i)
"""


def test_a_definition_of_100_kb_or_more_goes_through_s3(endpoint, tmp_path, capsys):
    path = tmp_path / "big" / "big_flow.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(BIG.format(n=90)))
    compiled = compiled_for(str(path), endpoint)
    assert len(compiled.json) >= S3_THRESHOLD_CHARS
    assert main(["deploy", str(path), *endpoint.settings_args()]) == 0
    out = capsys.readouterr().out
    uri = f"s3://{endpoint.bucket}/dagml/definitions/big-pipeline/"
    assert f"through {uri}" in out
    key = out.split(f"through {uri}")[1].split(")")[0]
    assert (
        s3_body(endpoint, uri + key) == compiled.json.encode()
    )  # what the real service reads, byte for byte
    # moto's limit: it keeps an S3-loaded definition as a dict and returns its Python repr, not JSON.
    # A real service returns the JSON; dagml says clearly when a deployed definition is not JSON.
    returned = endpoint.client("sagemaker").describe_pipeline(PipelineName="big-pipeline")[
        "PipelineDefinition"
    ]
    assert ast.literal_eval(returned) == compiled.definition
    assert main(["show", "deployed:big-pipeline", "--endpoint-url", endpoint.url]) == 1
    assert "deployed:big-pipeline: $: not JSON" in capsys.readouterr().err
    # so a second deploy cannot diff against it: it says so and updates
    assert main(["deploy", str(path), *endpoint.settings_args()]) == 0
    out = capsys.readouterr().out
    assert "cannot compare with the deployed definition" in out and "update pipeline big-pipeline" in out


def test_show_and_diff_read_deployed_pipelines(endpoint, tmp_path, capsys):
    first, second = write_flow(tmp_path / "a", 0.5), write_flow(tmp_path / "b", 0.7)
    assert main(["deploy", first, *endpoint.settings_args()]) == 0
    capsys.readouterr()
    assert (
        main(["show", "deployed:flow-demo", "--endpoint-url", endpoint.url, "-o", str(tmp_path / "flow.dot")])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("pipeline flow-demo: valid, 3 steps, 2 params, 1 condition")
    assert "Check: score.accuracy >= Threshold (0.5)" in out
    assert 'shape="diamond"' in (tmp_path / "flow.dot").read_text()
    settings = endpoint.settings_args()
    assert main(["diff", first, "deployed:flow-demo", *settings]) == 0
    assert "no differences" in capsys.readouterr().out
    assert main(["diff", "deployed:flow-demo", second, *settings, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["same"] is False and "score" in data["cache_invalidated"]
    changed = {(c["section"], c["name"]): c for c in data["changes"]}
    assert changed[("param", "Threshold")]["summary"] == "DefaultValue: 0.5 -> 0.7"
    assert main(["show", "deployed:nothing-here", "--endpoint-url", endpoint.url]) == 2
    assert "there is no deployed pipeline 'nothing-here'" in capsys.readouterr().err


def test_execution_overrides_accept_only_ascii_decimal_and_finite_numbers():
    import pytest

    from dagml.sagemaker.deploy import ParameterError, execution_parameters

    definition = {"Parameters": [{"Name": "N", "Type": "Integer"}, {"Name": "X", "Type": "Float"}]}
    for name, raw in [("X", "nan"), ("X", "inf"), ("X", "1e999"), ("N", "1_000"), ("N", "١٢"), ("X", "٠.٥")]:
        with pytest.raises(ParameterError, match=rf"pipeline 'flow', parameter '{name}'.*accepted: .*Fix:"):
            execution_parameters(definition, {name: raw}, "flow")
    assert execution_parameters(definition, {"N": " +7 ", "X": "0.5"}, "flow") == [
        {"Name": "N", "Value": "7"},
        {"Name": "X", "Value": "0.5"},
    ]
