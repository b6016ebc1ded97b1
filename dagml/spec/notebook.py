"""A pipeline declared in notebook cells, written out as the module a file would have been.

Worker processes and SageMaker's jobs load a pipeline by importing its file. A
pipeline declared in Jupyter cells has none, so dagml writes one, from the
cells themselves (IPython keeps each cell's code in :mod:`linecache` under the
name its functions carry in ``__code__.co_filename``):

1. the cells that declared the pipeline (``Pipeline(...)``, ``pipe.param``,
   every ``@pipe.step``, ``pipe.condition``...), in the order they declared it,
   after the cells that define what the step functions use from other cells;
2. of those cells, every top-level statement except what only acts in the
   session: an expression statement that declares nothing (a display, a
   ``print``), and any statement that runs, validates, draws, compiles or
   deploys a pipeline (``pipe.run()``, ``result = dagml.run(pipe)``) or calls
   a step function to try it (``split = prepare(0.3)``), with the statements
   that use what such a statement bound;
3. before them, what the step functions use from cells that declare nothing:
   imports (``import numpy as np``), functions and classes (their cells), and
   constants that have a Python literal (``SEXES = ('M', 'F', 'I')``).

The text depends only on the cells, so it is deterministic, and it is checked:
:func:`export` loads it in a fresh module and compares the pipeline it declares
with the session's (steps, kinds, wiring, params, conditions); any difference
is a :class:`NotebookExportError` that names the step and the fix, never a
module that runs something else. Not supported, by design: a step function
that is a lambda or comes from ``exec``; a value a step uses that is neither
importable nor a literal (a DataFrame loaded in a cell: load it inside the step,
or from a file the step reads).
"""

from __future__ import annotations

import ast
import builtins
import dis
import linecache
import os
import sys
import types
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dagml.spec.errors import DeclarationError

if TYPE_CHECKING:
    from dagml.spec.pipeline import PipelineDeclaration

__all__ = ["HEADER", "NotebookExportError", "export_source", "is_cell", "module_name"]

#: The first line of every module dagml writes from cells: a file without it is the user's, never overwritten.
HEADER = "# Written by dagml from notebook cells (dagml.spec.notebook); do not edit: it is rewritten from the cells."
#: Calls that act in the session rather than declare: never replayed where the pipeline loads.
_ACTIONS = frozenset({"run", "validate", "render", "compile", "deploy", "display", "_repr_svg_", "_repr_mimebundle_"})
#: Methods of a pipeline that declare: an expression statement calling one is kept.
_DECLARING = frozenset({"step", "param", "dataset", "model", "register_model", "batch_transform", "fail", "condition"})


class NotebookExportError(DeclarationError):
    """The cells cannot be written out as a module that declares the same pipeline."""


def is_cell(filename: str) -> bool:
    """Whether ``filename`` names code IPython ran from a cell (in linecache, not on disk)."""
    return bool(filename) and not os.path.isfile(filename) and bool(linecache.getlines(filename))


def module_name(pipeline: str) -> str:
    """The module written for pipeline ``pipeline``: ``iris-classifier`` -> ``iris_classifier_notebook``."""
    stem = "".join(c if c.isalnum() else "_" for c in pipeline).strip("_") or "pipeline"
    return f"{'p_' if stem[0].isdigit() else ''}{stem}_notebook"


# --------------------------------------------------------------------- reading cells
def _cell_tree(filename: str) -> ast.Module:
    return ast.parse("".join(linecache.getlines(filename)), filename)


def _called_names(node: ast.AST) -> Iterator[str]:
    """The names of everything called inside ``node`` (``f(...)`` -> f, ``a.b.run(...)`` -> run)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Attribute):
                yield func.attr
            elif isinstance(func, ast.Name):
                yield func.id


def _bound(statement: ast.stmt) -> set[str]:
    """Names a top-level statement binds."""
    names: set[str] = set()
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(statement.name)
    elif isinstance(statement, (ast.Import, ast.ImportFrom)):
        names.update((a.asname or a.name).split(".")[0] for a in statement.names)
    else:
        for sub in ast.walk(statement):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
    return names


def _loaded(statement: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _declares(statement: ast.stmt) -> bool:
    """An expression statement that calls a declaring method (``pipe.condition(...)``)."""
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Attribute)
        and statement.value.func.attr in _DECLARING
    )


def _kept(tree: ast.Module, dropped: set[str], steps: frozenset[str] = frozenset()) -> list[ast.stmt]:
    """The statements of a cell that declare or define (module docstring), updating ``dropped``.

    ``steps``: the names the step functions are bound to; calling one (``prepare(0.3)``) tries it out.
    """
    kept = []
    for statement in tree.body:
        acts = any(name in _ACTIONS or name in steps for name in _called_names(statement))
        idle = isinstance(statement, ast.Expr) and not _declares(statement)
        if acts or idle or _loaded(statement) & dropped:
            dropped.update(_bound(statement))
            continue
        dropped.difference_update(_bound(statement))
        kept.append(statement)
    return kept


# --------------------------------------------------------------------- what the kept code uses
def _global_loads(code: types.CodeType) -> set[str]:
    """The global names a function's code (and the code nested in it) reads."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_loads(const)
    return {str(n) for n in names}


class _ModuleLoads(ast.NodeVisitor):
    """Names a top-level statement reads when it runs (not inside the bodies of the functions it defines)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.names.add(node.id)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
            self.visit(default)
        if not isinstance(node, ast.Lambda):  # decorators and annotations run when the def does
            for decorator in node.decorator_list:
                self.visit(decorator)
            arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs, node.args.vararg, node.args.kwarg]
            for annotation in [*(a.annotation for a in arguments if a is not None), node.returns]:
                if annotation is not None:
                    self.visit(annotation)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function


def _module_loads(statement: ast.stmt) -> set[str]:
    visitor = _ModuleLoads()
    visitor.visit(statement)
    return visitor.names


def _is_literal(value: object) -> bool:
    try:
        return bool(ast.literal_eval(repr(value)) == value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _class_file(value: object) -> str | None:
    if not isinstance(value, type):
        return None
    for attribute in vars(value).values():
        code = getattr(attribute, "__code__", None)
        if isinstance(code, types.CodeType):
            return code.co_filename
    return None


def _provide(pipeline: str, name: str, value: object, user: str) -> tuple[str | None, str | None]:
    """(a line of the prelude, or a cell to include) that gives a module ``name`` = ``value``."""
    if isinstance(value, types.ModuleType):
        return f"import {value.__name__}" + ("" if value.__name__ == name else f" as {name}"), None
    code = getattr(value, "__code__", None)
    filename = code.co_filename if isinstance(code, types.CodeType) else _class_file(value)
    if filename and is_cell(filename):
        return None, filename
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if module and module != "__main__" and qualname and "." not in qualname:
        parts = module.split(".")
        for i in range(1, len(parts) + 1):  # the shortest path that has it: dagml.Pipeline, not dagml.api's
            public = ".".join(parts[:i])
            if getattr(sys.modules.get(public), qualname, None) is value:
                return f"from {public} import {qualname}" + ("" if qualname == name else f" as {name}"), None
    if _is_literal(value):
        return f"{name} = {value!r}", None
    raise NotebookExportError(
        f"pipeline {pipeline!r}: {user} uses {name!r} from the notebook, a {type(value).__name__} that cannot be "
        "written into a module (it is neither importable nor a Python literal), so worker processes and SageMaker's "
        "jobs would not have it. Fix: create it inside the step, or in a cell that declares the pipeline."
    )


def export_source(pipe: PipelineDeclaration, variable: str, namespace: dict[str, Any]) -> str:
    """The module text for ``pipe``, declared in cells and bound to ``variable`` in ``namespace`` (the
    notebook's globals)."""
    from dagml.spec.specs import FunctionSpec

    cells = list(pipe.cells)
    if not cells:
        raise NotebookExportError(
            f"pipeline {pipe.name!r} was declared neither in a .py file nor in notebook cells dagml can read. "
            "Fix: declare it in a module, or in the cells of a Jupyter or IPython session."
        )
    for spec in pipe.nodes:
        fn = spec.fn if isinstance(spec, FunctionSpec) else None
        if fn is None:
            continue
        if not isinstance(fn, types.FunctionType) or fn.__name__ == "<lambda>":
            raise NotebookExportError(
                f"pipeline {pipe.name!r}, step {spec.name!r}: its function ({fn!r}) is not a def, so it cannot be "
                "written into a module. Fix: define it with def in a cell."
            )
    trees: dict[str, ast.Module] = {}

    def tree(cell: str) -> ast.Module:  # each cell parsed once, however often the loop below reads it
        if cell not in trees:
            trees[cell] = _cell_tree(cell)
        return trees[cell]

    steps = frozenset(spec.fn.__name__ for spec in pipe.nodes if isinstance(spec, FunctionSpec))
    prelude: dict[str, str] = {}
    extra: list[str] = []  # cells that declare nothing but define what the others use
    while True:
        order = [*extra, *cells]
        kept = [st for cell in order for st in _kept(tree(cell), set(), steps)]
        bound = set(dir(builtins)) | {n for st in kept for n in _bound(st)}
        wanted: dict[str, str] = {n: "a cell" for st in kept for n in _module_loads(st)}
        for st in kept:  # what the functions the cells define read when they run
            if not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            fn = namespace.get(st.name)
            fn = getattr(fn, "fn", fn)  # a step: its function
            if isinstance(fn, types.FunctionType):
                wanted.update((n, f"function {st.name!r}") for n in _global_loads(fn.__code__) if n not in wanted)
        added = False
        for name, user in sorted(wanted.items()):
            if name in bound or name in prelude or name not in namespace:
                continue
            line, cell = _provide(pipe.name, name, namespace[name], user)
            if line is not None:
                prelude[name] = line
            elif cell is not None and cell not in order:
                extra.append(cell)
                added = True
        if not added:
            break
    body: list[str] = []
    dropped: set[str] = set()
    for cell in [*extra, *cells]:
        statements = _kept(tree(cell), dropped, steps)
        if statements:
            body.append(ast.unparse(ast.Module(body=statements, type_ignores=[])))
    imports = sorted(line for line in prelude.values() if line.startswith(("import ", "from ")))
    constants = sorted(line for line in prelude.values() if not line.startswith(("import ", "from ")))
    lines = [HEADER, f"# pipeline {pipe.name!r}, the session's {variable!r}", "", *imports, *constants]
    return "\n".join(lines) + "\n\n" + "\n\n".join(body) + "\n"


def declared_by(namespace: dict[str, Any], pipe: PipelineDeclaration) -> list[str]:
    """Names under which ``namespace`` (a notebook's globals) holds ``pipe``; IPython's own (``_``,
    ``_5``) left out."""
    return sorted(name for name, value in namespace.items() if value is pipe and not name.startswith("_"))
