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
    roots = set(_install_roots())
    paths = _scheme_paths()
    for key in ("stdlib", "platstdlib"):
        path = paths.get(key)
        if path:
            roots.add(os.path.realpath(path))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        roots.add(os.path.realpath(os.path.join(prefix, "lib")))
    return tuple(sorted(roots))


@functools.cache
def _scheme_paths() -> dict[str, str]:
    """This interpreter's install scheme's paths, expanded once (``sysconfig.get_paths``)."""
    return sysconfig.get_paths()


@functools.cache
def _install_roots() -> frozenset[str]:
    """The directories installers put distributions in (site-packages): where a link to the user's own
    file may sit among libraries (``flit install --symlink``)."""
    paths = _scheme_paths()
    found = [paths.get("purelib"), paths.get("platlib"), *getattr(site, "getsitepackages", list)()]
    found.append(site.getusersitepackages())
    return frozenset(os.path.realpath(path) for path in found if path)


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
    installed = _install_roots()
    found = {}
    # A folder -> its real path, whether that is a library's, and whether it is below a library root
    # (not the root itself): hundreds of modules share a few dozen folders.
    folders: dict[str, tuple[str, bool, bool]] = {}
    reals: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path or not path.endswith(".py"):
            continue
        folder, base = os.path.split(path if os.path.isabs(path) else os.path.abspath(path))
        known = folders.get(folder)
        if known is None:
            real_folder = _realpath(folder, reals)
            library = _inside(real_folder, roots)
            known = folders[folder] = (real_folder, library, library and real_folder not in installed)
        # The same as os.path.realpath(path), one lstat for the file instead of one per folder in it:
        # a file that links to the user's code is the user's. `flit install --symlink` links a
        # package's folder (its real path says so) or a lone module's file, which sits right in a
        # site-packages directory; any other file in a library's folder (a package's, the standard
        # library's) is that library's, as its other files are (never hashed, never bundled), so it
        # costs nothing more: most modules are such files.
        if known[2]:
            continue
        if os.path.islink(path):
            real = os.path.realpath(path)
            library = _inside(real, roots)
        else:
            real, library = os.path.join(known[0], base), known[1]
        if not library and os.path.isfile(real):
            found[name] = real
    return dict(sorted(found.items()))
