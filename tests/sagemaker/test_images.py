import pytest

from dagml.sagemaker.images import ImageError, sklearn_image


def test_known_regions_and_versions():
    assert sklearn_image("eu-west-1", "1.0-1") == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.0-1-cpu-py3"
    assert sklearn_image("cn-north-1").endswith(".amazonaws.com.cn/sagemaker-scikit-learn:1.2-1-cpu-py3")


def test_unknown_region_or_version_is_a_clear_error():
    with pytest.raises(ImageError, match="did you mean 'us-east-2'"):
        sklearn_image("us-east-9")
    with pytest.raises(ImageError, match="framework version '9.9'"):
        sklearn_image("us-east-1", "9.9")
