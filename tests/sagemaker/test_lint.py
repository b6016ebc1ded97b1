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
    assert kinds(lint("p", d)) == [("enum-too-long", ("Mode",), "error")]


def test_only_allowed_step_types_inside_branches():
    inner = {"Name": "Inner", "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": [], "ElseSteps": []}}
    outer = {"Name": "Outer", "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": [inner, processing("ok")], "ElseSteps": []}}
    problems = lint("p", {"Steps": [outer]})
    assert kinds(problems) == [("branch-kind", ("Inner",), "error")]
    assert "IfSteps of 'Outer'" in problems[0].message
