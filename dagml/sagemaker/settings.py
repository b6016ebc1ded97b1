"""Where compiled pipelines run: role, bucket, prefix, region, image; what the code bundle ships.

Each setting comes from, in order of precedence, a CLI flag (``--role-arn``),
an environment variable (``DAGML_ROLE_ARN``) or ``[tool.dagml]`` in the
nearest ``pyproject.toml`` (``role_arn = "..."``). A missing required setting
is an error that names all three.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from dagml._cache import DiskCache
from dagml.errors import Problem, did_you_mean
from dagml.sagemaker.errors import SettingsError
from dagml.sagemaker.images import (
    DEFAULT_FRAMEWORK_VERSION,
    RUNTIME_PYTHON,
    SKLEARN_ACCOUNTS,
    check_framework_version,
    image_python,
    sklearn_image,
)

__all__ = ["Settings", "SettingsError", "configured_region", "load_settings"]

_ROLE = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]{1,512}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

#: Regions where SageMaker Experiments is generally available: the SDK writes a
#: PipelineExperimentConfig there by default and none elsewhere; dagml does the same.
EXPERIMENT_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
        "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "ap-northeast-1",
        "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-south-1", "ap-east-1", "sa-east-1", "af-south-1", "me-south-1", "il-central-1",
        "cn-north-1", "cn-northwest-1",
    }
)

#: name -> (required, help)
FIELDS: dict[str, tuple[bool, str]] = {
    "role_arn": (True, "IAM role ARN the pipeline and its jobs run as"),
    "bucket": (True, "S3 bucket for code, data and step outputs"),
    "prefix": (False, "key prefix inside the bucket (default 'dagml')"),
    "region": (True, "AWS region (AWS_REGION / AWS_DEFAULT_REGION also work)"),
    "image_uri": (False, "container image for every job (default: SageMaker's scikit-learn image)"),
    "framework_version": (False, f"scikit-learn image version (default {DEFAULT_FRAMEWORK_VERSION})"),
    "instance_type": (False, "default instance type of jobs (default ml.m5.large)"),
    "experiment_config": (False, "emit PipelineExperimentConfig (default: true where SageMaker Experiments is available)"),
    "bundle_include": (False, "globs (relative to the code root) of more files to bundle, e.g. ['conf/*.yaml']"),
    "bundle_exclude": (False, "globs (relative to the code root) of files to leave out, e.g. ['scripts/*']"),
}
#: Settings that are lists of strings (a TOML array; a comma-separated DAGML_* variable).
_LISTS = ("bundle_include", "bundle_exclude")


def _pattern_tuple(value: Any) -> Any:
    """A list of patterns as a tuple; a lone string stays one, for the check to refuse."""
    return value if isinstance(value, str) else tuple(value)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _env(name: str) -> str:
    return "DAGML_" + name.upper()


@attrs.frozen
class Settings:
    """Resolved settings for compiling one pipeline."""

    role_arn: str
    bucket: str
    region: str
    prefix: str = "dagml"
    image_uri: str | None = None
    framework_version: str = DEFAULT_FRAMEWORK_VERSION
    instance_type: str = "ml.m5.large"
    #: None: on in the regions where SageMaker Experiments is available, like the SDK.
    experiment_config: bool | None = None
    #: Glob patterns, relative to the code root, of files the code bundle adds or leaves out.
    bundle_include: tuple[str, ...] = attrs.field(default=(), converter=_pattern_tuple)
    bundle_exclude: tuple[str, ...] = attrs.field(default=(), converter=_pattern_tuple)

    def __attrs_post_init__(self) -> None:
        problems = _invalid(self)
        if problems:
            clauses = "; ".join(p.message.removesuffix(".") for p in problems)
            raise SettingsError(f"invalid settings: {clauses}.", problems)
        if self.image_uri is None:
            check_framework_version(self.framework_version)

    @property
    def experiments(self) -> bool:
        """Whether the definition carries a PipelineExperimentConfig."""
        return self.region in EXPERIMENT_REGIONS if self.experiment_config is None else self.experiment_config

    @property
    def image(self) -> str:
        """The image every job runs in."""
        return self.image_uri or sklearn_image(self.region, self.framework_version)

    @property
    def sklearn_image(self) -> bool:
        """Whether jobs run SageMaker's scikit-learn image (the one the container test bed proves)."""
        return self.image_uri is None

    @property
    def python(self) -> tuple[int, int]:
        """The Python the jobs run: the image's; for an ``image_uri``, the step runtime's floor is assumed."""
        return image_python(self.framework_version) if self.image_uri is None else RUNTIME_PYTHON

    @property
    def base_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def _invalid(settings: Settings) -> list[Problem]:
    """One ``invalid-setting`` problem per malformed setting, in the order the error's text lists them.

    Each ``message`` is a clause of that text (``"invalid settings: <clause>; <clause>."``) with a period.
    """
    problems: list[Problem] = []

    def bad(name: str, message: str, fix: str) -> None:
        problems.append(Problem("invalid-setting", (name,), message, fix))

    role, bucket, region, prefix = settings.role_arn, settings.bucket, settings.region, settings.prefix
    if not _ROLE.match(role):
        bad(
            "role_arn",
            f"role_arn {role!r} is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>).",
            "Set role_arn to the ARN of the role the pipeline runs as, e.g. 'arn:aws:iam::111122223333:role/SageMakerRole'.",
        )
    if not _BUCKET.match(bucket) or ".." in bucket:
        name = bucket.removeprefix("s3://").partition("/")[0]
        example = name if _BUCKET.match(name) and ".." not in name else "my-bucket"
        bad(
            "bucket",
            f"bucket {bucket!r} is not a valid S3 bucket name (just the name, no s3:// or key).",
            f"Set bucket to the bucket's name alone, e.g. {example!r}.",
        )
    if not _REGION.match(region):
        bad(
            "region",
            f"region {region!r} is not an AWS region name such as 'us-east-1'.",
            f"Set region to an AWS region name{did_you_mean(region, SKLEARN_ACCOUNTS) or ', e.g. ' + repr('us-east-1')}.",
        )
    if prefix != prefix.strip("/") or "//" in prefix or " " in prefix:
        spelled = "/".join(part for part in prefix.replace(" ", "-").split("/") if part)
        bad(
            "prefix",
            f"prefix {prefix!r} must not start or end with '/' or contain '//' or spaces.",
            f"Set prefix to {spelled!r}.",
        )
    itype = settings.instance_type
    if not itype.startswith("ml."):
        bad(
            "instance_type",
            f"instance_type {itype!r} is not a SageMaker instance type (ml.*).",
            f"Set instance_type to an ml.* type, e.g. {'ml.' + itype if itype else 'ml.m5.large'!r}.",
        )
    for name in _LISTS:
        value = getattr(settings, name)
        wrong = [value] if isinstance(value, str) else [p for p in value if not isinstance(p, str) or not p.strip()]
        if wrong:
            bad(
                name,
                f"{name} has {wrong!r}; it is a list of glob patterns such as ['conf/*.yaml'].",
                f"Set {name} to a list of non-empty glob patterns, e.g. {name} = [\"conf/*.yaml\"].",
            )
    return problems


def _find_pyproject(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _from_pyproject(start: Path) -> tuple[dict[str, Any], str | None]:
    path = _find_pyproject(start)
    if path is None:
        return {}, None
    table = _dagml_table(path)
    unknown = sorted(set(table) - set(FIELDS))
    if unknown:
        problems = [
            Problem(
                "unknown-setting",
                (name,),
                f"unknown [tool.dagml] setting {name!r} in {path}.",
                f"Remove it, or use a known setting{did_you_mean(name, FIELDS)}: {', '.join(FIELDS)}.",
            )
            for name in unknown
        ]
        raise SettingsError(
            f"{path}: unknown [tool.dagml] setting(s) {', '.join(map(repr, unknown))}; known: {', '.join(FIELDS)}.",
            problems,
        )
    return dict(table), str(path)


#: ``[tool.dagml]`` tables already parsed, by a hash of their file's bytes (dagml._cache): importing
#: tomllib and parsing a project's pyproject.toml was 2-3 ms of every compile.
_TABLES = DiskCache("settings", max_entries=64, max_bytes=1024 * 1024)


def _dagml_table(path: Path) -> Any:
    """The ``[tool.dagml]`` table of ``path`` (``{}`` when it has none): parsed, or remembered from a
    file with the same bytes parsed by the same Python."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read settings from {path}: {exc}") from None
    key = hashlib.sha256(b"%d.%d\0" % sys.version_info[:2] + data).hexdigest()
    known = _TABLES.get(key)
    if known is not None:
        try:
            return json.loads(bytes(known))
        except ValueError:  # not an entry this version wrote: parse again
            pass
    table = _read_toml(path, data).get("tool", {}).get("dagml", {})
    if isinstance(table, dict):
        try:
            text = json.dumps(table, sort_keys=True)
        except (TypeError, ValueError):  # a date or time value: TOML has them, JSON does not (never cached)
            return table
        if json.loads(text) == table:  # what a hit returns is what this parse returned
            _TABLES.put(key, text.encode("utf-8"))
    return table


def _read_toml(path: Path, data: bytes) -> dict[str, Any]:
    """The parsed file. ``tomllib`` is 3.11+, as dagml is; the step runtime's Python (3.10) reads no settings."""
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read settings from {path}: {exc}") from None
    else:
        raise SettingsError(f"cannot read settings from {path}: reading TOML needs Python 3.11 or newer.")


def _coerce(name: str, value: Any, *, from_env: bool = False) -> Any:
    if name in _LISTS:
        if from_env:  # DAGML_BUNDLE_INCLUDE="conf/*.yaml,data/*.csv"
            return tuple(p.strip() for p in value.split(",") if p.strip())
        if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) for p in value):
            raise SettingsError(
                f"setting {name}={value!r} must be a list of glob patterns. Fix: {name} = [\"conf/*.yaml\"]."
            )
        return tuple(value)
    if name == "experiment_config" and isinstance(value, str):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"experiment_config={value!r}: use true or false.")
    if name != "experiment_config" and not isinstance(value, str):
        raise SettingsError(f"setting {name}={value!r} must be a string.")
    return value


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    start: str | os.PathLike[str] | None = None,
    pipeline: str | None = None,
) -> Settings:
    """Resolve settings: flags, then ``DAGML_*`` variables, then ``[tool.dagml]``."""
    environ = os.environ if environ is None else environ
    table, source = _from_pyproject(Path(start or os.getcwd()).resolve())
    values: dict[str, Any] = {}
    for name in FIELDS:
        flag_value = (flags or {}).get(name)
        if flag_value is not None:
            values[name] = _coerce(name, flag_value)
        elif environ.get(_env(name)):
            values[name] = _coerce(name, environ[_env(name)], from_env=True)
        elif name in table:
            values[name] = _coerce(name, table[name])
    if "region" not in values:
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
        if region:
            values["region"] = region
    missing = [n for n, (required, _) in FIELDS.items() if required and n not in values]
    if missing:
        where = f" for pipeline {pipeline!r}" if pipeline else ""
        lines = [f"missing required setting{'s' if len(missing) > 1 else ''}{where}: {', '.join(missing)}. Set each in one of three ways:"]
        for n in missing:
            lines.append(f"  {_flag(n)} VALUE   or   {_env(n)}=VALUE   or   {n} = \"VALUE\" under [tool.dagml] in pyproject.toml")
        if source:
            lines.append(f"  (read {source}, which has no {', '.join(missing)})")
        problems = [
            Problem(
                "missing-setting",
                (n,),
                f"{n} ({FIELDS[n][1]}) is required{where} and is not set.",
                f"Pass {_flag(n)} VALUE, set {_env(n)}=VALUE, or write {n} = \"VALUE\" under [tool.dagml] in pyproject.toml.",
            )
            for n in missing
        ]
        raise SettingsError("\n".join(lines), problems)
    return Settings(**values)


def configured_region(
    flag: str | None = None, *, environ: Mapping[str, str] | None = None, start: str | os.PathLike[str] | None = None
) -> str | None:
    """The region setting alone, for commands that need no role or bucket (``dagml executions``).

    The same order as :func:`load_settings`: the flag, ``DAGML_REGION``, ``[tool.dagml]``, then
    ``AWS_REGION`` / ``AWS_DEFAULT_REGION``; None leaves it to boto3 (its profile's region).
    """
    environ = os.environ if environ is None else environ
    if flag:
        return flag
    if environ.get("DAGML_REGION"):
        return environ["DAGML_REGION"]
    table, _ = _from_pyproject(Path(start or os.getcwd()).resolve())
    if isinstance(table.get("region"), str):
        return str(table["region"])
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None
