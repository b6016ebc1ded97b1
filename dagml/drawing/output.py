"""Formats and files: DOT and Mermaid from text, SVG and PNG through Graphviz's ``dot``.

DOT, Mermaid (``.mmd``) and Markdown (``.md``, a Mermaid block) need nothing
but dagml. SVG and PNG run Graphviz's ``dot`` through the ``graphviz``
package (``pip install 'dagml[viz]'``), imported only here and only when
needed; without them, they fail with :class:`GraphvizNotFoundError` saying
how to install them. Nothing falls back silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dagml.drawing.dot import scene_to_dot
from dagml.drawing.errors import GraphvizNotFoundError, RenderError
from dagml.drawing.mermaid import markdown_block, scene_to_mermaid
from dagml.drawing.overlay import RunStatus
from dagml.drawing.scene import Scene, build_scene
from dagml.graph.model import PipelineGraph

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "Drawing",
    "GraphvizNotFoundError",
    "RenderError",
    "format_for",
    "render",
]

#: Output formats: what each is.
FORMATS = {
    "svg": "SVG image (needs Graphviz's dot)",
    "png": "PNG image (needs Graphviz's dot)",
    "dot": "Graphviz DOT text",
    "mmd": "Mermaid flowchart text",
    "md": "Markdown with a Mermaid block (GitHub draws it)",
}
#: File extension -> format.
EXTENSIONS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".mmd": "mmd", ".mermaid": "mmd", ".md": "md"}
#: Resolution of PNG output (dots per inch); SVG is resolution-free.
PNG_DPI = 144.0

INSTALL_DOT = (
    "Fix: install Graphviz, which provides `dot`: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), or see https://graphviz.org/download/. "
    "DOT (.dot) and Mermaid (.mmd, .md) output work without it."
)


def format_for(path: str | os.PathLike[str] | None, format: str | None = None) -> str:
    """The format to write: ``format`` if given, else from the path's extension."""
    if format is not None:
        fmt = format.lower().lstrip(".")
        if fmt not in FORMATS:
            raise RenderError(f"unknown format {format!r}. Fix: use one of {', '.join(FORMATS)}.")
        return fmt
    if path is None:
        return "dot"
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise RenderError(
            f"cannot tell the format of {os.fspath(path)!r} from its extension {suffix or '(none)'!r}. "
            f"Fix: name the file .svg, .png, .dot, .mmd or .md, or pass format= (--format)."
        )
    return EXTENSIONS[suffix]


def run_dot(dot_text: str, fmt: str) -> bytes:
    """Lay out DOT text with Graphviz's ``dot``; return the ``fmt`` (svg, png) bytes."""
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFoundError(
            f"drawing {fmt.upper()} needs the graphviz Python package. "
            "Fix: pip install 'dagml[viz]' (and Graphviz's dot: apt-get install graphviz / brew install graphviz)."
        ) from None
    try:
        image: bytes = graphviz.pipe("dot", fmt, dot_text.encode("utf-8"), quiet=True)
        return image
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(f"drawing {fmt.upper()} needs Graphviz's `dot`, which is not on PATH. {INSTALL_DOT}") from None
    except graphviz.CalledProcessError as exc:
        stderr = (exc.stderr or b"").decode("utf-8", "replace").strip() if isinstance(exc.stderr, bytes) else str(exc.stderr or "")
        raise RenderError(f"Graphviz's dot could not draw the graph: {stderr or exc}") from None


class Drawing:
    """A pipeline drawing: DOT and Mermaid text, SVG and PNG on demand.

    :func:`render` returns one; in Jupyter it displays itself as SVG.
    """

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self._dot: str | None = None

    @property
    def dot(self) -> str:
        """Graphviz DOT text (deterministic)."""
        if self._dot is None:
            self._dot = scene_to_dot(self.scene)
        return self._dot

    @property
    def mermaid(self) -> str:
        """A Mermaid flowchart."""
        return scene_to_mermaid(self.scene)

    @property
    def markdown(self) -> str:
        """Markdown: the title and a Mermaid block, which GitHub and many editors draw."""
        return markdown_block(self.scene)

    def svg(self) -> str:
        """SVG text, laid out by Graphviz's ``dot``."""
        return run_dot(self.dot, "svg").decode("utf-8")

    def png(self) -> bytes:
        """PNG bytes, laid out by Graphviz's ``dot``."""
        return run_dot(scene_to_dot(self.scene, {"dpi": PNG_DPI}), "png")

    def to_bytes(self, format: str) -> bytes:
        """The drawing in ``format`` (svg, png, dot, mmd, md)."""
        fmt = format_for(None, format)
        if fmt == "png":
            return self.png()
        texts: dict[str, Callable[[], str]] = {
            "svg": self.svg,
            "dot": lambda: self.dot,
            "mmd": lambda: self.mermaid,
            "md": lambda: self.markdown,
        }
        text = texts[fmt]()
        return text.encode("utf-8")

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the drawing to ``path`` (format from the extension unless given); return the path.

        The directory must exist: a mistyped one is refused, not created. Nothing
        is written when drawing fails.
        """
        target = Path(path)
        fmt = format_for(target, format)
        if not target.parent.is_dir():
            raise RenderError(
                f"cannot write the drawing to {os.fspath(path)!r}: the directory {os.fspath(target.parent)!r} "
                f"does not exist. Fix: create it first (mkdir -p {os.fspath(target.parent)}) or write elsewhere."
            )
        target.write_bytes(self.to_bytes(fmt))
        return target

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        steps = sum(1 for n in self.scene.nodes if n.kind not in ("param", "dataset"))
        run = ", run overlay" if self.scene.overlay else ""
        return f"<Drawing of pipeline {self.scene.name!r}: {steps} steps{run}>"


def render(
    graph: PipelineGraph,
    path: str | os.PathLike[str] | None = None,
    *,
    format: str | None = None,
    params: bool = False,
    legend: bool = True,
    run: Mapping[str, RunStatus] | None = None,
    caption: str | None = None,
    direction: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Drawing:
    """Draw a validated pipeline graph; write it to ``path`` when given. Returns the :class:`Drawing`.

    ``graph`` is a :class:`~dagml.PipelineGraph` (``pipe.validate()``;
    :func:`dagml.render` also takes the Pipeline itself). The format comes from the
    path's extension (``.svg``, ``.png``, ``.dot``, ``.mmd``, ``.md``) or
    ``format``. ``params=True`` draws params and datasets as nodes;
    ``run`` overlays one run's step statuses (see :class:`~dagml.drawing.StepRun`);
    ``caption`` is a line under the title; ``direction`` is "TB" or "LR"
    (default: TB, or LR when a generation is too wide to read top to bottom);
    ``values`` are the run's parameter values, which conditions then show
    instead of the defaults.
    """
    if not isinstance(graph, PipelineGraph):
        raise RenderError(
            f"render() draws a validated PipelineGraph, got {graph!r}. "
            "Fix: pass pipe.validate(), or call dagml.render(pipe) or pipe.render()."
        )
    fmt = format_for(path, format) if path is not None or format is not None else None
    scene = build_scene(graph, params=params, legend=legend, run=run, caption=caption, direction=direction, values=values)
    drawing = Drawing(scene)
    if path is not None:
        drawing.save(path, fmt)
    return drawing
