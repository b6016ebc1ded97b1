"""What several subcommands share: usage errors, -p pairs, output checks, settings and AWS flags.

Subcommand modules import from here and from the library, never from each
other or from :mod:`dagml.cli.main` (which imports them), so the CLI has no
import cycle (docs/architecture.md).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from dagml._text import visible
from dagml.errors import ConfigurationError
from dagml.spec.target import load_target

if TYPE_CHECKING:
    from dagml.graph.model import PipelineGraph
    from dagml.sagemaker.aws import Aws
    from dagml.sagemaker.settings import Settings

__all__ = [
    "SETTING_FLAGS",
    "UsageError",
    "add_aws_arguments",
    "add_settings_arguments",
    "aws_from_args",
    "check_output",
    "format_summary",
    "load_graph",
    "parse_params",
    "settings_from_args",
]


def load_graph(target: str) -> PipelineGraph:
    """The validated graph of the pipeline TARGET names (every problem raised at once)."""
    from dagml._gc import paused_gc
    from dagml.api import graph_of

    with paused_gc():  # the user's module and its graph live to the end: see dagml/_gc.py
        return graph_of(load_target(target))


class UsageError(ConfigurationError):
    """Bad command-line usage that argparse cannot catch by itself."""


def parse_params(pairs: list[str] | None) -> dict[str, str]:
    """``-p NAME=VALUE`` options (run, deploy) as a dict; values stay strings for the param's type to parse."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"-p {pair!r}: expected NAME=VALUE, e.g. -p AccuracyThreshold=0.95.")
        out[name] = value
    return out


def check_output(path: str | None, flag: str) -> None:
    """Refuse, before any work, an output file whose directory is missing: dagml creates no directories."""
    if not path or path == "-":
        return
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        what = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise UsageError(
            f"{flag} {path!r}: the directory {directory!r} {what}, and dagml does not create directories. "
            f"Fix: create it first (mkdir -p {directory}) or write the file elsewhere."
        )


#: setting name -> help (flags are --role-arn, --bucket, ...); ``{default_framework}`` is filled in by
#: :func:`add_settings_arguments`, so a command without these flags does not import dagml.sagemaker.
SETTING_FLAGS = {
    "role_arn": "IAM role ARN the pipeline runs as (or DAGML_ROLE_ARN, or [tool.dagml] role_arn)",
    "bucket": "S3 bucket for code, data and outputs (or DAGML_BUCKET)",
    "prefix": "key prefix in the bucket (default 'dagml'; or DAGML_PREFIX)",
    "region": "AWS region (or DAGML_REGION / AWS_REGION)",
    "image_uri": "container image for all jobs (default: SageMaker's scikit-learn image)",
    "framework_version": "scikit-learn image version (default {default_framework})",
    "instance_type": "default instance type (default ml.m5.large)",
}


def add_settings_arguments(p: argparse.ArgumentParser) -> None:
    from dagml.sagemaker.images import DEFAULT_FRAMEWORK_VERSION

    group = p.add_argument_group("settings (flag > DAGML_* environment > [tool.dagml] in pyproject.toml)")
    for name, text in SETTING_FLAGS.items():
        text = text.format(default_framework=DEFAULT_FRAMEWORK_VERSION)
        group.add_argument("--" + name.replace("_", "-"), dest=name, metavar="VALUE", help=text)


def settings_from_args(args: argparse.Namespace, pipeline: str) -> Settings:
    from dagml.sagemaker.settings import load_settings

    return load_settings({n: getattr(args, n) for n in SETTING_FLAGS}, pipeline=pipeline)


def add_aws_arguments(p: argparse.ArgumentParser, region: bool = True) -> None:
    group = p.add_argument_group("AWS (credentials from boto3's standard chain)")
    if region:
        group.add_argument(
            "--region", metavar="REGION", help="AWS region (or DAGML_REGION, [tool.dagml] region, AWS_REGION)"
        )
    group.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="an S3- and SageMaker-compatible endpoint instead of AWS (moto, LocalStack)",
    )


def aws_from_args(args: argparse.Namespace, region: str | None = None) -> Aws:
    """An :class:`dagml.sagemaker.aws.Aws` for the command's region and endpoint."""
    from dagml.sagemaker.aws import Aws
    from dagml.sagemaker.settings import configured_region

    return Aws(
        region=region or configured_region(getattr(args, "region", None)), endpoint_url=args.endpoint_url
    )


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
        width = max(map(len, [*(p.name for p in graph.params), *(d.name for d in graph.datasets)]))
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
