from dagml.sagemaker.lint import lint


def processing(name, inputs=1, args=()):
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingInputs": [{"InputName": f"i{i}"} for i in range(inputs)],
            "AppSpecification": {"ContainerArguments": list(args)},
        },
    }


def kinds(problems):
    return [(p.kind, p.steps, p.severity) for p in problems]


def test_a_small_valid_definition_has_no_problems():
    assert lint("p", {"Parameters": [], "Steps": [processing("a")]}) == []


def test_definition_size_limits():
    big = {"Steps": [], "Parameters": []}
    assert kinds(lint("p", big, "x" * 1_048_577)) == [("definition-too-large", (), "error")]
    assert kinds(lint("p", big, "x" * 200_000)) == [("definition-via-s3", (), "note")]


def test_too_many_processing_inputs_and_long_arguments():
    problems = lint("p", {"Steps": [processing("a", inputs=11, args=["--x", "y" * 257, {"Get": "Parameters.X"}])]})
    assert kinds(problems) == [("too-many-inputs", ("a",), "error"), ("argument-too-long", ("a",), "error")]


def test_enum_with_more_than_16_values():
    d = {"Parameters": [{"Name": "Mode", "Type": "String", "EnumValues": [str(i) for i in range(17)]}], "Steps": []}
    # no AWS source states a limit: a warning, never an error
    assert kinds(lint("p", d)) == [("enum-too-long", ("Mode",), "warning")]


def test_any_step_type_inside_branches_and_the_limits_reach_nested_steps():
    """Nested conditions and Lambda steps run in branches (docs/deploy.md); nested steps are still linted."""
    lam = {"Name": "Notify", "Type": "Lambda", "FunctionArn": "arn:aws:lambda:us-east-1:1:function:f", "Arguments": {}}
    inner = {"Name": "Inner", "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": [lam], "ElseSteps": [processing("deep", inputs=11)]}}
    outer = {"Name": "Outer", "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": [inner, processing("ok")], "ElseSteps": []}}
    assert kinds(lint("p", {"Steps": [outer]})) == [("too-many-inputs", ("deep",), "error")]
