"""Fixtures of the container test bed: one environment per image, a control plane per test."""

from __future__ import annotations

import json
import os

import pytest

from dagml.api import graph_of
from dagml.sagemaker.images import DEFAULT_FRAMEWORK_VERSION
from tests.containers.controlplane import ControlPlane
from tests.containers.envs import environment
from tests.containers.images import IMAGES
from tests.containers.jobs import require_isolation
from tests.containers.s3 import S3

SETTINGS = {"role_arn": "arn:aws:iam::111122223333:role/SageMakerRole", "bucket": "dagml-bed", "region": "us-east-1"}


@pytest.fixture(scope="session", params=sorted(IMAGES))
def image_env(request):
    """(Image, its environment), for every image dagml accepts; built once, cached across runs."""
    require_isolation()
    image = IMAGES[request.param]
    return image, environment(image)


def make_bed(image_env, directory: str):
    """A bed in ``directory``: compile a pipeline file for the image, stage what `dagml deploy`
    uploads, and run it through the control plane."""
    from dagml.sagemaker import Settings, compile_pipeline
    from dagml.sagemaker.deploy import uploads
    from dagml.spec.target import load_target

    image, venv = image_env
    s3 = S3(os.path.join(directory, "s3"))
    plane = ControlPlane(image, venv, directory, s3)

    class Bed:
        def compile(self, source: str):
            # The default image is compiled with default settings, as a user would.
            version = {} if image.framework_version == DEFAULT_FRAMEWORK_VERSION else {"framework_version": image.framework_version}
            settings = Settings(**version, **SETTINGS)
            assert settings.image.endswith(f"/sagemaker-scikit-learn:{image.framework_version}-cpu-py3")
            compiled = compile_pipeline(graph_of(load_target(source)), settings)
            for upload in uploads(compiled):
                s3.put(upload.uri, upload.body())
            return compiled

        def run(self, source: str, **parameters):
            compiled = self.compile(source)
            return compiled, plane.execute(json.loads(compiled.json), parameters)

    Bed.plane, Bed.s3, Bed.image = plane, s3, image
    return Bed()


@pytest.fixture
def bed(image_env, tmp_path):
    """A fresh bed per test (its own S3, its own control plane)."""
    return make_bed(image_env, str(tmp_path))


def _shared_run(image_env, tmp_path_factory, name: str):
    from tests.containers.test_bed import stage_datasets
    from tests.golden_json import golden_sources

    shared = make_bed(image_env, str(tmp_path_factory.mktemp(f"{name}-bed")))
    stage_datasets(shared, golden_sources()[name])
    compiled, execution = shared.run(golden_sources()[name])
    return shared, compiled, execution


@pytest.fixture(scope="module")
def iris_run(image_env, tmp_path_factory):
    """(bed, compiled, execution) of one iris execution with its defaults, shared by the tests that only
    read what it did (each execution costs half a minute of jobs and endpoints)."""
    return _shared_run(image_env, tmp_path_factory, "iris")


@pytest.fixture(scope="module")
def abalone_run(image_env, tmp_path_factory):
    """The same for the abalone example."""
    return _shared_run(image_env, tmp_path_factory, "abalone")


@pytest.fixture(scope="module")
def abalone_xgboost_run(image_env, tmp_path_factory):
    """The same for abalone with XGBoost as a dagml function whose requirements ship as wheels."""
    return _shared_run(image_env, tmp_path_factory, "abalone_xgboost")


@pytest.fixture(scope="module")
def abalone_builtin_run(image_env, tmp_path_factory):
    """The same for abalone with SageMaker's built-in XGBoost algorithm as a container step."""
    return _shared_run(image_env, tmp_path_factory, "abalone_builtin")


PIPELINES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pipelines")
