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
#: key -> its encoded form and ": ". Definitions repeat a few hundred keys millions of times.
_KEYS: dict[str, str] = {}
_MAX_KEYS = 4096


def _key(key: str) -> str:
    text = encode_basestring(key) + ": "
    if len(_KEYS) < _MAX_KEYS:
        _KEYS[key] = text
    return text


def dumps(value: Any, end: str = "") -> str:
    """``json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + end``, byte for byte."""
    try:
        return _encode(value, "\n", "", end)
    except RecursionError:  # a circular (or absurdly deep) value: the standard library's error
        return _fallback(value, "\n") + end


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


def _encode(value: Any, newline: str, start: str, end: str) -> str:
    """``start`` + the text of ``value`` (continuing lines at ``newline``) + ``end``.

    A container joins its items' texts once, its brackets (with ``start`` and
    ``end``) attached to the first and last item: the text is not copied again by
    every enclosing container (a 100,000-step definition is 220 MB of text).
    """
    kind = type(value)
    if kind is str:
        return start + encode_basestring(value) + end
    if kind is dict:
        if not value:
            return start + "{}" + end
        inner = newline + _INDENT
        parts: list[str] = []
        append = parts.append
        keys = _KEYS
        try:
            items = sorted(value.items())
        except TypeError:
            return start + _fallback(value, newline) + end
        for key, item in items:
            prefix = keys.get(key) if type(key) is str else None
            if prefix is None:
                if type(key) is not str:
                    return start + _fallback(value, newline) + end
                prefix = _key(key)
            if type(item) is str:
                append(prefix + encode_basestring(item))
            else:
                append(_encode(item, inner, prefix, ""))
        parts[0] = start + "{" + inner + parts[0]
        parts[-1] = parts[-1] + newline + "}" + end
        return ("," + inner).join(parts)
    if kind is list or kind is tuple:
        if not value:
            return start + "[]" + end
        inner = newline + _INDENT
        texts = [encode_basestring(item) if type(item) is str else _encode(item, inner, "", "") for item in value]
        texts[0] = start + "[" + inner + texts[0]
        texts[-1] = texts[-1] + newline + "]" + end
        return ("," + inner).join(texts)
    if value is None:
        text = "null"
    elif value is True:
        text = "true"
    elif value is False:
        text = "false"
    elif kind is int:
        text = int.__repr__(value)
    elif kind is float:
        text = _float(value)
    else:
        text = _fallback(value, newline)
    return start + text + end if start or end else text
