"""What every benchmark shares: timing, statistics, fresh processes, tables and goals.

Numbers are medians over repeated runs with their spread (min-max); dagml and
its reference are measured interleaved, in one run, and compared as ratios,
because these machines are shared and noisy and absolute times drift.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = sys.executable
DAGML = os.path.join(os.path.dirname(PYTHON), "dagml")
#: Placeholder settings (compile never calls AWS).
SETTINGS = {
    "role_arn": "arn:aws:iam::111122223333:role/SageMakerRole",
    "bucket": "dagml-example-bucket",
    "region": "us-east-1",
}
SETTINGS_FLAGS = ["--role-arn", SETTINGS["role_arn"], "--bucket", SETTINGS["bucket"], "--region", SETTINGS["region"]]


# --------------------------------------------------------------------- statistics
@dataclass
class Sample:
    """Repeated measurements of one thing (seconds, or bytes for memory)."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)


def seconds(value: float) -> str:
    if value >= 100:
        return f"{value:.0f} s"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms" if value < 0.1 else f"{value * 1e3:.0f} ms"
    return f"{value * 1e6:.0f} us"


def per_step(value: float) -> str:
    return seconds(value)


def spread(sample: Sample, fmt: Callable[[float], str] = seconds) -> str:
    """``low-high`` over the runs, in one unit: ``233-252 ms``."""
    if len(sample.values) < 2:
        return "1 run"
    low, high = fmt(sample.low), fmt(sample.high)
    low_num, _, low_unit = low.partition(" ")
    high_num, _, high_unit = high.partition(" ")
    if low_unit == high_unit:
        return f"{low_num}-{high_num} {high_unit}"
    return f"{low}-{high}"


def timed(fn: Callable[[], Any], repeat: int) -> Sample:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return Sample(out)


def interleaved(fns: Sequence[Callable[[], float | None]], repeat: int) -> list[Sample]:
    """Run each function once per round, ``repeat`` rounds: drift hits every side alike.

    A function may return its own measurement (seconds); otherwise its wall time counts.
    """
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            result = fn()
            samples[i].append(result if isinstance(result, float) else time.perf_counter() - t)
    return [Sample(s) for s in samples]


# --------------------------------------------------------------------- processes
def child_env(**extra: str) -> dict[str, str]:
    """The environment of a benchmark child process.

    Byte-code caching stays on for every side (``PYTHONPYCACHEPREFIX`` in a
    temporary directory, so the checkout is left clean): a user's installed
    packages and their own code have ``.pyc`` files, so a fresh process of
    theirs does not re-compile its imports.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "dagml-bench-pycache")
    env["PYTHONPATH"] = ROOT + os.pathsep + HERE
    env.update(extra)
    return env


@dataclass
class ChildResult:
    seconds: float
    max_rss: int  # bytes: the child's peak resident set, including children it waited for
    cpu: float  # seconds of CPU (user + system) of the child and every child it waited for
    stdout: str
    stderr: str
    returncode: int


def run_child(argv: Sequence[str], *, cwd: str | None = None, env: dict[str, str] | None = None, timeout: float = 900) -> ChildResult:
    """Run a fresh process; wall time from spawn to exit, and its peak RSS (``wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd or ROOT, env=env or child_env(), stdout=out, stderr=err)
        deadline = t + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildResult(wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime, out.read().decode(errors="replace"),
                           err.read().decode(errors="replace"), proc.returncode)


def check(result: ChildResult, what: str) -> ChildResult:
    if result.returncode != 0:
        raise RuntimeError(f"{what} exited with {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result


def child_json(result: ChildResult, what: str) -> dict[str, Any]:
    check(result, what)
    try:
        return json.loads(result.stdout)
    except ValueError:
        pass
    last = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not last:
        raise RuntimeError(f"{what} printed no JSON:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return json.loads(last[-1])


def self_peak_rss() -> int:
    """This process's peak RSS in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def mb(value: float) -> str:
    return f"{value / 1e6:,.0f} MB"


# --------------------------------------------------------------------- reports
@dataclass
class Goal:
    text: str
    met: bool | None  # None: not measured in this run
    measured: str


@dataclass
class Section:
    """One benchmark's result: a table, its reference, its goals."""

    key: str
    title: str
    reference: str
    method: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra_tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)

    def goal(self, text: str, met: bool | None, measured: str) -> None:
        self.goals.append(Goal(text, met, measured))

    # ------------------------------------------------------------ text
    def text(self) -> str:
        lines = [f"== {self.title}", f"reference: {self.reference}", ""]
        lines += _text_table(self.columns, self.rows)
        for caption, columns, rows in self.extra_tables:
            lines += ["", caption] + _text_table(columns, rows)
        for g in self.goals:
            lines.append(f"goal: {g.text}: {_verdict(g.met)} ({g.measured})")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        out = [f"## {self.title}", "", f"**Reference:** {self.reference}", "", self.method, ""]
        out += _md_table(self.columns, self.rows)
        for caption, columns, rows in self.extra_tables:
            out += ["", caption, ""] + _md_table(columns, rows)
        if self.goals:
            out += ["", "| goal | result | measured |", "|---|---|---|"]
            out += [f"| {g.text} | {_verdict(g.met)} | {g.measured} |" for g in self.goals]
        if self.notes:
            out += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "goals": [g.__dict__ for g in self.goals],
            "notes": self.notes,
        }


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else "met" if met else "**MISSED**"


def _text_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*columns), fmt.format(*("-" * w for w in widths))] + [fmt.format(*map(str, r)) for r in rows]


def _md_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"
    return [head, rule] + ["| " + " | ".join(map(str, r)) + " |" for r in rows]


def machine() -> dict[str, str]:
    """CPU model, cores, memory, Python, OS."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
            memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": f"{cpu} ({platform.machine()})",
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
    }


def load_average() -> float:
    """The 1-minute load average (runnable processes; 2 means both cores of this machine busy)."""
    return os.getloadavg()[0]


def print_section(section: Section) -> None:
    print(section.text(), flush=True)


def standalone(run: Callable[..., Section], **kwargs: Any) -> None:
    """``python benchmarks/bench_x.py [--quick]``: run one benchmark and print its table."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes (a smoke run)")
    args = ap.parse_args()
    print_section(run(quick=args.quick, **kwargs))
