"""The bootstrap installs a step's wheels offline, into a private directory, before dagml runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dagml import contract as c
from dagml.runtime import bootstrap
from tests.wheels import make_wheel


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv(c.ROOT_ENV, str(tmp_path / "opt-ml"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(bootstrap.tempfile, "tempdir", None)  # re-read TMPDIR
    return tmp_path / "opt-ml"


def _ship(directory, *wheels):
    directory.mkdir(parents=True)
    names = [os.path.basename(make_wheel(str(directory), name, version)) for name, version in wheels]
    (directory / c.WHEELS_LIST).write_text("".join(n + "\n" for n in names))
    return names


def test_training_installs_the_listed_wheels_privately_and_the_model_carries_them(root):
    channel = root / c.WHEELS_DIRS[1]
    _ship(channel, ("dagmltestpkg", "1.2"))
    (root / "model").mkdir()
    found = bootstrap._wheels()
    assert found == str(channel)
    target = bootstrap._install(found)
    assert os.path.isfile(os.path.join(target, "dagmltestpkg", "__init__.py"))
    # Only the private directory changed: this interpreter's environment cannot import it.
    assert subprocess.run([sys.executable, "-c", "import dagmltestpkg"], capture_output=True).returncode != 0
    assert bootstrap._install(found) == target  # once per container
    bootstrap._carry_wheels(found)
    assert sorted(os.listdir(root / c.WHEELS_DIRS[2])) == sorted(os.listdir(channel))


def test_serving_installs_from_the_model_directory(root):
    _ship(root / c.WHEELS_DIRS[2], ("dagmltestpkg", "2.0"))
    found = bootstrap._wheels()
    assert found == str(root / c.WHEELS_DIRS[2])
    target = bootstrap._install(found)
    with open(os.path.join(target, "dagmltestpkg", "__init__.py")) as f:
        assert "2.0" in f.read()


def test_a_missing_wheel_is_a_clear_bootstrap_error(root):
    directory = root / c.WHEELS_DIRS[0]
    _ship(directory, ("dagmltestpkg", "1.0"))
    (directory / c.WHEELS_LIST).write_text("gone-1.0-py3-none-any.whl\n")
    with pytest.raises(bootstrap.BootstrapError, match="lacks gone-1.0-py3-none-any.whl.*Fix: redeploy"):
        bootstrap._install(str(directory))


def test_no_wheels_no_install(root):
    assert bootstrap._wheels() is None
