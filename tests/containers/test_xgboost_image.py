"""SageMaker's built-in XGBoost algorithm in the container test bed (``sagemaker-xgboost:3.2-0``).

No dagml here: the definition is written by hand as the service would receive it
(a Training step of the built-in algorithm on two CSV channels, a Model, a
RegisterModel and a Transform of the trained model, all in the XGBoost image), and
the bed plays it through sagemaker-containers and the image's own packages on the
image's Python, each job with the network cut (see tests/containers/images.py,
``XGBOOST_IMAGES``, for where every fact comes from).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import tarfile

import pytest

from tests.containers.controlplane import ControlPlane
from tests.containers.envs import environment
from tests.containers.images import IMAGES, XGBOOST_IMAGES, NotEmulatedError, image_for_uri
from tests.containers.jobs import require_isolation, run_container
from tests.containers.s3 import S3
from tests.containers.serving import Request, serve

#: The bed's tests share each image's environment (see test_bed.py).
pytestmark = pytest.mark.xdist_group("container-bed")

REGISTRY = "683313688378.dkr.ecr.us-east-1.amazonaws.com"
IMAGE_URI = f"{REGISTRY}/sagemaker-xgboost:3.2-0"
ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
DATA = "s3://dagml-bed/xgboost"
HYPERPARAMETERS = {"objective": "reg:squarederror", "num_round": "50", "max_depth": "5", "eta": "0.2"}
#: The image's metric definition for validation:rmse (algorithm_mode/metrics.py), matched against the
#: log as CloudWatch shows it: a tab is ``#011`` there.
RMSE_DEFINITION = re.compile(r".*\[[0-9]+\].*#011validation-rmse:(\S+)")


def _rows(count: int, seed: int) -> list[list[float]]:
    """An easy regression: y = 3 a + 2 b - c (each feature in [0, 1]), label first."""
    draw = random.Random(seed)
    rows = []
    for _ in range(count):
        a, b, c = (round(draw.random(), 4) for _ in range(3))
        rows.append([round(3 * a + 2 * b - c, 4), a, b, c])
    return rows


def _csv(rows: list[list[float]]) -> bytes:
    return "".join(",".join(str(v) for v in row) + "\n" for row in rows).encode()


TRAIN, VALIDATION, SCORE = _rows(400, 1), _rows(100, 2), _rows(40, 3)


def _channel(name: str) -> dict:
    return {
        "ChannelName": name,
        "ContentType": "text/csv",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"{DATA}/{name}",
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "InputMode": "File",
    }


def definition(hyperparameters: dict[str, str]) -> dict:
    """Train the built-in algorithm, make a model of it, register it and score a file with it."""
    artifacts = {"Get": "Steps.TrainXgboost.ModelArtifacts.S3ModelArtifacts"}
    container = {"Image": IMAGE_URI, "ModelDataUrl": artifacts, "Environment": {}}
    return {
        "Version": "2020-12-01",
        "PipelineName": "xgboost-bed",
        "Parameters": [],
        "Steps": [
            {
                "Name": "TrainXgboost",
                "Type": "Training",
                "Arguments": {
                    "AlgorithmSpecification": {"TrainingImage": IMAGE_URI, "TrainingInputMode": "File"},
                    "HyperParameters": hyperparameters,
                    "InputDataConfig": [_channel("train"), _channel("validation")],
                    "OutputDataConfig": {"S3OutputPath": f"{DATA}/models"},
                    "ResourceConfig": {
                        "InstanceCount": 1,
                        "InstanceType": "ml.m5.xlarge",
                        "VolumeSizeInGB": 30,
                    },
                    "RoleArn": ROLE,
                    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                },
            },
            {
                "Name": "XgboostModel",
                "Type": "Model",
                "Arguments": {"ExecutionRoleArn": ROLE, "PrimaryContainer": container},
            },
            {
                "Name": "RegisterXgboost",
                "Type": "RegisterModel",
                "Arguments": {
                    "ModelPackageGroupName": "XgboostModels",
                    "ModelApprovalStatus": "Approved",
                    "InferenceSpecification": {
                        "Containers": [container],
                        "SupportedContentTypes": ["text/csv"],
                        "SupportedResponseMIMETypes": ["text/csv"],
                    },
                },
            },
            {
                "Name": "ScoreXgboost",
                "Type": "Transform",
                "Arguments": {
                    "ModelName": {"Get": "Steps.XgboostModel.ModelName"},
                    # The algorithm ends each response with a newline, so with AssembleWith=Line the
                    # output depends on the strategy: name it, as the bed requires then.
                    "BatchStrategy": "MultiRecord",
                    "TransformInput": {
                        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{DATA}/score"}},
                        "ContentType": "text/csv",
                        "SplitType": "Line",
                    },
                    "TransformOutput": {
                        "S3OutputPath": f"{DATA}/scored",
                        "AssembleWith": "Line",
                        "Accept": "text/csv",
                    },
                    "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge"},
                },
            },
        ],
    }


@pytest.fixture(scope="module")
def xgboost_env():
    """(Image, its environment): built once, cached across runs like every image of the bed."""
    require_isolation()
    image = XGBOOST_IMAGES["3.2-0"]
    return image, environment(image)


def _plane(xgboost_env, directory) -> ControlPlane:
    image, venv = xgboost_env
    s3 = S3(os.path.join(str(directory), "s3"))
    s3.put(f"{DATA}/train/train.csv", _csv(TRAIN))
    s3.put(f"{DATA}/validation/validation.csv", _csv(VALIDATION))
    s3.put(f"{DATA}/score/score.csv", _csv([row[1:] for row in SCORE]))  # features only
    return ControlPlane(image, venv, str(directory), s3)


@pytest.fixture(scope="module")
def run(xgboost_env, tmp_path_factory):
    """(plane, execution) of the whole definition with good hyperparameters, shared by the tests that read it."""
    plane = _plane(xgboost_env, tmp_path_factory.mktemp("xgboost-bed"))
    return plane, plane.execute(definition(HYPERPARAMETERS))


def _failures(execution) -> str:
    return "\n".join(
        f"--- {name}: {r.failure_reason}\n{r.job.output[-3000:] if r.job else ''}"
        for name, r in execution.steps.items()
        if r.status == "Failed"
    )


def test_image_for_uri_maps_the_images_the_bed_emulates():
    assert image_for_uri(IMAGE_URI) is XGBOOST_IMAGES["3.2-0"]
    assert image_for_uri(f"{REGISTRY}/sagemaker-xgboost:3.2-0-cpu-py3") is XGBOOST_IMAGES["3.2-0"]
    assert (
        image_for_uri("492215442770.dkr.ecr.eu-central-1.amazonaws.com/sagemaker-xgboost:3.2-0")
        is XGBOOST_IMAGES["3.2-0"]
    )
    assert image_for_uri(f"{REGISTRY}/sagemaker-scikit-learn:1.4-2-cpu-py3") is IMAGES["1.4-2"]
    for uri in (
        f"{REGISTRY}/sagemaker-xgboost:0.90-2",
        f"{REGISTRY}/sagemaker-scikit-learn:1.4-2",
        f"{REGISTRY}/team/train:3",
        "sagemaker-xgboost:3.2-0",
    ):
        with pytest.raises(NotEmulatedError, match=r"sagemaker-xgboost:3\.2-0") as caught:
            image_for_uri(uri)
        assert isinstance(caught.value, LookupError)


def test_the_image_runs_its_own_python_and_xgboost_with_no_network(xgboost_env, tmp_path):
    image, venv = xgboost_env
    probe = (
        "import socket, sys, xgboost, sagemaker_containers\n"
        "s = socket.socket()\n"
        "s.settimeout(3)\n"
        "try:\n"
        "    s.connect(('1.1.1.1', 443))\n"
        "except OSError as e:\n"
        "    print('unreachable', e.errno)\n"
        "else:\n"
        "    print('CONNECTED')\n"
        "print(sys.version_info[:2], xgboost.__version__)\n"
    )
    (tmp_path / "ml").mkdir()
    job = run_container(image, venv, str(tmp_path / "ml"), ["python3", "-c", probe])
    assert job.exit_code == 0, job.output
    assert "unreachable" in job.output and "CONNECTED" not in job.output
    assert "(3, 12) 3.2.0" in job.output


def test_the_built_in_algorithm_trains_and_saves_xgboost_model(run):
    plane, execution = run
    assert execution.status == "Succeeded", _failures(execution)
    assert execution.ran() == ["TrainXgboost", "XgboostModel", "RegisterXgboost", "ScoreXgboost"]
    train = execution.steps["TrainXgboost"]
    artifacts = train.properties["ModelArtifacts.S3ModelArtifacts"]
    assert artifacts == f"{DATA}/models/bed-TrainXgboost/output/model.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(plane.s3.get(artifacts))) as tar:
        assert tar.getnames() == ["xgboost-model"]
    # the image's own train, algorithm mode: no user script, the channels read as CSV
    assert "Running XGBoost Sagemaker in algorithm mode" in train.job.output
    assert "Train matrix has 400 rows and 3 columns" in train.job.output


def test_the_log_carries_each_rounds_metrics_as_the_algorithm_prints_them(run):
    _, execution = run
    log = execution.steps["TrainXgboost"].job.output
    rounds = re.findall(r"^\[(\d+)\]\ttrain-rmse:([0-9.]+)\tvalidation-rmse:([0-9.]+)$", log, re.MULTILINE)
    assert [int(r[0]) for r in rounds] == list(range(50)), log[-3000:]
    first, last = float(rounds[0][2]), float(rounds[-1][2])
    assert last < first / 5 and last < 0.2  # it learnt the easy function
    # a tuning job's metric definition finds the last value in CloudWatch's rendering of the line
    matches = [RMSE_DEFINITION.match(line.replace("\t", "#011")) for line in log.splitlines()]
    assert [m.group(1) for m in matches if m][-1] == rounds[-1][2]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"objective": "nonsense"},
            "Hyperparameter objective: nonsense is not in ['aft_loss_distribution', ",
        ),
        ({"num_round": None}, "Missing required hyperparameter: num_round"),
        ({"max_depth": "five"}, "Hyperparameter max_depth: could not parse value (caused by ValueError)"),
        ({"silent": "0"}, "Extraneous hyperparameter found: silent"),
    ],
)
def test_a_bad_hyperparameter_fails_the_job_with_the_algorithms_reason(
    xgboost_env, tmp_path, change, message
):
    plane = _plane(xgboost_env, tmp_path)
    hyperparameters = {k: v for k, v in {**HYPERPARAMETERS, **change}.items() if v is not None}
    execution = plane.execute(definition(hyperparameters))
    assert execution.status == "Failed"
    assert execution.ran() == ["TrainXgboost"]
    train = execution.steps["TrainXgboost"]
    # sagemaker-containers' trainer (_trainer.py) writes "framework error: ", the traceback, then the
    # message, and logs the same; the service keeps the first 1024 characters as FailureReason. The
    # traceback of six frames runs past that, in the image too (its /opt/venv paths are shorter than
    # the bed's, but not enough), so the message itself shows in the failure file and the log only.
    with open(os.path.join(str(tmp_path), "jobs", "TrainXgboost", "ml", "output", "failure")) as f:
        failure = f.read()
    assert failure.startswith("framework error: \nTraceback (most recent call last):\n")
    assert message in failure.splitlines()[-1], failure
    assert train.failure_reason == failure[:1024]
    assert message in train.job.output  # the trainer logs it too
    assert not plane.s3.objects(f"{DATA}/models/")  # no model was uploaded


def test_the_transform_scores_every_row_close_to_its_label(run):
    plane, execution = run
    assert execution.status == "Succeeded", _failures(execution)
    output = execution.steps["ScoreXgboost"].properties["TransformOutput.S3OutputPath"]
    text = plane.s3.get(f"{output}/score.csv.out").decode()
    # one request (MultiRecord) answered with one prediction per line, each ending in a newline,
    # and AssembleWith=Line adds one after the response
    assert text.endswith("\n\n") and "\n\n" not in text[:-1]
    predictions = [float(line) for line in text.split()]
    assert len(predictions) == len(SCORE)
    errors = [abs(p - row[0]) for p, row in zip(predictions, SCORE)]
    assert max(errors) < 0.6 and sum(errors) / len(errors) < 0.2, list(zip(predictions, SCORE))


def test_an_endpoint_answers_csv_without_accept_and_refuses_what_the_algorithm_refuses(run):
    plane, execution = run
    assert execution.status == "Succeeded", _failures(execution)
    (package,) = execution.packages
    (container,) = package["InferenceSpecification"]["Containers"]
    rows = _csv([row[1:] for row in SCORE[:3]])
    served = serve(
        plane,
        container,
        [
            Request("GET", "/ping"),
            Request("POST", "/invocations", rows, {"Content-Type": "text/csv"}),
            Request("POST", "/invocations", rows, {"Content-Type": "text/csv", "Accept": "*/*"}),
            Request("POST", "/invocations", rows, {"Content-Type": "text/csv", "Accept": "application/json"}),
            Request("POST", "/invocations", rows, {"Content-Type": "text/csv", "Accept": "text/html"}),
            Request("POST", "/invocations", rows, {"Content-Type": "application/x-npy"}),
            Request("POST", "/invocations", b"", {"Content-Type": "text/csv"}),
            Request("GET", "/execution-parameters"),
        ],
        "endpoint",
    )
    assert served.responses, served.job.output[-3000:]
    ping, plain, star, as_json, html, npy, empty, parameters = served.responses
    assert ping.status == 200
    for csv_answer in (plain, star):  # no Accept (or */*): CSV, one prediction per line
        assert (csv_answer.status, csv_answer.content_type) == (200, "text/csv; charset=utf-8"), csv_answer
        lines = csv_answer.body.decode().split("\n")
        assert lines[-1] == "" and len(lines) == 4
        assert [round(float(x), 1) for x in lines[:3]] == pytest.approx(
            [row[0] for row in SCORE[:3]], abs=0.6
        )
    assert as_json.status == 200 and as_json.content_type == "application/json"
    scores = [p["score"] for p in json.loads(as_json.body)["predictions"]]
    assert scores == [float(x) for x in plain.body.decode().split()]
    assert html.status == 406 and b"Accept type text/html is not supported" in html.body
    assert npy.status == 415 and b"application/x-npy is not an accepted ContentType" in npy.body
    assert empty.status == 204
    assert json.loads(parameters.body)["BatchStrategy"] == "MULTI_RECORD"
