"""Errors of drawing; each derives from :class:`~dagml.errors.DagmlError` and a builtin."""

from __future__ import annotations

from dagml.errors import DagmlError

__all__ = ["GraphvizNotFoundError", "RenderError"]


class RenderError(DagmlError, ValueError):
    """A drawing cannot be made as asked: an unknown format or direction, not a pipeline, or ``dot`` rejected it."""


class GraphvizNotFoundError(DagmlError, RuntimeError):
    """SVG or PNG was asked for, but Graphviz's ``dot`` (or the graphviz package) is missing."""
