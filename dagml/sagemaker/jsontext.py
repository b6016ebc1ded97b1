"""Canonical JSON text, fast: exactly ``json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)``.

The standard library encodes with ``indent`` in pure Python, through a
generator per nesting level; on a large definition that was three quarters of
compile time (benchmarks/bench_scaling.py, docs/performance.md). This encoder
builds the same text with string joins and the C string escaper, and hands any
value it does not know (non-string keys, subclasses, unserialisable objects) to
``json.dumps`` itself, so its output and its errors are the standard library's.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

__all__ = ["dumps"]

_INDENT = "  "
_INFINITY = float("inf")


def dumps(value: Any) -> str:
    """``json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)``, byte for byte."""
    try:
        return _encode(value, "\n")
    except RecursionError:  # a circular (or absurdly deep) value: the standard library's error
        return _fallback(value, "\n")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _fallback(value: Any, newline: str) -> str:
    """The standard library's text for ``value``, indented to continue at ``newline``."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False).replace("\n", newline)


def _encode(value: Any, newline: str) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + _INDENT
        parts = []
        append = parts.append
        try:
            items = sorted(value.items())
        except TypeError:
            return _fallback(value, newline)
        for key, item in items:
            if type(key) is not str:
                return _fallback(value, newline)
            if type(item) is str:
                append(encode_basestring(key) + ": " + encode_basestring(item))
            else:
                append(encode_basestring(key) + ": " + _encode(item, inner))
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = newline + _INDENT
        texts = [encode_basestring(item) if type(item) is str else _encode(item, inner) for item in value]
        return "[" + inner + ("," + inner).join(texts) + newline + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        return _float(value)
    return _fallback(value, newline)
