"""The code bundle: contents, determinism, limits, and the bootstrap scripts."""

from __future__ import annotations

import ast
import gzip
import io
import os
import pickle
import shutil
import subprocess
import sys
import tarfile

import attrs
import pytest
import tomllib

from dagml import DagmlError
from dagml.contract import BUNDLE_NAME, ENTRY_SCRIPT, INFERENCE_SCRIPT, ROOT_ENV
from dagml.runtime.bundle import BundleError, code_root, make_bundle, python_satisfies

from ..conftest import EXAMPLES, ROOT

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")


def _tree(base: str, files: dict[str, str]) -> str:
    for rel, text in files.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    return base


def _members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return tar.getmembers()


USER_TREE = {
    "flow.py": "from helpers.util import VALUE\n",
    "helpers/__init__.py": "",
    "helpers/util.py": "VALUE = 1\n",
    "data/table.csv": "1,2\n",
    ".hidden/secret.py": "X = 1\n",
    "__pycache__/flow.cpython-311.py": "",
    ".venv/lib/mod.py": "",
    "venv/lib/mod.py": "",
    "node_modules/x/y.py": "",
    "lib/site-packages/z.py": "",
    "dagml/__init__.py": "SHADOW = True\n",
}


def test_bundle_holds_dagml_the_bootstraps_and_the_users_python_files(tmp_path):
    root = _tree(str(tmp_path / "proj"), USER_TREE)
    bundle = make_bundle(os.path.join(root, "flow.py"), "pipe")
    names = set(bundle.names)
    assert bundle.target == "flow.py:pipe"
    assert {"flow.py", "helpers/__init__.py", "helpers/util.py", ENTRY_SCRIPT, INFERENCE_SCRIPT} <= names
    assert {"dagml/__init__.py", "dagml/py.typed", "dagml/runtime/entry.py", "dagml/contract.py"} <= names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert not any(n.startswith((".hidden", ".venv", "venv/", "node_modules", "lib/", "data/")) for n in names)
    assert bundle.file("dagml/__init__.py") != b"SHADOW = True\n"  # the user's dagml/ dir is skipped
    assert list(bundle.names) == sorted(bundle.names)
    assert [m.name for m in _members(bundle.data)] == list(bundle.names)


def test_archive_entries_carry_no_time_owner_or_umask(tmp_path):
    root = _tree(str(tmp_path / "proj"), {"flow.py": "X = 1\n"})
    os.chmod(os.path.join(root, "flow.py"), 0o600)
    bundle = make_bundle(os.path.join(root, "flow.py"))
    for member in _members(bundle.data):
        assert member.isfile()
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", "")
        assert member.mode == 0o644
    header = bundle.data[:10]
    assert header[4:8] == b"\0\0\0\0"  # gzip mtime
    assert not header[3] & 0x08  # no embedded file name
    assert gzip.decompress(bundle.data)  # a valid gzip stream


def test_same_tree_at_two_paths_gives_the_same_bytes_and_a_change_changes_them(tmp_path):
    first = str(tmp_path / "a" / "copy")
    second = str(tmp_path / "b" / "deeper" / "other")
    shutil.copytree(EXAMPLES, first)
    shutil.copytree(EXAMPLES, second)
    os.utime(os.path.join(second, "iris_pipeline.py"), (1_000_000, 1_000_000))
    one = make_bundle(os.path.join(first, "iris_pipeline.py"))
    two = make_bundle(os.path.join(second, "iris_pipeline.py"))
    assert one.sha256 == two.sha256 and one.data == two.data and one == two
    with open(os.path.join(second, "iris_pipeline.py"), "a") as handle:
        handle.write("\n# changed\n")
    assert make_bundle(os.path.join(second, "iris_pipeline.py")).sha256 != one.sha256


def test_a_file_inside_a_package_bundles_from_the_parent_of_the_top_package(tmp_path):
    root = _tree(
        str(tmp_path / "proj"),
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/flows.py": "from ..shared import X\n",
            "pkg/shared.py": "X = 1\n",
            "tools.py": "",
        },
    )
    path = os.path.join(root, "pkg", "sub", "flows.py")
    assert code_root(path) == root
    bundle = make_bundle(path, "pipe")
    assert bundle.target == "pkg/sub/flows.py:pipe"
    assert {"pkg/__init__.py", "pkg/sub/flows.py", "pkg/shared.py", "tools.py"} <= set(bundle.names)


def test_an_oversized_bundle_is_refused_naming_the_biggest_files(tmp_path):
    root = _tree(str(tmp_path / "proj"), {"flow.py": "X = 1\n", "blob.py": "# " + os.urandom(40_000).hex() + "\n"})
    with pytest.raises(BundleError) as info:
        make_bundle(os.path.join(root, "flow.py"), max_bytes=20_000)
    assert isinstance(info.value, DagmlError) and isinstance(info.value, ValueError)
    assert "blob.py" in str(info.value) and "Fix:" in str(info.value)


def test_symlinks_and_what_they_point_at_outside_the_project_are_not_bundled(tmp_path):
    root = _tree(str(tmp_path / "proj"), {"flow.py": "", "real.py": "R = 1\n"})
    outside = _tree(str(tmp_path / "elsewhere"), {"secret.txt": "password\n", "lib/leak.py": "LEAK = 1\n"})
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(root, "x.py"))
    os.symlink(os.path.join(root, "real.py"), os.path.join(root, "alias.py"))
    os.symlink(os.path.join(outside, "lib"), os.path.join(root, "linked"))
    bundle = make_bundle(os.path.join(root, "flow.py"))
    users = {n for n in bundle.names if n in ("flow.py", "real.py", "x.py", "alias.py") or n.startswith("linked")}
    assert users == {"flow.py", "real.py"}
    assert not any(b"password" in content or b"LEAK" in content for _, content in bundle.files)


def test_a_virtualenv_under_any_name_is_not_bundled(tmp_path):
    root = _tree(
        str(tmp_path / "proj"),
        {"flow.py": "", "env/pyvenv.cfg": "home = /usr/bin\n", "env/lib/python3.11/site.py": "", "envy/ok.py": ""},
    )
    names = set(make_bundle(os.path.join(root, "flow.py")).names)
    assert "envy/ok.py" in names and not any(n.startswith("env/") for n in names)


def test_include_and_exclude_patterns_choose_the_users_files(tmp_path):
    root = _tree(
        str(tmp_path / "proj"),
        {
            "flow.py": "",
            "conf/model.yaml": "depth: 3\n",
            "conf/notes.txt": "",
            "scripts/tool.py": "",
            "scripts/deep/more.py": "",
            "notebooks/a/explore.py": "",
            "lib/util.py": "",
        },
    )
    bundle = make_bundle(
        os.path.join(root, "flow.py"),
        include=["conf/*.yaml", "nothing/*.csv"],  # a pattern that matches nothing is fine
        exclude=["scripts/*", "notebooks/**", "flow.py"],  # the pipeline file always ships
    )
    users = {n for n in bundle.names if n.split("/")[0] in ("flow.py", "conf", "scripts", "notebooks", "lib")}
    assert users == {"flow.py", "conf/model.yaml", "lib/util.py"}
    assert bundle.file("conf/model.yaml") == b"depth: 3\n"
    assert make_bundle(os.path.join(root, "flow.py")).names != bundle.names


@pytest.mark.parametrize("pattern", ["../elsewhere/*", "/etc/*", "conf/../../x", ""])
def test_a_pattern_reaching_outside_the_project_is_refused(tmp_path, pattern):
    root = _tree(str(tmp_path / "proj"), {"flow.py": ""})
    for setting in ("include", "exclude"):
        with pytest.raises(BundleError, match=r"pattern.*Fix:") as info:
            make_bundle(os.path.join(root, "flow.py"), **{setting: [pattern]})
        assert isinstance(info.value, ValueError)


def test_an_include_pattern_matching_a_reserved_name_is_refused(tmp_path):
    root = _tree(str(tmp_path / "proj"), {"flow.py": "", "requirements.txt": "scikit-learn\n", "conf/a.txt": ""})
    with pytest.raises(BundleError, match=r"'requirements.txt' is a name the code bundle.*reserves.*Fix:"):
        make_bundle(os.path.join(root, "flow.py"), include=["*.txt"])
    assert "conf/a.txt" in make_bundle(os.path.join(root, "flow.py"), include=["conf/*.txt"]).names
    with pytest.raises(BundleError, match="not a list"):
        make_bundle(os.path.join(root, "flow.py"), include="conf/*.txt")  # type: ignore[arg-type]


def test_a_user_file_named_like_a_bootstrap_is_refused(tmp_path):
    root = _tree(str(tmp_path / "proj"), {"flow.py": "", ENTRY_SCRIPT: ""})
    with pytest.raises(BundleError, match=ENTRY_SCRIPT):
        make_bundle(os.path.join(root, "flow.py"))


def test_missing_file_and_bad_attr_are_clear_errors(tmp_path):
    with pytest.raises(BundleError, match="no such pipeline file"):
        make_bundle(str(tmp_path / "nope.py"))
    with pytest.raises(BundleError, match="not a Python name"):
        make_bundle(IRIS, "not-a-name")


def test_nothing_in_the_bundle_makes_a_container_install_packages():
    """No requirements.txt (the training toolkit pip-installs it) and no setup.py (then it runs `pip install .`)."""
    bundle = make_bundle(IRIS)
    assert "requirements.txt" not in bundle.names and "setup.py" not in bundle.names
    pyproject = tomllib.loads(bundle.file("pyproject.toml").decode())
    assert pyproject["build-system"] == {"requires": [], "build-backend": "dagml_build", "backend-path": ["."]}
    assert {"attr/__init__.py", "attrs/__init__.py", "networkx/__init__.py"} <= set(bundle.names)


@pytest.mark.parametrize("name", ["requirements.txt", "setup.py", "pyproject.toml", "dagml_build.py"])
def test_a_user_file_that_would_change_the_install_is_refused(tmp_path, name):
    root = _tree(str(tmp_path / "proj"), {"flow.py": "", name: "# the user's\n"})
    if not name.endswith(".py"):
        # only *.py files are bundled: a requirements.txt or pyproject.toml beside the code is not shipped
        bundle = make_bundle(os.path.join(root, "flow.py"))
        assert name not in bundle.names or bundle.file(name) != b"# the user's\n"
        return
    with pytest.raises(BundleError, match=name):
        make_bundle(os.path.join(root, "flow.py"))


def test_the_in_tree_backend_builds_an_installable_wheel_offline(tmp_path):
    """What pip does with the bundle's pyproject.toml, without pip: call the backend, inspect the wheel."""
    import importlib.util
    import zipfile

    code = tmp_path / "code"
    code.mkdir()
    (code / "dagml_build.py").write_bytes(make_bundle(IRIS).file("dagml_build.py"))
    spec = importlib.util.spec_from_file_location("dagml_build_probe", code / "dagml_build.py")
    backend = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(backend)
    assert backend.get_requires_for_build_wheel() == []
    cwd = os.getcwd()
    os.chdir(code)
    try:
        name = backend.build_wheel(str(tmp_path))
    finally:
        os.chdir(cwd)
    with zipfile.ZipFile(tmp_path / name) as wheel:
        assert wheel.read("dagml_step_code.pth").decode() == str(code) + "\n"
        stand_in = wheel.read("dagml_inference.py").decode()
        record = wheel.read("dagml_step_code-0.dist-info/RECORD").decode()
    assert repr(str(code / "dagml_inference.py")) in stand_in
    assert "dagml_inference.py,sha256=" in record


@pytest.mark.parametrize(
    "python, requires, ok",
    [
        ((3, 10), ">=3.10", True),
        ((3, 10), ">=3.11", False),
        ((3, 9), ">=3.9,<4", True),
        ((3, 12), "!=3.12.*", False),
        ((3, 10), ">3.9.1", True),
        ((3, 9), ">3.9.1", True),
        ((3, 9), ">3.9", False),
        ((3, 10), "", True),
    ],
)
def test_requires_python_is_read_like_pip(python, requires, ok):
    assert python_satisfies(python, requires) is ok


def test_a_vendored_library_too_new_for_the_image_is_a_clear_error():
    bundle = make_bundle(IRIS)
    names = {name for name, _, _ in bundle.vendored}
    assert names == {"attrs", "networkx"}
    bundle.check_python((3, 10), "pipeline 'iris-classifier'")  # what dagml installs supports the image
    too_new = attrs.evolve(bundle, vendored=(("networkx", "3.6", ">=3.11"),))
    with pytest.raises(BundleError, match=r"vendors networkx 3.6.*Python >=3.11.*Python 3.10.*Fix:"):
        too_new.check_python((3, 10), "pipeline 'iris-classifier'")


@pytest.mark.parametrize("script", [ENTRY_SCRIPT, INFERENCE_SCRIPT])
def test_bootstrap_scripts_import_only_the_standard_library(script):
    tree = ast.parse(make_bundle(IRIS).file(script))
    top = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            top |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            top.add(node.module.split(".")[0])
    assert top - {"dagml"} <= set(sys.stdlib_module_names)


def _bootstrap(code_dir: str, root: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env[ROOT_ENV] = root
    args = ["--mode", "processing", "--target", "flow.py", "--step", "where"]
    script = os.path.join(code_dir, ENTRY_SCRIPT)
    return subprocess.run(
        [sys.executable, script, *args], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )


def test_processing_bootstrap_extracts_the_bundle_and_imports_dagml_from_it(tmp_path):
    project = _tree(
        str(tmp_path / "proj"),
        {
            "flow.py": (
                "from dagml import Pipeline\n"
                "pipe = Pipeline('probe')\n"
                "@pipe.step(metrics=False)\n"
                "def where():\n"
                "    import dagml, sys\n"
                "    return dagml.__file__\n"
            )
        },
    )
    root = str(tmp_path / "ml")
    code = os.path.join(root, "processing", "input", "code")
    make_bundle(os.path.join(project, "flow.py")).write(code)
    assert sorted(os.listdir(code)) == [ENTRY_SCRIPT, BUNDLE_NAME]
    for _ in range(2):  # the second run reuses the extracted bundle
        result = _bootstrap(code, root)
        assert result.returncode == 0, result.stderr
        with open(os.path.join(root, "processing", "output", "output.pkl"), "rb") as handle:
            where = pickle.load(handle)
        assert os.path.realpath(where).startswith(os.path.realpath(code) + os.sep)
        assert not os.path.realpath(where).startswith(os.path.realpath(ROOT) + os.sep)


def test_bootstrap_refuses_a_bundle_that_escapes_its_directory(tmp_path):
    root = str(tmp_path / "ml")
    code = os.path.join(root, "processing", "input", "code")
    os.makedirs(code)
    with open(os.path.join(code, ENTRY_SCRIPT), "wb") as handle:
        handle.write(make_bundle(IRIS).file(ENTRY_SCRIPT))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escaped.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"#"))
    with open(os.path.join(code, BUNDLE_NAME), "wb") as handle:
        handle.write(raw.getvalue())
    result = _bootstrap(code, root)
    assert result.returncode == 1
    assert not os.path.exists(os.path.join(root, "processing", "input", "escaped.py"))
    with open(os.path.join(root, "output", "failure")) as handle:
        reason = handle.read()
    assert "../escaped.py" in reason and "Fix:" in reason


def test_bootstrap_without_a_bundle_says_what_to_upload(tmp_path):
    root = str(tmp_path / "ml")
    code = os.path.join(root, "processing", "input", "code")
    os.makedirs(code)
    with open(os.path.join(code, ENTRY_SCRIPT), "wb") as handle:
        handle.write(make_bundle(IRIS).file(ENTRY_SCRIPT))
    result = _bootstrap(code, root)
    assert result.returncode == 1 and BUNDLE_NAME in result.stderr


def test_dagmls_dependencies_ship_inside_the_bundle():
    """SageMaker's framework images lack networkx and attrs, and jobs may have no PyPI access."""
    import os

    from dagml.runtime.bundle import make_bundle
    from tests.conftest import EXAMPLES

    names = set(make_bundle(os.path.join(EXAMPLES, "iris_pipeline.py")).names)
    assert {"networkx/__init__.py", "attr/__init__.py", "attrs/__init__.py", "dagml/__init__.py"} <= names
    assert not any("/tests/" in n for n in names if n.startswith("networkx/"))


def _tarfile_stream(files: tuple[tuple[str, bytes], ...]) -> bytes:
    """What the tarfile module writes for these files, with the bundle's normalised headers."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(content))
    return raw.getvalue()


def test_the_archive_is_one_gzip_member_holding_tarfiles_own_stream(tmp_path):
    """Installed packages are compressed once per process and spliced in: the result is still
    one ordinary gzip stream (readable in tarfile's streaming mode) of the usual tar bytes."""
    root = _tree(str(tmp_path / "proj"), {"flow.py": "X = 1\n", "zzz/late.py": "Y = 2\n"})
    first = make_bundle(os.path.join(root, "flow.py"))
    again = make_bundle(os.path.join(root, "flow.py"))
    assert again.data == first.data
    assert gzip.decompress(first.data) == _tarfile_stream(first.files)
    with tarfile.open(fileobj=io.BytesIO(first.data), mode="r|gz") as tar:
        assert [m.name for m in tar] == list(first.names)
    assert _gzip_members(first.data) == 1


def _gzip_members(data: bytes) -> int:
    import zlib

    count = 0
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        d.decompress(data)
        assert d.eof
        data = d.unused_data
        count += 1
    return count


def test_a_cached_package_is_re_read_when_its_files_change(tmp_path):
    from dagml.runtime import bundle as bundle_module

    package = _tree(str(tmp_path / "site" / "pkg"), {"__init__.py": "A = 1\n", "sub/mod.py": "B = 2\n"})
    one = bundle_module._segment("pkg", package, frozenset(), frozenset())
    assert bundle_module._segment("pkg", package, frozenset(), frozenset()) is one
    path = os.path.join(package, "sub", "mod.py")
    with open(path, "w") as handle:
        handle.write("B = 3  # changed\n")
    os.utime(path, ns=(os.stat(path).st_mtime_ns + 10**9,) * 2)
    two = bundle_module._segment("pkg", package, frozenset(), frozenset())
    assert two is not one and dict(two.files)["pkg/sub/mod.py"] == b"B = 3  # changed\n"
