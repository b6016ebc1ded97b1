"""What can be learnt about a step function without running it."""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

from dagml.spec.errors import DeclarationError
from dagml.spec.specs import Parameter

__all__ = ["caller_origin", "declared_returns", "function_origin", "literal_metric_keys", "parameters_of"]

_NUMBER = r"(float|int|float\|int|int\|float|Union\[float,int\]|Union\[int,float\]|numbers\.Number|Number)"
_OPEN_MAPPING = re.compile(r"^(dict|Dict|Mapping|MutableMapping|<class'dict'>)(\[str,(Any|object)\])?$")
_METRICS_ANNOTATION = re.compile(
    rf"^((dict|Dict|Mapping|MutableMapping)\[str,{_NUMBER}\]|(dagml\.)?Metrics)$"
)


def parameters_of(fn: Callable[..., Any], step: str) -> tuple[Parameter, ...]:
    """The function's parameters, refusing the kinds a step cannot receive."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:  # builtins, some C callables
        raise DeclarationError(
            f"step {step!r}: cannot read the signature of {fn!r} ({exc}). "
            "Fix: decorate a plain Python function (def ...)."
        ) from None
    result = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            star = "*" if p.kind is p.VAR_POSITIONAL else "**"
            raise DeclarationError(
                f"step {step!r}: parameter {star}{p.name} cannot be wired; a step's inputs are "
                "its named parameters (each named like an upstream step, or with a default). "
                f"Fix: list the inputs explicitly instead of {star}{p.name}."
            )
        if p.kind is p.POSITIONAL_ONLY:
            raise DeclarationError(
                f"step {step!r}: parameter {p.name!r} is positional-only; dagml passes inputs "
                "by name. Fix: remove the '/' from the signature."
            )
        has_default = p.default is not p.empty
        result.append(Parameter(p.name, has_default, p.default if has_default else None))
    return tuple(result)


def declared_returns(fn: Callable[..., Any]) -> str | None:
    """'metrics', 'none' or 'data' from the return annotation; None without one.

    A metrics report is ``dict[str, float]`` (or ``int``, ``float | int``,
    ``Mapping[...]``, ``dagml.Metrics``). ``dict[str, Any]`` (or ``object``, or a bare
    ``dict``) says no more than no annotation: a nested report is annotated so, and whether
    the step is one is decided by its readers (None). Any other annotation is plain data.
    """
    annotations = getattr(fn, "__annotations__", {}) or {}
    if "return" not in annotations:
        return None
    ann = annotations["return"]
    if ann is None or ann == "None" or ann is type(None):
        return "none"
    text = ann if isinstance(ann, str) else repr(ann)
    text = text.replace("typing.", "").replace("collections.abc.", "").replace(" ", "")
    if _METRICS_ANNOTATION.match(text):
        return "metrics"
    if _OPEN_MAPPING.match(text):
        return None
    return "data"


def _literal_keys(node: ast.Dict) -> list[str] | None:
    """The string keys of a dict literal, or None when one is not a string constant (or ``**x``)."""
    keys = []
    for key in node.keys:
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        keys.append(key.value)
    return keys


def _leaf_paths(node: ast.Dict, prefix: str) -> Iterator[str]:
    """Dotted paths to the leaves of a dict literal whose keys are all strings."""
    for key, value in zip(_literal_keys(node) or (), node.values):
        path = f"{prefix}.{key}" if prefix else key
        inner = _literal_keys(value) if isinstance(value, ast.Dict) else None
        if isinstance(value, ast.Dict) and inner:  # a literal object: its own leaves
            yield from _leaf_paths(value, path)
        else:  # a number, or anything not a literal dict: only running it tells what is inside
            yield path


_Function = ast.FunctionDef | ast.AsyncFunctionDef
#: A source file's lines (as linecache holds them) and its functions by (name, first line), parsed once
#: for every step of the file (``inspect.getsource`` tokenized the file again for each function).
_TREES: dict[str, tuple[list[str], dict[tuple[str, int], _Function]]] = {}


def _function_node(fn: Callable[..., Any]) -> _Function | None:
    """The ``def`` of ``fn`` in its source file (a notebook cell's too: IPython keeps cells in
    linecache), found by the code object's name and first line, as ``inspect.getsource`` does."""
    fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    filename = code.co_filename
    linecache.checkcache(filename)  # a file changed on disk is read again, as inspect.getsource does
    # linecache hands out the same list while the file is unchanged: parsed once per list, not per step.
    lines = linecache.getlines(filename, getattr(fn, "__globals__", None))
    cached = _TREES.get(filename)
    if cached is None or cached[0] is not lines:
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            return None
        index: dict[tuple[str, int], _Function] = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                index[(node.name, first)] = node
        cached = _TREES[filename] = (lines, index)
    return cached[1].get((code.co_name, code.co_firstlineno))


def literal_metric_keys(fn: Callable[..., Any]) -> tuple[str, ...] | None:
    """Paths of the dict literal(s) the function returns, if every return is one.

    ``return {"accuracy": acc}`` in every ``return`` statement of the function
    body (not of nested functions) makes it a metrics step with known keys.
    A nested dict literal gives dotted paths to its leaves (``{"regression_metrics":
    {"mse": {"value": mse}}}`` -> ``regression_metrics.mse.value``); a nested value
    that is not a literal dict with string keys is a leaf, whatever it holds at run time.
    Anything else, or no readable source, gives None: only running it tells.
    """
    func = _function_node(fn)
    if func is None:
        return None
    returns: list[ast.Return] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(child, ast.Return):
                returns.append(child)
            visit(child)

    visit(func)
    if not returns:
        return None
    keys: set[str] = set()
    for ret in returns:
        value = ret.value
        if not isinstance(value, ast.Dict) or not value.keys or _literal_keys(value) is None:
            return None
        keys.update(_leaf_paths(value, ""))
    return tuple(sorted(keys))


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return os.path.basename(path)
    return rel if not rel.startswith("..") else os.path.basename(path)


def function_origin(fn: Callable[..., Any]) -> str:
    code = getattr(fn, "__code__", None)
    if code is None:
        return ""
    return f"{_short(code.co_filename)}:{code.co_firstlineno}"


def caller_origin(depth: int = 2) -> str:
    """``file.py:line`` of the user's code that called into the DSL."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return ""
    return f"{_short(frame.f_code.co_filename)}:{frame.f_lineno}"
