"""Condition expressions: one tree, built with Python operators.

``evaluate["accuracy"] >= threshold`` builds a :class:`Compare`; ``&``, ``|``
and ``~`` combine expressions into :class:`And`, :class:`Or` and :class:`Not`;
``ref.isin([...])`` builds :class:`In`. The SageMaker compiler lowers this tree
to a definition's ``Conditions`` and the local runner evaluates it, so both
decide the same way.

An expression is not a Python boolean: ``if evaluate["accuracy"] > 0.9:`` is a
mistake (the metric does not exist until the pipeline runs), so ``bool()``
raises :class:`~dagml.errors.ConditionUsageError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Union

import attrs

from dagml.spec.errors import ConditionUsageError, DeclarationError
from dagml.spec.model_quality import short_key
from dagml.spec.params import Param, param_type_of
from dagml.spec.reports import SEPARATOR, path_problem, split_path

__all__ = [
    "And",
    "Compare",
    "Expr",
    "In",
    "MetricRef",
    "Not",
    "Operand",
    "Or",
    "all_of",
    "any_of",
    "compare",
    "describe",
    "eq",
    "ge",
    "gt",
    "isin",
    "le",
    "lt",
    "metric_path",
    "ne",
    "not_",
    "operand_type",
]

#: The six comparison operators, in the order SageMaker documents them.
OPERATORS = ("==", "!=", "<", "<=", ">", ">=")
_MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class _NotABoolean:
    """Mixin: forbid truth testing, and offer ``&``, ``|``, ``~``."""

    def __bool__(self) -> bool:
        raise ConditionUsageError(
            f"the condition {describe(self)!r} has no truth value while the pipeline is being "
            "declared (its metrics only exist when the pipeline runs). "
            "Fix: pass it to pipe.condition(name, expression, then=[...], otherwise=[...]) "
            "instead of using it in `if`, `and`, `or` or `not`; combine conditions with "
            "&, | and ~."
        )


class Expr(_NotABoolean):
    """Base of condition expressions."""

    def __and__(self, other: object) -> Expr:
        return all_of(self, other)

    def __rand__(self, other: object) -> Expr:
        return all_of(other, self)

    def __or__(self, other: object) -> Expr:
        return any_of(self, other)

    def __ror__(self, other: object) -> Expr:
        return any_of(other, self)

    def __invert__(self) -> Expr:
        return not_(self)

    def __str__(self) -> str:
        return describe(self, defaults=False)


@attrs.frozen(eq=False)
class MetricRef(_NotABoolean):
    """``step["key"]``: a number from a step's metrics report.

    ``key`` is its path in the report, keys joined by dots: ``evaluate["regression_metrics"]["mse"]``
    and ``evaluate["regression_metrics.mse"]`` both have the key ``"regression_metrics.mse"``.
    """

    step: str
    key: str
    #: What a comparison sees; an imported reference (``ImportedRef``) may be any JSON value: "any".
    value_type: ClassVar[str] = "number"

    # Comparisons build expressions.
    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return compare("==", self, other)

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        return compare("!=", self, other)

    def __lt__(self, other: object) -> Expr:
        return compare("<", self, other)

    def __le__(self, other: object) -> Expr:
        return compare("<=", self, other)

    def __gt__(self, other: object) -> Expr:
        return compare(">", self, other)

    def __ge__(self, other: object) -> Expr:
        return compare(">=", self, other)

    __hash__ = object.__hash__

    def isin(self, values: object) -> Expr:
        """Condition: the metric is one of ``values``."""
        return isin(self, values)

    def __getitem__(self, key: str) -> MetricRef:
        """One key deeper: ``evaluate["regression_metrics"]["mse"]`` reads ``regression_metrics.mse``."""
        return MetricRef(self.step, metric_path(self.step, key, self.key))

    def __str__(self) -> str:
        return f"{self.step}.{self.key}"


def metric_path(step: str, key: object, parent: str | None = None) -> str:
    """The report path ``step[key]`` reads (``step[...parent][key]`` with ``parent``), or a DeclarationError.

    A path is keys joined by dots (``"regression_metrics.mse.value"``, SageMaker's ``Std:JsonGet``
    ``Path``, :mod:`dagml.spec.reports`): ``step["a.b"]`` and ``step["a"]["b"]`` are one path.
    """
    example = f"{step}['regression_metrics']['mse']['value'] or {step}['regression_metrics.mse.value']"
    if not isinstance(key, str) or not key:
        raise DeclarationError(
            f"step {step!r}: metric key {key!r} must be a non-empty string, e.g. {step}['accuracy'] "
            f"or, in a nested report, {example}."
        )
    if parent is None:
        problem = path_problem(key)
        if problem:
            raise DeclarationError(
                f"step {step!r}: metric path {key!r} {problem}. Fix: join non-empty keys with single dots, "
                f"e.g. {example}."
            )
        return key
    if SEPARATOR in key:
        raise DeclarationError(
            f"step {step!r}: {key!r}, one key of the path under {parent!r}, contains {SEPARATOR!r}, which "
            f"separates keys (no path reads a key with a dot in it). Fix: one key per [...], "
            f"{step}[{parent!r}]{''.join(f'[{k!r}]' for k in split_path(key) if k)}, or rename the key "
            "in the report."
        )
    return f"{parent}{SEPARATOR}{key}"


Operand = Union[MetricRef, Param, str, int, float, bool]


@attrs.frozen(eq=False)
class Compare(Expr):
    op: str
    left: Operand
    right: Operand


@attrs.frozen(eq=False)
class In(Expr):
    value: Operand
    options: tuple[Operand, ...]


@attrs.frozen(eq=False)
class And(Expr):
    terms: tuple[Expr, ...]


@attrs.frozen(eq=False)
class Or(Expr):
    terms: tuple[Expr, ...]


@attrs.frozen(eq=False)
class Not(Expr):
    term: Expr


def _operand(value: object, where: str) -> Operand:
    if isinstance(value, (MetricRef, Param)):
        return value
    if param_type_of(value) is not None:
        return value  # type: ignore[return-value]
    from dagml.spec.params import Dataset

    if isinstance(value, Dataset):
        raise DeclarationError(
            f"{where}: dataset {value.name!r} cannot be compared in a condition; "
            "conditions compare metrics, params and literals."
        )
    if isinstance(value, Expr):
        raise DeclarationError(
            f"{where}: cannot compare a condition ({describe(value)!r}) with a value. "
            "Fix: combine conditions with &, | and ~, and compare metrics, params and literals."
        )
    raise DeclarationError(
        f"{where}: {value!r} ({type(value).__name__}) cannot be used in a condition. "
        "Fix: compare a metric (step['key']), a param, or a str/int/float/bool literal."
    )


def compare(op: str, left: object, right: object) -> Compare:
    """Build ``left <op> right``; ``op`` is one of ``== != < <= > >=``."""
    if op not in OPERATORS:
        raise DeclarationError(f"unknown comparison {op!r}; use one of {', '.join(OPERATORS)}")
    where = f"condition `{left!s} {op} {right!s}`"
    return Compare(op, _operand(left, where), _operand(right, where))


def eq(left: object, right: object) -> Compare:
    return compare("==", left, right)


def ne(left: object, right: object) -> Compare:
    return compare("!=", left, right)


def lt(left: object, right: object) -> Compare:
    return compare("<", left, right)


def le(left: object, right: object) -> Compare:
    return compare("<=", left, right)


def gt(left: object, right: object) -> Compare:
    return compare(">", left, right)


def ge(left: object, right: object) -> Compare:
    return compare(">=", left, right)


def isin(value: object, options: object) -> In:
    """Build ``value in options`` (SageMaker's ``In``)."""
    where = f"condition `{value!s}.isin(...)`"
    if isinstance(options, (str, bytes)) or not isinstance(options, Iterable):
        raise DeclarationError(
            f"{where}: isin() takes a list of values, got {options!r}. Fix: .isin([a, b])."
        )
    items = tuple(_operand(o, where) for o in options)
    if not items:
        raise DeclarationError(f"{where}: isin() needs at least one value. Fix: .isin([a, b]).")
    return In(_operand(value, where), items)


def _expr(value: object, where: str) -> Expr:
    if isinstance(value, Expr):
        return value
    raise DeclarationError(
        f"{where} takes condition expressions, got {value!r} ({type(value).__name__}). "
        "Fix: compare a metric or param, e.g. evaluate['accuracy'] >= threshold."
    )


def all_of(*terms: object) -> And:
    """All of the terms hold (SageMaker: a list of conditions). Flattens nested ``&``."""
    flat: list[Expr] = []
    for term in terms:
        t = _expr(term, "`&` / all_of()")
        flat.extend(t.terms if isinstance(t, And) else (t,))
    return And(tuple(flat))


def any_of(*terms: object) -> Or:
    """At least one of the terms holds (SageMaker: ``Or``). Flattens nested ``|``."""
    flat: list[Expr] = []
    for term in terms:
        t = _expr(term, "`|` / any_of()")
        flat.extend(t.terms if isinstance(t, Or) else (t,))
    return Or(tuple(flat))


def not_(term: object) -> Not:
    """The term does not hold (SageMaker: ``Not``)."""
    return Not(_expr(term, "`~` / not_()"))


def operand_type(value: Operand) -> str:
    """``number``, ``string`` or ``boolean`` (``any`` for an imported reference): what a comparison sees."""
    if isinstance(value, MetricRef):
        return value.value_type
    sm_type = value.type if isinstance(value, Param) else param_type_of(value)
    return {"Integer": "number", "Float": "number", "String": "string", "Boolean": "boolean"}[
        sm_type or "String"
    ]


def _describe_operand(value: Operand, defaults: bool, values: Mapping[str, Any] | None, short: bool = False) -> str:
    if isinstance(value, MetricRef):
        return f"{value.step}.{short_key(value.key)}" if short else str(value)
    if isinstance(value, Param):
        if values is not None and value.name in values:
            return f"{value.name} ({values[value.name]!r})"
        return f"{value.name} ({value.default!r})" if defaults else value.name
    return repr(value)


def describe(
    expr: object, defaults: bool = True, values: Mapping[str, Any] | None = None, short: bool = False
) -> str:
    """The expression in words: ``evaluate.accuracy >= AccuracyThreshold (0.9)``.

    A param shows its default (``defaults``), or its value in ``values`` (a run's params) when given.
    ``short`` names a model-quality metric by its name alone (``evaluate.mse``), as drawings do.
    """
    if isinstance(expr, Compare):
        left = _describe_operand(expr.left, defaults, values, short)
        right = _describe_operand(expr.right, defaults, values, short)
        return f"{left} {expr.op} {right}"
    if isinstance(expr, In):
        options = ", ".join(_describe_operand(o, defaults, values, short) for o in expr.options)
        return f"{_describe_operand(expr.value, defaults, values, short)} in [{options}]"
    if isinstance(expr, And):
        return " and ".join(_wrap(t, defaults, values, short) for t in expr.terms)
    if isinstance(expr, Or):
        return " or ".join(_wrap(t, defaults, values, short) for t in expr.terms)
    if isinstance(expr, Not):
        return f"not {_wrap(expr.term, defaults, values, short)}"
    if isinstance(expr, MetricRef):
        return _describe_operand(expr, defaults, values, short)
    return repr(expr)


def _wrap(expr: Expr, defaults: bool, values: Mapping[str, Any] | None, short: bool = False) -> str:
    text = describe(expr, defaults, values, short)
    return f"({text})" if isinstance(expr, (And, Or)) else text


def iter_compares(expr: Expr) -> Iterable[Compare | In]:
    """Every leaf comparison of an expression, left to right."""
    if isinstance(expr, (Compare, In)):
        yield expr
    elif isinstance(expr, (And, Or)):
        for term in expr.terms:
            yield from iter_compares(term)
    elif isinstance(expr, Not):
        yield from iter_compares(expr.term)


def operands(expr: Expr) -> Iterable[Operand]:
    """Every operand of an expression, left to right."""
    for leaf in iter_compares(expr):
        if isinstance(leaf, Compare):
            yield leaf.left
            yield leaf.right
        else:
            yield leaf.value
            yield from leaf.options
