import pytest

from dagml.errors import DagmlError, Problem, did_you_mean
from dagml.graph.errors import PipelineValidationError
from dagml.spec.errors import ConditionUsageError, DeclarationError, TargetError


@pytest.mark.parametrize(
    "cls, builtin",
    [(DeclarationError, TypeError), (ConditionUsageError, TypeError), (TargetError, LookupError), (PipelineValidationError, ValueError)],
)
def test_errors_derive_from_dagml_error_and_the_matching_builtin(cls, builtin):
    assert issubclass(cls, DagmlError)
    assert issubclass(cls, builtin)


def test_validation_error_sorts_problems_by_step_and_lists_them_one_per_line():
    problems = [
        Problem("cycle", ("train", "prepare"), "cycle", "remove one"),
        Problem("unbound-input", ("evaluate", "x"), "unbound", "name it"),
        Problem("invalid-name", (), "bad pipeline name", "rename"),
    ]
    exc = PipelineValidationError("p", problems)
    assert [p.subject for p in exc.problems] == ["", "evaluate", "train"]
    lines = str(exc).splitlines()
    assert lines[0] == "pipeline 'p' is invalid (3 problems):"
    assert lines[2] == "  - evaluate: unbound Fix: name it"
    assert exc.kinds == {"cycle", "unbound-input", "invalid-name"}


def test_problem_to_dict_is_json_ready():
    p = Problem("cycle", ("a", "b"), "msg", "fix")
    assert p.to_dict() == {"kind": "cycle", "steps": ["a", "b"], "message": "msg", "fix": "fix", "severity": "error"}


def test_did_you_mean_suggests_the_closest_name_or_nothing():
    assert did_you_mean("trian", ["train", "prepare"]) == " (did you mean 'train'?)"
    assert did_you_mean("zzz", ["train", "prepare"]) == ""


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("plain name-1_x", "plain name-1_x"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("nul\x00", "nul\\x00"),
        ("del\x7f c1\x9b", "del\\x7f c1\\x9b"),
        ("rtl\u202eevil \u2066iso\u2069 \u200f\u061c", "rtl\\u202eevil \\u2066iso\\u2069 \\u200f\\u061c"),
        ("two\nlines\ttab\r", "two\\x0alines\\x09tab\\x0d"),
        ("unicode é 名 🙂 nbsp\u00a0", "unicode é 名 🙂 nbsp\u00a0"),
        ("back\\x1b slash", "back\\x1b slash"),
    ],
)
def test_visible_shows_control_and_bidi_characters_as_escapes(raw, shown):
    from dagml._text import visible

    assert visible(raw) == shown
    assert visible(visible(raw)) == shown  # escaping twice changes nothing


def test_visible_keeps_lines_only_when_asked():
    from dagml._text import visible

    assert visible("a\nb\tc\x1b", newlines=True) == "a\nb\tc\\x1b"
    assert visible("a\nb", newlines=False) == "a\\x0ab"
