"""Training entry of the XGBoost image (``SAGEMAKER_TRAINING_MODULE``): the built-in algorithm.

The image's ``train`` is sagemaker-containers' (``sagemaker_containers.cli.train``):
``_trainer.train`` imports this module and calls :func:`main`; an exception becomes
``/opt/ml/output/failure`` (``framework error:``, the traceback, the message) and
exit code 1. Mirrors, of aws/sagemaker-xgboost-container (master):

- ``src/sagemaker_xgboost_container/training.py``: ``main``, ``train`` (no
  ``sagemaker_program``: algorithm mode, the environment written with
  ``_env.write_env_vars``), ``run_algorithm_mode`` (the config files named by the
  image's ``SM_INPUT_*`` variables, the channels' ``SM_CHANNEL_*``);
- ``algorithm_mode/train.py``: ``sagemaker_train`` (hyperparameters and channels
  validated first, then the DMatrices) and ``train_job`` (``xgb.train`` with
  ``verbose_eval=False`` and XGBoost's ``EvaluationMonitor``, which prints
  ``[<round>]\\ttrain-<metric>:<v>\\tvalidation-<metric>:<v>`` each round: the
  lines the algorithm's metric definitions match, ``#011`` being CloudWatch's tab;
  errors known to be the user's re-raised as such; the model saved as
  ``xgboost-model``);
- ``algorithm_mode/train_utils.py``, ``callback.py`` and ``metrics/custom_metrics.py``:
  evaluation metrics (the container's own, computed with scikit-learn, as
  ``custom_metric``), early stopping, the intermediate model of
  ``save_model_on_termination``.

Left out (a clear error): script mode, several hosts, Dask GPU training,
``_kfold`` cross-validation and checkpoints.
"""

import json
import logging
import os
import sys

import numpy as np
import sagemaker_containers.beta.framework as framework
import xgboost as xgb
from sagemaker_containers import _env
from sklearn import metrics as skm

from sagemaker_xgboost_container import data
from sagemaker_xgboost_container import hyperparameters as hpv
from sagemaker_xgboost_container.toolkit import AlgorithmError, PlatformError, UserError

# callback.py imports checkpointing.py, which configures the root logger when imported, before
# sagemaker-containers' trainer would (its basicConfig then does nothing): the image's log format.
logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

MODEL_NAME = "xgboost-model"
#: Fragments of XGBoost errors that the image reports as the user's (``constants/xgb_constants.py``).
CUSTOMER_ERRORS = [
    "label must be in [0,1] for logistic regression",
    "label must be in [0, num_class)",
    "Target is multiclass but average='binary'",
    "feature_names mismatch",
    "Check failed: preds.size() == info.labels_.size()",
    "Check failed: !auc_error AUC: the dataset only contains pos or neg samples",
    "Check failed: base_score > 0.0f && base_score < 1.0f base_score must be in (0,1) for logistic loss",
    "Check failed: label_correct PoissonRegression: label must be nonnegative",
    "Check failed: label_correct TweedieRegression: label must be nonnegative",
    "Parameter reg_lambda should be greater equal to 0",
]
_LEFT_OUT = "the container test bed's XGBoost glue plays the built-in algorithm on one host and leaves out"


def _class_labels(preds):
    return np.argmax(preds, axis=-1) if preds.ndim > 1 else (preds > 0.0).astype(int)


def _on_classes(score):
    return lambda preds, dtrain: score(dtrain.get_label(), _class_labels(preds)) if preds.size > 0 else 0.0


def _on_values(score):
    return lambda preds, dtrain: score(dtrain.get_label(), preds)


#: The container's own evaluation metrics (they shadow XGBoost's mae, rmse).
CUSTOM_METRICS = {
    "accuracy": _on_classes(skm.accuracy_score),
    "balanced_accuracy": _on_classes(skm.balanced_accuracy_score),
    "f1": _on_classes(lambda y, p: skm.f1_score(y, p, average="macro")),
    "f1_binary": _on_classes(lambda y, p: skm.f1_score(y, p, average="binary")),
    "f1_macro": _on_classes(lambda y, p: skm.f1_score(y, p, average="macro")),
    "mse": _on_values(skm.mean_squared_error),
    "rmse": _on_values(skm.root_mean_squared_error),
    "mae": _on_values(skm.mean_absolute_error),
    "precision": _on_classes(skm.precision_score),
    "precision_macro": _on_classes(lambda y, p: skm.precision_score(y, p, average="macro")),
    "precision_micro": _on_classes(lambda y, p: skm.precision_score(y, p, average="micro")),
    "r2": _on_values(skm.r2_score),
    "recall": _on_classes(skm.recall_score),
    "recall_macro": _on_classes(lambda y, p: skm.recall_score(y, p, average="macro")),
    "recall_micro": _on_classes(lambda y, p: skm.recall_score(y, p, average="micro")),
}


def _eval_metrics(tuning_metric, eval_metric):
    """(XGBoost's metrics, the custom_metric function or None, the tuning metric names or None)."""
    tuned = tuning_metric.split(":")[1].split(",") if tuning_metric else None
    union = sorted(set(tuned or []) | set(eval_metric or [])) if (tuned or eval_metric) else None
    if union is None:
        return None, None, tuned
    custom = [m for m in union if m in CUSTOM_METRICS]
    feval = (
        (lambda preds, dtrain: [(m, CUSTOM_METRICS[m](preds, dtrain)) for m in custom]) if custom else None
    )
    return [m for m in union if m not in custom], feval, tuned


class _SaveIntermediateModel(xgb.callback.TrainingCallback):
    """``save_model_on_termination=true``: the model so far, as ``xgboost-model``, after every round."""

    def __init__(self, model_dir):
        self.path = os.path.join(model_dir, MODEL_NAME)

    def after_iteration(self, model, epoch, evals_log):
        model.save_model(self.path)
        return False


def train_job(train_cfg, train_dmatrix, val_dmatrix, model_dir):
    num_round = train_cfg.pop("num_round")
    save_on_termination = train_cfg.pop("save_model_on_termination", "false")
    eval_metric = train_cfg.get("eval_metric")
    xgb_metrics, feval, tuned = _eval_metrics(train_cfg.pop("_tuning_objective_metric", None), eval_metric)
    if xgb_metrics:
        train_cfg["eval_metric"] = xgb_metrics
    else:
        train_cfg.pop("eval_metric", None)
    callbacks = [xgb.callback.EvaluationMonitor()]
    if save_on_termination == "true":
        callbacks.append(_SaveIntermediateModel(model_dir))
    rounds = train_cfg.pop("early_stopping_rounds", None)
    metric = (tuned or eval_metric or [None])[-1]
    if rounds and val_dmatrix is not None and metric:
        maximize = metric in hpv.MAXIMIZE_METRICS
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=rounds, data_name="validation", metric_name=metric, maximize=maximize, save_best=True
            )
        )
    logging.info(f"Train matrix has {train_dmatrix.num_row()} rows and {train_dmatrix.num_col()} columns")
    watchlist = [(train_dmatrix, "train")]
    if val_dmatrix is not None:
        logging.info(f"Validation matrix has {val_dmatrix.num_row()} rows")
        watchlist.append((val_dmatrix, "validation"))
    try:
        booster = xgb.train(
            train_cfg,
            train_dmatrix,
            num_boost_round=num_round,
            evals=watchlist,
            custom_metric=feval,
            callbacks=callbacks,
            verbose_eval=False,
        )
    except Exception as e:
        if any(fragment in str(e) for fragment in CUSTOMER_ERRORS):
            raise UserError(str(e)) from e
        raise AlgorithmError(f"XGB train call failed with exception:\n {e}") from e
    os.makedirs(model_dir, exist_ok=True)
    booster.save_model(os.path.join(model_dir, MODEL_NAME))


def get_validated_dmatrices(train_path, validation_path, kind, csv_weights, is_pipe):
    train_size = data.get_size(train_path) if train_path else 0
    validation_size = data.get_size(validation_path) if validation_path else 0
    if not is_pipe:
        for path, size in ((train_path, train_size), (validation_path, validation_size)):
            if size > 0:
                data.validate_data_file_path(path, kind)
    train = data.get_dmatrix(train_path, kind, csv_weights, is_pipe) if train_size > 0 else None
    validation = (
        data.get_dmatrix(validation_path, kind, csv_weights, is_pipe) if validation_size > 0 else None
    )
    return train, validation


def sagemaker_train(
    train_config, data_config, train_path, val_path, model_dir, sm_hosts, sm_current_host, checkpoint_config
):
    """Validate, load, train: the algorithm's order, so a bad hyperparameter fails before any data is read."""
    train_cfg = hpv.initialize().validate(train_config)
    if train_cfg.get("updater"):
        train_cfg["updater"] = ",".join(train_cfg["updater"])
    validated = data.channels().validate(data_config)
    kind = data.get_content_type(validated["train"].get("ContentType"))
    is_pipe = validated["train"].get("TrainingInputMode") == "Pipe"
    if val_path is not None:
        if train_path == val_path or os.path.basename(train_path) == os.path.basename(val_path):
            logger.warning(
                "Found same path for training and validation. This is not recommended and results may not be correct."
            )
        elif not is_pipe:
            data.check_data_redundancy(train_path, val_path)
    num_gpus = int(os.getenv("SM_NUM_GPUS", 0))
    logging.info(f"Determined {num_gpus} GPU(s) available on the instance.")
    for given, what in (
        (
            train_cfg.pop("use_dask_gpu_training", "false") == "true",
            "Dask GPU training (use_dask_gpu_training)",
        ),
        ("_kfold" in train_cfg, "k-fold cross-validation (_kfold)"),
        (checkpoint_config.get("LocalPath"), "checkpoints (CheckpointConfig)"),
    ):
        if given:
            raise UserError(f"{_LEFT_OUT} {what}.")
    train_dmatrix, val_dmatrix = get_validated_dmatrices(
        train_path, val_path, kind, train_cfg.get("csv_weights", 0), is_pipe
    )
    if len(sm_hosts) != 1:
        raise PlatformError(f"{_LEFT_OUT} distributed training ({len(sm_hosts)} hosts).")
    if not train_dmatrix:
        raise UserError(f"No data in training channel path {train_path}")
    if "validation" in validated and not val_dmatrix:
        raise UserError(f"No data in validation channel path {val_path}")
    logging.info("Single node training.")
    train_job(train_cfg, train_dmatrix, val_dmatrix, model_dir)


def run_algorithm_mode():
    """Read the job's configuration where the image's environment says, and train."""

    def read(variable):
        with open(os.environ[variable]) as f:
            return json.load(f)

    checkpoint_file = os.environ["SM_CHECKPOINT_CONFIG_FILE"]
    sagemaker_train(
        train_config=read("SM_INPUT_TRAINING_CONFIG_FILE"),
        data_config=read("SM_INPUT_DATA_CONFIG_FILE"),
        train_path=os.environ["SM_CHANNEL_TRAIN"],
        val_path=os.environ.get("SM_CHANNEL_VALIDATION"),
        model_dir=os.environ["SM_MODEL_DIR"],
        sm_hosts=json.loads(os.environ["SM_HOSTS"]),
        sm_current_host=os.environ["SM_CURRENT_HOST"],
        checkpoint_config=read("SM_CHECKPOINT_CONFIG_FILE") if os.path.exists(checkpoint_file) else {},
    )


def train(training_environment):
    if training_environment.user_entry_point is not None:
        raise UserError(
            f"{_LEFT_OUT} script mode (sagemaker_program {training_environment.user_entry_point!r})."
        )
    logger.info("Running XGBoost Sagemaker in algorithm mode")
    _env.write_env_vars(training_environment.to_env_vars())
    run_algorithm_mode()


def main():
    train(framework.training_env())
    sys.exit(0)
