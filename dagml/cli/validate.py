"""``dagml validate TARGET [--json]``: check a pipeline and summarise it."""

from __future__ import annotations

import argparse
import json
import warnings

from dagml.cli.common import format_summary, load_graph
from dagml.errors import DagmlWarning


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "validate",
        help="check a pipeline and print a summary",
        description="Check a pipeline; print steps by generation, params and conditions. "
        "Exit 0 when valid, 1 when invalid (every problem, one per line), 2 on usage errors.",
    )
    p.add_argument("target", metavar="TARGET", help="path/to/file.py[:attr] or package.module[:attr]")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run, one_shot=True)


def run(args: argparse.Namespace) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DagmlWarning)  # reported below, with the summary
        graph = load_graph(args.target)
    if args.json:
        print(json.dumps({"ok": True, "summary": graph.summary()}, indent=2, sort_keys=True))
    else:
        print(format_summary(graph))
    return 0


