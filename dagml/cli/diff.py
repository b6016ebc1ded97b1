"""``dagml diff A B [--json]``: what changes from one pipeline to another."""

from __future__ import annotations

import argparse
import json
import warnings
from typing import TYPE_CHECKING

from dagml.cli.common import add_aws_arguments, add_settings_arguments, aws_from_args, settings_from_args
from dagml.errors import DagmlWarning

if TYPE_CHECKING:
    from dagml.sagemaker.aws import Aws
    from dagml.sagemaker.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diff",
        help="compare two pipelines (TARGET, FILE.json or deployed:NAME)",
        description="Compare two pipelines, each a pipeline TARGET (compiled with the settings), a definition "
        "file or deployed:NAME: added, removed and changed params, steps, edges and conditions, and argument "
        "changes in SageMaker's step cache key. Exit 0 when the same, 1 when different, 2 on usage errors.",
    )
    p.add_argument("a", metavar="A", help="TARGET, FILE.json or deployed:NAME")
    p.add_argument("b", metavar="B", help="TARGET, FILE.json or deployed:NAME")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_settings_arguments(p)
    add_aws_arguments(p, region=False)  # --region is a setting
    p.set_defaults(func=run, one_shot=True)


def run(args: argparse.Namespace) -> int:
    from dagml.graph.model import PipelineGraph
    from dagml.sagemaker.diff import diff_pipelines
    from dagml.sagemaker.sources import is_definition, load_source

    def aws() -> Aws:
        return aws_from_args(args)

    def settings(name: str) -> Settings:
        return settings_from_args(args, name)

    def load(source: str) -> PipelineGraph:
        if not is_definition(source):
            return load_source(source, aws=aws, settings=settings)
        with warnings.catch_warnings():  # a definition's own warnings are not the diff's
            warnings.simplefilter("ignore", DagmlWarning)
            return load_source(source, aws=aws, settings=settings)

    a = load(args.a)
    b = load(args.b)
    result = diff_pipelines(a, b)
    print(json.dumps(result.to_dict(), indent=2, sort_keys=True) if args.json else result.format())
    return 0 if result.same else 1
