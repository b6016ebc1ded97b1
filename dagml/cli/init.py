"""``dagml init [DIR] [--name NAME] [--force]``: scaffold a project that validates, runs and compiles.

The files come from ``dagml/cli/templates/*.tmpl`` (package data; ``.tmpl`` so that neither the
linters nor the code bundle, which ships every ``*.py`` of dagml, take them for dagml's code),
filled in with :class:`string.Template`. The output depends only on the project's name and dagml's
own defaults: no dates, no random ids.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import string
from importlib.resources import files
from pathlib import Path

from dagml.cli.common import UsageError
from dagml.graph.names import check_name, rule_text, suggest

__all__ = ["FILES", "add_parser", "project_files", "project_name", "run"]

#: The files ``dagml init`` writes (relative to DIR), each with its template and what it is for.
FILES: tuple[tuple[str, str, str], ...] = (
    ("pipeline.py", "pipeline.py.tmpl", "the pipeline: prepare -> train -> evaluate -> CheckR2 -> register or fail"),
    ("tests/test_pipeline.py", "test_pipeline.py.tmpl", "unit tests of the steps and the graph (python -m pytest)"),
    ("pyproject.toml", "pyproject.toml.tmpl", "[tool.dagml]: role, bucket, region (placeholders; set yours to deploy)"),
    ("README.md", "README.md.tmpl", "what is here and the next commands"),
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "init",
        help="scaffold a new pipeline project",
        description="Write a pipeline project that validates, runs and compiles as it is: pipeline.py "
        "(prepare -> train -> evaluate -> a gate that registers the model or fails), tests/test_pipeline.py, "
        "pyproject.toml with [tool.dagml] settings, and README.md. Never overwrites a file without --force. "
        "Exit 0 when written, 2 on usage errors.",
    )
    p.add_argument("directory", metavar="DIR", nargs="?", default=".", help="where to write (default: here)")
    p.add_argument("--name", metavar="NAME", help="the pipeline's name (default: DIR's name)")
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(func=run)


def project_name(directory: str, given: str | None) -> str:
    """``--name`` when given and valid (else a usage error with a valid spelling), or DIR's name made valid."""
    if given is not None:
        if not check_name("pipeline", given):
            raise UsageError(
                f"--name {given!r} is not a valid pipeline name ({rule_text('pipeline')}). "
                f"Fix: --name {suggest('pipeline', given)}."
            )
        return given
    return suggest("pipeline", Path(directory).resolve().name)


def project_files(name: str) -> dict[str, str]:
    """Each file's path (relative to DIR, ``/``-separated) -> its text, for a project named ``name``."""
    from dagml.sagemaker.images import DEFAULT_FRAMEWORK_VERSION

    values = {
        "name": name,
        "group": suggest("group", f"{name}-models"),
        "framework_version": DEFAULT_FRAMEWORK_VERSION,
    }
    templates = files("dagml.cli").joinpath("templates")
    return {
        path: string.Template(templates.joinpath(template).read_text(encoding="utf-8")).substitute(values)
        for path, template, _ in FILES
    }


def _refuse_existing(root: Path, shown: dict[str, str], force: bool) -> list[str]:
    """The files that exist (to be overwritten with ``force``); refuse when that is not allowed."""
    if root.exists() and not root.is_dir():
        raise UsageError(f"DIR {shown['.']!r} is a file, not a directory. Fix: give a directory (new or existing).")
    if not root.exists() and not root.resolve().parent.is_dir():
        parent = os.path.dirname(os.path.normpath(shown["."])) or "."
        raise UsageError(
            f"DIR {shown['.']!r}: its parent {parent!r} does not exist, and dagml init creates only DIR itself. "
            f"Fix: create it first (mkdir -p {shlex.quote(parent)}) or check the path."
        )
    tests = root / "tests"
    if tests.exists() and not tests.is_dir():
        raise UsageError(
            f"{shown['tests']!r} is a file, and dagml init writes tests/test_pipeline.py. Fix: move it away, or init elsewhere."
        )
    existing = [path for path, _, _ in FILES if (root / path).exists() or (root / path).is_symlink()]
    not_files = [path for path in existing if (root / path).is_dir()]
    if not_files:
        raise UsageError(
            f"{', '.join(repr(shown[p]) for p in not_files)}: a directory where dagml init writes a file, "
            "which --force does not replace. Fix: move it away, or init into another directory."
        )
    if existing and not force:
        these = ", ".join(repr(shown[p]) for p in existing)
        verb = "exists" if len(existing) == 1 else "exist"
        raise UsageError(
            f"{these} already {verb}, and dagml init never overwrites a file unless told to. "
            f"Fix: init into a new directory (dagml init NEW_DIR), or pass --force to overwrite "
            f"{'it' if len(existing) == 1 else 'them'}."
        )
    return existing


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def sklearn_installed() -> bool:
    """Whether scikit-learn, which the scaffold's steps import, is installed here."""
    return importlib.util.find_spec("sklearn") is not None


def run(args: argparse.Namespace) -> int:
    root = Path(args.directory)
    shown = {p: os.path.normpath(os.path.join(args.directory, p)) for p in (".", "tests", *(f[0] for f in FILES))}
    name = project_name(args.directory, args.name)
    texts = project_files(name)
    existing = _refuse_existing(root, shown, args.force)
    root.mkdir(exist_ok=True)  # its parent exists: checked above
    (root / "tests").mkdir(exist_ok=True)
    width = max(len(shown[path]) for path, _, _ in FILES)
    for path, _, about in FILES:
        _write(root / path, texts[path])
        verb = "overwrote" if path in existing else "created  "
        print(f"{verb} {shown[path]:<{width}}  {about}")
    print()
    directory_name = Path(args.directory).resolve().name
    if args.name is None and name != directory_name:
        print(f"The pipeline is named {name!r}, after the directory {directory_name!r} (--name NAME chooses another).")
    else:
        print(f"The pipeline is named {name!r}.")
    if not sklearn_installed():
        print("Its steps use scikit-learn, which is not installed here: pip install 'dagml[examples]'.")
    here = root.resolve() == Path.cwd().resolve()
    cd = "" if here else f"cd {shlex.quote(args.directory)} && "
    print("Next:")
    print(f"  {cd}dagml validate pipeline.py && dagml run pipeline.py && dagml compile pipeline.py -o pipeline.json")
    return 0
