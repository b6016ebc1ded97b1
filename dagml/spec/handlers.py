"""Custom inference: the functions that serve a training step's model, declared on its handle.

SageMaker's inference handler contract has four functions (the scikit-learn image's serving stack
calls them in this order)::

    model_fn(model_dir)                          -> the model
    input_fn(request_body, request_content_type) -> the data
    predict_fn(input_data, model)                -> the prediction
    output_fn(prediction, accept)                -> the response body (str or bytes), or (body, content_type)

A pipeline declares any of them on the training step whose model they serve::

    @train.input_fn
    def parse(body, content_type): ...

The decorator checks the function here, at decoration time, records it on the step's frozen
:class:`~dagml.spec.specs.FunctionSpec` (``spec.handlers``) and returns the function unchanged,
so it stays a plain function to unit-test. The parts a step does not declare stay dagml's
defaults (:mod:`dagml.runtime.inference`). Model, RegisterModel and Transform steps that serve
the step's model on SageMaker, and the local batch transform, all use them (docs/sagemaker.md,
"Custom inference").

A handler must be a module-level function: it runs in another process (the model container, a
local worker), which loads the pipeline file again and takes the handler from the step; a
function made inside another function, or a lambda, is refused, so the handler there is the same
function, with nothing captured from the process that declared the pipeline, and can be imported
and tested by its name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import attrs

from dagml.spec.errors import DeclarationError

__all__ = ["ROLES", "InferenceHandlers", "add_handler", "describe"]

#: Each handler of SageMaker's contract and the parameters the serving stack passes it, in order.
ROLES: dict[str, tuple[str, ...]] = {
    "model_fn": ("model_dir",),
    "input_fn": ("request_body", "request_content_type"),
    "predict_fn": ("input_data", "model"),
    "output_fn": ("prediction", "accept"),
}


def describe(fn: Callable[..., Any]) -> str:
    """``module.qualname`` of a handler, for messages."""
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _origin(fn: Callable[..., Any]) -> str:
    code = getattr(fn, "__code__", None)
    return f" (line {code.co_firstlineno} of {code.co_filename})" if code is not None else ""


@attrs.frozen
class InferenceHandlers:
    """The user's inference functions of one training step; ``None``: dagml's default for that part."""

    model_fn: Callable[[str], Any] | None = attrs.field(default=None, repr=lambda f: describe(f) if f else "None")
    input_fn: Callable[[Any, Any], Any] | None = attrs.field(default=None, repr=lambda f: describe(f) if f else "None")
    predict_fn: Callable[[Any, Any], Any] | None = attrs.field(default=None, repr=lambda f: describe(f) if f else "None")
    output_fn: Callable[[Any, Any], Any] | None = attrs.field(default=None, repr=lambda f: describe(f) if f else "None")

    def __bool__(self) -> bool:
        """Whether the step declares any handler (a model container then names the step)."""
        return any(f is not None for f in attrs.astuple(self, recurse=False))

    @property
    def declared(self) -> tuple[tuple[str, Callable[..., Any]], ...]:
        """(role, function) of each handler the step declares, in the serving stack's order."""
        return tuple((role, fn) for role in ROLES if (fn := getattr(self, role)) is not None)


def _signature_problem(fn: Callable[..., Any], count: int) -> str | None:
    """Why ``fn`` cannot be called with ``count`` positional arguments, or None if it can."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return "has no signature Python can read"
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    star = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    keyword_only = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    if keyword_only:
        return f"has keyword-only parameters without defaults ({', '.join(keyword_only)})"
    if len(required) > count:
        return f"needs {len(required)} arguments"
    if len(positional) < count and not star:
        return f"takes {len(positional)} argument{'s' if len(positional) != 1 else ''}"
    return None


def add_handler(
    step: str, kind: str, handlers: InferenceHandlers, role: str, fn: Callable[..., Any]
) -> InferenceHandlers:
    """``handlers`` with ``fn`` as the step's ``role``, or a DeclarationError saying what is wrong and the fix.

    Declaring a role again with a function of the same module and name (a notebook cell run
    again) replaces it; with another function it is refused.
    """
    where = f"step {step!r}: @{step}.{role}"
    params = ", ".join(ROLES[role])
    if kind != "training":
        raise DeclarationError(
            f"{where} declares how a training step's model is served, but {step!r} is a {kind} step. "
            f"Fix: declare {role} on the training step (kind='training') whose model it serves."
        )
    if not inspect.isfunction(fn):
        raise DeclarationError(
            f"{where} got {fn!r} ({type(fn).__name__}), not a function. "
            f"Fix: decorate a module-level function: def {role.removesuffix('_fn')}({params}): ..."
        )
    qualname = getattr(fn, "__qualname__", "")
    if "<" in qualname:
        what = "a lambda" if fn.__name__ == "<lambda>" else "a function defined inside another function"
        raise DeclarationError(
            f"{where} got {what} ({describe(fn)}); a handler must be a module-level function: the model "
            "container and the local workers load the pipeline file again and take the handler from the "
            f"step. Fix: define it at the top level of a module: def {fn.__name__ if fn.__name__ != '<lambda>' else role}"
            f"({params}): ..."
        )
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):
        raise DeclarationError(
            f"{where} got {describe(fn)}, which is async or a generator; the serving stack calls it and uses "
            "the value it returns. Fix: make it a plain def that returns its result."
        )
    problem = _signature_problem(fn, len(ROLES[role]))
    if problem is not None:
        raise DeclarationError(
            f"{where}: {describe(fn)} {problem}, but SageMaker calls {role}({params}) with {len(ROLES[role])} "
            f"positional argument{'s' if len(ROLES[role]) != 1 else ''}. Fix: def {fn.__name__}({params}): ..."
        )
    existing = getattr(handlers, role)
    if existing is not None and existing is not fn and describe(existing) != describe(fn):
        raise DeclarationError(
            f"{where}: step {step!r} already has {role} {describe(existing)}{_origin(existing)}; a step has "
            f"one {role}, so {describe(fn)} cannot be one too. Fix: remove one of the two declarations."
        )
    return attrs.evolve(handlers, **{role: fn})
