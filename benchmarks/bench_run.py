"""Benchmark 3: local run overhead, `dagml run` vs calling the functions directly.

Chains and fan-outs of 100 and 1,000 no-op steps (benchmarks/synthetic.py) run by
a fresh `dagml run` process (worker processes, the step runtime, the run store),
against the limit: a fresh process that imports the same pipeline file and calls
the same functions directly, in topological order, handing each its inputs.
Overhead per step = (dagml - direct) / steps. Then a CPU-bound fan-out of equal
steps on 1 and 2 workers.

Goals: at most 5 ms of overhead per step on the chain; the CPU-bound fan-out at
least 1.7x faster on 2 workers than on 1.

    .venv/bin/python benchmarks/bench_run.py [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (
    DAGML,
    PYTHON,
    Sample,
    Section,
    child_json,
    interleaved,
    run_child,
    seconds,
    spread,
)

#: Branches of the CPU-bound fan-out, and the CPU time each should take.
CPU_STEPS = 16
CPU_SECONDS = 0.5


def direct(path: str) -> dict[str, Any]:
    """The limit: import the pipeline file, call each function step in order with its inputs."""
    t0 = time.perf_counter()
    from dagml.spec.specs import FunctionSpec
    from dagml.spec.target import load_target

    pipe = load_target(path)
    t1 = time.perf_counter()
    outputs: dict[str, Any] = {}
    for spec in pipe.nodes:  # declaration order is topological in these pipelines
        if isinstance(spec, FunctionSpec):
            outputs[spec.name] = spec.fn(**{p.name: outputs[p.name] for p in spec.parameters})
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "calls_s": t2 - t1}


def parallel(work: int, steps: int, processes: int) -> dict[str, Any]:
    """The 2-worker limit: ``processes`` forked processes sharing ``steps`` bodies of ``work``
    iterations, no dagml: what this machine gives two CPU-bound processes right now."""
    t = time.perf_counter()
    pids = []
    for p in range(processes):
        pid = os.fork()
        if pid == 0:
            total = 0
            for _ in range(p, steps, processes):
                for k in range(work):
                    total += k * k % 7
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    return {"seconds": time.perf_counter() - t}


def _parallel_run(work: int, steps: int, processes: int) -> float:
    r = run_child([PYTHON, __file__, "--parallel", str(work), str(steps), str(processes)])
    child_json(r, "parallel")
    return r.seconds


def _dagml_run(path: str, home: str, workers: int | None = None) -> float:
    argv = [DAGML, "run", path, "--home", home, "--no-cache", "--json"]
    if workers:
        argv += ["--workers", str(workers)]
    r = run_child(argv)
    result = child_json(r, f"dagml run {os.path.basename(path)}")
    assert result["status"] == "Succeeded", result["error"]
    return r.seconds


def _direct_run(path: str) -> float:
    r = run_child([PYTHON, __file__, "--direct", path])
    child_json(r, "direct")
    return r.seconds


def calibrate(seconds_wanted: float) -> int:
    """Loop iterations of the CPU-bound body that take ``seconds_wanted`` on this machine."""
    n = 200_000
    t = time.perf_counter()
    total = 0
    for k in range(n):
        total += k * k % 7
    per = (time.perf_counter() - t) / n
    return max(1000, int(seconds_wanted / per))


def run(quick: bool = False) -> Section:
    import synthetic

    repeat = 2 if quick else 3
    sizes = (100,) if quick else (100, 1000)
    tmp = tempfile.mkdtemp(prefix="dagml-bench-run-")
    home = os.path.join(tmp, "home")
    section = Section(
        key="run",
        title="3. Local run overhead",
        reference="a fresh process that imports the same pipeline file and calls the same functions directly, "
        "in topological order, handing each its inputs (the limit)",
        method=f"Fresh processes, wall time from spawn to exit, {repeat} alternating rounds after a warm-up. "
        f"`dagml run FILE --no-cache --json` with the default workers ({os.cpu_count()}, the CPU count): each "
        "step runs in a worker process through the step runtime (inputs linked in, output pickled to the run store, "
        "every status change committed to SQLite). Overhead per step = (dagml - direct) / steps.",
        columns=["pipeline", "steps", "dagml run", "direct (the limit)", "overhead per step", "dagml / direct"],
    )
    per_step: dict[tuple[str, int], float] = {}
    for shape in ("chain", "fanout"):
        for n in sizes:
            path = synthetic.write_module(tmp, shape, n)
            _dagml_run(path, home)  # warm-up: byte-code caches, the run store
            _direct_run(path)
            ours, ref = interleaved([lambda: _dagml_run(path, home), lambda: _direct_run(path)], repeat)
            overhead = Sample([(o - r) / n for o, r in zip(ours.values, ref.values)])
            per_step[(shape, n)] = overhead.median
            section.rows.append(
                [f"{shape} of no-op steps", f"{n:,}", f"{seconds(ours.median)} ({spread(ours)})",
                 f"{seconds(ref.median)} ({spread(ref)})", f"{seconds(overhead.median)} ({spread(overhead)})",
                 f"{ours.median / ref.median:.1f}x"]
            )
            print(f"  run: {shape} {n}: dagml {seconds(ours.median)}, direct {seconds(ref.median)}", file=sys.stderr, flush=True)
    chains = {n: v for (s, n), v in per_step.items() if s == "chain"}
    worst = max(chains.values())
    section.goal("at most 5 ms of overhead per step on the chain", worst <= 0.005,
                 ", ".join(f"{n:,} steps: {seconds(v)}" for n, v in sorted(chains.items())))

    # CPU-bound fan-out: equal branches on 1 and 2 workers.
    cpu_seconds = CPU_SECONDS / 2 if quick else CPU_SECONDS
    work = calibrate(cpu_seconds)
    path = synthetic.write_module(tmp, "fanout", CPU_STEPS + 1, body="cpu", work=work)
    _dagml_run(path, home, 2)
    one, two, ref, limit = interleaved(
        [
            lambda: _dagml_run(path, home, 1),
            lambda: _dagml_run(path, home, 2),
            lambda: _direct_run(path),
            lambda: _parallel_run(work, CPU_STEPS, 2),
        ],
        repeat,
    )
    speedup = Sample([a / b for a, b in zip(one.values, two.values)])
    machine = Sample([a / b for a, b in zip(ref.values, limit.values)])
    section.extra_tables.append(
        (
            f"CPU-bound fan-out: a no-op root and {CPU_STEPS} equal branches of about {cpu_seconds:g} s of "
            "pure-Python work each (calibrated on this machine at the start):",
            ["run", "median", "spread", "vs 1 worker"],
            [
                ["direct, one process (the 1-worker limit)", seconds(ref.median), spread(ref), ""],
                ["plain Python, 2 forked processes, no dagml (the 2-worker limit)", seconds(limit.median),
                 spread(limit), f"{statistics.median(machine.values):.2f}x vs direct"],
                ["`dagml run --workers 1`", seconds(one.median), spread(one), "1.0x"],
                ["`dagml run --workers 2`", seconds(two.median), spread(two), f"{statistics.median(speedup.values):.2f}x"],
            ],
        )
    )
    s = statistics.median(speedup.values)
    section.goal("CPU-bound fan-out on 2 workers at least 1.7x faster than on 1", s >= 1.7,
                 f"{s:.2f}x (per-round {speedup.low:.2f}x-{speedup.high:.2f}x); this machine gave two plain "
                 f"processes {statistics.median(machine.values):.2f}x in the same rounds")
    return section


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--direct":
        print(json.dumps(direct(sys.argv[2])))
    elif len(sys.argv) > 4 and sys.argv[1] == "--parallel":
        print(json.dumps(parallel(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))))
    else:
        from harness import standalone

        standalone(run)
