"""What the graph layer reads, and what its checks are written against.

:func:`dagml.graph.build.build_graph` reads :class:`Declarations`: a declared
pipeline (:class:`dagml.spec.pipeline.PipelineDeclaration`) or an imported
definition (:class:`dagml.spec.imported.ImportedDeclarations`). The checks in
:mod:`dagml.graph.checks` read the :class:`Builder` protocol, so they depend on
nothing in :mod:`dagml.graph.build` (which imports them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from dagml.errors import Problem, Severity
from dagml.graph.wiring import Binding
from dagml.spec.params import Dataset, Param
from dagml.spec.provenance import Provenance
from dagml.spec.specs import NodeSpec

__all__ = ["Builder", "Declarations"]


class Declarations(Protocol):
    """Everything declared on one pipeline, in declaration order."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def params(self) -> tuple[Param, ...]: ...
    @property
    def datasets(self) -> tuple[Dataset, ...]: ...
    @property
    def nodes(self) -> tuple[NodeSpec, ...]: ...
    @property
    def provenance(self) -> Provenance: ...
    @property
    def imported(self) -> bool:
        """An imported definition: held only to the rules the SageMaker service enforces; rules
        only the published schema states are warnings for it (dagml/graph/checks.py)."""
    @property
    def reading_problems(self) -> tuple[Problem, ...]:
        """Problems found before the graph (an imported definition's dangling property files)."""
    @property
    def definition_top(self) -> Mapping[str, object] | None:
        """An imported definition's top-level keys other than ``Steps``; None when declared in Python."""


class Builder(Protocol):
    """The graph being built, as the checks see it."""

    pipe: Declarations
    imported: bool
    #: Step name -> spec (the first declaration of a name), and its declaration index.
    specs: dict[str, NodeSpec]
    index: dict[str, int]
    #: Function step name -> how each parameter is bound (after wiring).
    bindings: dict[str, tuple[Binding, ...]]

    def problem(
        self, kind: str, steps: Iterable[str], message: str, fix: str = "", severity: Severity = "error"
    ) -> None: ...
