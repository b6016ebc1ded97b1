import pytest

from tests.golden_json import GOLDEN_SETTINGS


@pytest.fixture
def settings():
    from dagml.sagemaker.settings import Settings

    return Settings(**GOLDEN_SETTINGS)
