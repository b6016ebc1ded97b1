"""AWS errors become one-line errors that say what to fix; throttling is retried with backoff."""

from __future__ import annotations

import datetime

import boto3
import pytest
from botocore.stub import Stubber

from dagml.cli.main import main
from dagml.errors import ConfigurationError, DagmlError
from dagml.sagemaker import Settings
from dagml.sagemaker.aws import AccessDeniedError, Aws, AwsConfigurationError, ThrottledError
from dagml.sagemaker.deploy import deploy
from dagml.sagemaker.executions import wait
from tests.deploy.conftest import REGION, ROLE, fake_credentials
from tests.deploy.test_deploy import compiled_for, write_flow

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc123"
WHEN = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    fake_credentials(monkeypatch, tmp_path)


def stubbed(service):
    client = boto3.client(service, region_name=REGION)
    return client, Stubber(client)


def describe_response(name="p"):
    return {"PipelineName": name, "PipelineDefinition": "{}", "RoleArn": ROLE}


def test_throttling_is_retried_with_growing_backoff(offline):
    client, stub = stubbed("sagemaker")
    for _ in range(2):
        stub.add_client_error(
            "describe_pipeline", service_error_code="ThrottlingException", http_status_code=400
        )
    stub.add_response("describe_pipeline", describe_response(), {"PipelineName": "p"})
    delays = []
    aws = Aws(region=REGION, sleep=delays.append, clients={"sagemaker": client})
    with stub:
        assert aws.call("sagemaker", "describe_pipeline", PipelineName="p")["PipelineName"] == "p"
        stub.assert_no_pending_responses()
    assert len(delays) == 2 and 0 < delays[0] <= delays[1]


def test_throttling_that_never_stops_is_one_clear_error(offline):
    client, stub = stubbed("sagemaker")
    for _ in range(3):
        stub.add_client_error("describe_pipeline", service_error_code="Throttling", http_status_code=400)
    aws = Aws(region=REGION, sleep=lambda _: None, max_attempts=3, clients={"sagemaker": client})
    with stub, pytest.raises(ThrottledError) as info:
        aws.call("sagemaker", "describe_pipeline", "pipeline 'p'", PipelineName="p")
    message = str(info.value)
    assert (
        message.startswith("pipeline 'p': AWS throttled DescribePipeline")
        and "3 attempts with backoff" in message
    )
    assert "\n" not in message and isinstance(info.value, DagmlError)


def test_access_denied_names_the_iam_action_and_the_policy(offline, endpoint, tmp_path):
    compiled = compiled_for(write_flow(tmp_path / "a"), endpoint)
    s3, stub = stubbed("s3")
    stub.add_response("head_bucket", {}, {"Bucket": endpoint.bucket})
    stub.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stub.add_client_error(
        "put_object", service_error_code="AccessDenied", service_message="Access Denied", http_status_code=403
    )
    aws = Aws(region=REGION, endpoint_url=endpoint.url, clients={"s3": s3})
    settings = Settings(role_arn=endpoint.role, bucket=endpoint.bucket, region=REGION)
    with stub, pytest.raises(AccessDeniedError) as info:
        deploy(compiled, settings, aws, log=lambda _: None)
    message = str(info.value)
    assert "access denied: s3:PutObject (AccessDenied: Access Denied)" in message
    assert "docs/deploy.md" in message and "\n" not in message
    assert isinstance(info.value, PermissionError) and info.value.action == "s3:PutObject"


def test_no_credentials_is_a_usage_error_saying_how_to_configure_them(
    endpoint, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert main(["deploy", write_flow(tmp_path / "a"), *endpoint.settings_args()]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: pipeline 'flow-demo': no AWS credentials found") and "aws configure" in err
    assert err.count("\n") == 1  # one line, no traceback


def test_a_missing_bucket_says_how_to_create_it(endpoint, tmp_path, capsys):
    assert main(["deploy", write_flow(tmp_path / "a"), *endpoint.settings_args(bucket="no-such-bucket")]) == 2
    err = capsys.readouterr().err
    assert "bucket 'no-such-bucket' does not exist" in err and "aws s3 mb s3://no-such-bucket" in err
    assert endpoint.client("sagemaker").list_pipelines()["PipelineSummaries"] == []


def test_no_region_says_where_to_set_it(offline, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(AwsConfigurationError, match="no AWS region is set. Fix: pass --region"):
        Aws().client("sagemaker")
    assert issubclass(AwsConfigurationError, ConfigurationError)


def test_an_html_error_page_becomes_one_line(offline):
    client, stub = stubbed("sagemaker")
    stub.add_client_error(
        "list_pipeline_execution_steps",
        service_error_code="500",
        service_message="<!doctype html>\n<p>boom</p>",
        http_status_code=500,
    )
    with stub, pytest.raises(DagmlError) as info:
        Aws(region=REGION, clients={"sagemaker": client}).call(
            "sagemaker", "list_pipeline_execution_steps", PipelineExecutionArn=ARN
        )
    assert str(info.value) == "ListPipelineExecutionSteps failed (HTTP 500)"


def execution(status, reason=None):
    response = {"PipelineExecutionArn": ARN, "PipelineExecutionStatus": status}
    if reason:
        response["FailureReason"] = reason
    return response


def steps(*pairs):
    return {"PipelineExecutionSteps": [{"StepName": n, "StepStatus": s, "StartTime": WHEN} for n, s in pairs]}


def test_wait_follows_steps_and_returns_the_final_status(offline):
    client, stub = stubbed("sagemaker")
    args = {"PipelineExecutionArn": ARN}
    stub.add_response("describe_pipeline_execution", execution("Executing"), args)
    stub.add_response(
        "list_pipeline_execution_steps", steps(("prepare", "Executing")), {**args, "SortOrder": "Ascending"}
    )
    stub.add_response("describe_pipeline_execution", execution("Failed", "Step train failed"), args)
    stub.add_response(
        "list_pipeline_execution_steps",
        steps(("prepare", "Succeeded"), ("train", "Failed")),
        {**args, "SortOrder": "Ascending"},
    )
    lines, polls = [], []
    aws = Aws(region=REGION, sleep=polls.append, clients={"sagemaker": client})
    with stub:
        assert wait(aws, ARN, poll=5, log=lines.append, clock=lambda: 0.0) == "Failed"
    assert polls == [5]
    text = "\n".join(lines)
    assert "prepare: Executing" in text and "prepare: Succeeded" in text and "train: Failed" in text
    assert (
        "execution Failed: Step train failed" in text and lines[-1] == "execution abc123: Failed after 0m00s"
    )


def test_the_aws_modules_and_the_cli_import_no_boto3():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import sys, dagml.sagemaker.aws, dagml.sagemaker.deploy, dagml.sagemaker.executions, dagml.sagemaker.sources\n"
        "from dagml.cli.main import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
