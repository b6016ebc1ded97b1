"""``visible(text)``: untrusted text made safe to print on a terminal.

Step names, parameter names, conditions and messages of an imported definition
(and whatever a deployed pipeline's executions report) are untrusted: an ANSI
escape (``\\x1b[2J``) would rewrite the user's screen, a NUL or a carriage
return hide what precedes it, a right-to-left override (U+202E) reorder what
follows. Every place dagml prints such text passes it through :func:`visible`,
which shows each of these characters as a visible escape (``\\x1b``,
``\\x00``, ``\\u202e``) and leaves everything else, backslashes included, as it
is, so escaping twice changes nothing.

Escaped: the C0 controls (U+0000-U+001F), DEL (U+007F), the C1 controls
(U+0080-U+009F), and the bidirectional formatting characters: U+061C, U+200E,
U+200F, U+202A-U+202E, U+2066-U+2069. ``newlines=True`` keeps ``\\n`` (and
``\\t``) for text that is several lines on purpose; a name never is.
"""

from __future__ import annotations

import re

__all__ = ["visible"]

#: Patterns, not compiled ones: ``re`` compiles (and caches) one the first time text needs escaping,
#: which most commands never do (docs/performance.md).
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
_UNSAFE_BUT_LINES = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, *, newlines: bool = False) -> str:
    """``text`` with every control and bidi character shown as an escape (``\\x1b``, ``\\u202e``)."""
    text = str(text)
    if text.isprintable():  # the common case, at C speed: no control, format or line-break character
        return text
    return re.sub(_UNSAFE_BUT_LINES if newlines else _UNSAFE, _escape, text)
