"""Definitions the SageMaker service accepts are imported; what it refuses still is (issue 12).

Each definition here has the shape of a cited public source (docs/deploy.md, "What dagml refuses,
and why"); the tests assert what dagml makes of it: the graph, the drawing, the decision, the
compiled-back JSON.
"""

import json
import warnings

import pytest

from dagml.api import graph_of
from dagml.drawing import to_dot, to_mermaid
from dagml.errors import DagmlWarning
from dagml.graph.errors import PipelineValidationError
from dagml.graph.model import DATA
from dagml.sagemaker import compile_pipeline
from dagml.sagemaker.importer import import_definition
from dagml.spec.imported import ImportedRef


def quietly(definition, name="imported"):
    """The graph and its warnings (asserted by each test), DagmlWarning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DagmlWarning)
        return import_definition(json.dumps(definition), name=name)


def warning_kinds(graph):
    return sorted({w.kind for w in graph.warnings})


def condition(name, if_steps=(), else_steps=(), conditions=None, **extra):
    return {
        "Name": name,
        "Type": "Condition",
        "Arguments": {
            "Conditions": conditions or [{"Type": "LessThanOrEqualTo", "LeftValue": 3.0, "RightValue": 6.0}],
            "IfSteps": list(if_steps),
            "ElseSteps": list(else_steps),
        },
        **extra,
    }


def fail(name, message="stop", **extra):
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}, **extra}


def processing(name, outputs=(), **extra):
    args = {"ProcessingOutputConfig": {"Outputs": [{"OutputName": o} for o in outputs]}} if outputs else {}
    return {"Name": name, "Type": "Processing", "Arguments": args, **extra}


def airflow_nested():
    """apache/airflow providers/amazon/tests/system/amazon/aws/example_sagemaker_pipeline.py: 31 nested conditions."""
    step = condition("DummyCond")
    for i in range(30):
        step = condition(f"DummyCond{i}", if_steps=[step])
    top = condition("DummyCond30", if_steps=[step])
    return {"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [top]}


# ---------------------------------------------------------------- nested conditions, any step in a branch


def test_thirty_one_nested_conditions_import_draw_and_compile_back():
    definition = airflow_nested()
    with pytest.warns(DagmlWarning):
        graph = imported = import_definition(json.dumps(definition), name="nested")
    assert len(graph.conditions) == 32
    assert graph.branch_of["DummyCond"] == ("DummyCond0", "then")
    assert len(graph.enclosing("DummyCond")) == 31 and graph.enclosing("DummyCond")[0] == ("DummyCond30", "then")
    # literal-only conditions, and the innermost decides nothing: warnings, never errors
    assert warning_kinds(graph) == ["constant-condition", "empty-condition"]
    assert json.loads(compile_pipeline(graph_of(imported), None).json) == definition
    dot = to_dot(graph)
    assert dot.count('subgraph "cluster_then:') == 31
    # each branch is drawn inside the one that encloses it: the innermost is 31 levels deep, inside
    # the drawing's own group (cluster_drawing, which keeps the legend within the drawing's width)
    assert '\n' + "  " * 32 + 'subgraph "cluster_then:DummyCond0" {' in dot
    assert '\n' + "  " * 33 + '"DummyCond" [' in dot
    mermaid = to_mermaid(graph)
    assert mermaid.count(': then"]') == 31 and mermaid.count("\n" + "  " * 31 + "end") == 1


def test_a_lambda_step_and_a_condition_in_a_branch_are_accepted():
    """aws/amazon-sagemaker-examples' Lambda step notebook puts a Lambda step in IfSteps."""
    lam = {
        "Name": "LambdaStep",
        "Type": "Lambda",
        "FunctionArn": "arn:aws:lambda:us-west-2:111122223333:function:deploy",
        "Arguments": {"model_name": {"Get": "Steps.CreateModel.ModelName"}},
        "OutputParameters": [{"OutputName": "statusCode", "OutputType": "String"}],
    }
    model = {"Name": "CreateModel", "Type": "Model", "Arguments": {"ExecutionRoleArn": "arn:aws:iam::1:role/r"}}
    inner = condition("Inner", if_steps=[fail("Stop")], conditions=[
        {"Type": "Equals", "LeftValue": {"Get": "Steps.LambdaStep.OutputParameters['statusCode']"}, "RightValue": "200"}
    ])
    check = condition("CheckMSE", if_steps=[model, lam, inner])
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [check]}
    graph = quietly(definition)
    assert graph.branch_of["LambdaStep"] == ("CheckMSE", "then") and graph["LambdaStep"].kind == "other"
    assert graph.enclosing("Stop") == (("CheckMSE", "then"), ("Inner", "then"))
    assert warning_kinds(graph) == ["constant-condition"]
    dot = to_dot(graph)
    then = dot.index('subgraph "cluster_then:CheckMSE"')
    assert then < dot.index('"LambdaStep" [') < dot.index('subgraph "cluster_then:Inner"') < dot.index('"Stop" [')


def test_a_step_after_both_sides_of_an_imported_condition_is_a_warning():
    """The service accepts it (the step just never runs: aws/sagemaker-python-sdk#3565)."""
    gate = condition("Gate", if_steps=[processing("A")], else_steps=[processing("B")])
    join = processing("Join", DependsOn=["A", "B"])
    graph = quietly({"Version": "2020-12-01", "Parameters": [], "Steps": [gate, join]})
    assert [(w.kind, w.steps) for w in graph.warnings if w.kind == "never-runs"] == [("never-runs", ("Join", "Gate"))]


# ---------------------------------------------------------------- empty conditions


def test_an_empty_condition_whose_outcome_a_step_reads_is_valid():
    """test_two_step_fail_pipeline_with_join_fn: no branch steps, a Fail step joins its Outcome."""
    message = {"Std:Join": {"On": ": ", "Values": ["Failed due to xxx == yyy returns", {"Get": "Steps.CondStep.Outcome"}]}}
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "MyInt", "Type": "Integer", "DefaultValue": 2}],
        "Steps": [
            condition("CondStep", conditions=[{"Type": "Equals", "LeftValue": {"Get": "Parameters.MyInt"}, "RightValue": 1}]),
            fail("FailStep", message),
        ],
    }
    graph = quietly(definition)
    assert graph.warnings == ()
    assert graph.upstream("FailStep") == ("CondStep",)
    assert {e.kind for e in graph.edges()} == {DATA}


def test_an_empty_condition_nothing_reads_is_a_warning():
    definition = {"Version": "2020-12-01", "Parameters": [{"Name": "P", "Type": "Integer", "DefaultValue": 2}], "Steps": [
        condition("C", conditions=[{"Type": "Equals", "LeftValue": {"Get": "Parameters.P"}, "RightValue": 1}])
    ]}
    with pytest.warns(DagmlWarning, match="decides nothing"):
        import_definition(json.dumps(definition), name="empty")


# ---------------------------------------------------------------- what the service still refuses


def test_a_step_that_depends_on_a_condition_is_refused():
    """aws/sagemaker-python-sdk#3565: pipeline creation fails when a step depends on a condition step."""
    steps = [condition("Gate", if_steps=[fail("F")]), processing("After", DependsOn=["Gate"])]
    with pytest.raises(PipelineValidationError) as info:
        import_definition(json.dumps({"Version": "2020-12-01", "Steps": steps}), name="x")
    assert [(p.kind, p.steps) for p in info.value.problems] == [("after-condition", ("After", "Gate"))]


def test_a_condition_that_depends_on_a_fail_step_is_refused():
    """test_invalid_pipeline_depended_on_fail_step: "CondStep can not depends on FailStep"."""
    steps = [condition("CondStep", DependsOn=["FailStep"]), fail("FailStep")]
    with pytest.raises(PipelineValidationError) as info:
        import_definition(json.dumps({"Version": "2020-12-01", "Steps": steps}), name="x")
    assert [(p.kind, p.steps) for p in info.value.problems] == [("after-fail", ("CondStep", "FailStep"))]


# ---------------------------------------------------------------- comparisons


def test_string_and_date_time_orderings_are_valid():
    """test_ppl_var_to_string_and_add and the SDK's Execution.StartDateTime conditions."""
    start = {"Get": "Execution.StartDateTime"}
    to_string = {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.MyInteger"}]}}
    definition = {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "MyString", "Type": "String", "DefaultValue": "1"},
            {"Name": "MyInteger", "Type": "Integer", "DefaultValue": 3},
        ],
        "Steps": [
            condition("CondStep", conditions=[
                {"Type": "GreaterThan", "LeftValue": {"Get": "Parameters.MyString"}, "RightValue": to_string},
                {"Type": "GreaterThan", "LeftValue": start, "RightValue": "2020-12-01"},
                {"Type": "LessThanOrEqualTo", "LeftValue": start, "RightValue": {"Get": "Parameters.MyString"}},
                {"Type": "LessThan", "LeftValue": {"Get": "Parameters.MyString"}, "RightValue": "9"},
            ], if_steps=[fail("F")]),
        ],
    }
    graph = quietly(definition)
    assert "condition-type" not in warning_kinds(graph)
    assert graph.describe_condition("CondStep", defaults=False).startswith(
        "MyString > join(...) and Execution.StartDateTime > '2020-12-01'"
    )


def test_ordering_a_string_parameter_with_a_number_is_a_warning_for_an_imported_definition():
    definition = {"Version": "2020-12-01", "Parameters": [{"Name": "S", "Type": "String", "DefaultValue": "1"}], "Steps": [
        condition("C", conditions=[{"Type": "GreaterThan", "LeftValue": {"Get": "Parameters.S"}, "RightValue": 3}],
                  if_steps=[fail("F")])
    ]}
    graph = quietly(definition)
    assert [(w.kind, w.severity) for w in graph.warnings] == [("condition-type", "warning")]
    assert "orders a string and a number" in graph.warnings[0].message


# ---------------------------------------------------------------- parameters


def test_a_string_parameter_without_type_is_a_string_and_compiles_back_without_one():
    """The schema makes Type optional for String; the AWS::SageMaker::Pipeline example omits it."""
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "InputDataSource", "DefaultValue": ""}, {"Name": "InstanceCount", "Type": "Integer", "DefaultValue": 1}],
        "Steps": [{"Name": "Training1", "Type": "Training", "Arguments": {
            "InputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": {"Get": "Parameters.InputDataSource"}}}}],
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": {"Get": "Parameters.InstanceCount"}},
        }}],
    }
    graph = imported = import_definition(json.dumps(definition), name="cfn-example")
    assert graph.param("InputDataSource").type == "String" and graph.param("InputDataSource").default == ""
    assert json.loads(compile_pipeline(graph_of(imported), None).json) == definition


# ---------------------------------------------------------------- property files


def evaluation(files, outputs=("evaluation",)):
    return processing("Evaluate", outputs=outputs, PropertyFiles=files)


def gated_on(file_get):
    json_get = {"Std:JsonGet": {"PropertyFile": {"Get": file_get}, "Path": "metrics.mse.value"}}
    return condition("Check", if_steps=[fail("F")], conditions=[
        {"Type": "LessThanOrEqualTo", "LeftValue": json_get, "RightValue": 6.0}
    ])


REPORT = {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "evaluation.json"}


def test_a_json_get_of_a_declared_property_file_is_valid():
    steps = [evaluation([REPORT]), gated_on("Steps.Evaluate.PropertyFiles.EvaluationReport")]
    graph = quietly({"Version": "2020-12-01", "Steps": steps})
    assert graph.describe_condition("Check") == "Evaluate.metrics.mse.value <= 6.0"


def test_a_json_get_of_a_property_file_the_step_does_not_declare_is_a_problem():
    steps = [evaluation([REPORT]), gated_on("Steps.Evaluate.PropertyFiles.EvaluationReprot")]
    with pytest.raises(PipelineValidationError) as info:
        quietly({"Version": "2020-12-01", "Steps": steps})
    (problem,) = info.value.problems
    assert (problem.kind, problem.steps) == ("unknown-property-file", ("Check", "Evaluate"))
    assert "$.Steps[1].Arguments.Conditions[0].LeftValue['Std:JsonGet']" in problem.message
    assert "did you mean 'EvaluationReport'?" in problem.message


def test_a_property_file_of_an_output_the_step_does_not_have_is_a_problem():
    bad = dict(REPORT, OutputName="evaluaton")
    steps = [evaluation([bad]), gated_on("Steps.Evaluate.PropertyFiles.EvaluationReport")]
    with pytest.raises(PipelineValidationError) as info:
        quietly({"Version": "2020-12-01", "Steps": steps})
    (problem,) = info.value.problems
    assert (problem.kind, problem.steps) == ("unknown-output", ("Evaluate",))
    assert problem.message.startswith("$.Steps[0].PropertyFiles[0]: property file 'EvaluationReport' reads output 'evaluaton'")


def test_a_json_get_over_an_s3_uri_names_the_step_whose_file_it_reads():
    """The SDK's @step results: JsonGet of Join(Steps.X.OutputDataConfig.S3OutputPath, results.json)."""
    uri = {"Std:Join": {"On": "/", "Values": [{"Get": "Steps.generate.OutputDataConfig.S3OutputPath"}, "results.json"]}}
    json_get = {"Std:JsonGet": {"S3Uri": uri, "Path": "Result"}}
    steps = [
        {"Name": "generate", "Type": "Training", "Arguments": {}},
        condition("Check", if_steps=[fail("F")], conditions=[{"Type": "GreaterThan", "LeftValue": json_get, "RightValue": 50}]),
    ]
    graph = quietly({"Version": "2020-12-01", "Steps": steps})
    (ref,) = [o for o in [graph["Check"].expression.left] if isinstance(o, ImportedRef)]
    assert (ref.step, str(ref)) == ("generate", "generate.Result")
    assert graph.describe_condition("Check") == "generate.Result > 50"
    assert ' -> "Check" [label=" Result "' in to_dot(graph)
