"""Will the user's code import on the image's Python? Decided at compile time, not in the cloud.

A step's module is imported inside the job by the image's own interpreter
(Python 3.10 for ``sagemaker-scikit-learn:1.4-2``), which may be older or newer
than the one compiling. Two kinds of code fail there at import:

- syntax the image's parser does not know (``except*`` and ``type X = ...`` on
  3.10): :func:`ast.parse` with ``feature_version`` set to the image's Python
  rejects it;
- names the image's standard library does not have: a module added or removed
  later (``import tomllib`` on 3.10, ``import distutils`` on 3.12), or a name
  added to a module later (``from typing import Self``, ``datetime.UTC``,
  ``ExceptionGroup``). ``feature_version`` cannot see those: they are valid
  syntax and fail only when the import runs. :data:`ADDED` and :data:`REMOVED`
  list them from the "What's New in Python 3.x" pages (docs.python.org), for
  the versions an image can run.

Only the code a job can import is checked: the pipeline's file and, through
their ``import`` statements (step bodies included), the bundled modules it
reaches; other files that happen to sit in the same folder are shipped but
never run.

Runtime uses of PEP 604 unions (``int | None`` evaluated on Python 3.9) do
not need a check here: no image dagml accepts runs a Python older than 3.10
(``dagml.sagemaker.images.RUNTIME_PYTHON``), where they work.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator

from dagml.errors import Problem
from dagml.graph.model import PipelineGraph
from dagml.spec.specs import FunctionSpec

__all__ = ["ADDED", "REMOVED", "Parsed", "check_sources", "outside_imports", "reachable"]

#: Python version -> modules and module attributes it added ("" is builtins). What's New in Python 3.11-3.14.
ADDED: dict[tuple[int, int], dict[str, frozenset[str]]] = {
    (3, 11): {
        "": frozenset({"ExceptionGroup", "BaseExceptionGroup", "EncodingWarning"}),
        "tomllib": frozenset(),
        "wsgiref.types": frozenset(),
        "typing": frozenset(
            {
                "Self", "LiteralString", "Never", "assert_never", "assert_type", "reveal_type", "TypeVarTuple",
                "Unpack", "Required", "NotRequired", "dataclass_transform", "get_overloads", "clear_overloads",
            }
        ),
        "datetime": frozenset({"UTC"}),
        "enum": frozenset({"StrEnum", "ReprEnum", "EnumCheck", "FlagBoundary", "verify", "member", "nonmember"}),
        "asyncio": frozenset({"TaskGroup", "Runner", "timeout", "Barrier"}),
        "contextlib": frozenset({"chdir"}),
        "hashlib": frozenset({"file_digest"}),
        "operator": frozenset({"call"}),
        "math": frozenset({"exp2", "cbrt"}),
        "logging": frozenset({"getLevelNamesMapping"}),
    },
    (3, 12): {
        "typing": frozenset({"override", "TypeAliasType"}),
        "itertools": frozenset({"batched"}),
        "math": frozenset({"sumprod"}),
        "calendar": frozenset({"Month", "Day"}),
    },
    (3, 13): {
        "": frozenset({"PythonFinalizationError"}),
        "typing": frozenset({"ReadOnly", "TypeIs", "NoDefault", "get_protocol_members", "is_protocol"}),
        "warnings": frozenset({"deprecated"}),
        "copy": frozenset({"replace"}),
        "math": frozenset({"fma"}),
    },
    (3, 14): {
        "annotationlib": frozenset(),
        "compression": frozenset(),
        "string.templatelib": frozenset(),
    },
}

#: Python version -> standard modules it removed.
REMOVED: dict[tuple[int, int], frozenset[str]] = {
    (3, 12): frozenset({"distutils", "imp", "asynchat", "asyncore", "smtpd"}),
    (3, 13): frozenset(
        {
            "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis",
            "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "lib2to3",
        }
    ),
}


def _version(python: tuple[int, int]) -> str:
    return ".".join(map(str, python))


def _missing_module(module: str, python: tuple[int, int]) -> str | None:
    """Why ``module`` cannot be imported on ``python`` (None if it can, as far as the tables know)."""
    parts = module.split(".")
    prefixes = [".".join(parts[: i + 1]) for i in range(len(parts))]
    for version, added in ADDED.items():
        if version > python and any(p in added and not added[p] for p in prefixes):
            return f"module {module!r} is new in Python {_version(version)}"
    for version, removed in REMOVED.items():
        if version <= python and parts[0] in removed:
            return f"module {parts[0]!r} was removed in Python {_version(version)}"
    return None


def _missing_name(module: str, name: str, python: tuple[int, int]) -> str | None:
    for version, added in ADDED.items():
        if version > python and name in added.get(module, ()):
            where = f"{module}.{name}" if module else name
            return f"{where} is new in Python {_version(version)}"
    return None


def _findings(tree: ast.AST, python: tuple[int, int]) -> Iterator[tuple[int, str]]:
    aliases: dict[str, str] = {}  # local name -> module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
                why = _missing_module(alias.name, python)
                if why:
                    yield node.lineno, f"`import {alias.name}`: {why}"
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            why = _missing_module(node.module, python)
            if why:
                yield node.lineno, f"`from {node.module} import ...`: {why}"
                continue
            for alias in node.names:
                why = _missing_name(node.module, alias.name, python)
                if why:
                    yield node.lineno, f"`from {node.module} import {alias.name}`: {why}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            why = _missing_name(aliases[node.value.id], node.attr, python)
            if why:
                yield node.lineno, f"`{node.value.id}.{node.attr}`: {why}"
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in aliases:
            why = _missing_name("", node.id, python)
            if why:
                yield node.lineno, f"`{node.id}`: {why}"


def _module_name(rel: str) -> str:
    name = rel[: -len(".py")].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _imported(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every module name an import statement in ``tree`` may load (parents included)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join(parts + ([node.module] if node.module else []))
            names = [base] + [f"{base}.{alias.name}" if base else alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                yield ".".join(parts[:i])


class Parsed:
    """The user's files, each read and parsed once for :func:`reachable`, :func:`check_sources` and
    :func:`outside_imports` (three parses a file were most of their time). A file is parsed for the
    image's Python ``python`` first: where that succeeds, its tree is the one a plain parse gives; a
    file it rejects gets a plain parse too, for the imports the other two follow."""

    def __init__(self, python: tuple[int, int] | None = None) -> None:
        self.python = python
        self._source: dict[str, bytes | None] = {}
        self._image: dict[str, ast.Module | SyntaxError | None] = {}
        self._plain: dict[str, ast.Module | None] = {}
        self._imports: dict[str, tuple[str, ...]] = {}

    def source(self, path: str) -> bytes | None:
        """The file's bytes (None if it cannot be read)."""
        if path not in self._source:
            try:
                with open(path, "rb") as f:
                    self._source[path] = f.read()
            except OSError:
                self._source[path] = None
        return self._source[path]

    def for_image(self, path: str) -> ast.Module | SyntaxError | None:
        """The tree on the image's Python, the SyntaxError it raises there, or None (unreadable)."""
        if path not in self._image:
            source = self.source(path)
            tree: ast.Module | SyntaxError | None = None
            if source is not None:
                try:
                    tree = ast.parse(source, filename=path, feature_version=self.python)
                except SyntaxError as exc:
                    tree = exc
                except ValueError as exc:  # a null byte (Python 3.11): not source any Python reads
                    tree = SyntaxError(str(exc))
            self._image[path] = tree
        return self._image[path]

    def tree(self, path: str) -> ast.Module | None:
        """The file's tree on this Python (None if it cannot be read or parsed)."""
        if path not in self._plain:
            image = self.for_image(path) if self.python is not None else None
            if isinstance(image, ast.Module):
                self._plain[path] = image
            else:
                source = self.source(path)
                try:
                    self._plain[path] = None if source is None else ast.parse(source, filename=path)
                except (SyntaxError, ValueError):
                    self._plain[path] = None  # check_sources reports it
        return self._plain[path]

    def imports(self, rel: str, path: str) -> tuple[str, ...]:
        """Every module name an import statement of the file at archive path ``rel`` may load, in
        order (none if it cannot be read or parsed: check_sources reports it)."""
        if path not in self._imports:
            tree = self.tree(path)
            self._imports[path] = () if tree is None else tuple(_imported(tree, _module_name(rel), rel.endswith("__init__.py")))
        return self._imports[path]


def reachable(files: Iterable[tuple[str, str]], start: str, parsed: Parsed | None = None) -> list[tuple[str, str]]:
    """The ``(archive path, file)`` pairs the module ``start`` (an archive path) imports, transitively."""
    parsed = Parsed() if parsed is None else parsed
    by_module = {_module_name(rel): (rel, path) for rel, path in files}
    start_name = _module_name(start)
    seen, todo, found = {start_name}, [start_name], []
    while todo:
        name = todo.pop()
        if name not in by_module:
            continue
        rel, path = by_module[name]
        found.append((rel, path))
        for imported in parsed.imports(rel, path):
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
    return sorted(found)


def _steps_in(graph: PipelineGraph, path: str) -> tuple[str, ...]:
    found = []
    for spec in graph:
        if isinstance(spec, FunctionSpec):
            code = getattr(spec.fn, "__code__", None)
            if code is not None and os.path.abspath(code.co_filename) == path:
                found.append(spec.name)
    return tuple(sorted(found))


def check_sources(
    graph: PipelineGraph, files: Iterable[tuple[str, str]], python: tuple[int, int], parsed: Parsed | None = None
) -> list[Problem]:
    """Problems of the user's files, ``(archive path, file)`` pairs, on the image's Python ``python``."""
    parsed = Parsed(python) if parsed is None or parsed.python != python else parsed
    problems = []
    image = f"the image's Python {_version(python)}"
    for rel, path in files:
        tree = parsed.for_image(path)
        if tree is None:
            continue
        steps = _steps_in(graph, os.path.abspath(path))
        if isinstance(tree, SyntaxError):
            where = rel if tree.lineno is None else f"{rel}, line {tree.lineno}"
            problems.append(
                Problem(
                    "image-python",
                    steps,
                    f"{where}: {tree.msg}: a syntax error on {image} (pipeline {graph.name!r}).",
                    f"write {rel} for Python {_version(python)}, or use an image with a newer Python.",
                )
            )
            continue
        for line, why in sorted(set(_findings(tree, python))):
            problems.append(
                Problem(
                    "image-python",
                    steps,
                    f"{rel}, line {line}: {why}, so it fails at import on {image} (pipeline {graph.name!r}).",
                    f"avoid it in {rel} (or guard it with try/except ImportError), or use an image with a newer Python.",
                )
            )
    return problems


def outside_imports(
    graph: PipelineGraph,
    files: Iterable[tuple[str, str]],
    root: str,
    modules: dict[str, str],
    parsed: Parsed | None = None,
) -> list[Problem]:
    """Problems for modules of the user's that ``files`` import from outside the bundle's ``root``.

    ``modules`` is :func:`dagml.runtime.modules.user_modules` (name -> file). SageMaker gets only
    the bundle; a helper put on ``sys.path`` from elsewhere would be missing in the job.
    """
    parsed = Parsed() if parsed is None else parsed
    problems = []
    root = os.path.realpath(root)
    seen = set()
    for rel, path in files:
        for imported in sorted(set(parsed.imports(rel, path))):
            where = modules.get(imported)
            if where is None or where.startswith(root + os.sep) or imported in seen:
                continue
            seen.add(imported)
            problems.append(
                Problem(
                    "outside-bundle",
                    _steps_in(graph, os.path.abspath(path)),
                    f"{rel} imports {imported!r} from {where}, outside the code bundle's folder {root} "
                    f"(pipeline {graph.name!r}): SageMaker's job would not have it.",
                    f"move {os.path.basename(where)} under {root}, or install it as a package in the image.",
                )
            )
    return problems
