"""Specs for the steps of an imported SageMaker pipeline definition.

``dagml show`` and ``dagml diff`` load any pipeline definition JSON (written by
the SageMaker SDK, Studio's editor, ``describe-pipeline`` or dagml itself)
into the same validated :class:`~dagml.graph.model.PipelineGraph` a dagml
pipeline becomes, so validation and the renderer work unchanged. An imported
step has no Python function: it is its JSON (``raw``), the steps it reads
(``Get`` / ``Std:JsonGet`` references, each with the JSON path it was found
at), its ``DependsOn`` and the parameters it uses. A condition stays a real
:class:`~dagml.spec.specs.ConditionSpec` whose expression is rebuilt from the
JSON, so it reads in words like a dagml condition.

The importer itself is :mod:`dagml.sagemaker.importer`; this module only holds
the declarations, so the graph and the renderer need nothing from AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from dagml.errors import Problem
from dagml.spec.conditions import MetricRef
from dagml.spec.params import Dataset, Param
from dagml.spec.provenance import Provenance
from dagml.spec.specs import ConditionSpec, Kind, NodeSpec

__all__ = [
    "KIND_OF_TYPE",
    "OTHER",
    "STEP_TYPES",
    "ImportedCondition",
    "ImportedDeclarations",
    "ImportedRef",
    "ImportedSpec",
]

#: The kind of a step whose type dagml does not declare itself (Lambda, Tuning, ...).
OTHER: Kind = "other"

#: Definition step ``Type`` -> dagml kind; any other known type is :data:`OTHER`.
KIND_OF_TYPE: Mapping[str, Kind] = {
    "Processing": "processing",
    "Training": "training",
    "Model": "model",
    "RegisterModel": "register",
    "Transform": "transform",
    "Fail": "fail",
    "Condition": "condition",
}

#: Every step type SageMaker Pipelines runs: the SDK's ``StepTypeEnum`` (sagemaker 3.x), plus the
#: Bedrock types of sagemaker 2.257's ``StepTypeEnum`` (also in botocore's
#: ``PipelineExecutionStepMetadata``), which SDK v3 does not build but the service runs.
STEP_TYPES = (
    "AutoML",
    "BedrockCustomModel",
    "BedrockCustomModelDeployment",
    "BedrockModelImport",
    "BedrockProvisionedModelThroughput",
    "Callback",
    "ClarifyCheck",
    "Cleanup",
    "Condition",
    "EMR",
    "EMRServerless",
    "Endpoint",
    "EndpointConfig",
    "Fail",
    "ForEach",
    "InferenceComponent",
    "Job",
    "Lambda",
    "Lineage",
    "Model",
    "Processing",
    "QualityCheck",
    "RegisterModel",
    "Training",
    "Transform",
    "Tuning",
)

#: Where each kind keeps its instance type, for the drawing's second line.
_INSTANCE_PATHS: Mapping[str, tuple[str, ...]] = {
    "processing": ("ProcessingResources", "ClusterConfig", "InstanceType"),
    "training": ("ResourceConfig", "InstanceType"),
    "transform": ("TransformResources", "InstanceType"),
}


def _show(value: Any) -> str:
    """A definition value in a label: a parameter as ``{Name}``, other expressions as ``(expr)``."""
    if isinstance(value, Mapping):
        get = value.get("Get")
        if isinstance(get, str) and get.startswith("Parameters."):
            return "{" + get[len("Parameters.") :] + "}"
        return "(expr)"
    return str(value)


@attrs.frozen
class ImportedSpec:
    """One step of an imported definition (every type except Condition)."""

    name: str
    #: processing, training, model, register, transform, fail, or "other".
    kind: Kind
    #: The definition's ``Type`` (``Processing``, ``Lambda``, ...).
    step_type: str
    #: The step's JSON exactly as imported; compiling re-emits it unchanged.
    raw: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    after: tuple[str, ...] = ()
    #: (step read, JSON path of the reference), one per ``Get`` / ``Std:JsonGet`` of ``Steps.X``.
    reads: tuple[tuple[str, str], ...] = ()
    #: Names of the pipeline parameters the step reads.
    params: tuple[str, ...] = ()
    #: The step's JSON path, for error messages: ``$.Steps[3]``.
    origin: str = ""

    @property
    def details(self) -> tuple[str, ...]:
        """What a drawing shows under the name: the type, and the instance type when there is one."""
        lines = [self.step_type if self.kind == OTHER else self.kind]
        value: Any = self.raw.get("Arguments", {})
        for key in _INSTANCE_PATHS.get(self.kind, ()):
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is not None and self.kind in _INSTANCE_PATHS:
            lines.append(_show(value))
        return tuple(lines)


@attrs.frozen
class ImportedCondition(ConditionSpec):
    """A Condition step of an imported definition: a real condition plus its JSON.

    ``raw`` is the step with ``IfSteps`` / ``ElseSteps`` holding the member
    *names*; compiling puts the members' JSON back in their place.
    """

    raw: Mapping[str, Any] = attrs.field(default=attrs.Factory(dict), eq=False, repr=False)
    reads: tuple[tuple[str, str], ...] = ()


@attrs.frozen(eq=False)
class ImportedRef(MetricRef):
    """A value an imported condition reads at run time: ``Std:JsonGet``, a step property, ...

    ``step`` is the step it reads ("" for ``Execution.*`` and the like) and
    ``key`` the JSON path or property inside it. Its type is only known when
    the pipeline runs, so the type checks of conditions accept it on either side.
    """

    text: str = ""
    raw: Any = attrs.field(default=None, repr=False)
    value_type: ClassVar[str] = "any"

    def __str__(self) -> str:
        return self.text or f"{self.step}.{self.key}"


@attrs.frozen(eq=False)
class ImportedDeclarations:
    """An imported definition, as the graph layer reads it (:class:`dagml.graph.protocols.Declarations`).

    The importer (:mod:`dagml.sagemaker.importer`) reads the JSON into these and
    builds the graph at once: an imported definition is a
    :class:`~dagml.graph.model.PipelineGraph` like any other.
    """

    name: str
    description: str | None
    params: tuple[Param, ...]
    #: Every step in document order (a condition before the steps of its branches).
    nodes: tuple[NodeSpec, ...]
    #: The definition's top-level keys other than ``Steps``, exactly as imported.
    definition_top: Mapping[str, Any] = attrs.field(repr=False)
    #: Where it came from, for messages: ``definition 'x.json'``, ``deployed pipeline 'x'``.
    source: str = "definition"
    #: Problems found while reading (dangling property files), reported with the rest at build.
    reading_problems: tuple[Problem, ...] = ()
    datasets: tuple[Dataset, ...] = ()
    #: Held to the rules the SageMaker service enforces; schema-only rules are warnings (dagml/graph/checks.py).
    imported: ClassVar[bool] = True

    @property
    def provenance(self) -> Provenance:
        return Provenance(definition=self.source)
