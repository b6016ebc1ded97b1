"""What every part of a local run reads: the graph, where the run lives, its values and code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from dagml.graph.model import PipelineGraph
from dagml.local.store import RunStore

__all__ = ["RunContext"]


@attrs.frozen(eq=False)
class RunContext:
    """One local run's fixed facts (its changing state is in :class:`dagml.local.ledger.Ledger`)."""

    graph: PipelineGraph
    store: RunStore
    run_id: str
    #: What the step runtime loads: the pipeline file's absolute path, ``:attribute`` when named.
    target: str
    #: Param name -> value, dataset name -> absolute local path (:func:`dagml.local.params.resolve_params`).
    params: Mapping[str, Any]
    #: The user's code, for cache keys and the registry's lineage (:func:`dagml.local.cache.code_hash`).
    code_hash: str
    #: The state directory (None: ``$DAGML_HOME`` or ``.dagml``), where the model registry lives too.
    home: str | None

    def dir(self, step: str) -> str:
        """The step's directory in the run store: the container root its job sees."""
        return self.store.step_dir(self.run_id, step)
