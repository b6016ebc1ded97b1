"""What a step's cached result depends on, beyond its inputs: the facts in its cache key.

A local run reuses a step's earlier output only when everything the result can
depend on is the same (docs/local.md, "Caching"):

- the pipeline's name and the step's name, kind and function (module and qualified name);
- the user's code: every ``.py`` file the bundle ships, and every other module of
  the user's the pipeline imported (a helper put on ``sys.path`` from elsewhere);
- the function's own values: its defaults, the values its closure captured and
  the module-level values its code reads (``ROWS = int(os.environ["ROWS"])``),
  followed into the user's functions it calls;
- the versions of the distributions the user's code imports (scikit-learn, ...),
  of dagml, and of Python;
- its inputs: param values, dataset contents, the upstream steps' keys.

A value dagml cannot fingerprint deterministically (an open file, a lock, an
object whose pickle changes from run to run) makes the step uncacheable
rather than risk a wrong hit.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import os
import pickle
import sys
import types
from collections.abc import Iterable
from typing import Any

__all__ = ["Uncacheable", "dependency_versions", "function_fingerprint"]

_SIMPLE = (type(None), bool, int, float, complex, str, bytes)
_MAX_DEPTH = 6


class Uncacheable(Exception):
    """A value a step depends on has no stable fingerprint."""


def _code(code: types.CodeType, out: list[Any]) -> None:
    out.append((code.co_name, code.co_code, code.co_names, code.co_varnames))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code(const, out)
        else:
            out.append(repr(const))


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _value(value: Any, seen: set[int], depth: int) -> Any:
    if isinstance(value, _SIMPLE):
        return (type(value).__name__, repr(value))
    if depth > _MAX_DEPTH:
        raise Uncacheable(f"a value nested more than {_MAX_DEPTH} deep ({type(value).__name__})")
    if id(value) in seen:
        return ("seen", type(value).__name__)
    seen = seen | {id(value)}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_value(v, seen, depth + 1) for v in value])
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted(repr(_value(v, seen, depth + 1)) for v in value))
    if isinstance(value, dict):
        return ("dict", sorted((repr(_value(k, seen, depth + 1)), _value(v, seen, depth + 1)) for k, v in value.items()))
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if isinstance(value, type):
        return ("class", value.__module__, value.__qualname__)
    if isinstance(value, (types.FunctionType, types.MethodType)) or hasattr(value, "__wrapped__"):
        fn = getattr(value, "__wrapped__", None) or getattr(value, "__func__", None) or value
        if isinstance(fn, types.FunctionType):
            return ("function", _function(fn, seen, depth + 1))
    if isinstance(value, (types.BuiltinFunctionType, types.BuiltinMethodType)):
        return ("builtin", getattr(value, "__module__", None), value.__qualname__)
    if hasattr(type(value), "__attrs_attrs__"):  # dagml's own declarations (a Param default, ...)
        return ("attrs", type(value).__qualname__, repr(value))
    fn = getattr(value, "fn", None)  # a dagml step: its function
    if isinstance(fn, types.FunctionType) and hasattr(value, "spec"):
        return ("step", _function(fn, seen, depth + 1))
    spec = getattr(value, "spec", None)  # another dagml step handle (a script, a model, ...): its declaration
    if spec is not None and hasattr(type(spec), "__attrs_attrs__"):
        return ("node", type(spec).__qualname__, repr(spec))
    try:
        data = pickle.dumps(value, protocol=4)
    except Exception as exc:  # noqa: BLE001 - whatever pickling raises, the value has no stable fingerprint
        raise Uncacheable(f"a value of type {type(value).__qualname__} cannot be pickled ({exc})") from None
    return ("pickle", type(value).__qualname__, hashlib.sha256(data).hexdigest())


def _function(fn: types.FunctionType, seen: set[int], depth: int) -> Any:
    parts: list[Any] = [fn.__module__, fn.__qualname__]
    _code(fn.__code__, parts)
    parts.append(_value(fn.__defaults__ or (), seen, depth))
    parts.append(_value(fn.__kwdefaults__ or {}, seen, depth))
    cells = []
    for cell in fn.__closure__ or ():
        try:
            cells.append(_value(cell.cell_contents, seen, depth))
        except ValueError:  # an empty cell
            cells.append("empty")
    parts.append(cells)
    module_globals = fn.__globals__
    read = {}
    for name in sorted(_names(fn.__code__)):
        if name in module_globals:
            read[name] = _value(module_globals[name], seen, depth)
    parts.append(read)
    return parts


def function_fingerprint(fn: Any) -> str:
    """SHA-256 of a step function's code and every value it reads (raises :class:`Uncacheable`)."""
    target = getattr(fn, "__wrapped__", fn)
    if not isinstance(target, types.FunctionType):
        raise Uncacheable(f"{fn!r} is not a Python function")
    blob = repr(_function(target, set(), 0)).encode()
    return hashlib.sha256(blob).hexdigest()


def _owners(names: set[str]) -> set[tuple[str, str]]:
    """(distribution, version) of the installed distributions providing the top-level ``names``.

    Like ``importlib.metadata.packages_distributions()`` restricted to ``names``: that reads every
    distribution's file list (a third of a second in a full environment), while most distributions
    declare their modules in ``top_level.txt``; file lists are read only for names still unknown.
    """
    found: set[tuple[str, str]] = set()
    left = set(names)
    unlisted = []
    for dist in importlib.metadata.distributions():
        if not left:
            break
        declared = dist.read_text("top_level.txt")
        if declared is None:
            unlisted.append(dist)
            continue
        hits = left & set(declared.split())
        if hits:
            found.add((dist.metadata["Name"], dist.version))
            left -= hits
    # A name no top_level.txt declares that is loaded from outside the library folders is the user's
    # own module (hashed with the code): no distribution's file list needs reading for it.
    left = {name for name in left if not _users(name)}
    for dist in unlisted:
        if not left:
            break
        tops = {f.parts[0].split(".")[0] for f in dist.files or () if f.parts and not f.parts[0].endswith(".dist-info")}
        hits = left & tops
        if hits:
            found.add((dist.metadata["Name"], dist.version))
            left -= hits
    return found


def _users(name: str) -> bool:
    """Whether the loaded module ``name`` is the user's own code (not from an installed distribution)."""
    from dagml.runtime.modules import library_roots

    path = getattr(sys.modules.get(name), "__file__", None)
    if not path:
        return False
    real = os.path.realpath(path)
    return not any(real.startswith(root + os.sep) for root in library_roots())


def dependency_versions(files: Iterable[str]) -> list[tuple[str, str]]:
    """(distribution, version) of what the user's code imports, plus dagml and Python."""
    top = set()
    for path in files:
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), filename=path)
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                top |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                top.add(node.module.split(".")[0])
    wanted = {name for name in top if name not in sys.stdlib_module_names} | {"dagml"}
    versions = set(_owners(wanted))
    versions.add(("python", sys.version))
    return sorted(versions)
