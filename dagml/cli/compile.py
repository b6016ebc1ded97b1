"""``dagml compile TARGET [-o FILE] [settings]``: emit the SageMaker pipeline definition."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING

from dagml.cli.common import add_settings_arguments, check_output, load_graph, settings_from_args

if TYPE_CHECKING:
    from dagml.errors import Problem


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
    p.set_defaults(func=run, one_shot=True)


def run(args: argparse.Namespace) -> int:
    from dagml.sagemaker.compiler import compile_pipeline

    check_output(args.output, "-o")
    graph = load_graph(args.target)
    settings = settings_from_args(args, graph.name)
    if args.output and args.output != "-":
        # Straight into the file, a step at a time (a large pipeline's text is never held whole); the
        # file appears only once lint passed, whole: an invalid pipeline leaves no file behind.
        tmp = args.output + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                compiled = compile_pipeline(graph, settings, write=f.write)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise
        os.replace(tmp, args.output)
        _print_notes(compiled.notes)
        steps = len(graph)
        print(f"compiled {compiled.name}: {steps} steps -> {args.output} (code bundle {compiled.code_prefix})", file=sys.stderr)
    else:
        compiled = compile_pipeline(graph, settings)
        _print_notes(compiled.notes)
        sys.stdout.write(compiled.json)
    return 0


def _print_notes(notes: tuple[Problem, ...]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
