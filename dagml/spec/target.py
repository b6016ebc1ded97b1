"""Find the pipeline a ``TARGET`` names: ``path/to/file.py[:attr]`` or ``package.module[:attr]``.

Used by the CLI and by anything that must load a user's pipeline in another
process (the local runner, the SageMaker step runtime).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from types import ModuleType

from dagml.errors import DagmlError, add_note, did_you_mean
from dagml.spec.errors import TargetError
from dagml.spec.pipeline import PipelineDeclaration

__all__ = ["load_module", "load_target", "split_target"]


def split_target(target: str) -> tuple[str, str | None]:
    """``"a/b.py:pipe"`` -> ``("a/b.py", "pipe")``; ``"pkg.mod"`` -> ``("pkg.mod", None)``."""
    if not isinstance(target, str) or not target.strip():
        raise TargetError("empty TARGET. Fix: give path/to/file.py[:attr] or package.module[:attr].")
    head, sep, attr = target.rpartition(":")
    if sep and attr and head and not attr.startswith(("/", "\\")):
        if not attr.isidentifier():
            raise TargetError(f"TARGET {target!r}: {attr!r} after ':' is not a Python attribute name.")
        return head, attr
    return target, None


def _is_path(spec: str) -> bool:
    return spec.endswith(".py") or "/" in spec or os.sep in spec or os.path.isfile(spec)


def _user_traceback(exc: BaseException, path: str | None) -> str:
    """The user's part of a traceback: frames outside importlib and dagml itself."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in f.filename and f"{os.sep}dagml{os.sep}" not in f.filename
    ]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def _user_location(exc: BaseException, path: str | None = None) -> str:
    """``file:line`` of the innermost frame in the user's code (the loaded file if given)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in f.filename
        and f"{os.sep}dagml{os.sep}" not in f.filename
        and not f.filename.startswith("<")
    ]
    if path is not None:
        frames = [f for f in frames if os.path.abspath(f.filename) == path] or frames
    if not frames:
        return "?"
    last = frames[-1]
    return f"{os.path.relpath(last.filename)}:{last.lineno}"


def _exited(spec: str, exc: SystemExit) -> TargetError:
    """The error for a module that called ``sys.exit()`` (or raised SystemExit) while being imported."""
    return TargetError(
        f"loading {spec!r}: the module exited (SystemExit({exc.code!r}), at {_user_location(exc)}) while "
        "being imported, so it defines no pipeline dagml can use. Fix: guard the code that exits with "
        "`if __name__ == \"__main__\":`."
    )


def load_module(spec: str) -> ModuleType:
    """Import a pipeline module from a file path or a dotted module name."""
    if _is_path(spec):
        path = os.path.abspath(spec)
        if not os.path.isfile(path):
            raise TargetError(f"no such file: {spec!r}. Fix: check the path (it is relative to {os.getcwd()!r}).")
        directory = os.path.dirname(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        existing = sys.modules.get(stem)
        if existing is not None and os.path.abspath(getattr(existing, "__file__", "") or "") == path:
            return existing
        name = stem if existing is None and stem.isidentifier() else "_dagml_target_" + hashlib.sha1(path.encode()).hexdigest()[:12]
        if directory not in sys.path:
            sys.path.insert(0, directory)  # so the file's sibling modules import
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise TargetError(f"cannot load {spec!r} as Python. Fix: give a .py file.")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except DagmlError as exc:
            del sys.modules[name]
            add_note(exc, f"(raised while loading {spec!r}, at {_user_location(exc, path)})")
            raise
        except SystemExit as exc:
            del sys.modules[name]
            raise _exited(spec, exc) from None
        except BaseException as exc:
            del sys.modules[name]
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise TargetError(f"loading {spec!r} raised an error in your code:\n{_user_traceback(exc, path)}") from exc
        return module
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        if exc.name and spec.startswith(exc.name):
            raise TargetError(
                f"no module named {spec!r}. Fix: give path/to/file.py or an importable package.module "
                "(run from the directory that contains the package)."
            ) from None
        raise TargetError(f"loading {spec!r} raised an error in your code:\n{_user_traceback(exc, None)}") from exc
    except DagmlError as exc:
        add_note(exc, f"(raised while loading {spec!r}, at {_user_location(exc)})")
        raise
    except SystemExit as exc:
        raise _exited(spec, exc) from None
    except Exception as exc:
        raise TargetError(f"loading {spec!r} raised an error in your code:\n{_user_traceback(exc, None)}") from exc


def load_target(target: str) -> PipelineDeclaration:
    """The pipeline (a :class:`dagml.Pipeline`) a TARGET names.

    With ``:attr`` that attribute; without it, the one Pipeline the module
    defines (several are listed, so the user can pick).
    """
    spec, attr = split_target(target)
    module = load_module(spec)
    found = {name: value for name, value in vars(module).items() if isinstance(value, PipelineDeclaration)}
    if attr is not None:
        if not hasattr(module, attr):
            raise TargetError(
                f"{spec!r} has no attribute {attr!r}{did_you_mean(attr, found or vars(module))}. "
                f"Fix: use {spec}:<name of the Pipeline object>."
            )
        value = getattr(module, attr)
        if not isinstance(value, PipelineDeclaration):
            raise TargetError(f"{spec}:{attr} is a {type(value).__name__}, not a dagml Pipeline.")
        return value
    unique: dict[int, str] = {}
    for name, value in sorted(found.items()):
        unique.setdefault(id(value), name)
    if not unique:
        raise TargetError(f"{spec!r} defines no dagml Pipeline. Fix: create one with Pipeline('name') at module level.")
    if len(unique) > 1:
        choices = ", ".join(f"{spec}:{name}" for name in sorted(unique.values()))
        raise TargetError(f"{spec!r} defines {len(unique)} pipelines; pick one: {choices}.")
    return found[next(iter(unique.values()))]
