"""``dagml run`` and ``dagml runs list|show``: run pipelines locally and look at runs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dagml._text import visible
from dagml.cli.common import UsageError, check_output, load_graph, parse_params
from dagml.graph.model import PipelineGraph


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run a pipeline locally, branch for branch",
        description="Run a pipeline on this machine through the same step runtime as SageMaker's containers. "
        "Exit 0 when the run succeeds, 1 when it fails, 2 on usage errors.",
    )
    p.add_argument("target", metavar="TARGET", nargs="?", help="path/to/file.py[:attr] or package.module[:attr]")
    p.add_argument("-p", "--param", dest="params", action="append", metavar="NAME=VALUE", help="override a param")
    p.add_argument("--workers", type=int, metavar="N", help="parallel steps (default: the CPU count)")
    p.add_argument("--no-cache", action="store_true", help="re-run every step instead of reusing unchanged results")
    p.add_argument(
        "--image-env",
        action="store_true",
        help="run each function step whose image dagml knows in a local stand-in for it: the image's Python and "
        "pinned packages (built once, cached; no Docker)",
    )
    p.add_argument("--resume", metavar="RUN_ID", help="finish an earlier run: re-run only what did not succeed")
    p.add_argument("--home", metavar="DIR", help="run store and registry (default: $DAGML_HOME or .dagml)")
    p.add_argument("--json", action="store_true", help="print the run result as JSON")
    p.add_argument("--graph", metavar="FILE", help="when done, draw the run over the graph (.svg, .png, .dot, ...)")
    p.set_defaults(func=run)

    runs = sub.add_parser("runs", help="list and show local runs", description="Look at local runs.")
    runs_sub = runs.add_subparsers(dest="runs_command", metavar="COMMAND")
    runs_sub.required = True
    ls = runs_sub.add_parser("list", help="recent runs, newest first")
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--home", metavar="DIR")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=runs_list)
    show = runs_sub.add_parser("show", help="one run: steps, statuses, timings, conditions")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--home", metavar="DIR")
    show.add_argument("--json", action="store_true")
    show.add_argument("--graph", metavar="FILE", help="also draw the run over the pipeline graph (.svg, .png, .dot, ...)")
    show.set_defaults(func=runs_show)


def run(args: argparse.Namespace) -> int:
    from dagml.local.progress import Progress
    from dagml.local.runner import run_pipeline
    from dagml.local.store import RunStore

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: use a positive number.")
    target = args.target
    if args.resume and not target:
        target = RunStore(args.home).run(args.resume).target
    if not target:
        raise UsageError("dagml run needs a TARGET (or --resume RUN_ID).")
    check_output(args.graph, "--graph")
    graph = load_graph(target)
    plan = None
    if args.image_env:
        from dagml.api import image_env_plan

        plan = image_env_plan(graph)
    result = run_pipeline(
        graph,
        params=parse_params(args.params),
        workers=args.workers,
        cache=not args.no_cache,
        resume=args.resume,
        home=args.home,
        progress=Progress(sys.stderr, live=False if args.json else None),
        image_envs=plan,
    )
    report(args, result, graph)
    return 0 if result.ok else 1


def report(args: argparse.Namespace, result: Any, graph: PipelineGraph | None) -> None:
    """Draw the run over ``graph`` when ``--graph`` asks; print it as JSON or as the summary table."""
    from dagml.local.imageenv import environment_lines
    from dagml.local.progress import summary_table

    if args.graph and graph is not None:
        from dagml.local.overlay import render_run

        render_run(graph, result, args.graph)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        print(summary_table(result))
        where = environment_lines(result)
        if where:
            print("\n" + "\n".join(where))
        if args.graph:
            print(f"graph: {args.graph}")


def runs_list(args: argparse.Namespace) -> int:
    from dagml.local.store import RunStore, iso

    records = RunStore(args.home).runs(args.limit)
    if args.json:
        print(json.dumps([{"run_id": r.run_id, "pipeline": r.pipeline, "status": r.status, "started": iso(r.started),
                           "finished": iso(r.finished), "error": r.error} for r in records], indent=2, sort_keys=True))
        return 0
    if not records:
        print("no runs yet")
        return 0
    width = max(len(r.pipeline) for r in records)
    for r in records:
        took = f"{r.finished - r.started:.1f}s" if r.finished else "-"
        print(visible(f"{r.run_id}  {r.pipeline:<{width}}  {r.status:<9}  {iso(r.started)}  {took:>8}  {r.error or ''}".rstrip()))
    return 0


def runs_show(args: argparse.Namespace) -> int:
    from dagml.local.result import RunResult
    from dagml.local.store import RunStore

    check_output(args.graph, "--graph")
    result = RunResult.load(RunStore(args.home), args.run_id)
    report(args, result, load_graph(result.run.target) if args.graph else None)
    return 0
