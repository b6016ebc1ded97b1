"""Deploy a compiled pipeline to SageMaker: upload what it needs, then create or update it.

:func:`deploy` runs, in order:

1. describe the deployed pipeline, if any, and show the diff against it;
2. check the bucket, then upload the code bundle (``dagml_entry.py`` and
   ``sourcedir.tar.gz`` under ``compiled.code_prefix``) and the local datasets
   to their content-hashed keys, skipping objects already there;
3. send the definition inline when it is under 100 KB, else upload it to S3
   and pass ``PipelineDefinitionS3Location``;
4. ``CreatePipeline`` when there is none, ``UpdatePipeline`` when something
   changed, nothing when the deployed definition, role and description are
   already the compiled ones ("no change").

With ``dry_run`` nothing is written: read-only calls (describe, head) are made
when credentials are available, so the plan shows the real diff and skips;
without credentials the whole plan is shown. :func:`start` starts an execution
with parameter overrides (checked against the definition first).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from dagml.contract import BUNDLE_NAME, ENTRY_SCRIPT
from dagml.errors import ConfigurationError, DagmlError, DagmlWarning, did_you_mean
from dagml.graph.model import PipelineGraph
from dagml.sagemaker.aws import Aws
from dagml.sagemaker.diff import PipelineDiff, diff_pipelines
from dagml.sagemaker.errors import AwsError, NotFoundError, ParameterError
from dagml.sagemaker.importer import import_definition
from dagml.sagemaker.lint import S3_THRESHOLD_CHARS
from dagml.sagemaker.settings import Settings
from dagml.spec.params import TEXT_FORMS, parse_param_text

__all__ = [
    "DeployResult",
    "ParameterError",
    "Upload",
    "deploy",
    "execution_parameters",
    "read_deployed",
    "start",
]

Log = Callable[[str], None]


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``("bucket", "key")``."""
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


@attrs.frozen
class Upload:
    """One object deploy puts in S3 (from memory or from a local file)."""

    uri: str
    what: str
    data: bytes | None = attrs.field(default=None, repr=False, eq=False)
    path: str | None = None

    def body(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        with open(self.path, "rb") as f:
            return f.read()

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else os.path.getsize(self.path or "")


def uploads(compiled: Any) -> list[Upload]:
    """The code bundle's files, the local datasets and the steps' wheels, at the URIs the definition names."""
    items = [
        Upload(compiled.code_prefix + ENTRY_SCRIPT, "code", data=compiled.bundle.file(ENTRY_SCRIPT)),
        Upload(compiled.code_prefix + BUNDLE_NAME, "code", data=compiled.bundle.data),
    ]
    for d in compiled.datasets:
        if os.path.isdir(d.local_path):
            for root, dirs, files in os.walk(d.local_path):
                dirs.sort()
                for f in sorted(files):
                    full = os.path.join(root, f)
                    rel = os.path.relpath(full, d.local_path).replace(os.sep, "/")
                    items.append(Upload(d.uri + rel, f"dataset {d.name}", path=full))
        else:
            items.append(Upload(d.uri, f"dataset {d.name}", path=d.local_path))
    items += [Upload(uri, "wheels", path=path) for uri, path in compiled.wheels]
    items += [Upload(uri, "script", data=data) for uri, data in compiled.scripts]
    return items


def definition_upload(compiled: Any, settings: Settings) -> Upload:
    digest = hashlib.sha256(compiled.json.encode("utf-8")).hexdigest()
    uri = f"{settings.base_uri}/definitions/{compiled.name}/{digest}.json"
    return Upload(uri, "definition", data=compiled.json.encode("utf-8"))


@attrs.frozen
class DeployResult:
    """What deploy did (or, with ``dry_run``, would do)."""

    pipeline: str
    #: "create", "update" or "none".
    action: str
    #: "inline", or the S3 URI the definition was sent through.
    definition: str
    uploaded: tuple[str, ...]
    skipped: tuple[str, ...]
    diff: PipelineDiff | None
    dry_run: bool
    arn: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "action": self.action,
            "definition": self.definition,
            "uploaded": list(self.uploaded),
            "skipped": list(self.skipped),
            "diff": self.diff.to_dict() if self.diff else None,
            "dry_run": self.dry_run,
            "arn": self.arn,
        }


def read_deployed(aws: Aws, name: str) -> dict[str, Any] | None:
    """``DescribePipeline`` of ``name``, or None when there is no such pipeline."""
    try:
        return aws.call("sagemaker", "describe_pipeline", f"pipeline {name!r}", PipelineName=name)
    except NotFoundError:
        return None


def _exists(aws: Aws, uri: str, context: str) -> bool:
    bucket, key = split_uri(uri)
    try:
        aws.call("s3", "head_object", context, Bucket=bucket, Key=key)
        return True
    except NotFoundError:
        return False


def _kb(n: int) -> str:
    return f"{n / 1024:,.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB"


def deploy(
    compiled: Any,
    settings: Settings,
    aws: Aws,
    *,
    description: str | None = None,
    max_parallel_steps: int | None = None,
    dry_run: bool = False,
    log: Log = print,
) -> DeployResult:
    """Make the deployed pipeline ``compiled.name`` run ``compiled`` (see the module docstring).

    ``max_parallel_steps`` (``Pipeline(max_parallel_steps=N)``, the graph's) is sent as
    ``ParallelismConfiguration`` (see :func:`parallelism`).
    """
    name = compiled.name
    context = f"pipeline {name!r}"
    would = "would " if dry_run else ""
    online = not dry_run or aws.has_credentials()
    if not online:
        log(f"dry run without AWS credentials: showing the whole plan for {name} (no AWS call)")
    deployed = None
    try:
        deployed = read_deployed(aws, name) if online else None
        if online:
            aws.call("s3", "head_bucket", context, Bucket=settings.bucket)
    except (AwsError, ConfigurationError) as exc:
        if not dry_run:
            raise
        log(f"note: {exc} -- showing the whole plan")
        online, deployed = False, None

    diff = None
    if deployed is not None:
        try:
            with warnings.catch_warnings():  # each side's own warnings are not the diff's
                warnings.simplefilter("ignore", DagmlWarning)
                before, after = _both_sides(deployed, compiled.definition, name, description)
            diff = diff_pipelines(before, after)
        except DagmlError as exc:
            log(f"note: cannot compare with the deployed definition ({exc}); it will be replaced")
        if diff is not None:
            log(
                diff.format()
                if not diff.same
                else f"pipeline {name}: the deployed definition is the compiled one"
            )

    inline = len(compiled.json) < S3_THRESHOLD_CHARS
    items = uploads(compiled)
    via_s3 = None if inline else definition_upload(compiled, settings)
    if via_s3 is not None:
        items.append(via_s3)
    uploaded, skipped = [], []
    for item in items:
        if online and _exists(aws, item.uri, context):
            skipped.append(item.uri)
            log(f"skip    {item.uri} ({item.what}, already there)")
            continue
        if not dry_run:
            bucket, key = split_uri(item.uri)
            extra = {"ContentType": "application/json"} if item.what == "definition" else {}
            aws.call(
                "s3",
                "put_object",
                f"{context}, uploading {item.what}",
                Bucket=bucket,
                Key=key,
                Body=item.body(),
                **extra,
            )
        uploaded.append(item.uri)
        log(f"{would}upload {item.uri} ({item.what}, {_kb(item.size)})")

    limit = parallelism(deployed, max_parallel_steps, log) if deployed is not None else None
    if limit is not None:
        log(f"pipeline {name}: ParallelismConfiguration changes, {limit}")
    same = (
        deployed is not None
        and diff is not None
        and diff.same
        and deployed.get("RoleArn") == settings.role_arn
        and (deployed.get("PipelineDescription") or None) == (description or None)
        and limit is None
    )
    action = "none" if same else ("create" if deployed is None else "update")
    where = "inline" if via_s3 is None else via_s3.uri
    if action == "none":
        log(f"pipeline {name}: no change")
        return DeployResult(
            name,
            action,
            where,
            tuple(uploaded),
            tuple(skipped),
            diff,
            dry_run,
            deployed.get("PipelineArn") if deployed else None,
        )
    request: dict[str, Any] = {"PipelineName": name, "RoleArn": settings.role_arn}
    if via_s3 is None:
        request["PipelineDefinition"] = compiled.json
    else:
        bucket, key = split_uri(via_s3.uri)
        request["PipelineDefinitionS3Location"] = {"Bucket": bucket, "ObjectKey": key}
    if description:
        request["PipelineDescription"] = description
    if max_parallel_steps is not None:
        request["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": max_parallel_steps}
    sent = "inline" if via_s3 is None else f"through {via_s3.uri}"
    arn = None
    if not dry_run:
        response = aws.call("sagemaker", f"{action}_pipeline", context, **request)
        arn = response.get("PipelineArn")
    log(
        f"{would}{action} pipeline {name} ({aws.where}; definition {_kb(len(compiled.json.encode()))} {sent})"
    )
    return DeployResult(name, action, where, tuple(uploaded), tuple(skipped), diff, dry_run, arn)


def parallelism(deployed: Mapping[str, Any], wanted: int | None, log: Log) -> str | None:
    """How the deployed pipeline's ParallelismConfiguration differs from ``wanted``, or None.

    ``ParallelismConfiguration`` ({"MaxParallelExecutionSteps": N}, N >= 1) is a parameter of
    CreatePipeline, UpdatePipeline and StartPipelineExecution, not a part of the definition (API
    reference, ParallelismConfiguration; SDK v3 passes ``parallelism_config`` to ``Pipeline.create``/
    ``update``/``start`` the same way). Deploy sends it with the pipeline, so every execution gets it.
    With no ``max_parallel_steps`` deploy sends none, and nothing says UpdatePipeline clears one set
    earlier: that is noted, not counted as a change.
    """
    found = (deployed.get("ParallelismConfiguration") or {}).get("MaxParallelExecutionSteps")
    if wanted is None:
        if found is not None:
            log(
                f"note: the deployed pipeline keeps MaxParallelExecutionSteps={found}; dagml sends no "
                "ParallelismConfiguration without max_parallel_steps (set it to change the limit)"
            )
        return None
    return None if found == wanted else f"MaxParallelExecutionSteps {found} -> {wanted}"


def execution_parameters(
    definition: Mapping[str, Any], overrides: Mapping[str, str], pipeline: str
) -> list[dict[str, str]]:
    """``PipelineParameters`` for ``StartPipelineExecution``, each checked against the definition."""
    declared = {p["Name"]: p for p in definition.get("Parameters", []) if isinstance(p, dict) and "Name" in p}
    result = []
    for name, raw in overrides.items():
        param = declared.get(name)
        if param is None:
            raise ParameterError(
                f"pipeline {pipeline!r} has no parameter {name!r}{did_you_mean(name, declared)}. "
                f"Fix: use one of {', '.join(declared) or '(none)'}."
            )
        ptype, text = param.get("Type", "String"), raw.strip() if param.get("Type") != "String" else raw
        try:
            value = parse_param_text(ptype, raw) if ptype in TEXT_FORMS else raw
        except ValueError:
            raise ParameterError(
                f"pipeline {pipeline!r}, parameter {name!r} ({ptype}): {raw!r} is not a valid {ptype}; "
                f"accepted: {TEXT_FORMS.get(ptype, ptype)}. Fix: -p {name}=<{ptype.lower()}>."
            ) from None
        if ptype == "Integer":
            text = str(value)
        elif ptype == "Boolean":
            text = text.lower()
        enum = param.get("EnumValues")
        if enum and text not in enum:
            raise ParameterError(
                f"pipeline {pipeline!r}, parameter {name!r}: {raw!r} is not one of {enum!r}."
            )
        result.append({"Name": name, "Value": text})
    return result


def start(
    aws: Aws, name: str, parameters: list[dict[str, str]], *, dry_run: bool = False, log: Log = print
) -> str | None:
    """Start an execution of the deployed pipeline ``name``; return its ARN."""
    shown = ", ".join(f"{p['Name']}={p['Value']}" for p in parameters) or "the defaults"
    if dry_run:
        log(f"would start an execution of {name} with {shown}")
        return None
    response = aws.call(
        "sagemaker",
        "start_pipeline_execution",
        f"pipeline {name!r}",
        PipelineName=name,
        PipelineParameters=parameters,
    )
    arn: str = response["PipelineExecutionArn"]
    log(f"started execution {arn} with {shown}")
    return arn


def _both_sides(
    deployed: Mapping[str, Any], definition: dict[str, Any], name: str, description: str | None
) -> tuple[PipelineGraph, PipelineGraph]:
    """The deployed definition and the one about to replace it, imported to compare."""
    before = import_definition(
        deployed.get("PipelineDefinition", ""),
        name=name,
        description=deployed.get("PipelineDescription"),
        source=f"deployed:{name}",
    )
    after = import_definition(definition, name=name, description=description, source=f"compiled {name}")
    return before, after
