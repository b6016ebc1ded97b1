"""What a person watching a run sees: live per-step lines on a terminal, a summary at the end."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from dagml._text import visible
from dagml.local.result import RunResult
from dagml.local.status import StepStatus
from dagml.local.store import StepRecord
from dagml.spec.reports import number_leaves

__all__ = ["Progress", "summary_table"]

#: The mark a live line shows for each status.
_MARKS: dict[StepStatus, str] = {
    "pending": " ",
    "running": "…",
    "succeeded": "✓",
    "cached": "≡",
    "failed": "✗",
    "skipped": "-",
    "not run": "·",
}


class Progress:
    """Prints step transitions when ``stream`` is a terminal (or ``live=True``); quiet otherwise."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live

    def step(self, record: StepRecord, total: int, done: int) -> None:
        if not self.live:
            return
        mark = _MARKS[record.status]
        extra = ""
        if record.duration is not None and record.status in ("succeeded", "failed"):
            extra = f" ({record.duration:.2f}s)"
        if record.kind == "condition" and record.detail.get("values"):
            extra = f"  {record.detail['values']} -> {record.detail.get('branch')}"
        if record.status == "cached" and record.cached_from:
            extra = f"  (from run {record.cached_from})"
        if record.status == "failed" and record.error:
            extra += f"  {record.error.splitlines()[0][:160]}"
        line = f"[{done:>{len(str(total))}}/{total}] {mark} {record.step:<24} {record.status}{extra}"
        print(visible(line), file=self.stream, flush=True)  # errors and metric keys come from user code


def summary_table(result: RunResult) -> str:
    """The end-of-run table: one line per step with status, duration and notes."""
    rows = [("step", "kind", "status", "time", "note")]
    for name in result.order:
        r = result.steps.get(name)
        if r is None:
            continue
        note = ""
        if r.kind == "condition" and r.detail.get("values"):
            note = f"{r.detail['values']} -> {r.detail.get('branch')}"
        elif r.kind == "register" and r.detail.get("version"):
            note = f"{r.detail['group']} v{r.detail['version']} ({r.detail.get('status')})"
        elif r.status == "cached":
            note = f"cached from {r.cached_from}"
        elif r.error:
            note = r.error.splitlines()[0][:100]
        elif r.detail.get("note"):
            note = str(r.detail["note"])[:100]
        elif r.kind == "processing":
            m = result.metrics(name)
            if m:  # a nested report's numbers by path: multiclass_classification_metrics.accuracy.value=0.97
                note = ", ".join(f"{k}={v:g}" for k, v in sorted(number_leaves(m).items())[:4])
        time = "" if r.duration is None else f"{r.duration:.2f}s"
        rows.append((name, r.kind, r.status, time, note))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        ("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + ("  " + row[4] if row[4] else "")).rstrip()
        for row in rows
    ]
    head = f"run {result.run_id} of {result.run.pipeline}: {result.status}"
    if result.error:
        head += f": {result.error}"
    outputs = [(name, what, path) for name in result.order for what, path in result.outputs(name).items()]
    if outputs:  # where everything went: no searching .dagml/runs/<id>/steps/...
        lines += ["", "outputs:"]
        width = max(len(f"{name} {what}") for name, what, _ in outputs)
        lines += [f"  {f'{name} {what}':<{width}}  {_shown(path)}" for name, what, path in outputs]
    return "\n".join(visible(line) for line in [head, *lines]).rstrip()  # errors, metric keys: untrusted


def _shown(path: str) -> str:
    """A path relative to the working directory when it is below it (shorter to read), else absolute."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
