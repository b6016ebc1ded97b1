from dagml import Pipeline
from dagml.graph.lowered import lower_conditions


def parts():
    pipe = Pipeline("p")
    t = pipe.param("T", 0.9)

    @pipe.step
    def evaluate() -> dict[str, float]:
        return {"accuracy": 1.0}

    return evaluate, t


def jg(key):
    return {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.EvaluationReport"}, "Path": key}}


def test_comparisons_lower_to_sagemaker_types():
    e, t = parts()
    assert lower_conditions(e["accuracy"] >= t) == [
        {"Type": "GreaterThanOrEqualTo", "LeftValue": jg("accuracy"), "RightValue": {"Get": "Parameters.T"}}
    ]
    assert lower_conditions(e["a"] < 1)[0]["Type"] == "LessThan"
    assert lower_conditions(e["a"] <= 1)[0]["Type"] == "LessThanOrEqualTo"
    assert lower_conditions(e["a"] > 1)[0]["Type"] == "GreaterThan"
    assert lower_conditions(e["a"] == 1)[0]["Type"] == "Equals"


def test_not_equals_is_not_of_equals():
    e, _ = parts()
    assert lower_conditions(e["a"] != 2) == [
        {"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": jg("a"), "RightValue": 2}}
    ]


def test_top_level_and_is_the_list_or_not_in_nest():
    e, t = parts()
    out = lower_conditions((e["a"] > 1) & ((e["b"] < 2) | ~e["c"].isin([1, 2])))
    assert len(out) == 2 and out[0]["Type"] == "GreaterThan"
    assert out[1]["Type"] == "Or"
    assert out[1]["Conditions"][1] == {"Type": "Not", "Condition": {"Type": "In", "QueryValue": jg("c"), "Values": [1, 2]}}


def test_and_inside_or_uses_de_morgan():
    e, _ = parts()
    (out,) = lower_conditions(((e["a"] > 1) & (e["b"] > 2)) | (e["c"] > 3))
    inner = out["Conditions"][0]
    assert inner["Type"] == "Not" and inner["Condition"]["Type"] == "Or"
    assert [c["Type"] for c in inner["Condition"]["Conditions"]] == ["Not", "Not"]
