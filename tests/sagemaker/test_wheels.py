"""Requirements resolved into wheels for an image's Python and platform (dagml.sagemaker.wheels)."""

from __future__ import annotations

import os

import pytest

from dagml.sagemaker.wheels import WheelError, platform_tags, resolve
from tests.wheels import local_index, make_wheel

WHERE = "pipeline 'p', step 's'"


@pytest.fixture
def index(tmp_path):
    wheels = tmp_path / "index"
    wheels.mkdir()
    with local_index(str(wheels), str(tmp_path / "cache")):
        yield str(wheels)


def test_platform_tags_cover_every_glibc_down_to_manylinux2014_and_the_legacy_aliases():
    tags = platform_tags((2, 31))
    assert tags[0] == "manylinux_2_31_x86_64"
    assert "manylinux_2_28_x86_64" in tags and "manylinux_2_17_x86_64" in tags
    assert {"manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"} <= set(tags)
    assert "manylinux_2_32_x86_64" not in tags


def test_ships_the_closure_minus_what_the_image_pins(index):
    make_wheel(index, "extra", "1.0", requires=("base==2.0",))
    make_wheel(index, "base", "2.0")
    found = resolve(("extra",), python=(3, 10), glibc=(2, 31), packages={"base": "2.0"}, where=WHERE)
    assert [name for name, _ in found.files] == ["extra-1.0-py3-none-any.whl"]
    assert found.provided == ("base==2.0",)
    assert found.listing == b"extra-1.0-py3-none-any.whl\n"
    assert all(os.path.isfile(path) for _, path in found.files)


def test_a_dependency_the_image_does_not_pin_ships_too(index):
    make_wheel(index, "extra", "1.0", requires=("base>=1",))
    make_wheel(index, "base", "3.0")
    found = resolve(("extra",), python=(3, 10), glibc=(2, 31), packages={}, where=WHERE)
    assert [name for name, _ in found.files] == ["base-3.0-py3-none-any.whl", "extra-1.0-py3-none-any.whl"]


def test_the_platform_and_python_decide_which_wheel_ships(index):
    make_wheel(index, "native", "1.0", tag="cp310-cp310-manylinux_2_28_x86_64")
    make_wheel(index, "native", "1.0", tag="cp311-cp311-manylinux_2_28_x86_64")
    found = resolve(("native",), python=(3, 10), glibc=(2, 31), packages={}, where=WHERE)
    assert [name for name, _ in found.files] == ["native-1.0-cp310-cp310-manylinux_2_28_x86_64.whl"]
    # An image whose glibc is older than the wheel's: no wheel, and an error saying what to do.
    with pytest.raises(WheelError) as caught:
        resolve(("native",), python=(3, 10), glibc=(2, 26), packages={}, where=WHERE)
    message = str(caught.value)
    assert message.startswith(WHERE) and "'native'" in message and "Python 3.10" in message and "Fix:" in message


def test_a_package_without_a_wheel_for_the_image_fails_with_the_package_python_and_fix(index):
    make_wheel(index, "modern", "1.0", tag="cp312-cp312-manylinux_2_17_x86_64")
    with pytest.raises(WheelError) as caught:
        resolve(("modern==1.0",), python=(3, 10), glibc=(2, 31), packages={}, where=WHERE)
    message = str(caught.value)
    assert "requirement 'modern==1.0' has no wheel for the image's Python 3.10" in message
    assert "Fix: pin a version" in message


def test_a_conflict_with_the_image_pins_is_an_error(index):
    make_wheel(index, "extra", "1.0", requires=("base>=3",))
    make_wheel(index, "base", "3.0")
    with pytest.raises(WheelError) as caught:
        resolve(("extra",), python=(3, 10), glibc=(2, 31), packages={"base": "2.0"}, where=WHERE)
    assert WHERE in str(caught.value) and "Fix:" in str(caught.value)


def test_a_resolution_is_cached_and_the_hash_follows_the_content(index, tmp_path):
    make_wheel(index, "extra", "1.0")
    first = resolve(("extra",), python=(3, 10), glibc=(2, 31), packages={}, where=WHERE)
    os.remove(os.path.join(index, "extra-1.0-py3-none-any.whl"))  # the cache answers, offline
    again = resolve(("extra",), python=(3, 10), glibc=(2, 31), packages={}, where=WHERE)
    assert again == first
    make_wheel(index, "extra", "2.0")
    other = resolve(("extra==2.0",), python=(3, 10), glibc=(2, 31), packages={}, where=WHERE)
    assert other.sha256 != first.sha256
