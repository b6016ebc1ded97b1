"""Which of the modules a pipeline imported are the user's own code, and where they live.

A step's result depends on every module of the user's that its code reaches,
not only on the files next to the pipeline: a pipeline file may put a folder
elsewhere on ``sys.path`` and import a helper from it. :func:`user_modules`
lists the imported modules that are neither the standard library, nor an
installed distribution, nor dagml itself; the local runner hashes them into its
cache key, and compile refuses the ones outside the bundle's root (SageMaker
would never get them).
"""

from __future__ import annotations

import functools
import os
import site
import sys
import sysconfig

from dagml._package import PACKAGE_DIR

__all__ = ["library_roots", "user_modules"]


@functools.cache
def library_roots() -> tuple[str, ...]:
    """Directories holding the standard library and installed distributions (fixed per process)."""
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    for path in list(getattr(site, "getsitepackages", list)()) + [site.getusersitepackages()]:
        roots.add(os.path.realpath(path))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        roots.add(os.path.realpath(os.path.join(prefix, "lib")))
    return tuple(sorted(roots))


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r + os.sep) for r in roots)


def user_modules() -> dict[str, str]:
    """Module name -> real path of every imported ``.py`` module that is the user's own code."""
    roots = library_roots() + (os.path.realpath(PACKAGE_DIR),)
    found = {}
    # A folder -> its real path and whether that is a library's: hundreds of modules share a few dozen.
    folders: dict[str, tuple[str, bool]] = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path or not path.endswith(".py"):
            continue
        folder, base = os.path.split(path if os.path.isabs(path) else os.path.abspath(path))
        known = folders.get(folder)
        if known is None:
            real_folder = os.path.realpath(folder)
            known = folders[folder] = (real_folder, _inside(real_folder, roots))
        # The same as os.path.realpath(path), one lstat for the file instead of one per folder in it
        # (a file in a library's folder that links to the user's code, as `flit install --symlink`
        # makes, is the user's).
        if os.path.islink(path):
            real = os.path.realpath(path)
            library = _inside(real, roots)
        else:
            real, library = os.path.join(known[0], base), known[1]
        if not library and os.path.isfile(real):
            found[name] = real
    return dict(sorted(found.items()))
