"""``dagml show FILE.json|deployed:NAME [-o FILE] [--json]``: import a SageMaker definition, check and draw it."""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from dagml._text import visible
from dagml.cli.common import UsageError, add_aws_arguments, aws_from_args, check_output, format_summary
from dagml.errors import DagmlWarning


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "show",
        help="import a SageMaker pipeline definition (a file or deployed:NAME), check and draw it",
        description="Load any SageMaker pipeline definition JSON (from the SDK, Studio, describe-pipeline or "
        "dagml compile) into dagml's graph, validate it with the same rules and summarise it; -o draws it "
        "(.svg, .png, .dot, .mmd, .md). Exit 0 when valid, 1 when malformed or invalid, 2 on usage errors.",
    )
    p.add_argument(
        "source", metavar="FILE.json|deployed:NAME", help="a definition file, or a deployed pipeline's name"
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="draw the pipeline to FILE (the format from its extension)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    add_aws_arguments(p)
    p.set_defaults(func=run, one_shot=True)


def run(args: argparse.Namespace) -> int:
    from dagml.drawing import RenderError, format_for, render
    from dagml.sagemaker.sources import load_source
    from dagml.spec.imported import OTHER, ImportedSpec

    fmt = None
    if args.output:
        try:
            fmt = format_for(args.output, None)
        except RenderError as exc:
            raise UsageError(str(exc)) from None
        check_output(args.output, "-o")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DagmlWarning)  # reported below, with the summary
        graph = load_source(args.source, aws=lambda: aws_from_args(args))
    if args.json:
        print(
            json.dumps(
                {"ok": True, "source": graph.provenance.definition, "summary": graph.summary()}, indent=2, sort_keys=True
            )
        )
    else:
        print(format_summary(graph))
        other = sorted({f"{s.name} ({s.step_type})" for s in graph if isinstance(s, ImportedSpec) and s.kind == OTHER})
        if other:
            print(f"\nnot run locally by dagml (shown and compiled back unchanged): {visible(', '.join(other))}")
    if args.output:
        path = render(graph).save(args.output, fmt)
        print(visible(f"wrote {path} ({fmt}, {len(graph)} steps)"), file=sys.stderr if args.json else sys.stdout)
    return 0
