"""Diffs between definitions: sections, named list items, cache-key changes."""

import json
import os

from dagml.sagemaker.diff import diff_pipelines, leaf_changes
from dagml.sagemaker.importer import import_definition
from tests.golden_json import PIPELINES


def iris():
    with open(os.path.join(PIPELINES, "iris.json"), encoding="utf-8") as f:
        return json.load(f)


def pipe(data, source):
    return import_definition(data, name="iris-classifier", source=source)


def by_key(diff):
    return {(c.section, c.change, c.name): c for c in diff.changes}


def test_identical_definitions_are_the_same():
    result = diff_pipelines(pipe(iris(), "a"), pipe(iris(), "b"))
    assert (
        result.same
        and result.format() == "no differences between a and b"
        and result.to_dict()["changes"] == []
    )


def test_every_section_reports_its_changes():
    b = iris()
    b["Parameters"][0]["DefaultValue"] = 0.95
    b["Parameters"].pop(2)  # MinSamplesLeaf: the training step stops reading it
    del b["Steps"][1]["Arguments"]["HyperParameters"]["MinSamplesLeaf"]
    b["Steps"][1]["Arguments"]["ResourceConfig"]["InstanceType"] = "ml.m5.2xlarge"
    b["Steps"][1]["CacheConfig"] = {"Enabled": True, "ExpireAfter": "P1D"}
    cond = b["Steps"][3]["Arguments"]
    cond["Conditions"][0]["Type"] = "GreaterThan"
    b["Steps"].append(cond["ElseSteps"].pop())
    b["PipelineExperimentConfig"]["TrialName"] = "fixed"
    changes = by_key(diff_pipelines(pipe(iris(), "a"), pipe(b, "b")))
    assert changes[("param", "changed", "AccuracyThreshold")].summary == "DefaultValue: 0.9 -> 0.95"
    assert ("param", "removed", "MinSamplesLeaf") in changes
    train = changes[("step", "changed", "train")]
    assert train.summary == "Training, cached results not reused"
    assert train.cache == (
        "Arguments.HyperParameters.MinSamplesLeaf",
    )  # ResourceConfig is not in the cache key
    assert any(
        d.startswith('Arguments.ResourceConfig.InstanceType: "ml.m5.xlarge" -> "ml.m5.2xlarge"')
        for d in train.details
    )
    assert changes[("step", "changed", "AccuracyTooLow")].details == (
        "moved: otherwise of CheckAccuracy -> top level",
    )
    assert ("edge", "removed", "CheckAccuracy -> AccuracyTooLow") in changes
    condition = changes[("condition", "changed", "CheckAccuracy")]
    assert (
        condition.summary
        == "evaluate.multiclass_classification_metrics.accuracy.value >= AccuracyThreshold  ->  evaluate.multiclass_classification_metrics.accuracy.value > AccuracyThreshold"
    )
    assert condition.details == ("otherwise: AccuracyTooLow -> -",)
    assert ("pipeline", "changed", "PipelineExperimentConfig.TrialName") in changes


def test_named_list_items_are_compared_by_name():
    a = [{"InputName": "code", "S3Uri": "x"}, {"InputName": "data", "S3Uri": "y"}]
    b = [{"InputName": "data", "S3Uri": "y"}, {"InputName": "code", "S3Uri": "z"}]
    assert list(leaf_changes(a, b, "Inputs")) == [
        ("Inputs (order)", ["code", "data"], ["data", "code"]),
        ("Inputs['code'].S3Uri", "x", "z"),
    ]


def test_the_listing_reads_like_a_diff():
    b = iris()
    b["Parameters"][0]["DefaultValue"] = 0.95
    text = diff_pipelines(pipe(iris(), "deployed:iris-classifier"), pipe(b, "compiled")).format()
    assert text.splitlines() == [
        "--- deployed:iris-classifier",
        "+++ compiled",
        "params:",
        "  ~ AccuracyThreshold: DefaultValue: 0.9 -> 0.95",
        "1 difference",
    ]
