"""``dagml render TARGET [-o FILE] [--format F] [--params] [--no-legend] [--direction D] [--run RUN_ID]``: draw a pipeline."""

from __future__ import annotations

import argparse
import sys
import warnings

from dagml.cli.common import UsageError, check_output, load_graph
from dagml.drawing import FORMATS, RenderError, format_for, render
from dagml.errors import DagmlWarning


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "render",
        help="draw a pipeline (SVG, PNG, DOT, Mermaid)",
        description="Draw a pipeline. The format comes from FILE's extension (.svg, .png, .dot, .mmd "
        "for Mermaid, .md for a Mermaid block in Markdown) or --format; without -o the drawing is "
        "printed (DOT unless --format says otherwise). SVG and PNG need Graphviz's dot.",
    )
    p.add_argument("target", metavar="TARGET", help="path/to/file.py[:attr] or package.module[:attr]")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write the drawing (default: print it)")
    p.add_argument("--format", choices=sorted(FORMATS), help="output format (default: from FILE's extension)")
    p.add_argument("--params", action="store_true", help="draw params and datasets as their own nodes")
    p.add_argument("--no-legend", dest="legend", action="store_false", help="leave the legend out")
    p.add_argument(
        "--direction", choices=("TB", "LR"), help="top to bottom or left to right (default: TB unless the pipeline is wide)"
    )
    p.add_argument("--run", metavar="RUN_ID", help="colour each step by its status in this local run")
    p.add_argument("--home", metavar="DIR", help="run store for --run (default: $DAGML_HOME or .dagml)")
    p.set_defaults(func=run, one_shot=True)


def run(args: argparse.Namespace) -> int:
    try:
        fmt = format_for(args.output, args.format)
    except RenderError as exc:
        raise UsageError(str(exc)) from None
    if args.output is None and fmt == "png":
        raise UsageError("PNG is binary and is not printed. Fix: write it to a file with -o FILE.png.")
    check_output(args.output, "-o")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DagmlWarning)  # reported below, one line each
        graph = load_graph(args.target)
    for warning in graph.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.run:
        from dagml.local.overlay import render_run
        from dagml.local.result import RunResult
        from dagml.local.store import RunStore

        result = RunResult.load(RunStore(args.home), args.run, graph.order)
        if result.run.pipeline != graph.name:
            raise UsageError(f"run {args.run!r} is of pipeline {result.run.pipeline!r}, not {graph.name!r}.")
        drawing = render_run(graph, result, params=args.params, legend=args.legend, direction=args.direction)
    else:
        drawing = render(graph, params=args.params, legend=args.legend, direction=args.direction)
    if args.output is None:
        sys.stdout.write(drawing.to_bytes(fmt).decode("utf-8"))
        return 0
    path = drawing.save(args.output, fmt)
    print(f"wrote {path} ({fmt}, {len(graph)} steps)")
    return 0
