"""A pytest plugin that runs the SageMaker Python SDK's own pipeline tests offline and keeps
the definition each test sends to CreatePipeline.

Not part of dagml's test suite: it is how the ``sdk2-*`` and ``sdk3-*`` integ definitions in
this folder were obtained (see PROVENANCE.md for the exact commands). Loaded with
``-p capture_plugin`` into a run of the SDK's tests, it

- starts moto (``mock_aws``) before the SDK's conftest is imported, so every AWS call stays
  local: the SageMakerRole IAM role and the default bucket exist, S3 uploads land in moto;
- makes ``get_execution_role`` return ``arn:aws:iam::123456789012:role/SageMakerRole``;
- replaces the build-and-push of the function-step test image by its ECR name;
- replaces ``Pipeline.create`` / ``upsert`` / ``update`` by a recorder: it writes
  ``pipeline.definition()`` (the exact text the SDK would send) to ``$CAPTURE_DIR`` with the
  test's node id, then raises, so nothing runs and nothing waits.

The tests then fail at that point (or in their ``finally`` clean-up); only the recorded
definitions matter.
"""

import json
import os
import re
import sys

import pytest
from moto import mock_aws

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole"
OUT = os.environ["CAPTURE_DIR"]
REGION = os.environ.get("AWS_REGION", "us-east-1")

_mock = mock_aws()
_mock.start()
os.makedirs(OUT, exist_ok=True)
_current = {"id": None, "n": 0}


class Captured(Exception):
    """Raised where the test would have called CreatePipeline."""


def _role(*args, **kwargs):
    return ROLE


def _record(self, *args, **kwargs):
    text = self.definition()
    _current["n"] += 1
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", _current["id"] or "unknown")
    record = {"test": _current["id"], "call": _current["n"], "pipeline_name": self.name, "definition": text}
    with open(os.path.join(OUT, f"{stem}__{_current['n']}.json"), "w", encoding="utf-8") as f:
        json.dump(record, f)
    raise Captured(f"captured the definition of {self.name}")


def _install():
    import sagemaker

    sagemaker.get_execution_role = _role
    try:  # SDK v2
        import sagemaker.session

        sagemaker.session.get_execution_role = _role
        from sagemaker.workflow.pipeline import Pipeline
    except ImportError:  # SDK v3
        import sagemaker.core.helper.session_helper as helper

        helper.get_execution_role = _role
        from sagemaker.mlops.workflow.pipeline import Pipeline
    Pipeline.create = Pipeline.upsert = Pipeline.update = _record


def _world():
    import boto3

    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName="SageMakerRole", AssumeRolePolicyDocument="{}")
    s3 = boto3.client("s3", region_name=REGION)
    where = {} if REGION == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    for bucket in [f"sagemaker-{REGION}-{ACCOUNT}", *os.environ.get("CAPTURE_BUCKETS", "").split()]:
        s3.create_bucket(Bucket=bucket, **where)


_install()
_world()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _current["id"] = item.nodeid
    _current["n"] = 0


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Name the function-step test image instead of building and pushing it with docker."""
    v2 = sys.modules.get("tests.integ.sagemaker.conftest")
    if v2 is not None and hasattr(v2, "_build_container"):

        def named_v2(sagemaker_session, py_version, docker_template, *args, **kwargs):
            tag = f"{py_version.replace('.', '-')}-{v2.sagemaker_timestamp()}"
            return v2._ecr_image_uri(ACCOUNT, sagemaker_session.boto_region_name, v2.REPO_NAME, tag)

        v2._build_container = named_v2
    for module in list(sys.modules.values()):
        build = getattr(module, "_container_build", None)  # SDK v3: tests/integ_helpers/container_build.py
        if build is None or not hasattr(build, "_build_and_push"):
            continue

        def named_v3(sagemaker_session, py_version, docker_template, sdk_tar_path, _build=build):
            from sagemaker.core.common_utils import sagemaker_timestamp

            tag = f"{py_version.replace('.', '-')}-{sagemaker_timestamp()}"
            region = sagemaker_session.boto_region_name
            return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{_build.REPO_NAME}:{tag}"

        build._build_and_push = named_v3
        if hasattr(module, "build_sdk_tar_once"):
            module.build_sdk_tar_once = lambda tmp_path_factory: "/nonexistent/sagemaker-sdk.tar.gz"
