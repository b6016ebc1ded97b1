"""``dagml compile TARGET [-o FILE] [settings]``: emit the SageMaker pipeline definition."""

from __future__ import annotations

import argparse
import os
import sys

from dagml.sagemaker.images import DEFAULT_FRAMEWORK_VERSION
from dagml.spec.target import load_target

#: setting name -> help (flags are --role-arn, --bucket, ...).
SETTING_FLAGS = {
    "role_arn": "IAM role ARN the pipeline runs as (or DAGML_ROLE_ARN, or [tool.dagml] role_arn)",
    "bucket": "S3 bucket for code, data and outputs (or DAGML_BUCKET)",
    "prefix": "key prefix in the bucket (default 'dagml'; or DAGML_PREFIX)",
    "region": "AWS region (or DAGML_REGION / AWS_REGION)",
    "image_uri": "container image for all jobs (default: SageMaker's scikit-learn image)",
    "framework_version": f"scikit-learn image version (default {DEFAULT_FRAMEWORK_VERSION})",
    "instance_type": "default instance type (default ml.m5.large)",
}


def check_output(path: str | None, flag: str) -> None:
    """Refuse, before any work, an output file whose directory is missing: dagml creates no directories."""
    from dagml.cli.main import UsageError

    if not path or path == "-":
        return
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        what = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise UsageError(
            f"{flag} {path!r}: the directory {directory!r} {what}, and dagml does not create directories. "
            f"Fix: create it first (mkdir -p {directory}) or write the file elsewhere."
        )


def add_settings_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("settings (flag > DAGML_* environment > [tool.dagml] in pyproject.toml)")
    for name, text in SETTING_FLAGS.items():
        group.add_argument("--" + name.replace("_", "-"), dest=name, metavar="VALUE", help=text)


def settings_from_args(args: argparse.Namespace, pipeline: str):  # type: ignore[no-untyped-def]
    from dagml.sagemaker.settings import load_settings

    return load_settings({n: getattr(args, n) for n in SETTING_FLAGS}, pipeline=pipeline)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    pipe = load_target(args.target)
    settings = settings_from_args(args, pipe.name)
    compiled = compile_pipeline(pipe, settings)
    for note in compiled.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.output and args.output != "-":
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(compiled.json)
        os.replace(tmp, args.output)
        steps = len(pipe.validate())
        print(f"compiled {compiled.name}: {steps} steps -> {args.output} (code bundle {compiled.code_prefix})", file=sys.stderr)
    else:
        sys.stdout.write(compiled.json)
    return 0
