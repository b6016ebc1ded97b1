"""``dagml deploy``, ``dagml executions`` and ``dagml status``: ship to SageMaker and watch it run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dagml._text import visible
from dagml.cli.common import (
    UsageError,
    add_aws_arguments,
    add_settings_arguments,
    aws_from_args,
    load_graph,
    parse_params,
    settings_from_args,
)
from dagml.spec.errors import TargetError

TARGET_HELP = "path/to/file.py[:attr] or package.module[:attr]"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "deploy",
        help="upload the code, create or update the pipeline on SageMaker, optionally start and watch it",
        description="Compile, show the diff against the deployed pipeline, upload the code bundle and datasets "
        "(skipping what is already in S3), then create or update the pipeline (or report 'no change'). "
        "--start starts an execution, --wait follows it to the end: exit 0 when it succeeds, 1 when it fails "
        "or stops, 2 on usage errors.",
    )
    p.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    p.add_argument("--start", action="store_true", help="start an execution once deployed")
    p.add_argument(
        "-p",
        "--param",
        dest="params",
        action="append",
        metavar="NAME=VALUE",
        help="override a parameter (with --start)",
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help="with --start: poll until the execution ends; its status is the exit code",
    )
    p.add_argument(
        "--poll",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds between polls with --wait (default 30)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print what would be uploaded and called; change nothing"
    )
    add_settings_arguments(p)
    add_aws_arguments(p, region=False)  # --region is a setting
    p.set_defaults(func=run_deploy)

    ex = sub.add_parser("executions", help="list the executions of a deployed pipeline, newest first")
    ex.add_argument("name", metavar="NAME", help="the deployed pipeline's name")
    ex.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20)")
    ex.add_argument("--json", action="store_true", help="machine-readable output")
    add_aws_arguments(ex)
    ex.set_defaults(func=run_executions)

    st = sub.add_parser(
        "status",
        help="one execution of a deployed pipeline: status, parameters, steps",
        description="Show the latest execution of NAME (or --execution ARN). Exit 0 when it succeeded or is "
        "still running, 1 when it failed or stopped.",
    )
    st.add_argument("name", metavar="NAME", help="the deployed pipeline's name")
    st.add_argument("--execution", metavar="ARN", help="this execution instead of the latest")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    add_aws_arguments(st)
    st.set_defaults(func=run_status)


def run_deploy(args: argparse.Namespace) -> int:
    from dagml.sagemaker.compiler import compile_pipeline
    from dagml.sagemaker.deploy import deploy, execution_parameters, start
    from dagml.sagemaker.executions import wait

    overrides = parse_params(args.params)
    if (overrides or args.wait) and not args.start:
        raise UsageError("-p and --wait are about an execution: add --start to start one.")
    if args.poll < 0:
        raise UsageError(f"--poll {args.poll:g}: use a number of seconds >= 0.")
    graph = load_graph(args.target)
    settings = settings_from_args(args, graph.name)
    compiled = compile_pipeline(graph, settings)
    for note in compiled.notes:
        print(f"note: {note}", file=sys.stderr)
    parameters = execution_parameters(
        compiled.definition, overrides, graph.name
    )  # refuse bad -p before deploying
    aws = aws_from_args(args, settings.region)
    print(f"{'dry run: ' if args.dry_run else ''}deploying {graph.name} to {aws.where}")
    deploy(
        compiled,
        settings,
        aws,
        description=graph.description,
        max_parallel_steps=graph.max_parallel_steps,
        dry_run=args.dry_run,
    )
    if not args.start:
        return 0
    arn = start(aws, graph.name, parameters, dry_run=args.dry_run)
    if not args.wait or arn is None:
        return 0
    return 0 if wait(aws, arn, poll=args.poll) == "Succeeded" else 1


def _not_deployed(name: str, aws: Any) -> TargetError:
    return TargetError(
        f"there is no deployed pipeline {name!r} in {aws.where}. "
        "Fix: check the name and the region (--region), or deploy it with dagml deploy."
    )


def run_executions(args: argparse.Namespace) -> int:
    from dagml.sagemaker.aws import NotFoundError
    from dagml.sagemaker.executions import list_executions

    if args.limit < 1:
        raise UsageError(f"--limit {args.limit}: use a positive number.")
    aws = aws_from_args(args)
    try:
        found = list_executions(aws, args.name, args.limit)
    except NotFoundError:
        raise _not_deployed(args.name, aws) from None
    if args.json:
        print(json.dumps([e.to_dict() for e in found], indent=2, sort_keys=True))
        return 0
    if not found:
        print(f"pipeline {args.name} has no executions yet (dagml deploy TARGET --start starts one)")
        return 0
    for e in found:
        print(visible(f"{e.id}  {e.status:<10}  {e.started}  {e.display_name}  {e.failure}".rstrip()))
    return 0


def run_status(args: argparse.Namespace) -> int:
    from dagml.sagemaker.aws import NotFoundError
    from dagml.sagemaker.executions import describe, latest

    aws = aws_from_args(args)
    arn = args.execution
    if arn is None:
        try:
            last = latest(aws, args.name)
        except NotFoundError:
            raise _not_deployed(args.name, aws) from None
        if last is None:
            raise UsageError(
                f"pipeline {args.name!r} has no executions yet. Fix: start one with dagml deploy TARGET --start."
            )
        arn = last.arn
    info = describe(aws, arn)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        # What the service reports (step names, failure reasons, parameter values) is untrusted text.
        print(
            visible(
                f"execution {info['id']} of {args.name}: {info['status']}"
                + (f" ({info['failure']})" if info["failure"] else "")
            )
        )
        print(visible(f"  arn: {info['arn']}"))
        print(visible(f"  started: {info['started']}  last change: {info['modified']}"))
        params = ", ".join(f"{k}={v}" for k, v in info["parameters"].items())
        print(visible(f"  parameters: {params or 'the defaults'}"))
        if info["steps"] is None:
            print(visible(f"  steps: {info['steps_note']}"))
        else:
            for step in info["steps"]:
                reason = f": {step['failure']}" if step["failure"] else ""
                print(visible(f"  {step['name']}: {step['status']}{reason}"))
    return 1 if info["status"] in ("Failed", "Stopped") else 0
