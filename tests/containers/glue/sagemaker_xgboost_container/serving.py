"""Serving entry of the XGBoost image (``SAGEMAKER_SERVING_MODULE``): the built-in algorithm's server.

``serve`` (:func:`serving_entrypoint`) defaults ``OMP_NUM_THREADS`` to 1 and runs
sagemaker-containers' ``server.start``, whose gunicorn workers serve :func:`main`.
Without ``SAGEMAKER_PROGRAM`` that is the algorithm's Flask app. Mirrors, of
aws/sagemaker-xgboost-container (master):

- ``src/sagemaker_xgboost_container/serving.py``: ``main``, ``serving_entrypoint``,
  ``set_default_serving_env_if_unspecified``;
- ``algorithm_mode/serve.py``: ``/ping`` (loads the model), ``/execution-parameters``,
  ``/invocations``: an empty body is 204; the body is parsed by its Content-Type
  (``text/csv``: one row of features per line, no label; ``text/libsvm``; no
  Content-Type at all reads as LIBSVM), else 415 with the reason; 500 when the
  model cannot load, 400 when it cannot predict; ``Accept`` absent or ``*/*`` means
  ``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``, by default ``text/csv``; an Accept outside
  ``application/json``, ``application/jsonlines``, ``application/x-recordio-protobuf``,
  ``text/csv`` is 406. The predictions are encoded by sagemaker-containers'
  ``encoders.encode`` (``text/csv``: one prediction per line, each line ending in
  ``\\n``), ``application/json`` as ``{"predictions": [{"score": p}, ...]}``, and in a
  batch transform (``SAGEMAKER_BATCH`` set) as ``str(p)`` lines whatever the Accept;
- ``algorithm_mode/serve_utils.py`` and ``encoder.py``: the model is every non-dot
  file of ``SM_MODEL_DIR`` (a pickled booster, else XGBoost's own format), several
  files an ensemble (``SAGEMAKER_INFERENCE_ENSEMBLE``, default true: the mean, or the
  vote for ``multi:softmax``/``binary:hinge``), each limited to one thread; CSV
  requests are sniffed for their delimiter, empty fields read as NaN.

Left out (a clear error): script mode, the multi-model server, recordio-protobuf
requests and selectable inference output (``SAGEMAKER_INFERENCE_OUTPUT``).
"""

import csv
import http.client
import json
import logging
import os
import pickle

import flask
import numpy as np
import xgboost as xgb
from sagemaker_containers.beta.framework import encoders, env, server
from scipy import stats
from scipy.sparse import csr_matrix

from sagemaker_xgboost_container import data

logging.basicConfig(format="%(asctime)s %(levelname)s - %(name)s - %(message)s", level=logging.INFO)
logger = logging.getLogger(__name__)

SAGEMAKER_BATCH = os.getenv("SAGEMAKER_BATCH")
SUPPORTED_ACCEPTS = [
    "application/json",
    "application/jsonlines",
    "application/x-recordio-protobuf",
    "text/csv",
]
MAX_CONTENT_LENGTH = int(os.getenv("MAX_CONTENT_LENGTH", "6291456"))
PKL_FORMAT, XGB_FORMAT = "pkl_format", "xgb_format"
_LEFT_OUT = "the container test bed's XGBoost glue serves the built-in algorithm and leaves out"


def set_default_serving_env_if_unspecified():
    """One OpenMP thread per worker process unless the model's environment says otherwise."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def csv_to_dmatrix(text, dtype=None):
    sniffed = csv.Sniffer().sniff(text.split("\n")[0][:512]).delimiter
    delimiter = "," if sniffed.isalnum() else sniffed
    logging.info(f"Determined delimiter of CSV input is '{delimiter}'")
    rows = [["nan" if cell == "" else cell for cell in line.split(delimiter)] for line in text.split("\n")]
    return xgb.DMatrix(np.array(rows).astype(dtype))


def libsvm_to_dmatrix(text):
    rows, cols, values = [], [], []
    for row, line in enumerate(text.split("\n")):
        for item in line.split(" "):
            if ":" in item:
                index, value = item.split(":")[:2]
                rows.append(row)
                cols.append(int(index))
                values.append(float(value))
    cols = np.array(cols, dtype=int)
    if len(cols) and cols.min() >= 1:  # LIBSVM counts features from 1
        cols -= 1
    return xgb.DMatrix(csr_matrix((np.array(values), (np.array(rows), cols))))


def parse_content_data(payload, content_type):
    kind = data.get_content_type(content_type)
    if kind == data.CSV:
        try:
            return csv_to_dmatrix(payload.strip().decode("utf-8"), dtype=float), kind
        except Exception as e:
            raise RuntimeError(
                f"Loading csv data failed with Exception, please ensure data is in csv format:\n {type(e)}\n {e}"
            ) from e
    if kind == data.LIBSVM:
        try:
            return libsvm_to_dmatrix(payload.strip().decode("utf-8")), kind
        except Exception as e:
            raise RuntimeError(
                f"Loading libsvm data failed with Exception, please ensure data is in libsvm format:\n {type(e)}\n {e}"
            ) from e
    if kind == data.RECORDIO_PROTOBUF:
        raise RuntimeError(f"{_LEFT_OUT} recordio-protobuf requests.")
    raise RuntimeError(f"Content-type {content_type} is not supported.")


def load_booster(model_dir, ensemble):
    """(booster, format), or (list of boosters, list of formats) for an ensemble of several files."""
    paths = [
        os.path.join(model_dir, f)
        for f in os.listdir(model_dir)
        if os.path.isfile(os.path.join(model_dir, f))
    ]
    paths = [p for p in paths if not os.path.basename(p).startswith(".")]
    boosters, formats = [], []
    for path in paths if ensemble else paths[:1]:
        logging.info(f"Loading the model from {path}")
        try:
            with open(path, "rb") as f:
                booster, kind = pickle.load(f), PKL_FORMAT
        except Exception as pickle_error:
            try:
                booster, kind = xgb.Booster(), XGB_FORMAT
                booster.load_model(path)
            except Exception as xgb_error:
                raise RuntimeError(
                    f"Model {path} cannot be loaded:\nPickle load error={pickle_error}\nXGB load model error={xgb_error}"
                ) from xgb_error
        booster.set_param("nthread", 1)
        boosters.append(booster)
        formats.append(kind)
    return (boosters, formats) if ensemble and len(boosters) > 1 else (boosters[0], formats[0])


def predict(model, model_format, dtest, kind, objective):
    first, first_format = (model[0], model_format[0]) if isinstance(model, list) else (model, model_format)
    if first_format == PKL_FORMAT:
        trained = first.num_features()
        given = len(dtest.feature_names) if dtest.feature_names is not None else dtest.num_col()
        if kind == data.LIBSVM and given > trained + 1:
            raise ValueError(
                f"Feature size of libsvm inference data {given} is larger than feature size of trained model {trained}."
            )
        if kind == data.CSV and given not in (trained, trained - 1):
            raise ValueError(
                f"Feature size of {kind} inference data {given} is not consistent with feature size of trained model {trained}."
            )
    if not isinstance(model, list):
        return model.predict(dtest, validate_features=False)
    predictions = [booster.predict(dtest, validate_features=False) for booster in model]
    if objective in ("multi:softmax", "binary:hinge"):
        return stats.mode(predictions).mode[0]
    return np.mean(predictions, axis=0)


class ScoringService:
    app = flask.Flask(__name__)
    booster = None
    format = None
    objective = None

    @classmethod
    def load_model(cls):
        if cls.booster is None:
            ensemble = os.environ.get("SAGEMAKER_INFERENCE_ENSEMBLE", "true") == "true"
            cls.booster, cls.format = load_booster(os.getenv("SM_MODEL_DIR"), ensemble)
            first = cls.booster[0] if isinstance(cls.booster, list) else cls.booster
            cls.objective = json.loads(first.save_config())["learner"]["objective"]["name"]
            logging.info(f"Model objective : {cls.objective}")
        return cls.format


def _accept(request):
    accept, _ = data.parse_header(request.headers.get("accept", ""))
    if not accept or accept == "*/*":
        return os.getenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/csv")
    if accept not in SUPPORTED_ACCEPTS:
        raise ValueError(
            f"Accept type {accept} is not supported. Please use supported accept types: {SUPPORTED_ACCEPTS}."
        )
    return accept


@ScoringService.app.route("/ping", methods=["GET"])
def ping():
    ScoringService.load_model()
    return flask.Response(status=http.client.OK)


@ScoringService.app.route("/execution-parameters", methods=["GET"])
def execution_parameters():
    parameters = {
        "MaxConcurrentTransforms": os.cpu_count(),
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": int(MAX_CONTENT_LENGTH / (1024**2)),
    }
    return flask.Response(response=json.dumps(parameters), status=http.client.OK, mimetype="application/json")


@ScoringService.app.route("/invocations", methods=["POST"])
def invocations():
    payload = flask.request.data
    if len(payload) == 0:
        return flask.Response(response="", status=http.client.NO_CONTENT)
    try:
        dtest, kind = parse_content_data(payload, flask.request.content_type)
    except Exception as e:
        logging.exception(e)
        return flask.Response(response=str(e), status=http.client.UNSUPPORTED_MEDIA_TYPE)
    try:
        model_format = ScoringService.load_model()
    except Exception as e:
        logging.exception(e)
        return flask.Response(response=f"Unable to load model: {e}", status=http.client.INTERNAL_SERVER_ERROR)
    try:
        predictions = predict(ScoringService.booster, model_format, dtest, kind, ScoringService.objective)
    except Exception as e:
        logging.exception(e)
        return flask.Response(
            response=f"Unable to evaluate payload provided: {e}", status=http.client.BAD_REQUEST
        )
    try:
        accept = _accept(flask.request)
    except ValueError as e:
        logging.exception(e)
        return flask.Response(response=str(e), status=http.client.NOT_ACCEPTABLE)
    if "SAGEMAKER_INFERENCE_OUTPUT" in os.environ:
        return flask.Response(
            response=f"{_LEFT_OUT} selectable inference output.", status=http.client.INTERNAL_SERVER_ERROR
        )
    values = predictions.tolist()
    if SAGEMAKER_BATCH:
        body = "\n".join(map(str, values)) + "\n"
    elif accept == "application/json":
        body = json.dumps({"predictions": [{"score": value} for value in values]})
    else:
        body = encoders.encode(values, accept)
    return flask.Response(response=body, status=http.client.OK, mimetype=accept)


app = None


def main(environ, start_response):
    """The WSGI app gunicorn serves: the algorithm's, made on the first request."""
    global app
    if app is None:
        serving_env = env.ServingEnv()
        if serving_env.module_name is not None:
            raise RuntimeError(f"{_LEFT_OUT} script mode (SAGEMAKER_PROGRAM {serving_env.module_name!r}).")
        ScoringService.app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
        app = ScoringService.app
    return app(environ, start_response)


def serving_entrypoint():
    """The image's ``serve``."""
    set_default_serving_env_if_unspecified()
    if os.environ.get("SAGEMAKER_MULTI_MODEL"):
        raise RuntimeError(f"{_LEFT_OUT} the multi-model server (SAGEMAKER_MULTI_MODEL).")
    server.start(env.ServingEnv().framework_module)
