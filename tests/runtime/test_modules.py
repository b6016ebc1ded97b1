"""Which imported modules are the user's own code (the local cache key, compile's outside-import check)."""

from __future__ import annotations

import os
import sys
import types

import pytest

from dagml.runtime import modules


def _file(path, text: str = "X = 1\n") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A library root ``lib`` (what site-packages is) and the user's folder ``user``, with links."""
    lib, user = tmp_path / "lib", tmp_path / "user"
    files = {
        "mine": _file(user / "mine.py"),
        "libpkg.inner": _file(lib / "libpkg" / "inner.py"),
        "lone": _file(user / "lone_src.py"),
        "linkedpkg": _file(user / "linkedpkg" / "__init__.py"),
    }
    os.symlink(user / "lone_src.py", lib / "lone.py")  # flit install --symlink of a lone module
    os.symlink(user / "linkedpkg", lib / "linkedpkg")  # ... and of a package
    os.symlink(user, tmp_path / "via")  # the user's folder on sys.path through a link
    roots = (*modules.library_roots(), os.path.realpath(lib))
    monkeypatch.setattr(modules, "library_roots", lambda: roots)
    installed = modules._install_roots() | {os.path.realpath(lib)}  # lib is a site-packages
    monkeypatch.setattr(modules, "_install_roots", lambda: installed)
    imported = {
        "mine": str(tmp_path / "via" / "mine.py"),
        "libpkg.inner": files["libpkg.inner"],
        "lone": str(lib / "lone.py"),
        "linkedpkg": str(lib / "linkedpkg" / "__init__.py"),
        "compiled": str(lib / "compiled.so"),
    }
    for name, path in imported.items():
        module = types.ModuleType(name)
        module.__file__ = path
        monkeypatch.setitem(sys.modules, name, module)
    return files


def test_the_users_modules_are_named_by_their_real_paths(tree):
    found = modules.user_modules()
    assert found["mine"] == os.path.realpath(tree["mine"])  # reached through a linked folder
    assert found["lone"] == os.path.realpath(tree["lone"])  # a link in a library root to the user's file
    assert found["linkedpkg"] == os.path.realpath(tree["linkedpkg"])  # a linked package folder
    assert "libpkg.inner" not in found and "compiled" not in found  # a library's module; not a .py file
    assert not any(name.startswith(("dagml", "networkx", "attr")) for name in found)


@pytest.mark.parametrize(
    "rel",
    ["user", "via", "via/sub", "user/sub/../sub", "via/../user/sub", "loop_to_via/sub", "lib", "."],
)
def test_a_folders_real_path_is_os_path_realpaths(tmp_path, rel):
    (tmp_path / "user" / "sub").mkdir(parents=True)
    (tmp_path / "lib").mkdir()
    os.symlink(tmp_path / "user", tmp_path / "via")
    os.symlink("via", tmp_path / "loop_to_via")  # a relative link to a link
    folder = os.path.join(str(tmp_path), rel)
    assert modules._realpath(folder, {}) == os.path.realpath(folder)
