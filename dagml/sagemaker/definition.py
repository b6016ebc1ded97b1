"""The definition as text, checked: what compile hands to deploy, for a declared or an imported pipeline.

:func:`finish` writes the canonical text and runs the pre-flight lint
(:mod:`dagml.sagemaker.lint`); the compiler (a declared pipeline) and the
importer (a definition re-emitted) both end here.
"""

from __future__ import annotations

from typing import Any

import attrs

from dagml.errors import Problem
from dagml.graph.errors import PipelineValidationError
from dagml.sagemaker import jsontext
from dagml.sagemaker.lint import lint

__all__ = ["VERSION", "CompiledPipeline", "DatasetUpload", "finish", "to_json"]

VERSION = "2020-12-01"


@attrs.frozen
class DatasetUpload:
    """A local dataset deploy must upload to ``uri`` before executions read it."""

    name: str
    local_path: str
    uri: str


@attrs.frozen(eq=False)
class CompiledPipeline:
    """The definition plus what deploy needs to make it runnable."""

    name: str
    definition: dict[str, Any]
    json: str
    #: Lint notes that do not stop deployment (e.g. "send through S3").
    notes: tuple[Problem, ...]
    bundle: Any  # dagml.runtime.bundle.Bundle
    code_prefix: str
    datasets: tuple[DatasetUpload, ...]
    #: (S3 URI, local file) of every wheel and wheel list the steps' requirements ship.
    wheels: tuple[tuple[str, str], ...] = ()
    #: (S3 URI, bytes) of every script step's file (or script-mode archive).
    scripts: tuple[tuple[str, bytes], ...] = ()


def to_json(definition: dict[str, Any]) -> str:
    """Canonical text: sorted keys, two-space indent, a trailing newline.

    The same text as ``json.dumps(definition, sort_keys=True, indent=2, ensure_ascii=False)``,
    written by :mod:`dagml.sagemaker.jsontext` (twice as fast on large definitions).
    """
    return jsontext.dumps(definition, end="\n")


def finish(
    name: str,
    definition: dict[str, Any],
    *,
    bundle: Any = None,
    code_prefix: str = "",
    datasets: tuple[DatasetUpload, ...] = (),
    notes: tuple[Problem, ...] = (),
    wheels: tuple[tuple[str, str], ...] = (),
    scripts: tuple[tuple[str, bytes], ...] = (),
) -> CompiledPipeline:
    """Canonical text and pre-flight lint: raise what SageMaker would reject, keep the notes."""
    text = to_json(definition)
    problems = lint(name, definition, text)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PipelineValidationError(name, errors)
    return CompiledPipeline(
        name=name,
        definition=definition,
        json=text,
        notes=(*notes, *(p for p in problems if p.severity != "error")),
        bundle=bundle,
        code_prefix=code_prefix,
        datasets=datasets,
        wheels=wheels,
        scripts=scripts,
    )
