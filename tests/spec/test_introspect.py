"""What dagml learns from a step function's source without running it: its report's paths."""

from dagml.spec.introspect import literal_metric_keys


def flat(model):
    if model:
        return {"accuracy": 0.9, "loss": 0.1}
    return {"accuracy": 0.5, "f1": 0.4}


def nested(model):
    mse = 0.3
    return {
        "regression_metrics": {"mse": {"value": mse, "standard_deviation": 0.01}, "r2": {"value": 0.8}},
        "curve": compute(model),  # not a literal dict: a leaf whose inside only the run knows
        "extra": {},
        "spread": {**compute({"a": 1})},
    }


def not_all_literal(model):
    if model:
        return {"accuracy": 0.9}
    report = {"accuracy": 0.5}
    return report


def computed_key(model):
    return {f"k{model}": {"value": 1}}


def compute(model):
    return model


def test_flat_literals_give_their_keys_as_before():
    assert literal_metric_keys(flat) == ("accuracy", "f1", "loss")


def test_nested_literals_give_the_dotted_paths_of_their_leaves():
    assert literal_metric_keys(nested) == (
        "curve",
        "extra",
        "regression_metrics.mse.standard_deviation",
        "regression_metrics.mse.value",
        "regression_metrics.r2.value",
        "spread",
    )


def test_a_return_that_is_no_literal_dict_of_string_keys_leaves_the_keys_unknown():
    assert literal_metric_keys(not_all_literal) is None
    assert literal_metric_keys(computed_key) is None
