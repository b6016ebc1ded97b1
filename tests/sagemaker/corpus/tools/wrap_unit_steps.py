"""Run chosen SageMaker SDK unit tests, keep the Step each one builds, and print the
definition of a one-step Pipeline holding it.

Not part of dagml's test suite: it is how the ``sdk2-unit-*`` and ``sdk3-unit-*`` files in
this folder were obtained, for step types that no public integ test or example puts in a
pipeline (see PROVENANCE.md). Usage, from a checkout of the SDK's tests::

    python wrap_unit_steps.py OUTDIR 'module:test_function[=Param,...]' 'module:Class.test_method' ...

``=Param,...`` declares String parameters (no default) that the step's arguments already
reference with ``{"Get": "Parameters.Param"}``, which a unit test of the step alone leaves
undeclared. Every AWS call is kept local by moto.
"""

import importlib
import json
import os
import sys

from moto import mock_aws

BUCKET = "sagemaker-us-east-1-123456789012"

_mock = mock_aws()
_mock.start()

import boto3  # noqa: E402

boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)

try:  # SDK v2
    from sagemaker.workflow import steps as steps_module
    from sagemaker.workflow.parameters import ParameterString
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
except ImportError:  # SDK v3
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow import steps as steps_module
    from sagemaker.mlops.workflow.pipeline import Pipeline

built = []
_init = steps_module.Step.__init__


def _recording_init(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    built.append(self)


steps_module.Step.__init__ = _recording_init


def main(out, specs):
    os.makedirs(out, exist_ok=True)
    session = PipelineSession(default_bucket=BUCKET)
    for spec in specs:
        spec, _, params = spec.partition("=")
        module_name, _, attr = spec.partition(":")
        owner = importlib.import_module(module_name)
        *classes, test = attr.split(".")
        for name in classes:
            owner = getattr(owner, name)()
        built.clear()
        getattr(owner, test)()
        step = built[-1]
        pipeline = Pipeline(
            name="UnitTestStep",
            parameters=[ParameterString(name=p) for p in params.split(",") if p],
            steps=[step],
            sagemaker_session=session,
        )
        record = {"test": spec, "declared_params": params, "definition": pipeline.definition()}
        stem = f"{module_name}__{attr}".replace(".", "_")
        with open(os.path.join(out, stem + ".json"), "w", encoding="utf-8") as f:
            json.dump(record, f)
        print(stem, step.step_type.value)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
