"""Names SageMaker accepts, and a valid spelling to suggest for those it rejects.

dagml never renames anything silently: it reports the name and suggests one.
Sources: the SageMaker API reference and pipeline definition schema
(``Step.Name``, ``PipelineName``'s pattern, ``ModelPackageGroupName``). dagml
holds pipeline names to 82 characters, stricter than CreatePipeline's 256, as
a margin for the names SageMaker derives from them.
"""

from __future__ import annotations

import re

__all__ = [
    "GROUP_NAME",
    "PARAM_NAME",
    "PIPELINE_NAME",
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

_RULES = {
    "step": (STEP_NAME, 64, "letters, digits, '-' and '_', 1 to 64 characters"),
    "param": (PARAM_NAME, 64, "letters, digits, '-' and '_', 1 to 64 characters"),
    "pipeline": (PIPELINE_NAME, 82, "letters, digits and '-', starting and ending with a letter or digit, at most 82 characters"),
    "group": (GROUP_NAME, 63, "letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"),
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
