import pytest

from dagml.graph.names import check_name, suggest


@pytest.mark.parametrize("name", ["prepare", "Train-1", "a_b", "x" * 64])
def test_valid_step_names(name):
    assert check_name("step", name)


@pytest.mark.parametrize("name", ["", "has space", "dot.ted", "x" * 65, "ümlaut", "a/b"])
def test_invalid_step_names_get_a_valid_suggestion(name):
    assert not check_name("step", name)
    assert check_name("step", suggest("step", name))


@pytest.mark.parametrize("name", ["iris-classifier", "a", "A1--b", "x" * 82])
def test_valid_pipeline_names(name):
    assert check_name("pipeline", name)


@pytest.mark.parametrize("name", ["iris_classifier", "-lead", "trail-", "x" * 83, "sp ace", ""])
def test_invalid_pipeline_names_get_a_valid_suggestion(name):
    assert not check_name("pipeline", name)
    assert check_name("pipeline", suggest("pipeline", name))


def test_group_names_are_at_most_63_characters():
    assert check_name("group", "x" * 63) and not check_name("group", "x" * 64)
    assert check_name("group", suggest("group", "Sklearn_Iris" * 10))
