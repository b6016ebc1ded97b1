import pytest

from dagml import DeclarationError, Pipeline
from dagml.spec.conditions import Compare


@pytest.mark.parametrize(
    "default, sm_type",
    [("ml.m5.large", "String"), (10, "Integer"), (0.9, "Float"), (True, "Boolean"), (False, "Boolean")],
)
def test_param_type_comes_from_the_default(default, sm_type):
    assert Pipeline("p").param("X", default).type == sm_type


@pytest.mark.parametrize("default", [None, [1], {"a": 1}, b"x", 1j])
def test_param_default_of_another_type_is_refused_with_the_fix(default):
    with pytest.raises(DeclarationError, match=r"param 'X'.*str, int, float or bool"):
        Pipeline("p").param("X", default)


def test_enum_values_must_match_the_type_and_contain_the_default():
    pipe = Pipeline("p")
    assert pipe.param("Mode", "a", enum=["a", "b"]).enum == ("a", "b")
    with pytest.raises(DeclarationError, match="not of the param's type"):
        pipe.param("Bad", "a", enum=["a", 2])
    with pytest.raises(DeclarationError, match="not one of its enum values"):
        pipe.param("Bad2", "c", enum=["a", "b"])


def test_params_compare_by_identity_and_are_hashable():
    pipe = Pipeline("p")
    a, b = pipe.param("A", 1), pipe.param("B", 1)
    assert a != b and a == a
    assert len({a, b}) == 2


def test_param_ordering_builds_a_condition():
    pipe = Pipeline("p")
    t = pipe.param("T", 0.5)
    expr = t <= 3
    assert isinstance(expr, Compare) and expr.op == "<=" and expr.left is t and expr.right == 3


def test_dataset_needs_a_location_and_a_real_s3_uri():
    pipe = Pipeline("p")
    assert pipe.dataset("D", local="x.csv").local == "x.csv"
    with pytest.raises(DeclarationError, match="neither a local path nor an S3 location"):
        pipe.dataset("E")
    with pytest.raises(DeclarationError, match="not an S3 URI"):
        pipe.dataset("F", s3="https://bucket/x")


@pytest.mark.parametrize(
    "sm_type, text, value",
    [("Integer", "42", 42), ("Integer", " -3 ", -3), ("Integer", "+7", 7), ("Float", "0.95", 0.95),
     ("Float", "-1.5", -1.5), ("Float", "1e-3", 0.001), ("Float", ".5", 0.5), ("Float", "3", 3.0),
     ("Boolean", "True", True), ("Boolean", "false", False), ("String", " x ", " x ")],
)
def test_param_text_in_the_accepted_forms_parses(sm_type, text, value):
    from dagml.spec.params import parse_param_text

    assert parse_param_text(sm_type, text) == value and type(parse_param_text(sm_type, text)) is type(value)


@pytest.mark.parametrize(
    "sm_type, text",
    [("Integer", "1_000"), ("Integer", "١٢"), ("Integer", "1.0"), ("Integer", ""), ("Float", "nan"),
     ("Float", "inf"), ("Float", "-Infinity"), ("Float", "1e999"), ("Float", "1_0.5"), ("Float", "١٫٥"),
     ("Float", "٠.٥"), ("Boolean", "yes")],
)
def test_param_text_outside_the_accepted_forms_is_refused_naming_them(sm_type, text):
    from dagml.spec.params import TEXT_FORMS, parse_param_text

    with pytest.raises(ValueError, match=TEXT_FORMS[sm_type].split(",")[0]):
        parse_param_text(sm_type, text)
