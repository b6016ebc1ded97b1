"""The compiled pipelines run in SageMaker's own containers: the container test bed.

Every test here runs dagml's compiled definition, from the JSON alone, through
the image's real training toolkit and serving stack on the image's own Python,
each job with the network cut (see tests/containers/*.py and the container
contract in docs/sagemaker.md). Parametrised over every framework version dagml
accepts (``image_env``).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile

import pytest

from dagml.sagemaker.images import DEFAULT_FRAMEWORK_VERSION, IMAGE_PYTHON, PROVEN_VERSIONS
from tests.containers.conftest import PIPELINES
from tests.containers.envs import find_python
from tests.containers.images import IMAGES
from tests.containers.jobs import run_container
from tests.containers.serving import Request, serve
from tests.golden_json import golden_sources

#: One test process runs the whole bed: its tests share each image's environment, into which the
#: serving stack installs the model's code (`make test` runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("container-bed")

GOLDENS = golden_sources()
ALL = {"iris": GOLDENS["iris"], **{k: v for k, v in GOLDENS.items() if k != "iris"}}
#: The steps each golden pipeline runs with its default parameters (the taken branch included).
EXPECTED = {
    "iris": {"prepare", "train", "evaluate", "CheckAccuracy", "RegisterModel", "BatchTransformModel", "BatchTransform"},
    "minimal": {"hello"},
    "branches": {"data", "model", "score", "Gate", "Register", "promote", "notify"},
    "options": {"load", "fit", "audit", "publish"},
    "abalone": {"preprocess", "train", "evaluate", "AbaloneMseCheck", "RegisterAbaloneModel", "AbaloneModel", "AbaloneTransform"},
    "dataflow": {"split", "fit", "describe", "ScoreHoldoutModel", "ScoreHoldout"},
    "abalone_xgboost": {
        "preprocess", "train", "evaluate", "AbaloneXgboostMseCheck", "RegisterAbaloneXgboost", "AbaloneXgboostModel",
        "AbaloneXgboostTransform",
    },
    "abalone_builtin": {
        "preprocess", "train", "evaluate", "AbaloneBuiltinMseCheck", "RegisterAbaloneBuiltin", "AbaloneBuiltinModel",
        "AbaloneBuiltinTransform",
    },
    "scripts": {"split", "fit", "check", "FitModel", "ScoreTest"},
    "handlers": {"train", "PricerModel", "RegisterPricer", "PriceRows"},
}
#: The executions several tests read, each run once per module (conftest.py).
SHARED = ("iris", "abalone", "abalone_xgboost", "abalone_builtin")
#: Goldens whose models the image's own server scores (a container step's), not dagml's handler:
#: the built-in XGBoost answers one prediction per line, each line ending in a newline.
OWN_SERVER = ("abalone_builtin", "scripts")
#: Models each golden creates (Model steps) or registers (RegisterModel) on its taken branch.
MODELS = {
    "iris": 2, "minimal": 0, "branches": 1, "options": 0, "abalone": 2, "dataflow": 1, "abalone_xgboost": 2,
    "abalone_builtin": 2, "scripts": 1, "handlers": 2,
}
CSV_ROWS = b"5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n5.9,3.0,4.2,1.5\n"
#: Rows each golden's models score (the rest serve a model with no predict(): a clear 500).
ABALONE_ROWS = b"0,1,0,0.4839,0.3781,0.1272,0.354,0.1666,0.0818,0.1075\n0,0,1,0.413,0.3088,0.1186,0.2286,0.0998,0.0501,0.0623\n"
ROWS = {
    "iris": CSV_ROWS,
    "abalone": ABALONE_ROWS,
    "abalone_xgboost": ABALONE_ROWS,
    "abalone_builtin": ABALONE_ROWS,
    "dataflow": b"1\n2.5\n",
    "scripts": b"1,3\n2,5\n",
    "handlers": b"red,1.0\nblue,2.5\n",  # a word in every row: the step's own input_fn reads them
}


def stage_datasets(bed, source: str) -> None:
    """Put each dataset that names its own S3 location there, from its local copy, as a user would have."""
    from dagml.api import graph_of
    from dagml.spec.target import load_target

    graph = graph_of(load_target(source))
    for d in graph.datasets:
        if not (d.s3 and d.local):
            continue
        path = os.path.join(os.path.dirname(source), d.local)
        if os.path.isdir(path):
            for f in sorted(os.listdir(path)):
                with open(os.path.join(path, f), "rb") as handle:
                    bed.s3.put(d.s3.rstrip("/") + "/" + f, handle.read())
        else:
            with open(path, "rb") as handle:
                bed.s3.put(d.s3, handle.read())


def test_the_bed_proves_exactly_the_versions_dagml_accepts():
    assert sorted(IMAGES) == sorted(PROVEN_VERSIONS)
    assert max(PROVEN_VERSIONS, key=lambda v: [int(x) for x in v.replace("-", ".").split(".")]) == DEFAULT_FRAMEWORK_VERSION
    for version, image in IMAGES.items():
        assert image.python == ".".join(map(str, IMAGE_PYTHON[version]))


def test_a_job_has_no_network(image_env, tmp_path):
    image, venv = image_env
    root = tmp_path / "ml"
    root.mkdir()
    probe = (
        "import socket\n"
        "s = socket.socket()\n"
        "s.settimeout(3)\n"
        "try:\n"
        "    s.connect(('1.1.1.1', 443))\n"
        "except OSError as e:\n"
        "    print('unreachable', e.errno)\n"
        "else:\n"
        "    print('CONNECTED')\n"
        "print(open('/etc/hosts').read().split()[-1], sorted(__import__('os').listdir('/opt/ml')))\n"
    )
    (root / "marker").write_text("x")
    job = run_container(image, venv, str(root), ["python3", "-c", probe])
    assert job.exit_code == 0, job.output
    assert "unreachable" in job.output and "CONNECTED" not in job.output
    assert "algo-1 ['marker']" in job.output  # /opt/ml is the job's directory, algo-1 resolves


def test_the_image_python_is_the_one_its_dockerfile_installs(image_env, tmp_path):
    image, venv = image_env
    (tmp_path / "ml").mkdir()
    job = run_container(image, venv, str(tmp_path / "ml"), ["python3", "-c", "import sys, sklearn; print(sys.version_info[:2], sklearn.__version__)"])
    major, minor = image.python.split(".")
    assert f"({major}, {minor})" in job.output, job.output


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_golden_pipeline_runs_its_taken_branch(request, image_env, name):
    if name in SHARED:  # the shared executions (conftest.iris_run, abalone_run, ...)
        bed, compiled, execution = request.getfixturevalue(f"{name}_run")
    else:
        bed = request.getfixturevalue("bed")
        if name == "options":  # its dataset lives in S3: stage it as a user would have
            bed.s3.put("s3://example-bucket/raw/data.csv", b"a,b\n1,2\n")
        stage_datasets(bed, ALL[name])
        compiled, execution = bed.run(ALL[name])
    failed = {n: r.failure_reason for n, r in execution.steps.items() if r.status == "Failed"}
    assert execution.status == "Succeeded", (failed, _logs(execution))
    assert set(execution.ran()) == EXPECTED[name]
    assert all(execution.steps[n].status == "Succeeded" for n in EXPECTED[name])
    for step in execution.ran():
        job = execution.steps[step].job
        if job is not None:  # no package install at container start, and no network was needed
            assert "pip install -r" not in job.output and "Collecting " not in job.output, job.output
    containers = list(execution.models.values())
    containers += [c for p in execution.packages for c in p["InferenceSpecification"]["Containers"]]
    assert len(containers) == MODELS[name]
    for i, container in enumerate(containers):  # every model the pipeline made stands up as an endpoint
        served = serve(
            bed.plane,
            container,
            [Request("GET", "/ping"), Request("POST", "/invocations", ROWS.get(name, CSV_ROWS), {"Content-Type": "text/csv"})],
            f"endpoint-{i}",
        )
        assert served.responses, served.job.output
        ping, invocation = served.responses
        assert ping.status == 200
        if name in OWN_SERVER:
            assert (invocation.status, invocation.content_type.split(";")[0]) == (200, "text/csv"), invocation
            assert invocation.body.decode().count("\n") == ROWS[name].count(b"\n"), invocation.body
        elif name in ROWS:
            assert (invocation.status, invocation.content_type) == (200, "text/csv; charset=utf-8"), invocation
            assert len(invocation.body.decode().split("\n")) == ROWS[name].count(b"\n"), invocation.body
        else:  # branches' "model" is a number: a clear 500 naming the fix, not an HTML page
            assert invocation.status == 500 and invocation.content_type == "application/json"
            assert b"without a predict() method" in invocation.body and b"Fix:" in invocation.body


def test_iris_end_to_end_registers_a_model_that_serves_csv(iris_run):
    bed, compiled, execution = iris_run
    assert execution.status == "Succeeded", _logs(execution)
    (package,) = execution.packages
    assert package["ModelPackageGroupName"] == "SklearnIris" and package["ModelApprovalStatus"] == "Approved"
    report = json.loads(bed.s3.get(package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]))
    assert report["multiclass_classification_metrics"]["accuracy"]["value"] >= 0.9  # model-quality format
    (container,) = package["InferenceSpecification"]["Containers"]
    served = serve(
        bed.plane,
        container,
        [
            Request("GET", "/ping"),
            Request("POST", "/invocations", CSV_ROWS, {"Content-Type": "text/csv"}),
            Request("POST", "/invocations", CSV_ROWS, {"Content-Type": "text/csv", "Accept": "*/*"}),
            Request("POST", "/invocations", CSV_ROWS, {"Content-Type": "text/csv; charset=utf-8", "Accept": "text/csv"}),
            Request("POST", "/invocations", b'{"instances": [[1, 2, 3, 4]]}', {"Content-Type": "application/json"}),
            Request("POST", "/invocations", CSV_ROWS, {"Content-Type": "text/csv", "Accept": "application/json"}),
            Request("POST", "/invocations", b"sepal,petal\n1,2\n", {"Content-Type": "text/csv"}),
        ],
        "endpoint",
    )
    assert served.responses, served.job.output
    ping, plain, star, charset, json_in, json_out, header = served.responses
    assert ping.status == 200
    for ok in (plain, star, charset):
        assert (ok.status, ok.content_type.split(";")[0]) == (200, "text/csv"), ok
        lines = ok.body.decode().split("\n")
        assert len(lines) == 3 and all(line.strip() for line in lines), ok.body
        assert [int(float(x)) for x in lines] == [0, 2, 1]  # setosa, virginica, versicolor
    assert json_in.status == 415 and b"text/csv" in json_in.body
    assert json_out.status == 406
    assert header.status == 400 and b"not all numbers" in header.body
    # serve's `pip install .` of the code ran, with no network and no index
    assert "Successfully installed dagml_step_code-0" in served.job.output, served.job.output
    assert "Looking in" not in served.job.output


def test_two_executions_write_apart_and_each_version_keeps_its_own_report(iris_run):
    """Per-execution locations: nothing one execution writes is where another writes (issue #15)."""
    bed, _, first = iris_run
    _, second = bed.run(GOLDENS["iris"])
    assert first.status == second.status == "Succeeded", _logs(first) + _logs(second)
    assert first.execution_id != second.execution_id

    def written(execution):
        return {
            value
            for run in execution.steps.values()
            for key, value in run.properties.items()
            if key.endswith(("S3Output.S3Uri", "S3ModelArtifacts", "S3OutputPath"))
        }

    ours, theirs = written(first), written(second)
    assert ours and theirs and not ours & theirs
    assert all(f"/{first.execution_id}/" in uri for uri in ours)
    reports = [p["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] for p in (*first.packages, *second.packages)]
    assert len(set(reports)) == 2 and all(bed.s3.exists(uri) for uri in reports)


def test_the_created_model_serves_without_an_accept_header(iris_run):
    bed, compiled, execution = iris_run
    assert execution.status == "Succeeded", _logs(execution)
    (container,) = execution.models.values()
    served = serve(bed.plane, container, [Request("POST", "/invocations", CSV_ROWS[:16], {"Content-Type": "text/csv"})], "model")
    (answer,) = served.responses
    assert answer.status == 200 and answer.content_type.startswith("text/csv") and answer.body == b"0"


def test_batch_transform_writes_one_prediction_per_input_line(iris_run):
    bed, compiled, execution = iris_run
    assert execution.status == "Succeeded", _logs(execution)
    output = execution.steps["BatchTransform"].properties["TransformOutput.S3OutputPath"]
    with open(os.path.join(os.path.dirname(GOLDENS["iris"]), "data", "iris_to_score.csv"), "rb") as f:
        rows = [line for line in f.read().splitlines() if line.strip()]
    text = bed.s3.get(output + "/iris_to_score.csv.out").decode()
    assert text.endswith("\n") and not text.endswith("\n\n")
    lines = text[:-1].split("\n")
    assert len(lines) == len(rows) and all(line.strip() for line in lines)
    assert {int(float(x)) for x in lines} <= {0, 1, 2}


def test_the_else_branch_fails_with_the_joined_message(bed):
    compiled, execution = bed.run(GOLDENS["iris"], AccuracyThreshold=1.01)
    assert execution.status == "Failed"
    assert set(execution.ran()) == {"prepare", "train", "evaluate", "CheckAccuracy", "AccuracyTooLow"}
    # the message joins the measured accuracy (Std:JsonGet of the report) and the threshold
    report = json.loads(bed.s3.get(execution.steps["evaluate"].properties["ProcessingOutputConfig.Outputs['metrics'].S3Output.S3Uri"] + "/evaluation.json"))
    accuracy = report["multiclass_classification_metrics"]["accuracy"]["value"]  # a dotted Std:JsonGet Path
    expected = f"Held-out accuracy {accuracy} is below the threshold 1.01"
    assert execution.steps["AccuracyTooLow"].failure_reason == expected


@pytest.mark.parametrize(
    "where, step, reason",
    [
        ("processing", "prepare", "step 'prepare' failed: ValueError: the input table has no rows"),
        ("training", "fit", "step 'fit' failed: RuntimeError: the solver did not converge after 100 iterations"),
    ],
)
def test_a_step_that_raises_leaves_dagmls_reason_where_the_service_reads_it(bed, where, step, reason):
    compiled, execution = bed.run(os.path.join(PIPELINES, "failing.py"), FailIn=where)
    assert execution.status == "Failed"
    assert execution.steps[step].failure_reason == reason, execution.steps[step].job.output[-3000:]


def test_the_bootstrap_refuses_an_older_python_with_a_clear_reason(bed, tmp_path):
    """The stdlib-only bootstrap checks the Python before anything else (here: CPython 3.9, as in 1.2-1)."""
    import subprocess

    compiled = bed.compile(GOLDENS["minimal"])
    code = tmp_path / "code"
    compiled.bundle.write(str(code))
    root = tmp_path / "ml"
    env = {**os.environ, "DAGML_CONTAINER_ROOT": str(root)}
    done = subprocess.run(
        [find_python("3.9"), str(code / "dagml_entry.py"), "--mode", "processing", "--target", "minimal.py", "--step", "hello"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    reason = (root / "output" / "failure").read_text()
    assert reason.startswith("dagml bootstrap: this image runs Python 3.9, but dagml's step runtime needs Python >= 3.10")
    assert (root / "output" / "message").read_text() == reason


def test_named_outputs_flow_between_jobs_and_a_chosen_destination_is_kept(bed):
    """Named outputs (files and a returned value), a fixed destination, FastFile/sharded raw input,
    and a transform over a named output, all from the JSON in the image (issue #15, part 2)."""
    stage_datasets(bed, GOLDENS["dataflow"])
    compiled, execution = bed.run(GOLDENS["dataflow"], ExportUri="s3://example-bucket/exports/run-1")
    assert execution.status == "Succeeded", _logs(execution)
    split = execution.steps["split"].properties
    features = split["ProcessingOutputConfig.Outputs['features'].S3Output.S3Uri"]
    assert f"/{execution.execution_id}/split/features" in features
    assert bed.s3.get(features + "/features.csv").decode().splitlines()[0] == "1.0,3.0"
    # the returned value went where the execution said, and the next job read it as a value
    assert split["ProcessingOutputConfig.Outputs['summary'].S3Output.S3Uri"] == "s3://example-bucket/exports/run-1"
    assert bed.s3.exists("s3://example-bucket/exports/run-1/output.pkl")
    assert "shards: ['part-0.txt', 'part-1.txt']" in execution.steps["fit"].job.output
    scored = execution.steps["ScoreHoldout"].properties["TransformOutput.S3OutputPath"]
    predictions = [float(x) for x in bed.s3.get(scored + "/holdout.csv.out").decode().split()]
    assert predictions == pytest.approx([11.0, 13.0])  # y = 2x + 1 at the two holdout rows


def test_abalone_registers_its_model_quality_report_and_otherwise_fails_with_the_mse(abalone_run):
    """SageMaker's own canonical example, ported (issue #15): the registered version carries the nested
    report Studio shows, and the other branch fails with the measured MSE in its message."""
    bed, _, execution = abalone_run
    assert execution.status == "Succeeded", _logs(execution)
    (package,) = execution.packages
    assert package["ModelPackageGroupName"] == "AbaloneModels"
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    report = json.loads(bed.s3.get(package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]))
    mse = report["regression_metrics"]["mse"]
    assert 0 < mse["value"] < 6.0 and mse["standard_deviation"] > 0
    scored = execution.steps["AbaloneTransform"].properties["TransformOutput.S3OutputPath"]
    assert len(bed.s3.get(scored + "/abalone_batch.csv.out").decode().split()) == 60

    _, failed = bed.run(GOLDENS["abalone"], MseThreshold=1.0)
    assert failed.status == "Failed"
    assert set(failed.ran()) == {"preprocess", "train", "evaluate", "AbaloneMseCheck", "AbaloneMseFail"}
    metrics = failed.steps["evaluate"].properties["ProcessingOutputConfig.Outputs['metrics'].S3Output.S3Uri"]
    value = json.loads(bed.s3.get(metrics + "/evaluation.json"))["regression_metrics"]["mse"]["value"]
    assert failed.steps["AbaloneMseFail"].failure_reason == f"Execution failed: test MSE {value} is above the threshold 1.0"


@pytest.mark.parametrize(("name", "prefix"), [("abalone_xgboost", "AbaloneXgboost"), ("abalone_builtin", "AbaloneBuiltin")])
def test_abalone_switched_to_xgboost_registers_scores_and_otherwise_fails(request, image_env, name, prefix):
    """Issue #16's proof: abalone with XGBoost, as a dagml function whose requirement ships as wheels and
    as SageMaker's built-in algorithm (a container step), each end to end with the network cut."""
    bed, compiled, execution = request.getfixturevalue(f"{name}_run")
    assert execution.status == "Succeeded", _logs(execution)
    (package,) = execution.packages
    mse = json.loads(bed.s3.get(package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]))["regression_metrics"]["mse"]
    assert 0 < mse["value"] < 6.0 and mse["standard_deviation"] > 0
    scored = execution.steps[f"{prefix}Transform"].properties["TransformOutput.S3OutputPath"]
    predictions = [float(p) for p in bed.s3.get(scored + "/abalone_batch.csv.out").decode().split()]
    assert len(predictions) == 60 and all(0 < p < 40 for p in predictions)  # rings, not zeros or garbage

    _, failed = bed.run(GOLDENS[name], MseThreshold=1.0)
    assert failed.status == "Failed"
    assert set(failed.ran()) == {"preprocess", "train", "evaluate", f"{prefix}MseCheck", f"{prefix}MseFail"}


def test_a_model_served_by_its_own_handlers_reads_words_answers_json_and_scores_a_transform(bed):
    """Custom inference (issue #16, part 4): the registered model's container names the step whose
    input_fn, predict_fn and output_fn serve it, finds them in its own bundle, and keeps dagml's
    HTTP answers for what the user's functions leave to dagml's defaults."""
    compiled, execution = bed.run(GOLDENS["handlers"])
    assert execution.status == "Succeeded", _logs(execution)
    (package,) = execution.packages
    (container,) = package["InferenceSpecification"]["Containers"]
    assert (container["Environment"]["DAGML_TARGET"], container["Environment"]["DAGML_STEP"]) == ("handlers.py", "train")
    rows = b"Red,1.25\nblue,0.5\ngreen,2.0\n"  # a word in every row, which dagml's default refuses
    served = serve(
        bed.plane,
        container,
        [
            Request("GET", "/ping"),
            Request("POST", "/invocations", rows, {"Content-Type": "text/csv"}),
            Request("POST", "/invocations", rows, {"Content-Type": "text/csv", "Accept": "application/json"}),
            Request("POST", "/invocations", rows, {"Content-Type": "text/csv; charset=utf-8", "Accept": "*/*"}),
            Request("POST", "/invocations", b'{"rows": [["red", 1]]}', {"Content-Type": "application/json"}),
            Request("POST", "/invocations", b"purple,1.0\n", {"Content-Type": "text/csv"}),
            Request("POST", "/invocations", rows, {"Content-Type": "text/csv", "Accept": "text/plain"}),
        ],
        "endpoint",
    )
    assert served.responses, served.job.output
    ping, plain, as_json, star, json_in, unknown, text_plain = served.responses
    assert ping.status == 200
    for ok in (plain, star):  # no Accept, */*: the container's default, CSV, which the user's output_fn writes
        assert (ok.status, ok.content_type) == (200, "text/csv; charset=utf-8"), ok
        assert ok.body == b"3.5\n4.0\n6.0"
    assert (as_json.status, as_json.content_type) == (200, "application/json"), as_json
    assert json.loads(as_json.body) == {"predictions": [3.5, 4.0, 6.0]}
    # The user's InferenceError keeps its status; a ValueError from their input_fn is a 400 naming it; the
    # CSV writer of dagml that their output_fn calls still answers 406. All in the stack's JSON error body.
    for answer, status, says in (
        (json_in, 415, b"send text/csv rows"),
        (unknown, 400, b"input_fn handlers.parse raised ValueError: row 1: unknown colour 'purple'"),
        (text_plain, 406, b"unsupported accept type"),
    ):
        assert (answer.status, answer.content_type) == (status, "application/json"), answer
        assert says in json.loads(answer.body)["error-message"].encode(), answer.body
    # The batch transform (both batch strategies, compared by the control plane) used the same functions.
    scored = execution.steps["PriceRows"].properties["TransformOutput.S3OutputPath"]
    assert bed.s3.get(scored + "/to_score.csv.out") == b"3.5\n4.0\n6.0\n1.0\n"


def test_a_requirement_the_image_lacks_installs_from_the_shipped_wheels_with_no_network(abalone_xgboost_run):
    bed, compiled, execution = abalone_xgboost_run
    image, venv = bed.image, bed.plane.venv
    probe = run_container(image, venv, _empty_root(bed), ["python3", "-c", "import xgboost"])
    assert probe.exit_code != 0 and "No module named 'xgboost'" in probe.output  # not in the image
    wheels = sorted(uri for uri, _ in compiled.wheels)
    assert any("/xgboost_cpu-3.2.0-" in uri for uri in wheels) and any(uri.endswith("/dagml-requirements.txt") for uri in wheels)
    for step in ("train", "evaluate"):  # both jobs imported it, from the wheels, offline
        assert execution.steps[step].status == "Succeeded"
    assert "xgboost 3.2.0" in execution.steps["train"].job.output
    # The registered model carries its wheels, so the containers that serve it install them too.
    (package,) = execution.packages
    (container,) = package["InferenceSpecification"]["Containers"]
    artifact = bed.s3.get(container["ModelDataUrl"])
    with tarfile.open(fileobj=io.BytesIO(artifact)) as tar:
        names = tar.getnames()
    assert "model.pkl" in names and any(n.startswith("dagml-wheels/xgboost_cpu-3.2.0-") for n in names)


def _empty_root(bed) -> str:
    return tempfile.mkdtemp(prefix="probe-", dir=bed.plane.workdir)


def _logs(execution) -> str:
    return "\n".join(
        f"--- {name}: {run.status} {run.failure_reason}\n{run.job.output[-2500:] if run.job else ''}"
        for name, run in execution.steps.items()
        if run.status == "Failed"
    )


def test_existing_scripts_run_unchanged_in_the_image(bed):
    """pipe.script (issue #16): a processing script reads /opt/ml/processing/input and writes its outputs,
    a script-mode training script reads its channel and writes SM_MODEL_DIR, and the image serves the
    model with the script's own model_fn/predict_fn, offline."""
    stage_datasets(bed, GOLDENS["scripts"])
    compiled, execution = bed.run(GOLDENS["scripts"])
    assert execution.status == "Succeeded", _logs(execution)
    assert "split 20 rows: 15 train, 5 test (every 4th)" in execution.steps["split"].job.output
    assert "fit y = 2.000 x + 1.000 on 15 points" in execution.steps["fit"].job.output
    metrics = execution.steps["check"].properties["ProcessingOutputConfig.Outputs['metrics'].S3Output.S3Uri"]
    assert json.loads(bed.s3.get(metrics + "/evaluation.json")) == {"max_error": 0.0}
    scored = execution.steps["ScoreTest"].properties["TransformOutput.S3OutputPath"]
    predictions = bed.s3.get(scored + "/test.csv.out").decode().split()
    assert [float(p) for p in predictions] == [1.0, 9.0, 17.0, 25.0, 33.0]  # 2x + 1 at x = 0, 4, 8, 12, 16
