"""Drawing pipelines: Graphviz DOT, SVG and PNG, Mermaid, notebooks, run overlays.

Every drawing reads the validated :class:`~dagml.PipelineGraph` only.

>>> drawing = render(pipe.validate(), "iris.svg")   # doctest: +SKIP
>>> print(to_dot(pipe.validate()))              # doctest: +SKIP

The visual grammar (shapes, colours, line styles) is in
:mod:`dagml.drawing.style` and ``docs/render.md``. Importing this package does
not import the graphviz package; drawing SVG or PNG does.
"""

from dagml.drawing.dot import to_dot
from dagml.drawing.errors import GraphvizNotFoundError, RenderError
from dagml.drawing.mermaid import to_mermaid
from dagml.drawing.output import EXTENSIONS, FORMATS, Drawing, format_for, render
from dagml.drawing.overlay import STATUSES, RunOverlayError, StepRun

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "STATUSES",
    "Drawing",
    "GraphvizNotFoundError",
    "RenderError",
    "RunOverlayError",
    "StepRun",
    "format_for",
    "render",
    "to_dot",
    "to_mermaid",
]
