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
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring
from typing import Any

__all__ = ["dumps", "iter_dumps"]

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


def iter_dumps(head: dict[str, Any], key: str, items: Iterable[Any], end: str = "") -> Iterator[str]:
    """``dumps({**head, key: list(items)}, end)`` in pieces, one per item of ``items``, byte for byte.

    The list under ``key`` is consumed lazily: each item is encoded when it is
    reached, so a caller writing the pieces to a file never holds the whole text,
    nor (when ``items`` is a generator) every item. ``head``'s keys are strings
    (a definition's are).
    """
    if key in head or any(type(k) is not str for k in head):
        raise TypeError(f"iter_dumps: head must have string keys other than {key!r}")
    newline, inner = "\n  ", "\n    "
    keys = sorted([*head, key])
    at = keys.index(key)
    before = [_encode(head[k], newline, _KEYS.get(k) or _key(k), "") for k in keys[:at]]
    after = [_encode(head[k], newline, _KEYS.get(k) or _key(k), "") for k in keys[at + 1 :]]
    opening = "{" + newline + "".join(text + "," + newline for text in before) + (_KEYS.get(key) or _key(key))
    closing = "".join("," + newline + text for text in after) + "\n}" + end
    separator, empty = opening + "[" + inner, True
    for item in items:
        try:
            text = encode_basestring(item) if type(item) is str else _encode(item, inner, "", "")
        except RecursionError:  # as dumps: the standard library's error
            text = _fallback(item, inner)
        yield separator + text
        separator, empty = "," + inner, False
    yield opening + "[]" + closing if empty else "\n  ]" + closing


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
