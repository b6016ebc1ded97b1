"""``dagml validate TARGET [--json]``: check a pipeline and summarise it."""

from __future__ import annotations

import argparse
import json
import warnings

from dagml._text import visible
from dagml.errors import DagmlWarning
from dagml.graph.model import PipelineGraph
from dagml.spec.target import load_target


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "validate",
        help="check a pipeline and print a summary",
        description="Check a pipeline; print steps by generation, params and conditions. "
        "Exit 0 when valid, 1 when invalid (every problem, one per line), 2 on usage errors.",
    )
    p.add_argument("target", metavar="TARGET", help="path/to/file.py[:attr] or package.module[:attr]")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pipe = load_target(args.target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DagmlWarning)  # reported below, with the summary
        graph = pipe.validate()
    if args.json:
        print(json.dumps({"ok": True, "summary": graph.summary()}, indent=2, sort_keys=True))
    else:
        print(format_summary(graph))
    return 0


def format_summary(graph: PipelineGraph) -> str:
    """One screen: what the pipeline is, its steps by generation, params, conditions."""
    n_cond = len(graph.conditions)
    head = f"pipeline {graph.name}: valid, {len(graph)} steps, {len(graph.params)} params, {n_cond} condition{'s' if n_cond != 1 else ''}"
    lines = [head]
    if graph.description:
        lines.append(f"  {graph.description}")
    lines += ["", "steps by generation:"]
    for i, generation in enumerate(graph.generations, 1):
        cells = []
        for name in generation:
            kind = graph[name].kind
            branch = graph.branch_of.get(name)
            cells.append(f"{name} ({kind}" + (f", {branch[1]} of {branch[0]})" if branch else ")"))
        lines.append(f"  {i:>3}  " + ", ".join(cells))
    if graph.params or graph.datasets:
        lines += ["", "params:"]
        width = max(len(p.name) for p in [*graph.params, *graph.datasets])
        for p in graph.params:
            enum = f"  one of {list(p.enum)!r}" if p.enum else ""
            lines.append(f"  {p.name:<{width}}  {p.type:<7}  = {p.default!r}{enum}")
        for d in graph.datasets:
            where = ", ".join(x for x in (f"local {d.local}" if d.local else "", f"s3 {d.s3}" if d.s3 else "") if x)
            lines.append(f"  {d.name:<{width}}  dataset  {where}")
    if graph.conditions:
        lines += ["", "conditions:"]
        for c in graph.conditions:
            lines.append(f"  {c.name}: {graph.describe_condition(c.name)}")
            lines.append(f"    then: {', '.join(c.then) or '-'}")
            lines.append(f"    otherwise: {', '.join(c.otherwise) or '-'}")
    if graph.warnings:
        lines += ["", f"warnings ({len(graph.warnings)}):"]
        lines += [f"  - {w}" for w in graph.warnings]
    # An imported definition's names, conditions and defaults are untrusted: each line is escaped
    # whole, so a name holding a newline or an ANSI escape cannot forge or repaint a line.
    return "\n".join(visible(line) for line in lines)
