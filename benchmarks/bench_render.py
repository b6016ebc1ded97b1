"""Drawing speed: how long `to_dot(graph)` takes as pipelines grow.

Goal (issue: drawing): the DOT text of a 1,000-step pipeline in well under a
second. Printed side by side with the reference: the bare edge list written as
DOT text (no labels, styles, clusters or legend), the floor a DOT writer cannot
beat. Layout by Graphviz's `dot` is not timed here (it is Graphviz's work).

    .venv/bin/python benchmarks/bench_render.py [--repeat 5] [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_validate import declare, shape, timed

from dagml.drawing import to_dot, to_mermaid
from dagml.graph.model import PipelineGraph


def reference(graph: PipelineGraph) -> str:
    """The bare edge list as DOT: what any DOT writer has to produce at least."""
    lines = ["digraph {"]
    lines += [f'  "{n}";' for n in sorted(graph.nodes)]
    lines += [f'  "{a}" -> "{b}";' for a, b in sorted(graph.graph.edges)]
    return "\n".join(lines) + "\n}\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="10,100,1000")
    args = ap.parse_args()
    rng = random.Random(0)
    print(f"# dagml to_dot vs bare edge-list DOT  ({platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus)")
    print(f"{'shape':<7} {'steps':>6} {'to_dot med':>11} {'spread':>9} {'mermaid med':>12} {'edge list':>10} {'ratio':>6} {'dot bytes':>10}")
    for kind in ("chain", "fanout", "random"):
        for n in map(int, args.sizes.split(",")):
            graph = declare(shape(kind, n, rng)).validate()
            ours = timed(lambda: to_dot(graph), args.repeat)
            mermaid = timed(lambda: to_mermaid(graph), args.repeat)
            ref = timed(lambda: reference(graph), args.repeat)
            med, rmed = statistics.median(ours), statistics.median(ref)
            print(
                f"{kind:<7} {n:>6} {med * 1e3:>9.2f}ms {(max(ours) - min(ours)) * 1e3:>7.2f}ms "
                f"{statistics.median(mermaid) * 1e3:>10.2f}ms {rmed * 1e3:>8.2f}ms {med / rmed:>6.1f} {len(to_dot(graph)):>10}"
            )
    print("goal: DOT for 1,000 steps in well under 1 s")


if __name__ == "__main__":
    main()
