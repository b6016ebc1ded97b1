import pytest

from dagml.errors import DagmlError
from dagml.runtime import bundle
from dagml.sagemaker import Settings
from dagml.sagemaker.images import (
    DEFAULT_FRAMEWORK_VERSION,
    IMAGE_PYTHON,
    PROVEN_VERSIONS,
    RUNTIME_PYTHON,
    SKLEARN_VERSIONS,
    ImageError,
    check_framework_version,
    sklearn_image,
)

SETTINGS = {"role_arn": "arn:aws:iam::111122223333:role/R", "bucket": "b-1", "region": "us-east-1"}


def test_known_regions_and_versions():
    assert sklearn_image("eu-west-1", "1.4-2") == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
    assert sklearn_image("cn-north-1").endswith(".amazonaws.com.cn/sagemaker-scikit-learn:1.4-2-cpu-py3")


def test_unknown_region_or_version_is_a_clear_error():
    with pytest.raises(ImageError, match="did you mean 'us-east-2'"):
        sklearn_image("us-east-9")
    with pytest.raises(ImageError, match="framework version '9.9'"):
        sklearn_image("us-east-1", "9.9")


def test_the_default_is_the_newest_proven_version_and_its_python_meets_the_runtime():
    assert DEFAULT_FRAMEWORK_VERSION in PROVEN_VERSIONS and set(PROVEN_VERSIONS) <= set(SKLEARN_VERSIONS)
    assert all(IMAGE_PYTHON[v] >= RUNTIME_PYTHON for v in PROVEN_VERSIONS)
    assert bundle.RUNTIME_PYTHON == RUNTIME_PYTHON  # the bootstrap checks the same floor compile enforces


@pytest.mark.parametrize("version, python", [("0.20.0", "3.7"), ("0.23-1", "3.7"), ("1.0-1", "3.8"), ("1.2-1", "3.9")])
def test_an_image_older_than_the_runtime_is_refused_naming_its_python(version, python):
    with pytest.raises(ImageError) as info:
        check_framework_version(version)
    text = str(info.value)
    assert f"runs Python {python}" in text and "needs" in text and f"Fix: use framework_version '{DEFAULT_FRAMEWORK_VERSION}'" in text
    with pytest.raises(DagmlError, match=f"runs Python {python}"):
        Settings(framework_version=version, **SETTINGS)


def test_an_unproven_version_is_refused_unless_the_user_takes_the_image():
    with pytest.raises(ImageError, match="no public build files"):
        Settings(framework_version="1.9-0", **SETTINGS)
    custom = Settings(framework_version="1.9-0", image_uri="111122223333.dkr.ecr.us-east-1.amazonaws.com/mine:1", **SETTINGS)
    assert custom.image.endswith("/mine:1") and custom.python == RUNTIME_PYTHON
