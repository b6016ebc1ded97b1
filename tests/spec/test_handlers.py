"""Declaring custom inference handlers on a training step (dagml.spec.handlers)."""

from __future__ import annotations

import pytest

from dagml import DagmlError, DeclarationError, Pipeline
from dagml.spec.handlers import ROLES, InferenceHandlers


def _pipeline():
    pipe = Pipeline("served")

    @pipe.step
    def prepare():
        return [[1.0]]

    @pipe.step(kind="training")
    def train(prepare):
        return prepare

    return pipe, prepare, train


def parse(body, content_type):
    return body


def predict(input_data, model):
    return input_data


def render(prediction, accept="text/csv"):
    return str(prediction)


def load(model_dir):
    return model_dir


def parse_too(body, content_type):
    return body


def test_each_decorator_returns_the_function_unchanged_and_records_it_on_the_spec():
    pipe, _, train = _pipeline()
    before = pipe.revision
    assert train.input_fn(parse) is parse
    assert train.predict_fn(predict) is predict
    assert train.output_fn(render) is render
    assert train.model_fn(load) is load
    assert train.spec.handlers == InferenceHandlers(load, parse, predict, render)
    assert train.spec.handlers.declared == tuple(zip(ROLES, (load, parse, predict, render)))
    assert pipe.nodes[1] is train.spec  # the declaration holds the new spec, not the old one
    assert pipe.revision == before + 4  # a cached graph is stale
    assert train.fn(prepare=[[2.0]]) == [[2.0]] and parse(b"x", "text/csv") == b"x"


def test_a_step_without_handlers_has_none():
    _, prepare, train = _pipeline()
    assert not train.spec.handlers and not prepare.spec.handlers
    assert train.spec.handlers.declared == ()


def test_decorating_as_a_decorator_in_a_module():
    pipe, _, train = _pipeline()
    namespace = {"train": train}
    exec(
        "@train.output_fn\ndef answer(prediction, accept):\n    return 'x'\n",
        namespace,
    )
    assert train.spec.handlers.output_fn is namespace["answer"]


def _refused(call, *says):
    with pytest.raises(DeclarationError) as info:
        call()
    assert isinstance(info.value, TypeError) and isinstance(info.value, DagmlError)
    for text in says:
        assert text in str(info.value), str(info.value)
    assert "Fix:" in str(info.value)


def test_only_a_training_step_takes_handlers():
    pipe, prepare, train = _pipeline()
    _refused(lambda: prepare.input_fn(parse), "'prepare' is a processing step", "declare input_fn on the training step")
    model = pipe.model("Served", model=train)
    _refused(lambda: model.output_fn(render), "'Served' is a model (not a decorated function) step")
    assert not train.spec.handlers


@pytest.mark.parametrize(
    "fn, says",
    [
        (lambda body, content_type: body, "got a lambda"),
        (len, "not a function"),
        (InferenceHandlers, "not a function"),
    ],
)
def test_a_handler_is_a_module_level_function(fn, says):
    _, _, train = _pipeline()
    _refused(lambda: train.input_fn(fn), says)


def test_a_function_made_inside_another_is_refused():
    _, _, train = _pipeline()

    def inner(body, content_type):
        return body

    _refused(lambda: train.input_fn(inner), "a function defined inside another function", "module-level function")


def test_a_step_is_not_a_handler():
    _, prepare, train = _pipeline()
    _refused(lambda: train.model_fn(prepare), "a step; a handler is a plain function")


async def answer_later(prediction, accept):
    return prediction


def test_an_async_handler_is_refused():
    _, _, train = _pipeline()
    _refused(lambda: train.output_fn(answer_later), "async or a generator")


def one(a):
    return a


def three(a, b, c):
    return a


def two_then_keyword(a, b, *, strict):
    return a


def star(*args):
    return args


def two_with_extra_default(a, b, c=None):
    return a


@pytest.mark.parametrize(
    "role, fn, says",
    [
        ("input_fn", one, "takes 1 argument, but SageMaker calls input_fn(request_body, request_content_type)"),
        ("predict_fn", three, "needs 3 arguments"),
        ("output_fn", two_then_keyword, "keyword-only parameters without defaults (strict)"),
        ("model_fn", parse, "needs 2 arguments, but SageMaker calls model_fn(model_dir) with 1 positional argument"),
    ],
)
def test_a_wrong_signature_is_refused_with_the_one_sagemaker_calls(role, fn, says):
    _, _, train = _pipeline()
    _refused(lambda: getattr(train, role)(fn), says, f"Fix: def {fn.__name__}(")


@pytest.mark.parametrize("fn", [star, two_with_extra_default, render])
def test_a_signature_that_takes_the_arguments_is_accepted(fn):
    _, _, train = _pipeline()
    assert train.predict_fn(fn) is fn


def test_the_same_handler_twice_is_refused_but_declaring_it_again_is_not():
    _, _, train = _pipeline()
    train.input_fn(parse)
    _refused(
        lambda: train.input_fn(parse_too),
        "already has input_fn tests.spec.test_handlers.parse",
        "so tests.spec.test_handlers.parse_too cannot be one too",
        "remove one of the two declarations",
    )
    assert train.input_fn(parse) is parse  # the same function again (a notebook cell run twice): kept
    assert train.spec.handlers.input_fn is parse
