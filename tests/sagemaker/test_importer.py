"""Importing SageMaker definitions into dagml's graph, and compiling them back unchanged."""

import copy
import json
import os

import pytest
from hypothesis import given, settings

from dagml.api import graph_of
from dagml.drawing import to_dot
from dagml.errors import DagmlError, DagmlWarning
from dagml.graph.errors import PipelineValidationError
from dagml.graph.model import AFTER, DATA, OTHERWISE, THEN
from dagml.local.decide import evaluate_expression
from dagml.runtime.bundle import make_bundle
from dagml.sagemaker import Settings, compile_pipeline
from dagml.sagemaker.importer import DefinitionError, definition_of, import_definition, load_definition
from dagml.spec.conditions import Compare, Not
from dagml.spec.imported import ImportedCondition, ImportedRef, ImportedSpec
from dagml.spec.specs import ConditionSpec
from tests.golden_json import GOLDEN_SETTINGS, PIPELINES, compile_golden, golden_sources
from tests.strategies import build, programs

STRATEGIES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "strategies.py")


def golden(name):
    with open(os.path.join(PIPELINES, f"{name}.json"), encoding="utf-8") as f:
        return f.read()


def imported(text, name="imported"):
    return import_definition(text, name=name)


# ---------------------------------------------------------------- round trip


@pytest.mark.parametrize("name", sorted(golden_sources()))
def test_compile_import_compile_gives_the_same_bytes(name):
    text = compile_golden(golden_sources()[name])
    assert compile_pipeline(graph_of(imported(text)), None).json == text
    assert compile_pipeline(graph_of(load_definition(os.path.join(PIPELINES, f"{name}.json"))), None).json == golden(
        name
    )


@pytest.mark.parametrize("name", sorted(golden_sources()))
def test_the_imported_graph_is_the_pipelines_graph(name):
    from dagml.spec.target import load_target

    ours = load_target(golden_sources()[name]).validate()
    theirs = imported(golden(name), ours.name)
    # the same generations; within one, steps are in document order instead of declaration order
    assert [set(g) for g in theirs.generations] == [set(g) for g in ours.generations]
    assert dict(theirs.branch_of) == dict(ours.branch_of)
    # register_model(metrics=...) compiles to a Join over the metrics step's output: the same edge
    expected = {(e.source, e.target, e.kind) for e in ours.edges()}
    assert {(e.source, e.target, e.kind) for e in theirs.edges()} == expected
    assert [theirs.describe_condition(c.name) for c in theirs.conditions] == [
        ours.describe_condition(c.name) for c in ours.conditions
    ]
    assert [(p.name, p.type, p.default, p.enum) for p in theirs.params] == [
        (p.name, p.type, p.default, p.enum) for p in ours.params
    ] + [
        (d.name, "String", json.loads(golden(name))["Parameters"][len(ours.params) + i]["DefaultValue"], None)
        for i, d in enumerate(ours.datasets)
    ]


@settings(max_examples=25)
@given(programs(max_steps=25))
def test_random_programs_round_trip_with_the_same_graph(program):
    pipe = build(program)
    compiled = compile_pipeline(graph_of(pipe), Settings(**GOLDEN_SETTINGS), bundle=make_bundle(STRATEGIES))
    back = imported(compiled.json, pipe.name)
    assert compile_pipeline(graph_of(back), None).json == compiled.json
    ours, theirs = pipe.validate(), back
    assert {(e.source, e.target, e.kind) for e in theirs.edges()} == {
        (e.source, e.target, e.kind) for e in ours.edges()
    }
    assert [set(g) for g in theirs.generations] == [set(g) for g in ours.generations]
    for c in ours.conditions:
        assert theirs.describe_condition(c.name, defaults=False) == ours.describe_condition(
            c.name, defaults=False
        )


# ---------------------------------------------------------------- what the graph holds


def test_steps_params_edges_and_conditions_of_iris():
    graph = imported(golden("iris"), "iris-classifier")
    assert isinstance(graph["train"], ImportedSpec) and graph["train"].kind == "training"
    assert graph["RegisterModel"].kind == "register" and graph["BatchTransform"].step_type == "Transform"
    check = graph["CheckAccuracy"]
    assert isinstance(check, ConditionSpec) and isinstance(check, ImportedCondition)
    assert check.then == ("RegisterModel", "BatchTransformModel", "BatchTransform")
    assert check.otherwise == ("AccuracyTooLow",)
    assert graph.branch_of["AccuracyTooLow"] == ("CheckAccuracy", OTHERWISE)
    vias = {e.via for e in graph.edges(DATA) if (e.source, e.target) == ("prepare", "train")}
    assert vias == {"$.Steps[1].Arguments.InputDataConfig[0].DataSource.S3DataSource.S3Uri"}
    assert ("CheckAccuracy", "RegisterModel", THEN) in {(e.source, e.target, e.kind) for e in graph.edges()}
    assert graph.param("AccuracyThreshold").type == "Float" and graph.param("NEstimators").default == 10
    expr = check.expression
    assert (
        isinstance(expr, Compare)
        and isinstance(expr.left, ImportedRef)
        and expr.right is graph.param("AccuracyThreshold")
    )
    assert graph.describe_condition("CheckAccuracy") == "evaluate.multiclass_classification_metrics.accuracy.value >= AccuracyThreshold (0.9)"
    # the local runner's evaluator decides the imported condition, reading the nested report by its path
    params = {"AccuracyThreshold": 0.9}
    report = lambda acc: {"evaluate": {"multiclass_classification_metrics": {"accuracy": {"value": acc}}}}
    assert evaluate_expression(expr, report(0.95), params) is True
    assert evaluate_expression(expr, report(0.5), params) is False


def test_depends_on_is_an_ordering_edge_at_its_json_path():
    graph = imported(golden("options"), "options-showcase")
    after = {(e.source, e.target): e.via for e in graph.edges(AFTER)}
    assert after[("load", "fit")].endswith(".DependsOn") and after[("load", "fit")].startswith("$.Steps[")


def test_not_equals_and_the_and_inside_or_read_back_as_written():
    graph = imported(golden("branches"), "branches")
    text = graph.describe_condition("Gate", defaults=False)
    m = "score.multiclass_classification_metrics"
    assert f"{m}.classes.value != 2" in text
    assert text.startswith(
        f"({m}.accuracy.value >= MinAccuracy and {m}.loss.value < MaxLoss and {m}.classes.value != 2) or"
    )


MINIMAL = {
    "Version": "2020-12-01",
    "Metadata": {},
    "Parameters": [{"Name": "Mode", "Type": "String"}, {"Name": "Rate", "Type": "Float", "DefaultValue": 1}],
    "Steps": [
        {
            "Name": "Prep",
            "Type": "Processing",
            "Arguments": {"Environment": {"MODE": {"Get": "Parameters.Mode"}}},
        },
        {
            "Name": "Notify",
            "Type": "Lambda",
            "Arguments": {"Payload": {"Get": "Steps.Prep.ProcessingJobStatus"}},
            "FunctionArn": "arn:aws:lambda:us-east-1:111122223333:function:notify",
            "OutputParameters": [{"OutputName": "ok", "OutputType": "Boolean"}],
        },
        {
            "Name": "Gate",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [
                    {
                        "Type": "Equals",
                        "LeftValue": {"Get": "Steps.Notify.OutputParameters['ok']"},
                        "RightValue": True,
                    },
                    {"Type": "GreaterThan", "LeftValue": {"Get": "Parameters.Rate"}, "RightValue": 0.5},
                ],
                "IfSteps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "stopped"}}],
            },
        },
    ],
}


def test_other_step_types_are_drawn_with_their_type_and_compiled_back_unchanged():
    graph = pipe = imported(json.dumps(MINIMAL), "sdk-made")
    assert graph["Notify"].kind == "other" and graph["Notify"].step_type == "Lambda"
    assert graph.upstream("Notify") == ("Prep",) and graph.upstream("Gate") == ("Notify",)
    dot = to_dot(graph)
    assert (
        '"Notify" [label=<<B>Notify</B><BR/><FONT POINT-SIZE="10" COLOR="#4B5563">Lambda</FONT>>, shape="parallelogram"'
        in dot
    )
    assert 'shape="diamond"' in dot and '"Gate" -> "Stop"' in dot and '"Prep" -> "Notify"' in dot
    assert (
        json.loads(compile_pipeline(graph_of(pipe), None).json) == MINIMAL
    )  # no ElseSteps added, no DefaultValue invented


def test_a_parameter_without_default_gets_a_placeholder_and_stays_without_one():
    graph = imported(json.dumps(MINIMAL))
    assert graph.param("Mode").default == "" and graph.param("Rate").default == 1.0
    assert (
        "DefaultValue"
        not in compile_pipeline(graph_of(imported(json.dumps(MINIMAL))), None).definition["Parameters"][0]
    )


def test_a_step_property_condition_compares_with_any_type():
    graph = imported(json.dumps(MINIMAL))
    expr = graph["Gate"].expression
    assert (
        graph.describe_condition("Gate", defaults=False)
        == "Notify.OutputParameters['ok'] == True and Rate > 0.5"
    )
    assert not isinstance(expr, Not)


# ---------------------------------------------------------------- malformed input


def broken(mutate):
    data = json.loads(golden("iris"))
    mutate(data)
    return json.dumps(data)


def condition_of(data):
    return next(s for s in data["Steps"] if s["Type"] == "Condition")


@pytest.mark.parametrize(
    "mutate, path, words",
    [
        (
            lambda d: d["Steps"][3]["Arguments"]["IfSteps"][0].pop("Name"),
            "$.Steps[3].Arguments.IfSteps[0].Name",
            "no Name",
        ),
        (lambda d: d["Steps"][0].update(Type="Procesing"), "$.Steps[0].Type", "did you mean 'Processing'?"),
        (
            lambda d: d["Steps"][1]["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"].update(
                S3Uri={"Get": "Steps.prepar.X"}
            ),
            "$.Steps[1].Arguments.InputDataConfig[0].DataSource.S3DataSource.S3Uri.Get",
            "step 'prepar', which the definition does not have (did you mean 'prepare'?)",
        ),
        (
            lambda d: d["Steps"][2].update(DependsOn=["trian"]),
            "$.Steps[2].DependsOn[0]",
            "(did you mean 'train'?)",
        ),
        (
            lambda d: d["Parameters"].pop(0),
            "$.Steps[3].Arguments.Conditions[0].RightValue.Get",
            "parameter 'AccuracyThreshold'",
        ),
        (
            lambda d: d["Parameters"][1].update(DefaultValue="ten"),
            "$.Parameters[1].DefaultValue",
            "is Integer",
        ),
        (lambda d: d["Parameters"][1].update(Type="Int"), "$.Parameters[1].Type", "did you mean 'Integer'?"),
        (
            lambda d: condition_of(d)["Arguments"]["Conditions"][0].update(Type="GreaterOrEqual"),
            "$.Steps[3].Arguments.Conditions[0].Type",
            "not a condition type",
        ),
        (lambda d: d.pop("Steps"), "$", "no Steps"),
        (
            lambda d: condition_of(d)["Arguments"].update(IfSteps={}),
            "$.Steps[3].Arguments.IfSteps",
            "list of steps",
        ),
    ],
)
def test_malformed_input_names_the_json_path(mutate, path, words):
    with pytest.raises(DefinitionError) as info:
        imported(broken(mutate), "iris-classifier")
    assert info.value.path == path
    assert words in str(info.value) and "Fix:" in str(info.value)
    assert isinstance(info.value, (DagmlError, ValueError))


def test_not_json_is_an_error_at_the_root():
    with pytest.raises(DefinitionError, match=r"\$: not JSON: Expecting value at line 1, column 1"):
        imported("not json")
    with pytest.raises(DefinitionError, match=r"\$: a pipeline definition is a JSON object"):
        imported("[]")


def test_a_cycle_through_depends_on_is_a_cycle_problem_with_its_json_paths():
    def cycle(d):
        d["Steps"][0]["DependsOn"] = ["evaluate"]

    with pytest.raises(PipelineValidationError) as info:
        imported(broken(cycle), "iris-classifier")
    assert info.value.kinds == {"cycle"}
    (problem,) = info.value.problems
    assert set(problem.steps) == {"prepare", "train", "evaluate"}
    assert "prepare depends on evaluate ($.Steps[0].DependsOn)" in problem.message


def test_a_step_name_only_the_schema_refuses_is_a_warning_for_an_imported_definition():
    """The schema's StepName pattern is all that refuses it (the API documents none): a warning."""
    def bad(d):
        d["Steps"][0]["Name"] = "prepare step!"
        for s in d["Steps"][1:]:
            text = json.dumps(s).replace("Steps.prepare.", "Steps.prepare step!.")
            s.clear()
            s.update(json.loads(text))

    with pytest.warns(DagmlWarning, match="published schema's StepName"):
        graph = imported(broken(bad), "iris-classifier")
    assert [(w.kind, w.steps, w.severity) for w in graph.warnings] == [("invalid-name", ("prepare step!",), "warning")]


def test_a_pipeline_name_the_service_refuses_is_still_an_error():
    """CreatePipeline's PipelineName pattern (API_CreatePipeline) binds imported definitions too."""
    with pytest.raises(PipelineValidationError) as info:
        imported(golden("minimal"), "bad.name")
    assert info.value.kinds == {"invalid-name"}
    # 83 to 256 characters: beyond dagml's own margin, within what the service accepts
    assert len(imported(golden("minimal"), "p" * 200)) > 0


def test_raw_json_is_copied_not_shared():
    data = json.loads(golden("minimal"))
    pipe = import_definition(data, name="minimal")
    before = copy.deepcopy(definition_of(pipe))
    data["Steps"][0]["Name"] = "changed"
    assert definition_of(pipe) == before
