import inspect

import pytest

from dagml import Cache, DeclarationError, Pipeline, Retry, Step


def test_a_decorated_function_stays_the_plain_function():
    pipe = Pipeline("p")

    @pipe.step
    def prepare(x: int = 2) -> int:
        """Doubles."""
        return x * 2

    assert isinstance(prepare, Step)
    assert prepare(21) == 42 and prepare(x=1) == 2
    assert prepare.__name__ == "prepare" and prepare.__doc__ == "Doubles."
    assert str(inspect.signature(prepare)) == "(x: int = 2) -> int"
    assert prepare.fn(3) == 6
    assert prepare.name == "prepare" and prepare.kind == "processing"


def test_options_form_sets_name_kind_after_and_step_options():
    pipe = Pipeline("p")

    @pipe.step
    def prepare():
        return 1

    itype = pipe.param("TrainType", "ml.m5.xlarge")

    @pipe.step(
        name="Train",
        kind="training",
        after=[prepare, "prepare"],
        instance_type=itype,
        instance_count=2,
        timeout=3600,
        retry=Retry(max_attempts=5),
        cache="P7D",
        environment={"A": "1"},
        tags={"team": "ml"},
    )
    def train(prepare):
        return 2

    spec = train.spec
    assert spec.name == "Train" and spec.kind == "training" and spec.after == ("prepare", "prepare")
    assert spec.options.instance_type is itype and spec.options.instance_count == 2
    assert spec.options.retry == (Retry(max_attempts=5),)
    assert spec.options.cache == Cache("P7D")
    assert spec.options.environment == (("A", "1"),)
    assert spec.returns == "model"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"kind": "condition"}, "not a function step kind"),
        ({"instance_count": 0}, "positive whole number"),
        ({"timeout": -1}, "positive whole number"),
        ({"cache": "30 days"}, "ISO 8601"),
        ({"retry": 3}, "dagml.Retry"),
        ({"environment": {"A": 1}}, "strings to strings"),
        ({"instance_type": 5}, "string or a String param"),
        ({"bogus": 1}, "unexpected keyword"),
        ({"metrics": "yes"}, "metrics= takes True or False"),
        ({"kind": "training", "metrics": True}, "returns its model"),
    ],
)
def test_bad_step_options_fail_at_declaration_naming_the_step(options, message):
    pipe = Pipeline("p")
    with pytest.raises(DeclarationError, match=message) as info:
        pipe.step(**options)(lambda: None)
    assert "<lambda>" in str(info.value)


def test_star_args_and_positional_only_parameters_cannot_be_wired():
    pipe = Pipeline("p")
    with pytest.raises(DeclarationError, match=r"\*args"):

        @pipe.step
        def a(*args):
            pass

    with pytest.raises(DeclarationError, match="positional-only"):

        @pipe.step
        def b(x, /):
            pass


def test_params_datasets_and_steps_of_another_pipeline_are_refused():
    one, two = Pipeline("one"), Pipeline("two")
    t = one.param("T", 1)
    d = one.dataset("D", local="x.csv")

    @one.step
    def prepare():
        pass

    with pytest.raises(DeclarationError, match="not declared on pipeline 'two'"):

        @two.step
        def train(x=t):
            pass

    with pytest.raises(DeclarationError, match="dataset 'D' was not declared"):

        @two.step
        def train2(x=d):
            pass

    with pytest.raises(DeclarationError, match="step 'prepare' was not declared"):
        two.fail("F", after=[prepare])


def test_a_step_cannot_be_decorated_twice():
    pipe = Pipeline("p")

    @pipe.step
    def a():
        pass

    with pytest.raises(DeclarationError, match="already a step"):
        pipe.step(a)


def test_returns_is_read_from_flag_annotation_or_kind():
    pipe = Pipeline("p")

    @pipe.step
    def annotated() -> dict[str, float]:
        return {}

    @pipe.step
    def nothing() -> None:
        pass

    @pipe.step(metrics=True)
    def flagged():
        return {}

    @pipe.step
    def unknown():
        return 1

    assert annotated.spec.returns == "metrics"
    assert nothing.spec.returns == "none"
    assert flagged.spec.returns == "metrics"
    assert unknown.spec.returns is None


def test_batch_transform_of_a_training_step_declares_its_model_and_it_joins_the_branch():
    pipe = Pipeline("p")
    data = pipe.dataset("Data", local="x.csv")

    @pipe.step(kind="training")
    def train():
        pass

    @pipe.step(metrics=True)
    def evaluate(train):
        return {"accuracy": 1.0}

    scoring = pipe.batch_transform("Score", model=train, data=data)
    assert scoring.spec.model == "ScoreModel"
    assert pipe["ScoreModel"].kind == "model"
    cond = pipe.condition("Gate", evaluate["accuracy"] > 0.5, then=[scoring])
    assert cond.spec.then == ("ScoreModel", "Score")


def test_condition_takes_only_expressions():
    pipe = Pipeline("p")
    with pytest.raises(DeclarationError, match="plain bool cannot decide"):
        pipe.condition("C", True, then=["x"])


def test_fail_message_joins_strings_and_params():
    pipe = Pipeline("p")
    t = pipe.param("T", 0.9)
    f = pipe.fail("F", ["below ", t])
    assert f.spec.message == ("below ", t)
    with pytest.raises(DeclarationError, match=r"strings, params or metrics \(step\[.key.\]\)"):
        pipe.fail("G", ["x", 3])


def test_register_model_checks_argument_types():
    pipe = Pipeline("p")
    with pytest.raises(DeclarationError, match="group=3"):
        pipe.register_model("R", model="train", group=3)
    with pytest.raises(DeclarationError, match="content_types"):
        pipe.register_model("R", model="train", group="G", content_types="text/csv")


def test_getitem_finds_declared_steps_with_a_suggestion():
    pipe = Pipeline("p")

    @pipe.step
    def prepare():
        pass

    assert pipe["prepare"] is prepare
    with pytest.raises(KeyError, match="did you mean 'prepare'"):
        pipe["prepar"]


def test_metric_keys_must_be_strings():
    pipe = Pipeline("p")

    @pipe.step
    def evaluate():
        return {"a": 1}

    with pytest.raises(DeclarationError, match="non-empty string"):
        evaluate[0]


def test_retry_attempts_are_capped_like_sagemaker():
    with pytest.raises(DeclarationError, match="at most 20"):
        Retry(max_attempts=21)


def test_fail_message_of_another_type_is_a_declaration_error_naming_the_step():
    pipe = Pipeline("p")
    with pytest.raises(DeclarationError, match=r"fail 'F': message=5 \(int\).*a string, a param, a metric, or a list.*Fix:") as info:
        pipe.fail("F", 5)
    assert isinstance(info.value, TypeError)


async def _fetch():
    return 1


def _numbers():
    yield 1


async def _stream():
    yield 1


class _Model:
    pass


@pytest.mark.parametrize(
    "fn, what",
    [(_fetch, "an async function"), (_numbers, "a generator function"), (_stream, "an async generator function"),
     (_Model, "a class")],
)
def test_only_plain_functions_can_be_steps(fn, what):
    pipe = Pipeline("p")
    for declare in (pipe.step, pipe.step(kind="training")):
        with pytest.raises(DeclarationError, match=rf"step '{fn.__name__}': @pipe.step got {what}.*Fix:"):
            declare(fn)
    assert pipe.nodes == ()


def test_retry_backoff_must_be_a_finite_number():
    for rate in (float("nan"), float("inf"), 0.5):
        with pytest.raises(DeclarationError, match=r"backoff_rate=.*finite number >= 1.*Fix:"):
            Retry(backoff_rate=rate)


def test_fail_message_may_show_a_metric_and_validation_checks_it():
    """Issue #15: 'MSE 7.2 > 6.0' — a Fail message joins metrics (Std:JsonGet) with text and params."""
    from dagml import Metrics, PipelineValidationError

    pipe = Pipeline("p")
    limit = pipe.param("Limit", 6.0)

    @pipe.step
    def evaluate() -> Metrics:
        return {"mse": 7.2}

    @pipe.step
    def prepare():
        return [1]

    too_high = pipe.fail("TooHigh", ["MSE ", evaluate["mse"], " > ", limit])
    pipe.condition("Gate", evaluate["mse"] <= limit, otherwise=[too_high])
    graph = pipe.validate()
    assert graph.upstream("TooHigh") == ("evaluate",) and "evaluate" in graph.reports_read

    bad = Pipeline("bad")

    @bad.step
    def score():
        return {"mse": 1.0}

    @bad.step
    def data():
        return [1]

    bad.fail("F1", ["MSE ", score["mes"]])
    bad.fail("F2", ["rows ", data["n"]])
    with pytest.raises(PipelineValidationError) as info:
        bad.validate()
    by_kind = {p.kind: p for p in info.value.problems}
    assert "did you mean 'mse'?" in by_kind["unknown-metric"].message
    assert by_kind["not-metrics"].steps == ("F2", "data")
