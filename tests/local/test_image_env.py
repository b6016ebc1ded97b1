"""``dagml run --image-env``: function steps in a local stand-in for their image (its Python, its pins).

The stand-in for SageMaker's scikit-learn 1.4-2 image (Python 3.10) is built once per machine (a
minute or two the first time, then found in ``~/.cache/dagml/image-envs``); every test here shares
it, and all of them run in one xdist worker, so parallel workers never build it twice.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from dagml.api import graph_of, image_env_plan, run
from dagml.cli.main import main
from dagml.local.imageenv import DETAIL, ImageEnv, ImageEnvError, build_environment, cache_root, find_python
from dagml.local.runner import run_pipeline
from dagml.sagemaker.images import framework_python, image_packages
from tests.local.test_runner import write_pipeline
from tests.wheels import local_index, make_wheel

pytestmark = pytest.mark.xdist_group("image-env")

HERE = list(sys.version_info[:2])


@pytest.fixture(scope="module")
def sklearn_env():
    """The environment of SageMaker's scikit-learn 1.4-2 image, as a run builds it (the same key)."""
    python = framework_python("sklearn", "1.4-2")
    assert python == (3, 10)
    packages = tuple(sorted(f"{n}=={v}" for n, v in image_packages("sklearn", "1.4-2").items()))
    started = time.monotonic()
    built = build_environment(ImageEnv("sklearn 1.4-2", python, packages), say=print)
    print(f"sklearn 1.4-2 environment ready in {time.monotonic() - started:.1f}s: {built.directory}")
    return built


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


VERSIONS = """
import sys

pipe = Pipeline("image-env-versions")


@pipe.step
def prepare():
    return list(sys.version_info[:2])


@pipe.step(kind="training")
def fit(prepare):
    import sklearn

    return {"python": list(sys.version_info[:2]), "prepared_on": prepare, "sklearn": sklearn.__version__}
"""


def test_steps_run_on_the_image_python_and_never_share_results_with_a_plain_run(tmp_path, home, sklearn_env):
    graph = graph_of(write_pipeline(tmp_path, VERSIONS))
    there = run(graph, home=home, image_env=True)
    assert there.ok, there.error
    assert there.output("prepare") == [3, 10]
    assert there.output("fit") == {"python": [3, 10], "prepared_on": [3, 10], "sklearn": "1.4.2"}
    assert there.steps["prepare"].detail[DETAIL].startswith("image sklearn 1.4-2 environment, Python 3.10.")
    # The same entry point as the job: dagml_entry.py with the step's directory as its root.
    log = open(os.path.join(there.step_dir("fit"), "log.txt"), encoding="utf-8").read()
    assert "Traceback" not in log

    here = run(graph, home=home)  # a plain run: this Python, and not the image-env run's results
    assert here.ok and {r.status for r in here.steps.values()} == {"succeeded"}
    assert here.output("prepare") == HERE
    assert DETAIL not in here.steps["prepare"].detail
    assert here.steps["prepare"].cache_key != there.steps["prepare"].cache_key

    again = run(graph, home=home, image_env=True)  # the cache: each kind of run finds its own results
    assert {r.status for r in again.steps.values()} == {"cached"}
    assert again.steps["prepare"].cached_from == there.run_id and again.output("prepare") == [3, 10]
    assert run(graph, home=home).steps["prepare"].cached_from == here.run_id


DEV_ONLY = """
pipe = Pipeline("image-env-dev-only")


@pipe.step
def check():
    import hypothesis  # installed where dagml's tests run, not in SageMaker's scikit-learn image

    return hypothesis.__version__


@pipe.step
def after(check):
    return check
"""


def test_a_package_installed_here_but_not_in_the_image_fails_only_there(tmp_path, home, sklearn_env):
    graph = graph_of(write_pipeline(tmp_path, DEV_ONLY))
    assert run(graph, home=home).ok
    result = run(graph, home=home, image_env=True)
    assert not result.ok
    check = result.steps["check"]
    assert check.status == "failed" and result.steps["after"].status == "not run"
    assert check.error.startswith("ModuleNotFoundError: No module named 'hypothesis'")
    assert "ModuleNotFoundError" in open(os.path.join(result.step_dir("check"), "log.txt"), encoding="utf-8").read()
    assert result.error.startswith("step 'check' failed: ModuleNotFoundError")


REQUIREMENTS = """
pipe = Pipeline("image-env-requirements")


@pipe.step(requirements=["dagml-greeting==1.0"])
def greet():
    import dagml_greeting

    return dagml_greeting.hello()


@pipe.step(kind="training", requirements=["dagml-greeting==1.0"])
def fit(greet):
    import dagml_greeting

    return greet + " / " + dagml_greeting.hello()
"""


def test_a_step_gets_its_requirements_as_the_wheels_compile_resolves(tmp_path, home, sklearn_env):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(str(wheels), "dagml-greeting", "1.0", module="def hello():\n    return 'hello from the wheel'\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    os.symlink(os.path.realpath(cache_root()), cache / "image-envs")  # a fresh wheel cache, the shared environment
    graph = graph_of(write_pipeline(tmp_path, REQUIREMENTS))
    with local_index(str(wheels), str(cache)):
        plan = image_env_plan(graph)
        assert plan.steps["greet"].wheels is not None and plan.steps["greet"].wheels_sha
        result = run_pipeline(graph, home=home, image_envs=plan)
    assert result.ok, result.error
    assert result.output("greet") == "hello from the wheel"
    assert result.output("fit") == "hello from the wheel / hello from the wheel"
    # As in a training job, the model carries the wheels to whatever serves it.
    assert os.path.isfile(os.path.join(result.step_dir("fit"), "model", "dagml-wheels", "dagml-requirements.txt"))


UNKNOWN = """
from dagml import Image

pipe = Pipeline("image-env-unknown", image=Image(uri="111122223333.dkr.ecr.us-east-1.amazonaws.com/team/custom:1"))


@pipe.step
def prepare():
    import sys

    return list(sys.version_info[:2])
"""


def test_a_step_in_an_image_dagml_knows_nothing_of_runs_here_with_a_note(tmp_path, home, capsys):
    path = write_pipeline(tmp_path, UNKNOWN)
    assert main(["run", str(tmp_path / "flow.py"), "--image-env", "--home", home]) == 0
    out = capsys.readouterr().out
    assert "environments (--image-env):" in out
    assert "prepare  this Python (" in out and "team/custom:1 is not a SageMaker framework image dagml knows" in out
    result = path.run(home=home, image_env=True)  # the Pipeline's own run(): the same
    assert result.output("prepare") == HERE and result.steps["prepare"].status == "cached"


STUCK = """
import os
import subprocess
import sys
import time

pipe = Pipeline("image-env-stuck")


@pipe.step(timeout=3)
def stuck():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(os.environ["PIDS"], "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    time.sleep(600)


@pipe.step
def crash():
    import signal

    print("about to crash", flush=True)
    os.kill(os.getpid(), signal.SIGSEGV)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_timeouts_and_crashes_in_the_image_interpreter_fail_the_step_alone(tmp_path, home, sklearn_env, monkeypatch):
    pids = tmp_path / "pids"
    monkeypatch.setenv("PIDS", str(pids))
    graph = graph_of(write_pipeline(tmp_path, STUCK))
    started = time.monotonic()
    result = run(graph, home=home, image_env=True, workers=2)
    assert time.monotonic() - started < 60
    stuck, crash = result.steps["stuck"], result.steps["crash"]
    assert stuck.status == "failed" and stuck.error.startswith("timed out after 3 s")
    for pid in map(int, pids.read_text().split()):  # the image's interpreter and what it started: gone
        assert not _alive(pid)
    assert crash.status == "failed" and crash.error.startswith("the step's process killed by SIGSEGV")
    log = open(os.path.join(result.step_dir("crash"), "log.txt"), encoding="utf-8").read()
    assert "about to crash" in log and "Fatal Python error: Segmentation fault" in log


def test_a_missing_interpreter_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(ImageEnvError) as caught:
        find_python((3, 99), "sklearn 9.9-9")
    message = str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    assert "needs CPython 3.99 (the Python of image sklearn 9.9-9)" in message
    assert "Fix: pyenv install 3.99" in message and "or run without --image-env" in message
