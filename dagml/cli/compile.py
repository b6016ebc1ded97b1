"""``dagml compile TARGET [-o FILE] [settings]``: emit the SageMaker pipeline definition."""

from __future__ import annotations

import argparse
import os
import sys

from dagml.cli.common import add_settings_arguments, check_output, load_graph, settings_from_args


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "compile",
        help="compile a pipeline to SageMaker's pipeline definition JSON",
        description="Compile a pipeline to a SageMaker pipeline definition (deterministic JSON). "
        "Never calls AWS. Exit 0 on success, 1 when the pipeline is invalid, 2 on usage errors.",
    )
    p.add_argument("target", metavar="TARGET", help="path/to/file.py[:attr] or package.module[:attr]")
    p.add_argument("-o", "--output", metavar="FILE", help="write the JSON here (default: standard output)")
    add_settings_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dagml.sagemaker.compiler import compile_pipeline

    check_output(args.output, "-o")
    graph = load_graph(args.target)
    settings = settings_from_args(args, graph.name)
    compiled = compile_pipeline(graph, settings)
    for note in compiled.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.output and args.output != "-":
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(compiled.json)
        os.replace(tmp, args.output)
        steps = len(graph)
        print(f"compiled {compiled.name}: {steps} steps -> {args.output} (code bundle {compiled.code_prefix})", file=sys.stderr)
    else:
        sys.stdout.write(compiled.json)
    return 0
