"""The base of dagml's exceptions and the structured problems they carry.

Every exception dagml raises on purpose derives from :class:`DagmlError` *and*
from the builtin that matches the situation, so callers can catch either
(``except dagml.DagmlError`` or ``except ValueError``). Each layer defines its
own exceptions beside its code (``dagml/spec/errors.py``,
``dagml/graph/errors.py``, ``dagml/runtime/errors.py``, ...; the public ones are
re-exported by :mod:`dagml`); this module is the bottom of the layering
(docs/architecture.md) and imports nothing of dagml's but :mod:`dagml._text`.

Whoever finds several problems never stops at the first: it collects every
:class:`Problem`, sorts them, and raises one error whose ``.problems`` tests
and tools can inspect instead of matching prose.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Literal

import attrs

from dagml._text import visible

__all__ = [
    "ERROR",
    "NOTE",
    "WARNING",
    "ConfigurationError",
    "DagmlError",
    "DagmlWarning",
    "Problem",
    "Severity",
    "add_note",
    "did_you_mean",
]

#: ``"error"``: the problem makes the pipeline unusable; ``"warning"``: worth fixing, blocks nothing;
#: ``"note"``: information only, nothing to fix (lint's "sent through S3").
Severity = Literal["error", "warning", "note"]
ERROR: Severity = "error"
WARNING: Severity = "warning"
NOTE: Severity = "note"


def _names(steps: Iterable[str]) -> tuple[str, ...]:
    return tuple(steps)


@attrs.frozen(order=False)
class Problem:
    """One thing wrong with a pipeline.

    ``kind`` is a stable, machine-readable identifier (``"cycle"``,
    ``"unbound-input"``, ...), ``steps`` names the steps (or params) involved,
    ``message`` says what is wrong and ``fix`` says what to do about it.
    """

    kind: str
    steps: tuple[str, ...] = attrs.field(converter=_names)
    message: str
    fix: str = ""
    severity: Severity = ERROR

    @property
    def subject(self) -> str:
        return self.steps[0] if self.steps else ""

    def sort_key(self) -> tuple[str, str, str]:
        return (self.subject, self.kind, self.message)

    def __str__(self) -> str:
        """One line, safe to print: names from an imported definition are untrusted (dagml._text)."""
        where = f"{self.subject}: " if self.subject else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return visible(f"{where}{self.message}{fix}")

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "steps": list(self.steps),
            "message": self.message,
            "fix": self.fix,
            "severity": self.severity,
        }


class DagmlError(Exception):
    """Base class of every error dagml raises on purpose.

    ``problems`` holds the structured problems of an error that reports several
    (validation, settings, lint); it is empty for an error about one thing.
    """

    problems: tuple[Problem, ...] = ()


class DagmlWarning(UserWarning):
    """Something worth fixing in a pipeline that does not stop it."""


class ConfigurationError(DagmlError, ValueError):
    """A setting or command-line value is missing or malformed (a usage error)."""


def add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)``, also on Python 3.10 (the runtime's floor), which has no ``add_note``.

    dagml's CLI prints ``__notes__`` itself, so a note added on 3.10 is not lost.
    """
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:
        exc.__notes__ = [*getattr(exc, "__notes__", ()), note]  # type: ignore[attr-defined,unused-ignore]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``."""
    import difflib

    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""
