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
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = paths.get(key)
        if path:
            roots.add(os.path.realpath(path))
    for path in list(getattr(site, "getsitepackages", list)()) + [site.getusersitepackages()]:
        roots.add(os.path.realpath(path))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        roots.add(os.path.realpath(os.path.join(prefix, "lib")))
    return tuple(sorted(roots))


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r + os.sep) for r in roots)


def _realpath(folder: str, reals: dict[str, str]) -> str:
    """``os.path.realpath`` of an absolute, normalized folder, one lstat per folder not yet in ``reals``
    (the package folders under one site-packages share all but their last parts)."""
    real = reals.get(folder)
    if real is None:
        parent, base = os.path.split(folder)
        if parent == folder:  # the file system's root
            real = folder
        elif base in ("", ".", "..") or os.path.islink(folder):
            real = os.path.realpath(folder)
        else:  # not a link: its real path is its parent's plus its own name
            real = os.path.join(_realpath(parent, reals), base)
        reals[folder] = real
    return real


def user_modules() -> dict[str, str]:
    """Module name -> real path of every imported ``.py`` module that is the user's own code."""
    roots = library_roots() + (os.path.realpath(PACKAGE_DIR),)
    top = frozenset(roots)
    found = {}
    # A folder -> its real path and whether that is a library's: hundreds of modules share a few dozen.
    folders: dict[str, tuple[str, bool]] = {}
    reals: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path or not path.endswith(".py"):
            continue
        folder, base = os.path.split(path if os.path.isabs(path) else os.path.abspath(path))
        known = folders.get(folder)
        if known is None:
            real_folder = _realpath(folder, reals)
            known = folders[folder] = (real_folder, _inside(real_folder, roots))
        # The same as os.path.realpath(path), one lstat for the file instead of one per folder in it:
        # a file that links to the user's code is the user's. `flit install --symlink` links a
        # package's folder (its real path says so) or a lone module's file, which sits right in a
        # library root; a file deeper in a library's package is that library's, as its other files
        # are (never hashed, never bundled), so it costs no lstat: most modules are such files.
        if known[1] and known[0] not in top:
            real, library = os.path.join(known[0], base), True
        elif os.path.islink(path):
            real = os.path.realpath(path)
            library = _inside(real, roots)
        else:
            real, library = os.path.join(known[0], base), known[1]
        if not library and os.path.isfile(real):
            found[name] = real
    return dict(sorted(found.items()))
