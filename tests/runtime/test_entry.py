"""The step runtime: in-process against a small pipeline, and end to end in SageMaker-like subprocesses."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import tarfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagml import Pipeline
from dagml.contract import (
    CSV_FILE,
    ENTRY_SCRIPT,
    HYPERPARAMETERS_FILE,
    INFERENCE_SCRIPT,
    METRICS_FILE,
    MODEL_FILE,
    OUTPUT_FILE,
    PROCESSING_CODE_DIR,
    PROCESSING_CSV_DIR,
    PROCESSING_INPUT_DIR,
    PROCESSING_METRICS_DIR,
    PROCESSING_OUTPUT_DIR,
    ROOT_ENV,
    TRAINING_CHANNEL_DIR,
)
from dagml.local.params import ParamError, coerce_param
from dagml.runtime import entry
from dagml.runtime.bundle import make_bundle
from dagml.runtime.entry import Invocation, StepRuntimeError, StepUsageError, convert_param, parse_invocation
from dagml.spec.params import TEXT_FORMS

from ..conftest import EXAMPLES

TINY = '''
from dagml import Pipeline
from dagml.spec.params import TEXT_FORMS

pipe = Pipeline("tiny")
scale = pipe.param("Scale", 2)
shift = pipe.param("Shift", 0.5)
loud = pipe.param("Loud", False)
mode = pipe.param("Mode", "fast", enum=["fast", "full"])
raw = pipe.dataset("Raw", local="raw.csv")


class MeanModel:
    def __init__(self, mean):
        self.mean = mean

    def predict(self, rows):
        return [self.mean for _ in rows]


@pipe.step
def load(raw=raw, scale=scale, shift=shift, offset=1):
    with open(raw) as handle:
        return [[float(line) * scale + shift + offset] for line in handle if line.strip()]


@pipe.step
def echo(load, loud=loud, mode=mode, scale=scale):
    return (loud, mode, scale)


@pipe.step(kind="training")
def fit(load):
    return MeanModel(sum(row[0] for row in load) / len(load))


@pipe.step
def score(fit, load):
    return {"rows": len(load), "mean": fit.mean}


@pipe.step
def gate(load, mode=mode):
    if mode == "full":
        return {"ok": 1.0}
    return {"ok": float("nan")}  # no JSON spelling


@pipe.step
def notes(load) -> dict[str, float]:
    return {"label": None}


@pipe.step
def boom(load):
    raise ZeroDivisionError("x" * 5000)


@pipe.step(metrics=True)
def quality(load, mode=mode):
    if mode == "full":
        return {"regression_metrics": {"mse": {"value": 0.5}}}
    return {"mse": 0.5}  # not the model-quality format Studio shows


scoring = pipe.batch_transform("Score", model=fit, data=load)
pipe.register_model("Register", model=fit, group="Tiny", metrics=quality)
pipe.condition("Check", (score["rows"] >= 1) & (gate["ok"] >= 1), then=[scoring])
'''

NUMBERS = [1.0, 2.0, 3.0]


@pytest.fixture
def ml(tmp_path, monkeypatch):
    """A container root, the tiny pipeline file, and a dataset input for step ``load``."""
    root = tmp_path / "ml"
    monkeypatch.setenv(ROOT_ENV, str(root))
    monkeypatch.setattr(sys, "path", sys.path[:])
    (tmp_path / "tiny.py").write_text(TINY)
    raw = root / PROCESSING_INPUT_DIR / "raw"
    raw.mkdir(parents=True)
    (raw / "raw.csv").write_text("".join(f"{n}\n" for n in NUMBERS))
    return root


def _target(ml) -> str:
    return str(ml.parent / "tiny.py")


def _processing(ml, step: str, *params: str) -> int:
    return entry.main(["--mode", "processing", "--target", _target(ml), "--step", step, *params])


def _unpickle(path) -> object:
    with open(path, "rb") as handle:
        return pickle.load(handle)


def _put(ml, relative_dir: str, name: str, value: object) -> None:
    directory = ml / relative_dir
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(pickle.dumps(value, protocol=5))


def _failure(ml) -> str:
    return (ml / "output" / "failure").read_text()


def test_processing_binds_dataset_params_and_constants_and_writes_output_and_csv(ml):
    assert _processing(ml, "load", "--param", "Scale", "3", "--param", "Shift=0.25") == 0
    rows = _unpickle(ml / PROCESSING_OUTPUT_DIR / OUTPUT_FILE)
    assert rows == [[n * 3 + 0.25 + 1] for n in NUMBERS]
    csv = (ml / PROCESSING_CSV_DIR / CSV_FILE).read_text().splitlines()
    assert [float(line) for line in csv] == [row[0] for row in rows]
    assert not (ml / "output" / "failure").exists()


def test_execute_runs_a_parsed_invocation_with_the_callers_graph_as_main_runs_its_arguments(ml, monkeypatch):
    """The local runner's workers: no arguments to parse, no pipeline to load and validate again."""
    from dagml.graph.build import build_graph

    graph = build_graph(entry.load_pipeline(_target(ml)))

    def never(target):
        raise AssertionError("the graph was given: nothing is loaded")

    monkeypatch.setattr(entry, "load_pipeline", never)
    invocation = Invocation("processing", _target(ml), "load", {"Scale": "3", "Shift": "0.25"})
    assert entry.execute(invocation, str(ml), graph) == 0
    assert _unpickle(ml / PROCESSING_OUTPUT_DIR / OUTPUT_FILE) == [[n * 3 + 0.25 + 1] for n in NUMBERS]
    assert entry.execute(Invocation("processing", _target(ml), "nope", {}), str(ml), graph) == 1
    assert "has no step 'nope'" in _failure(ml)


def test_param_values_are_converted_to_the_params_type(ml):
    _put(ml, f"{PROCESSING_INPUT_DIR}/load", OUTPUT_FILE, [[1.0]])
    assert _processing(ml, "echo", "--param", "Loud", "TRUE", "--param", "Mode", '"full"', "--param", "Scale=7") == 0
    assert _unpickle(ml / PROCESSING_OUTPUT_DIR / OUTPUT_FILE) == (True, "full", 7)


def _hyperparameters(ml, values: dict[str, str]) -> None:
    path = ml / HYPERPARAMETERS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))


def test_training_reads_hyperparameters_ignores_toolkit_args_and_writes_the_model(ml):
    _put(ml, f"{TRAINING_CHANNEL_DIR}/load", OUTPUT_FILE, [[2.0], [4.0]])
    _hyperparameters(ml, {"dagml_mode": '"training"', "dagml_target": json.dumps(_target(ml)), "dagml_step": "fit"})
    assert entry.main(["--dagml_mode", "training", "--mode", "weird", "--unknown", "1"]) == 0
    assert _unpickle(ml / "model" / MODEL_FILE).mean == 3.0


def test_a_metrics_step_reads_a_model_tar_gz_and_writes_a_sorted_report(ml):
    model_dir = ml / PROCESSING_INPUT_DIR / "fit"
    model_dir.mkdir(parents=True)
    _hyperparameters(ml, {"dagml_mode": "training", "dagml_target": _target(ml), "dagml_step": "fit"})
    _put(ml, f"{TRAINING_CHANNEL_DIR}/load", OUTPUT_FILE, [[1.0], [5.0]])
    assert entry.main([]) == 0
    with tarfile.open(model_dir / "model.tar.gz", "w:gz") as tar:
        tar.add(ml / "model" / MODEL_FILE, arcname=MODEL_FILE)
    _put(ml, f"{PROCESSING_INPUT_DIR}/load", OUTPUT_FILE, [[1.0], [5.0]])
    assert _processing(ml, "score") == 0
    text = (ml / PROCESSING_METRICS_DIR / METRICS_FILE).read_text()
    assert list(json.loads(text)) == sorted(json.loads(text)) and json.loads(text) == {"rows": 2, "mean": 3.0}


def test_a_report_a_condition_reads_must_be_numbers_and_nothing_is_written_otherwise(ml, capsys):
    _put(ml, f"{PROCESSING_INPUT_DIR}/load", OUTPUT_FILE, [[1.0]])
    assert _processing(ml, "gate", "--param", "Mode", "fast") == 1
    assert "'gate'" in _failure(ml) and "'ok'" in _failure(ml) and "Fix:" in _failure(ml)
    assert not (ml / PROCESSING_OUTPUT_DIR).exists() and not (ml / PROCESSING_METRICS_DIR).exists()
    assert _processing(ml, "gate", "--param", "Mode", "full") == 0
    assert json.loads((ml / PROCESSING_METRICS_DIR / METRICS_FILE).read_text()) == {"ok": 1.0}


def test_a_declared_but_unread_report_that_is_not_numbers_is_skipped_with_a_note(ml, capsys):
    _put(ml, f"{PROCESSING_INPUT_DIR}/load", OUTPUT_FILE, [[1.0]])
    assert _processing(ml, "notes") == 0
    assert (ml / PROCESSING_OUTPUT_DIR / OUTPUT_FILE).exists()
    assert not (ml / PROCESSING_METRICS_DIR).exists()
    assert "not writing a metrics report" in capsys.readouterr().err


def test_a_registered_report_studio_cannot_show_is_written_with_a_warning_in_the_log(ml, capsys):
    _put(ml, f"{PROCESSING_INPUT_DIR}/load", OUTPUT_FILE, [[1.0]])
    assert _processing(ml, "quality", "--param", "Mode", "fast") == 0
    assert json.loads((ml / PROCESSING_METRICS_DIR / METRICS_FILE).read_text()) == {"mse": 0.5}
    err = capsys.readouterr().err
    assert "warning: 'Register' registers this report as the model's quality metrics" in err
    assert "it has no top-level 'regression_metrics'" in err and "dagml.model_quality" in err
    assert _processing(ml, "quality", "--param", "Mode", "full") == 0
    assert "warning" not in capsys.readouterr().err


def test_an_exception_in_the_users_code_writes_a_short_failure_reason(ml, capsys):
    _put(ml, f"{PROCESSING_INPUT_DIR}/load", OUTPUT_FILE, [[1.0]])
    assert _processing(ml, "boom") == 1
    reason = _failure(ml)
    assert reason.startswith("step 'boom' failed: ZeroDivisionError: xxx")
    assert len(reason.encode()) <= 1024
    assert "Traceback" in capsys.readouterr().err
    assert not (ml / PROCESSING_OUTPUT_DIR).exists()


@pytest.mark.parametrize(
    "step, params, says",
    [
        ("score", [], ["'score'", "'fit'", "does not exist"]),
        ("load", ["--param", "Shift", "1"], ["'load'", "'Scale'", "--param Scale"]),
        ("echo", ["--param", "Loud", "yes", "--param", "Mode=fast", "--param", "Scale=1"], ["'Loud'", "Boolean"]),
        ("echo", ["--param", "Loud", "false", "--param", "Mode=slow", "--param", "Scale=1"], ["'slow'", "'full'"]),
        ("lod", [], ["no step 'lod'", "did you mean 'load'"]),
        ("fit", [], ["'fit' is a training step but runs in a processing job"]),
        ("Check", [], ["condition step"]),
    ],
)
def test_runtime_errors_name_the_step_and_the_input(ml, step, params, says):
    _put(ml, f"{PROCESSING_INPUT_DIR}/load", OUTPUT_FILE, [[1.0]])
    assert _processing(ml, step, *params) == 1
    for text in says:
        assert text in _failure(ml)


def test_usage_errors_exit_2(ml):
    assert entry.main(["--mode", "processing", "--step", "load"]) == 2
    assert "--target" in _failure(ml)
    assert entry.main([]) == 2  # no --mode and no hyperparameters.json
    assert "hyperparameters" in _failure(ml)


def test_both_param_forms_parse_and_values_may_look_like_options():
    invocation = parse_invocation(
        ["--mode", "processing", "--target", "f.py", "--step", "s", "--param", "A", "-1",
         "--param", "B=x=y", "--param=C=", "--param", "D", "--mode", "--extra"],
        "/nowhere",
    )
    assert invocation == Invocation("processing", "f.py", "s", {"A": "-1", "B": "x=y", "C": "", "D": "--mode"})
    with pytest.raises(StepUsageError, match="no value"):
        parse_invocation(["--mode", "processing", "--target", "f.py", "--step", "s", "--param", "A"], "/x")


def _pipe_params():
    pipe = Pipeline("types")
    return pipe.param("I", 1), pipe.param("F", 1.5), pipe.param("B", True), pipe.param("S", "s")


@given(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.text())
def test_param_values_survive_string_and_json_quoting(i, f, b, s):
    pi, pf, pb, ps = _pipe_params()
    for raw in (str(i), json.dumps(str(i)), i):
        assert convert_param(pi, raw) == i
    for raw in (repr(f), json.dumps(repr(f))):
        assert convert_param(pf, raw) == f
    for raw in (str(b).lower(), str(b).upper(), json.dumps(str(b).lower()), b):
        assert convert_param(pb, raw) is b
    assert convert_param(ps, json.dumps(s)) == s


@pytest.mark.parametrize(
    "index, raw",
    [(0, "1.5"), (0, "true"), (0, "3.0"), (0, "1_000"), (0, 2.5), (0, True), (1, "abc"), (1, "nan"), (1, "inf"),
     (1, float("-inf")), (2, "1"), (2, "yes")],
)
def test_bad_param_values_are_refused(index, raw):
    param = _pipe_params()[index]
    with pytest.raises(StepRuntimeError, match=f"param {param.name!r} is {param.type}") as info:
        convert_param(param, raw, "step")
    assert str(info.value).startswith("step 'step': ") and TEXT_FORMS[param.type] in str(info.value)


def _json_quoted(text):
    try:
        return isinstance(json.loads(text), str)
    except ValueError:
        return False


@given(
    st.sampled_from(range(3)),
    (st.text() | st.from_regex(r"\s*[+-]?[0-9]*\.?[0-9]*([eE][+-]?[0-9]+)?\s*", fullmatch=True)).filter(
        lambda text: not _json_quoted(text)  # SageMaker's JSON quoting, which only the runtime undoes
    ),
)
def test_the_runtime_and_the_local_runner_parse_param_text_alike(index, text):
    """One parser (dagml.spec.params.parse_param_text): what -p accepts reaches the step as the same value."""
    param = _pipe_params()[index]
    try:
        local = coerce_param(param, text, "types")
    except ParamError:
        local = "refused"
    try:
        runtime = convert_param(param, text, "step")
    except StepRuntimeError:
        runtime = "refused"
    assert local == runtime and type(local) is type(runtime)


# ------------------------------------------------------------------ end to end, in subprocesses
IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")
SCORING = os.path.join(EXAMPLES, "data", "iris_to_score.csv")


def _clean_env(root: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env[ROOT_ENV] = root
    return env


def _python(args: list[str], root: str, cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=_clean_env(root), capture_output=True, text=True, timeout=900
    )


def _extract(data: bytes, directory: str) -> str:
    os.makedirs(directory, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(directory, filter="data")
    return directory


def _copy(source: str, directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    with open(source, "rb") as src, open(os.path.join(directory, os.path.basename(source)), "wb") as dst:
        dst.write(src.read())


def _processing_job(bundle, root: str, step: str, *params: str) -> subprocess.CompletedProcess[str]:
    """A Processing job: only dagml_entry.py and sourcedir.tar.gz in the code dir."""
    code = os.path.join(root, PROCESSING_CODE_DIR)
    bundle.write(code)
    args = [os.path.join(code, ENTRY_SCRIPT), "--mode", "processing", "--target", bundle.target, "--step", step]
    return _python([*args, *params], root, cwd=root)


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    """prepare (processing) -> train (training) -> evaluate (processing), each in its own container root."""
    base = tmp_path_factory.mktemp("iris")
    bundle = make_bundle(IRIS)
    roots = {name: str(base / name) for name in ("prepare", "train", "evaluate", "serve")}
    results = {"prepare": _processing_job(bundle, roots["prepare"], "prepare", "--param", "TestSize", "0.3")}
    assert results["prepare"].returncode == 0, results["prepare"].stderr
    prepared = os.path.join(roots["prepare"], PROCESSING_OUTPUT_DIR, OUTPUT_FILE)

    # Training: the toolkit extracted the bundle into the working dir and passes hyperparameters.
    work = _extract(bundle.data, os.path.join(roots["train"], "code"))
    hyper = {"dagml_mode": '"training"', "dagml_target": json.dumps(bundle.target), "dagml_step": '"train"',
             "NEstimators": '"10"', "MinSamplesLeaf": "3", "sagemaker_program": json.dumps(ENTRY_SCRIPT)}
    os.makedirs(os.path.join(roots["train"], "input", "config"))
    with open(os.path.join(roots["train"], HYPERPARAMETERS_FILE), "w") as handle:
        json.dump(hyper, handle)
    _copy(prepared, os.path.join(roots["train"], TRAINING_CHANNEL_DIR, "prepare"))
    # The toolkit also passes each hyperparameter as `--key value`; the runtime ignores them.
    toolkit_args = [arg for key, value in sorted(hyper.items()) for arg in (f"--{key}", str(json.loads(value)))]
    results["train"] = _python([ENTRY_SCRIPT, *toolkit_args], roots["train"], cwd=work)
    assert results["train"].returncode == 0, results["train"].stderr

    # SageMaker uploads <root>/model as model.tar.gz; the next job downloads that object.
    archive = os.path.join(str(base), "model.tar.gz")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(os.path.join(roots["train"], "model", MODEL_FILE), arcname=MODEL_FILE)
    _copy(archive, os.path.join(roots["evaluate"], PROCESSING_INPUT_DIR, "train"))
    _copy(prepared, os.path.join(roots["evaluate"], PROCESSING_INPUT_DIR, "prepare"))
    results["evaluate"] = _processing_job(bundle, roots["evaluate"], "evaluate")
    assert results["evaluate"].returncode == 0, results["evaluate"].stderr
    return bundle, roots, archive, results


def test_iris_prepare_runs_as_a_processing_job(iris_run):
    _, roots, _, _ = iris_run
    split = _unpickle(os.path.join(roots["prepare"], PROCESSING_OUTPUT_DIR, OUTPUT_FILE))
    assert {"X_train", "y_train", "X_test", "y_test"} <= set(split)
    assert not os.path.exists(os.path.join(roots["prepare"], "output", "failure"))


def test_iris_train_runs_as_a_training_job_and_writes_a_model(iris_run):
    _, roots, _, _ = iris_run
    model = _unpickle(os.path.join(roots["train"], "model", MODEL_FILE))
    assert model.get_params()["n_estimators"] == 10 and model.get_params()["min_samples_leaf"] == 3


def test_iris_evaluate_writes_the_report_the_condition_reads(iris_run):
    _, roots, _, _ = iris_run
    with open(os.path.join(roots["evaluate"], PROCESSING_METRICS_DIR, METRICS_FILE)) as handle:
        report = json.load(handle)
    metrics = report["multiclass_classification_metrics"]  # SageMaker's model-quality format
    assert report.keys() == {"multiclass_classification_metrics"} and metrics["accuracy"].keys() == {"value"}
    assert metrics["accuracy"]["value"] > 0.9


def test_iris_batch_inference_through_dagml_inference(iris_run):
    bundle, roots, archive, _ = iris_run
    code = _extract(bundle.data, os.path.join(roots["serve"], "code"))  # SAGEMAKER_SUBMIT_DIRECTORY
    model_dir = _extract(open(archive, "rb").read(), os.path.join(roots["serve"], "model"))
    probe = (
        "import sys, dagml_inference as h, dagml\n"
        f"model = h.model_fn({model_dir!r})\n"
        f"body = open({SCORING!r}, 'rb').read()\n"
        "r = h.transform_fn(model, body, 'text/csv', None)\n"
        "text, kind = (r.get_data(as_text=True), r.mimetype) if hasattr(r, 'get_data') else r\n"
        "assert kind == 'text/csv', kind\n"
        "sys.stdout.write(text)\n"
        "print(dagml.__file__, file=sys.stderr)\n"
    )
    result = _python(["-c", probe], roots["serve"], cwd=code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(open(SCORING).read().split()) == 30
    assert set(lines) <= {"0", "1", "2"}
    assert os.path.realpath(result.stderr.strip().splitlines()[-1]).startswith(os.path.realpath(code) + os.sep)
    assert INFERENCE_SCRIPT in os.listdir(code)


def test_a_failing_iris_step_writes_the_failure_reason_and_exits_1(iris_run, tmp_path):
    bundle = iris_run[0]
    root = str(tmp_path / "failing")
    result = _processing_job(bundle, root, "prepare", "--param", "TestSize", "1.5")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    with open(os.path.join(root, "output", "failure")) as handle:
        reason = handle.read()
    assert reason.startswith("step 'prepare' failed: ") and 0 < len(reason.encode()) <= 1024
    assert not os.path.exists(os.path.join(root, PROCESSING_OUTPUT_DIR, OUTPUT_FILE))


def test_a_pipeline_inside_a_package_runs_from_its_bundle_with_relative_imports(tmp_path):
    package = tmp_path / "proj" / "flows"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("FACTOR = 6\n")
    (package / "main.py").write_text(
        "from dagml import Pipeline\n"
        "from .helpers import FACTOR\n"
        "pipe = Pipeline('packaged')\n"
        "@pipe.step\n"
        "def compute():\n"
        "    return FACTOR * 7\n"
    )
    bundle = make_bundle(str(package / "main.py"), "pipe")
    assert bundle.target == "flows/main.py:pipe"
    root = str(tmp_path / "ml")
    result = _processing_job(bundle, root, "compute")
    assert result.returncode == 0, result.stderr
    assert _unpickle(os.path.join(root, PROCESSING_OUTPUT_DIR, OUTPUT_FILE)) == 42
