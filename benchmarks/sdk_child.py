"""The SageMaker SDK v3 side of the benchmarks, run in a fresh process of its own.

    python benchmarks/sdk_child.py iris CODE_PREFIX SCORING_URI OUT
    python benchmarks/sdk_child.py plan PLAN_JSON TARGET CODE_PREFIX OUT

``iris`` builds the hand-written SDK iris pipeline (tests/sagemaker/sdk_iris.py);
``plan`` builds a synthetic pipeline (benchmarks/synthetic.py) the way an SDK user
would: a ScriptProcessor and a ProcessingStep per step reading its upstream
outputs, a PropertyFile per metrics step, ConditionStep + JsonGet + FailStep per
gate. Both then call ``definition()`` and write it to OUT. The last line printed
is JSON: seconds spent importing the SDK, building and in ``definition()``.

This file never imports dagml: the SDK side pays only for the SDK. It sets up the
offline recipe of ``dagml.sagemaker.interop.offline_sdk_environment`` itself
(region and role-check variables before the import, config override files
holding ``{}``, a no-op telemetry sender, the session's default bucket pre-filled)
and refuses every network connection, so no timing includes a network wait.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import sys
import tempfile
import time
import warnings
from typing import Any

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
BUCKET = "dagml-example-bucket"
IRIS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "sagemaker", "sdk_iris.py")


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise OSError("network is disabled in the benchmark's SDK process")


def offline() -> None:
    socket.socket.connect = socket.socket.connect_ex = _refuse  # type: ignore[method-assign]
    socket.getaddrinfo = socket.create_connection = _refuse  # type: ignore[assignment]
    config = os.path.join(tempfile.mkdtemp(prefix="dagml-bench-sdk-"), "sagemaker-config.yaml")
    with open(config, "w", encoding="utf-8") as f:
        f.write("{}\n")
    os.environ.update(
        {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "SAGEMAKER_VALIDATE_ROLE": "false",
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAGEMAKER_USER_CONFIG_OVERRIDE": config,
            "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": config,
        }
    )
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)


def session() -> Any:
    import boto3
    from sagemaker.core.telemetry import telemetry_logging
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    telemetry_logging._send_telemetry_request = lambda *a, **k: None
    s = PipelineSession(boto_session=boto3.Session(region_name=REGION), default_bucket=BUCKET)
    s._default_bucket = BUCKET
    return s


def build_iris(sess: Any, code_prefix: str, scoring: str) -> Any:
    spec = importlib.util.spec_from_file_location("sdk_iris", IRIS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build(sess, code_prefix, scoring)


def build_plan(sess: Any, nodes: list[dict[str, Any]], target: str, code_prefix: str, name: str) -> Any:
    from sagemaker.core import image_uris
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.functions import JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep

    image = image_uris.retrieve(
        framework="sklearn", region=REGION, version="1.2-1", py_version="py3", instance_type="ml.m5.large"
    )
    outputs = f"s3://{BUCKET}/dagml/{name}"
    has_gates = any(n["kind"] == "condition" for n in nodes)
    threshold = ParameterFloat(name="Threshold", default_value=0.5) if has_gates else None
    branch = {m for n in nodes if n["kind"] == "condition" for m in n["then"] + n["otherwise"]}
    steps: dict[str, Any] = {}
    reports: dict[str, Any] = {}

    def s3_output(step: str, output: str) -> Any:
        return ProcessingOutput(
            output_name=output,
            s3_output=ProcessingS3Output(
                s3_uri=f"{outputs}/{step}/{output}", local_path=f"/opt/ml/processing/{output}", s3_upload_mode="EndOfJob"
            ),
        )

    for node in nodes:
        kind, step = node["kind"], node["name"]
        if kind in ("step", "metrics"):
            inputs = [
                ProcessingInput(
                    input_name=dep,
                    s3_input=ProcessingS3Input(
                        s3_uri=steps[dep].properties.ProcessingOutputConfig.Outputs["output"].S3Output.S3Uri,
                        local_path=f"/opt/ml/processing/input/{dep}",
                        s3_data_type="S3Prefix",
                        s3_input_mode="File",
                    ),
                )
                for dep in node["deps"]
            ]
            outs = [s3_output(step, "output")]
            files = []
            if kind == "metrics":
                outs.append(s3_output(step, "metrics"))
                reports[step] = PropertyFile(name="EvaluationReport", output_name="metrics", path="evaluation.json")
                files = [reports[step]]
            processor = ScriptProcessor(
                role=ROLE, image_uri=image, command=["python3"], instance_type="ml.m5.large",
                instance_count=1, sagemaker_session=sess,
            )
            steps[step] = ProcessingStep(
                name=step,
                step_args=processor.run(
                    code=f"{code_prefix}dagml_entry.py",
                    inputs=inputs,
                    outputs=outs,
                    arguments=["--mode", "processing", "--target", target, "--step", step],
                ),
                property_files=files,
            )
        elif kind == "fail":
            steps[step] = FailStep(name=step, error_message="score below the threshold")
        else:
            metric = node["metric"]
            steps[step] = ConditionStep(
                name=step,
                conditions=[
                    ConditionGreaterThanOrEqualTo(
                        left=JsonGet(step_name=metric, property_file=reports[metric], json_path="score"), right=threshold
                    )
                ],
                if_steps=[steps[m] for m in node["then"]],
                else_steps=[steps[m] for m in node["otherwise"]],
            )
    return Pipeline(
        name=name,
        parameters=[threshold] if threshold is not None else [],
        steps=[steps[n["name"]] for n in nodes if n["name"] not in branch],
        sagemaker_session=sess,
    )


def main(argv: list[str]) -> int:
    mode = argv[0]
    offline()
    t0 = time.perf_counter()
    import sagemaker.mlops.workflow.pipeline  # noqa: F401  (the import is timed on its own)

    sess = session()
    t1 = time.perf_counter()
    if mode == "iris":
        code_prefix, scoring, out = argv[1:4]
        pipeline = build_iris(sess, code_prefix, scoring)
    else:
        plan_file, target, code_prefix, out = argv[1:5]
        with open(plan_file, encoding="utf-8") as f:
            nodes = json.load(f)
        name = argv[5] if len(argv) > 5 else "bench"
        pipeline = build_plan(sess, nodes, target, code_prefix, name)
    t2 = time.perf_counter()
    text = pipeline.definition()
    t3 = time.perf_counter()
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    print(json.dumps({"import_s": t1 - t0, "build_s": t2 - t1, "definition_s": t3 - t2, "chars": len(text)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
