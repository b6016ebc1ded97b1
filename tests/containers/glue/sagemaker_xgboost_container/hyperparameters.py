"""The built-in XGBoost algorithm's hyperparameters: names, kinds, ranges and cross-checks.

Mirrors ``src/sagemaker_xgboost_container/algorithm_mode/hyperparameter_validation.py``
and ``metrics.py`` (with the metric lists of ``constants/xgb_constants.py``) of
aws/sagemaker-xgboost-container (master): the same table, written as data.
"""

from sagemaker_xgboost_container.toolkit import Choices, Hyperparameter, Hyperparameters, Interval, UserError

MAXIMIZE_METRICS = [
    "accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg",
    "precision", "r2", "recall", "precision_macro", "precision_micro", "recall_macro", "recall_micro",
]  # fmt: skip
MINIMIZE_METRICS = [
    "aft-nloglik", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik", "interval-regression-accuracy",
    "logloss", "mae", "mape", "merror", "mlogloss", "mphe", "mse", "poisson-nloglik", "rmse", "rmsle",
    "tweedie-nloglik",
]  # fmt: skip
#: The metrics a tuning job can optimise (``_tuning_objective_metric``), as the image declares them.
TUNING_METRICS = [f"validation:{m}" for m in MAXIMIZE_METRICS + MINIMIZE_METRICS]

OBJECTIVES = [
    "aft_loss_distribution", "binary:logistic", "binary:logitraw", "binary:hinge", "count:poisson",
    "multi:softmax", "multi:softprob", "rank:pairwise", "rank:ndcg", "rank:map", "reg:linear",
    "reg:squarederror", "reg:logistic", "reg:gamma", "reg:pseudohubererror", "reg:squaredlogerror",
    "reg:absoluteerror", "reg:tweedie", "survival:aft", "survival:cox",
]  # fmt: skip
UPDATERS = [
    "grow_colmaker", "distcol", "grow_histmaker", "grow_skmaker", "sync", "refresh", "prune", "grow_colmaker",
    "distcol", "grow_histmaker", "grow_colmaker", "shotgun", "coord_descent", "refresh", "prune",
]  # fmt: skip
_TREE_UPDATERS = {
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_skmaker",
    "sync",
    "refresh",
    "prune",
    "grow_quantile_histmaker",
}
_TREE_BUILDERS = {"grow_colmaker", "distcol", "grow_histmaker", "grow_quantile_histmaker"}


def _check_updater(value, given):
    if given.get("booster") == "gblinear":
        if not (len(value) == 1 and value[0] in ("shotgun", "coord_descent")):
            # The image's message formats a generator here; the words are the point.
            raise UserError("Linear updater should be one of these options: 'shotgun', 'coord_descent'.")
    elif given.get("process_type") == "update":
        if not all(v in ("refresh", "prune") for v in value):
            raise UserError("process_type 'update' can only be used with updater 'refresh' and 'prune'")
    else:
        if not all(v in _TREE_UPDATERS for v in value):
            raise UserError(
                "Tree updater should be selected from these options: 'grow_colmaker', 'distcol', 'grow_histmaker', "
                "'grow_skmaker', 'grow_quantile_histmaker', 'sync', 'refresh', 'prune', 'shortgun', 'coord_descent'."
            )
        if sum(v in _TREE_BUILDERS for v in value) > 1:
            raise UserError(
                "Only one tree grow plugin can be selected. Choose one from thefollowing: 'grow_colmaker', "
                "'distcol', 'grow_histmaker', 'grow_skmaker'"
            )


def _check_objective(value, given):
    if value in ("multi:softmax", "multi:softprob") and given.get("num_class") is None:
        raise UserError("Require input for parameter 'num_class' for multi-classification")


def _accepts_metric(metric):
    if "<function" in metric:
        raise UserError(f"User defined evaluation metric {metric} is not supported yet.")
    if "@" in metric:
        name, threshold = (part.strip() for part in metric.split("@")[:2])
        if name not in ("error", "ndcg", "map"):
            raise UserError(
                f"Metric '{metric}' is not supported. Parameter 'eval_metric' with customized threshold should "
                "be one of these options: 'error', 'ndcg', 'map'."
            )
        try:
            float(threshold)
        except ValueError:
            raise UserError(f"Threshold value 't' in '{name}@t' expects float input.") from None
        return True
    return metric in MAXIMIZE_METRICS + MINIMIZE_METRICS


def _check_eval_metric(value, given):
    objective = given["objective"]  # as in the image: eval_metric without objective is a KeyError
    if "auc" in value and not objective.startswith(("binary:", "rank:")):
        raise UserError("Metric 'auc' can only be applied for classification and ranking problems.")
    if "aft-nloglik" in value and objective != "survival:aft":
        raise UserError("Metric 'aft-nloglik' can only be applied for 'survival:aft' objective.")


def _needs_tree_method(methods, message):
    def check(value, given):
        if value is not None and given.get("tree_method") not in methods:
            raise UserError(message)

    return check


def _h(name, kind, range, **options):
    return Hyperparameter(name, kind, range, **options)


def initialize():
    """The table the algorithm validates a job's hyperparameters against."""
    at_least = lambda low: Interval(min_closed=low)
    unit = Interval(min_closed=0, max_closed=1)
    fraction = Interval(min_open=0, max_closed=1)
    return Hyperparameters(
        _h("num_round", "integer", at_least(1), required=True),
        _h("csv_weights", "integer", unit),
        _h("early_stopping_rounds", "integer", at_least(1)),
        _h("booster", "categorical", ["gbtree", "gblinear", "dart"]),
        _h("verbosity", "integer", Interval(min_closed=0, max_closed=3)),
        _h("nthread", "integer", at_least(1)),
        _h("eta", "continuous", unit),
        _h("gamma", "continuous", at_least(0)),
        _h("max_depth", "integer", at_least(0)),
        _h("min_child_weight", "continuous", at_least(0)),
        _h("max_delta_step", "continuous", at_least(0)),
        _h("subsample", "continuous", fraction),
        _h("colsample_bytree", "continuous", fraction),
        _h("colsample_bylevel", "continuous", fraction),
        _h("colsample_bynode", "continuous", fraction),
        _h("lambda", "continuous", at_least(0)),
        _h("alpha", "continuous", at_least(0)),
        _h("tree_method", "categorical", Choices(["auto", "exact", "approx", "hist", "gpu_hist"])),
        _h("sketch_eps", "continuous", Interval(min_open=0, max_open=1)),
        _h("scale_pos_weight", "continuous", Interval(min_open=0)),
        _h("updater", "list", UPDATERS, depends_on=("booster", "process_type"), check=_check_updater),
        _h("dsplit", "categorical", ["row", "col"]),
        _h("refresh_leaf", "integer", unit),
        _h("process_type", "categorical", ["default", "update"]),
        _h("grow_policy", "categorical", ["depthwise", "lossguide"]),
        _h("max_leaves", "integer", at_least(0)),
        _h("max_bin", "integer", at_least(0)),
        _h("predictor", "categorical", Choices(["auto", "cpu_predictor", "gpu_predictor"])),
        _h(
            "monotone_constraints",
            "tuple",
            [-1, 0, 1],
            depends_on=("tree_method",),
            check=_needs_tree_method(
                ("exact", "hist"),
                "monotone_constraints can be used only when the tree_method parameter is set to either 'exact' or 'hist'.",
            ),
        ),
        _h(
            "interaction_constraints",
            "nested",
            at_least(1),
            depends_on=("tree_method",),
            check=_needs_tree_method(
                ("exact", "hist", "approx"),
                "interaction_constraints can be used only when the tree_method parameter is set to either 'exact', "
                "'hist' or 'approx'.",
            ),
        ),
        _h("sample_type", "categorical", ["uniform", "weighted"]),
        _h("normalize_type", "categorical", ["tree", "forest"]),
        _h("rate_drop", "continuous", unit),
        _h("one_drop", "integer", unit),
        _h("skip_drop", "continuous", unit),
        _h("lambda_bias", "continuous", unit),
        _h("tweedie_variance_power", "continuous", Interval(min_open=1, max_open=2)),
        _h("objective", "categorical", OBJECTIVES, depends_on=("num_class",), check=_check_objective),
        _h("num_class", "integer", at_least(2)),
        _h("base_score", "continuous", at_least(0)),
        _h("_kfold", "integer", at_least(2)),
        _h("_num_cv_round", "integer", at_least(1)),
        _h("_tuning_objective_metric", "categorical", TUNING_METRICS),
        _h(
            "eval_metric",
            "list",
            Choices(MAXIMIZE_METRICS + MINIMIZE_METRICS, _accepts_metric),
            depends_on=("objective",),
            check=_check_eval_metric,
        ),
        _h("seed", "integer", Interval(min_open=-(2**31), max_open=2**31 - 1)),
        _h("num_parallel_tree", "integer", at_least(1)),
        _h("save_model_on_termination", "categorical", ["true", "false"]),
        _h("aft_loss_distribution", "categorical", ["normal", "logistic", "extreme"]),
        _h("aft_loss_distribution_scale", "continuous", at_least(0)),
        _h("deterministic_histogram", "categorical", ["true", "false"]),
        _h("sampling_method", "categorical", ["uniform", "gradient_based"]),
        _h("prob_buffer_row", "integer", Interval(min_open=1.0)),
        _h("use_dask_gpu_training", "categorical", ["true", "false"]),
        aliases={
            "learning_rate": "eta",
            "min_split_loss": "gamma",
            "reg_lambda": "lambda",
            "reg_alpha": "alpha",
        },
    )
