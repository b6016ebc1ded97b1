"""The visual grammar: one table of shapes, colours and line styles.

Every renderer (DOT, Mermaid) and the legend read these tables, so a step
kind looks the same everywhere. A reader should get it without the legend:

- a step's *kind* is its shape and colour (processing: rounded box; training:
  3-D box; model: component; register: folder; transform: arrow-ended box;
  fail: octagon, like a stop sign; condition: diamond; a step of an imported
  definition of another type, such as Lambda: grey parallelogram with its type);
- data edges are solid, ``after=`` edges dashed, ``then`` / ``otherwise``
  edges green / red and labelled;
- params and datasets (on request) are grey ellipses / cylinders with dotted
  edges;
- in a run overlay, the fill colour is the step's *status* instead.
"""

from __future__ import annotations

import attrs

__all__ = [
    "EDGE_STYLES",
    "INPUT_KINDS",
    "KIND_STYLES",
    "LINE_SIZE",
    "STATUS_STYLES",
    "TITLE_SIZE",
    "EdgeStyle",
    "NodeStyle",
]


@attrs.frozen
class NodeStyle:
    """How a node of one kind is drawn."""

    #: What the shape means, in words (the legend's text).
    words: str
    #: Graphviz shape and extra ``style`` flags.
    shape: str
    style: str
    fill: str
    pen: str
    #: Mermaid's brackets around the label: ``open`` + label + ``close``.
    mermaid: tuple[str, str]
    #: Graphviz label margin (inches, "x,y") when the shape needs more room than the default.
    margin: str | None = None


@attrs.frozen
class EdgeStyle:
    words: str
    style: str
    color: str
    penwidth: float = 1.2
    #: Mermaid's arrow: ``-->`` solid, ``-.->`` dotted/dashed, ``==>`` thick.
    mermaid: str = "-->"


#: Step kind -> style; also "param" and "dataset" for input nodes.
KIND_STYLES: dict[str, NodeStyle] = {
    "processing": NodeStyle("processing job", "box", "rounded,filled", "#DBEAFE", "#1D4ED8", ("(", ")")),
    "training": NodeStyle("training job (its output is a model)", "box3d", "filled", "#FFEDD5", "#C2410C", ("[[", "]]")),
    "container": NodeStyle(
        "training job in an image of its own (pipe.container)", "tab", "filled", "#FFEDD5", "#C2410C", ("[[", "]]")
    ),
    "script": NodeStyle("an existing script (pipe.script)", "note", "filled", "#E0F2FE", "#0369A1", ("[", "]")),
    "model": NodeStyle("model (CreateModel)", "component", "filled", "#EDE9FE", "#6D28D9", ("[/", "\\]")),
    "register": NodeStyle("register a model version", "folder", "filled", "#DCFCE7", "#15803D", ("[\\", "/]")),
    "transform": NodeStyle("batch transform", "cds", "filled", "#CCFBF1", "#0F766E", (">", "]"), "0.22,0.12"),
    "fail": NodeStyle("fail: stop the run as Failed", "octagon", "filled", "#FEE2E2", "#B91C1C", ("{{", "}}")),
    "condition": NodeStyle("condition", "diamond", "filled", "#FEF9C3", "#A16207", ("{", "}")),
    "other": NodeStyle("other SageMaker step (labelled with its type)", "parallelogram", "filled", "#F9FAFB", "#4B5563", ("[/", "/]")),
    "param": NodeStyle("pipeline parameter", "ellipse", "filled", "#F3F4F6", "#6B7280", ("([", "])")),
    "dataset": NodeStyle("input dataset", "cylinder", "filled", "#F3F4F6", "#6B7280", ("[(", ")]")),
}

#: Node kinds that are inputs, not steps (drawn with ``params=True``).
INPUT_KINDS = ("param", "dataset")

#: Edge kind -> style. "param" edges join a param or dataset to its readers.
EDGE_STYLES: dict[str, EdgeStyle] = {
    "data": EdgeStyle("reads the output of", "solid", "#374151"),
    "after": EdgeStyle("runs after (after=, order only)", "dashed", "#6B7280", 1.2, "-.->"),
    "then": EdgeStyle("then: runs if the condition holds", "solid", "#15803D", 1.6),
    "otherwise": EdgeStyle("otherwise: runs if it does not", "solid", "#B91C1C", 1.6),
    "param": EdgeStyle("param or dataset read by", "dotted", "#9CA3AF", 1.0, "-.->"),
}

#: Run status -> (fill, pen, font colour); the overlay fills steps with these.
STATUS_STYLES: dict[str, tuple[str, str, str]] = {
    "succeeded": ("#BBF7D0", "#15803D", "#111827"),
    "failed": ("#FECACA", "#B91C1C", "#111827"),
    "cached": ("#BFDBFE", "#1D4ED8", "#111827"),
    "skipped": ("#E5E7EB", "#9CA3AF", "#6B7280"),
    "not run": ("#FFFFFF", "#D1D5DB", "#9CA3AF"),
}

#: Branch clusters: side -> (fill, pen, font colour); "not-taken" greys a branch in a run.
CLUSTER_STYLES: dict[str, tuple[str, str, str]] = {
    "then": ("#F0FDF4", "#86EFAC", "#15803D"),
    "otherwise": ("#FEF2F2", "#FCA5A5", "#B91C1C"),
    "not-taken": ("#F3F4F6", "#D1D5DB", "#9CA3AF"),
}

#: Kind samples in a run's legend: colour means status there, so kinds show only their shape.
NEUTRAL_FILL, NEUTRAL_PEN = "#FFFFFF", "#6B7280"

FONT = "Helvetica,Arial,sans-serif"
#: Font sizes (points): a step's name, and its secondary lines and edge labels.
TITLE_SIZE, LINE_SIZE = 12, 10
#: Colour of secondary label lines.
MUTED = "#4B5563"
