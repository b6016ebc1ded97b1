"""Names SageMaker accepts, and a valid spelling to suggest for those it rejects.

dagml never renames anything silently: it reports the name and suggests one.
Sources: the SageMaker API reference and pipeline definition schema
(``Step.Name``, ``PipelineName``'s pattern, ``ModelPackageGroupName``). dagml
holds pipeline names to 82 characters, stricter than CreatePipeline's 256, as
a margin for the names SageMaker derives from them.

Which rule binds whom: a dagml pipeline keeps all of these (its step names
become S3 keys and job arguments, so dagml keeps them to this safe alphabet).
An imported definition is held only to what the service enforces:
CreatePipeline's ``PipelineName`` pattern (``service-pipeline``, 256
characters: API_CreatePipeline; the service's own ValidationException quotes
it, zenml-io/zenml#1500). The step-name pattern is the published schema's
``StepName`` only (the API documents step names as up to 256 characters with
no pattern: API_SelectedStep), and the parameter-name pattern is what
StartPipelineExecution accepts for an override (API_Parameter: 1 to 256
characters of ``[A-Za-z0-9_-]``), so for imported definitions those two are
warnings (dagml/graph/checks.py).
"""

from __future__ import annotations

import re

__all__ = [
    "GROUP_NAME",
    "PARAM_NAME",
    "PIPELINE_NAME",
    "SERVICE_PIPELINE_NAME",
    "STEP_NAME",
    "check_name",
    "suggest",
]

#: Step names: letters, digits, hyphens and underscores, 1 to 64 characters.
STEP_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
#: Parameter names follow the same rule as step names.
PARAM_NAME = STEP_NAME
#: Pipeline names: alphanumerics separated by single or repeated hyphens, at most 82 characters.
PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
#: Model package group names: like pipeline names, at most 63 characters.
GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
#: What CreatePipeline itself accepts as a PipelineName (API_CreatePipeline), for imported definitions.
SERVICE_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")

_RULES = {
    "step": (STEP_NAME, 64, "letters, digits, '-' and '_', 1 to 64 characters"),
    "param": (PARAM_NAME, 64, "letters, digits, '-' and '_', 1 to 64 characters"),
    "pipeline": (PIPELINE_NAME, 82, "letters, digits and '-', starting and ending with a letter or digit, at most 82 characters"),
    "group": (GROUP_NAME, 63, "letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"),
    "service-pipeline": (
        SERVICE_PIPELINE_NAME,
        256,
        "letters, digits and '-', starting and ending with a letter or digit, at most 256 characters",
    ),
}


def rule_text(what: str) -> str:
    return _RULES[what][2]


def check_name(what: str, name: str) -> bool:
    """True when SageMaker accepts ``name`` as a ``what`` (step, param, pipeline, group)."""
    pattern = _RULES[what][0]
    return isinstance(name, str) and bool(pattern.match(name))


def suggest(what: str, name: str) -> str:
    """A valid spelling close to ``name``."""
    _, limit, _ = _RULES[what]
    text = str(name)
    if what in ("step", "param"):
        text = re.sub(r"[^A-Za-z0-9\-_]+", "_", text).strip("_") or what
    else:
        text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or what
    return text[:limit].rstrip("-")
