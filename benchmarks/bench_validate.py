"""Validation speed: how long `pipe.validate()` takes as pipelines grow.

Goal (issue: foundation): a 10,000-step pipeline validates in well under a
second. Printed side by side with the reference: networkx alone building the
same graph and sorting it topologically (the floor validation cannot beat).

    .venv/bin/python benchmarks/bench_validate.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import random
import statistics
import sys
import time

import networkx as nx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dagml import Pipeline


def make_fn(name: str, deps: list[str]):
    def fn(**kwargs):
        return None

    fn.__name__ = fn.__qualname__ = name
    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(d, inspect.Parameter.POSITIONAL_OR_KEYWORD) for d in deps]
    )
    return fn


def shape(kind: str, n: int, rng: random.Random) -> list[list[str]]:
    """Dependencies of step i, as names of earlier steps."""
    if kind == "chain":
        return [[f"s{i - 1}"] if i else [] for i in range(n)]
    if kind == "fanout":
        return [[] if i == 0 else ["s0"] for i in range(n)]
    return [[f"s{j}" for j in rng.sample(range(i), min(i, rng.randint(0, 3)))] for i in range(n)]


def declare(deps: list[list[str]]) -> Pipeline:
    pipe = Pipeline("bench")
    for i, d in enumerate(deps):
        pipe.step(make_fn(f"s{i}", d))
    return pipe


def reference(deps: list[list[str]]) -> None:
    g = nx.DiGraph()
    g.add_nodes_from(f"s{i}" for i in range(len(deps)))
    g.add_edges_from((d, f"s{i}") for i, ds in enumerate(deps) for d in ds)
    list(nx.topological_sort(g))


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="10,100,1000,10000")
    args = ap.parse_args()
    rng = random.Random(0)
    print(f"# dagml validate vs networkx floor  ({platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus)")
    print(f"{'shape':<7} {'steps':>7} {'validate med':>13} {'spread':>9} {'per step':>10} {'networkx med':>13} {'ratio':>6}")
    for kind in ("chain", "fanout", "random"):
        for n in map(int, args.sizes.split(",")):
            deps = shape(kind, n, rng)
            pipe = declare(deps)

            def run() -> None:
                pipe._changed()  # drop the cached graph so validate() does the work
                pipe.validate()

            ours = timed(run, args.repeat)
            ref = timed(lambda: reference(deps), args.repeat)
            med, rmed = statistics.median(ours), statistics.median(ref)
            print(
                f"{kind:<7} {n:>7} {med * 1e3:>11.2f}ms {(max(ours) - min(ours)) * 1e3:>7.2f}ms "
                f"{med / n * 1e6:>8.1f}us {rmed * 1e3:>11.2f}ms {med / rmed:>6.1f}"
            )
    print("goal: 10,000 steps validate in well under 1 s")


if __name__ == "__main__":
    main()
