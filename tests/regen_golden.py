"""Regenerate the golden files beside tests/pipelines/*.py: `make golden`.

    .venv/bin/python tests/regen_golden.py            # every kind
    .venv/bin/python tests/regen_golden.py --dot      # only the DOT drawings
    .venv/bin/python tests/regen_golden.py --json     # only the compiled definitions

Review the diff afterwards: a golden change is a change in what dagml emits.
Adding a kind of golden file is one entry in ``KINDS``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def _dot() -> list[str]:
    from tests.golden_dot import write_dot_goldens

    return write_dot_goldens()


def _json() -> list[str]:
    from tests.golden_json import write_json_goldens

    return write_json_goldens()


#: Kind of golden file -> the function that rewrites every file of that kind.
KINDS: dict[str, Callable[[], list[str]]] = {"dot": _dot, "json": _json}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for kind in KINDS:
        parser.add_argument(f"--{kind}", action="store_true", help=f"regenerate the .{kind} goldens")
    args = parser.parse_args(argv)
    chosen = [kind for kind in KINDS if getattr(args, kind)] or list(KINDS)
    for kind in chosen:
        for path in KINDS[kind]():
            print(f"wrote {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
