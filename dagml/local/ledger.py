"""The bookkeeping of a local run: every step's status, committed to the run store as it changes.

Every change goes to the live progress display at once, and to the run store
with the others of the same moment: :meth:`Ledger.save` commits them in one
transaction, and the runner calls it before it waits for a worker again (so
``--resume`` knows what finished, and ``dagml runs show`` is at most the
changes of one scheduling pass behind). :meth:`Ledger.verdict` reads the
statuses a pending step waits on; :meth:`Ledger.restore` takes back what an
earlier attempt of the run finished; :meth:`Ledger.final_status` says how the
run ended.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dagml.local.cache import artifact_hash
from dagml.local.context import RunContext
from dagml.local.progress import Progress
from dagml.local.status import DONE, STOPPED, RunStatus, StepStatus, Verdict
from dagml.local.store import StepRecord
from dagml.runtime.entry import step_failed
from dagml.spec.specs import FailSpec

__all__ = ["Ledger"]


class Ledger:
    """Each step's status and last record in one run."""

    def __init__(self, context: RunContext, progress: Progress) -> None:
        self.context, self.progress = context, progress
        self.state: dict[str, StepStatus] = dict.fromkeys(context.graph.order, "pending")
        self.records: dict[str, StepRecord] = {}
        #: Steps that reached a final status (the progress count).
        self._finished: set[str] = set()
        #: Step -> the steps it reads or runs after (asked once: the graph sorts them on every call).
        self._upstream: dict[str, tuple[str, ...]] = {}
        #: Records not committed yet (:meth:`save`), the last one of each step.
        self._unsaved: dict[str, StepRecord] = {}

    def mark(self, record: StepRecord) -> None:
        """Record a step's new status: in memory, on the progress display, and in the run store at
        the next :meth:`save`."""
        self.state[record.step] = record.status
        self.records[record.step] = record
        self._unsaved[record.step] = record
        if record.status in ("pending", "running"):
            self._finished.discard(record.step)
        else:
            self._finished.add(record.step)
        self.progress.step(record, len(self.state), len(self._finished))

    def save(self, cached: list[tuple[str, str]] | None = None) -> None:
        """Commit the status changes since the last save to the run store, with ``cached`` (cache
        key, step) entries of this run, in one transaction."""
        if self._unsaved or cached:
            records, self._unsaved = list(self._unsaved.values()), {}
            try:
                self.context.store.set_steps(self.context.run_id, records, cached or ())
            except BaseException:
                for record in records:  # not committed: saved with the next changes
                    self._unsaved.setdefault(record.step, record)
                raise

    def branch(self, condition: str) -> str | None:
        """The branch a decided condition took: ``"then"`` or ``"otherwise"``."""
        record = self.records.get(condition)
        branch = record.detail.get("branch") if record is not None else None
        return str(branch) if branch else None

    def upstream(self, name: str) -> tuple[str, ...]:
        """The steps ``name`` reads or runs after."""
        if name not in self._upstream:
            self._upstream[name] = self.context.graph.upstream(name)
        return self._upstream[name]

    def verdict(self, name: str, assume: str | None = None) -> Verdict:
        """What the statuses of a pending step's condition and inputs say: run it, wait, skip it or not.

        ``assume``: a step taken as succeeded (the verdict once that running step succeeds).
        """
        gate = self.context.graph.branch_of.get(name)
        if gate is not None:
            cond, side = gate
            status = self.state[cond]
            if status == "skipped":
                return "skip"
            if status in STOPPED:
                return "blocked"
            if status not in DONE:
                return "wait"
            if self.branch(cond) != side:
                return "skip"
        waiting = False
        for dep in self.upstream(name):
            status = "succeeded" if dep == assume else self.state[dep]
            if status in STOPPED:
                return "blocked"
            if status == "skipped":
                return "skip"
            if status not in DONE:
                waiting = True
        return "wait" if waiting else "ready"

    def restore(self, previous: Mapping[str, StepRecord]) -> list[StepRecord]:
        """Resume: keep what finished, if its outputs are still on disk, unchanged (their recorded
        hash), and everything it read was kept too; everything else runs again. Returns what was kept."""
        graph, kept = self.context.graph, []
        for name in graph.order:
            rec = previous.get(name)
            root = self.context.dir(name)
            if rec is None or rec.status not in DONE or not os.path.isdir(root):
                continue
            if any(self.state[dep] not in DONE for dep in graph.upstream(name)):
                continue  # an input runs again: so does this step
            recorded = rec.detail.get("artifacts")
            if recorded is not None and recorded != artifact_hash(rec.kind, root):
                continue  # its outputs changed or vanished since it finished
            self.state[name], self.records[name] = rec.status, rec
            self._finished.add(name)
            kept.append(rec)
        return kept

    def final_status(self) -> tuple[RunStatus, str | None]:
        """``Succeeded``, or ``Failed`` with why: the first failed step's reason, said once."""
        graph = self.context.graph
        failed = [n for n in graph.order if self.state[n] == "failed"]
        if not failed:
            return "Succeeded", None
        first = failed[0]
        why = self.records[first].error or "failed"
        if isinstance(graph[first], FailSpec):
            return "Failed", f"{first}: {why}"
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return "Failed", f"{step_failed(first)}{why.splitlines()[0]}{more}"
