"""The step bootstrap (dagml/runtime/bootstrap.py, shipped as dagml_entry.py): its functions, called directly."""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import subprocess
import sys
import tarfile

import pytest

import dagml.runtime.entry
from dagml import contract
from dagml.runtime import bootstrap, bundle
from dagml.runtime.bootstrap import BootstrapError
from dagml.sagemaker import images

from ..conftest import EXAMPLES

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")


# ---------------------------------------------------------------- the values it restates, and what ships


def test_the_bootstrap_restates_dagmls_own_values():
    """It runs before dagml is importable, so it repeats them; they must not drift apart."""
    assert bootstrap.BUNDLE_NAME == contract.BUNDLE_NAME
    assert (bootstrap.FAILURE_FILE, bootstrap.MESSAGE_FILE) == (contract.FAILURE_FILE, contract.MESSAGE_FILE)
    assert bootstrap.ENTRY_SCRIPT == contract.ENTRY_SCRIPT
    assert bootstrap.ROOT_ENV == contract.ROOT_ENV
    assert bootstrap.DEFAULT_ROOT == contract.DEFAULT_ROOT
    assert bootstrap.RUNTIME_PYTHON == bundle.RUNTIME_PYTHON == images.RUNTIME_PYTHON
    assert set(bootstrap.NEEDS) <= set(bundle.VENDORED)


def test_the_bundle_ships_the_bootstrap_module_as_it_is():
    with open(bootstrap.__file__, encoding="utf-8") as handle:
        source = handle.read()
    built = bundle.make_bundle(IRIS)
    assert built.file(contract.ENTRY_SCRIPT) == source.encode("utf-8")
    inference = built.file(contract.INFERENCE_SCRIPT).decode("utf-8")
    assert (
        inference.startswith(source)
        and "from dagml.runtime.inference import model_fn, transform_fn" in inference
    )


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("BUNDLE_NAME", "code.tar.gz", "BUNDLE_NAME is 'code.tar.gz', not 'sourcedir.tar.gz'"),
        ("RUNTIME_PYTHON", (3, 9), "RUNTIME_PYTHON is (3, 9), not (3, 10)"),
        ("NEEDS", ("attr", "numpy"), "NEEDS names 'numpy', not in VENDORED"),
    ],
)
def test_building_the_entry_script_refuses_a_bootstrap_out_of_step_with_dagml(monkeypatch, name, value, says):
    monkeypatch.setattr(bootstrap, name, value)
    monkeypatch.setattr(bundle, "_SEGMENTS", {})
    with pytest.raises(RuntimeError, match="internal error") as raised:
        bundle.make_bundle(IRIS).data  # noqa: B018 - assembling the archive is what checks
    assert says in str(raised.value)


# ---------------------------------------------------------------- the Python check


def test_an_older_python_is_refused_first_and_the_reason_written_where_sagemaker_reads_it(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.setattr(bootstrap, "RUNTIME_PYTHON", (sys.version_info[0], sys.version_info[1] + 1))
    root = tmp_path / "ml"
    monkeypatch.setenv(bootstrap.ROOT_ENV, str(root))
    code = tmp_path / "code"
    code.mkdir()
    (code / bootstrap.BUNDLE_NAME).write_bytes(_archive({"dagml/__init__.py": b""}))

    assert bootstrap.main(str(code / bootstrap.ENTRY_SCRIPT)) == 1

    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    newer = f"{sys.version_info[0]}.{sys.version_info[1] + 1}"
    reason = (root / "output" / "failure").read_text(encoding="utf-8")
    assert reason == (
        f"dagml bootstrap: this image runs Python {running}, but dagml's step runtime needs Python >= {newer}. "
        "Fix: compile with a newer framework_version (dagml compile refuses the known older ones) or an "
        f"image_uri whose Python is {newer} or newer."
    )
    # output/failure is a training job's FailureReason, output/message a processing job's ExitMessage
    assert (root / "output" / "message").read_text(encoding="utf-8") == reason
    assert capsys.readouterr().err == reason + "\n"
    assert sorted(os.listdir(code)) == [bootstrap.BUNDLE_NAME]  # checked before extracting anything


def test_the_python_check_accepts_the_floor_itself_and_refuses_below_it(monkeypatch):
    running = tuple(sys.version_info[:2])
    monkeypatch.setattr(bootstrap, "RUNTIME_PYTHON", running)
    bootstrap._check_python()  # Python == the floor is fine
    monkeypatch.setattr(bootstrap, "RUNTIME_PYTHON", (running[0], running[1] + 1))
    with pytest.raises(BootstrapError, match=r"^dagml bootstrap: this image runs Python"):
        bootstrap._check_python()


def _older_pythons() -> list:
    """Every CPython 3.6 up to the runtime's floor installed here (the container bed finds Pythons the same way)."""
    from tests.containers.envs import BedSetupError, find_python

    found = []
    for minor in range(6, bootstrap.RUNTIME_PYTHON[1]):
        try:
            found.append(pytest.param(find_python(f"3.{minor}"), id=f"3.{minor}"))
        except BedSetupError:
            found.append(
                pytest.param("", id=f"3.{minor}", marks=pytest.mark.skip(reason=f"no python3.{minor}"))
            )
    return found


@pytest.mark.parametrize("python", _older_pythons())
@pytest.mark.parametrize("script", [contract.ENTRY_SCRIPT, contract.INFERENCE_SCRIPT])
def test_the_shipped_scripts_refuse_an_older_python_from_its_own_interpreter(tmp_path, python, script):
    """An image_uri may run Python 3.6 to 3.9: the bootstrap must still parse there, and say why it stops."""
    code = tmp_path / "code"
    bundle.make_bundle(IRIS).write(str(code))
    (code / contract.INFERENCE_SCRIPT).write_bytes(bundle.INFERENCE_SOURCE.encode("utf-8"))
    root = tmp_path / "ml"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env[contract.ROOT_ENV] = str(root)
    if script == contract.ENTRY_SCRIPT:
        command = [python, str(code / script), "--mode", "processing", "--target", "x.py", "--step", "s"]
    else:  # the serving container imports SAGEMAKER_PROGRAM
        command = [python, "-c", "import dagml_inference"]
    done = subprocess.run(
        command, cwd=code, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, done.stderr
    probe = [python, "-c", "import sys; print('.'.join(map(str, sys.version_info[:2])))"]
    running = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
    needed = ".".join(map(str, bootstrap.RUNTIME_PYTHON))
    reason = (root / "output" / "failure").read_text(encoding="utf-8")
    assert reason.startswith(
        f"dagml bootstrap: this image runs Python {running}, but dagml's step runtime needs Python >= {needed}."
    )
    assert (root / "output" / "message").read_text(encoding="utf-8") == reason
    assert "SyntaxError" not in done.stderr
    assert sorted(os.listdir(code)) == sorted(
        [contract.ENTRY_SCRIPT, contract.BUNDLE_NAME, contract.INFERENCE_SCRIPT]
    )


# ---------------------------------------------------------------- extracting the archive


def _archive(files: dict[str, bytes], extra: tuple[tarfile.TarInfo, ...] = ()) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for info in extra:
            tar.addfile(info)
    return raw.getvalue()


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _tree(top: str | os.PathLike[str]) -> dict[str, bytes]:
    """Every file under ``top``: relative path -> contents."""
    return {
        path.relative_to(top).as_posix(): path.read_bytes()
        for path in pathlib.Path(top).rglob("*")
        if path.is_file()
    }


def test_extract_writes_files_and_directories_inside_the_target(tmp_path):
    archive = tmp_path / "bundle.tar.gz"
    archive.write_bytes(
        _archive(
            {"./flow.py": b"A = 1\n", "dagml/__init__.py": b"", "pkg//deep/mod.py": b"B = 2\n"},
            extra=(_special("empty", tarfile.DIRTYPE), _special(".", tarfile.DIRTYPE)),
        )
    )
    dest = tmp_path / "out"
    dest.mkdir()
    bootstrap._extract(str(archive), str(dest))
    assert _tree(dest) == {"flow.py": b"A = 1\n", "dagml/__init__.py": b"", "pkg/deep/mod.py": b"B = 2\n"}
    assert (dest / "empty").is_dir()


@pytest.mark.parametrize(
    "bad, says",
    [
        (_special("../escaped.py", tarfile.REGTYPE), "points outside the extraction directory"),
        (_special("pkg/../../escaped.py", tarfile.REGTYPE), "points outside the extraction directory"),
        (_special("/etc/escaped.py", tarfile.REGTYPE), "points outside the extraction directory"),
        (_special("..\\escaped.py", tarfile.REGTYPE), "points outside the extraction directory"),
        (_special("C:escaped.py", tarfile.REGTYPE), "points outside the extraction directory"),
        (_special("link.py", tarfile.SYMTYPE, "/etc/passwd"), "is a link or special file"),
        (_special("hard.py", tarfile.LNKTYPE, "flow.py"), "is a link or special file"),
        (_special("pipe", tarfile.FIFOTYPE), "is a link or special file"),
    ],
    ids=["parent", "parent-inside", "absolute", "backslash", "drive", "symlink", "hardlink", "fifo"],
)
def test_extract_refuses_a_member_that_escapes_or_is_not_a_plain_file_and_writes_nothing(tmp_path, bad, says):
    archive = tmp_path / "bundle.tar.gz"
    archive.write_bytes(_archive({"flow.py": b"A = 1\n"}, extra=(bad,)))  # a good member comes first
    dest = tmp_path / "out" / "inner"
    dest.mkdir(parents=True)
    with pytest.raises(BootstrapError) as raised:
        bootstrap._extract(str(archive), str(dest))
    message = str(raised.value)
    assert message.startswith(f"dagml bootstrap: refusing {archive}: member {bad.name!r} {says}")
    assert "Fix: rebuild the bundle with dagml.runtime.bundle.make_bundle." in message
    assert _tree(tmp_path / "out") == {}  # every member is checked before anything is written


# ---------------------------------------------------------------- finding or making the bundle root


def test_an_extracted_bundle_next_to_the_script_is_used_as_it_is(tmp_path):
    (tmp_path / "dagml").mkdir()  # training and serving: the toolkit extracted sourcedir.tar.gz here
    (tmp_path / bootstrap.BUNDLE_NAME).write_bytes(b"not even an archive")
    assert bootstrap._bundle_root(str(tmp_path / "dagml_entry.py")) == str(tmp_path)


def test_without_a_bundle_the_error_says_what_to_upload(tmp_path):
    script = str(tmp_path / "dagml_entry.py")
    with pytest.raises(BootstrapError) as raised:
        bootstrap._bundle_root(script)
    assert str(raised.value) == (
        f"dagml bootstrap: neither a dagml/ package nor sourcedir.tar.gz is next to {script}. Fix: upload both "
        "dagml_entry.py and sourcedir.tar.gz to the step's code location."
    )


def _processing_code_dir(tmp_path: pathlib.Path) -> tuple[str, str]:
    """A processing code dir, the archive beside the script: (the script, where the bundle should land)."""
    code = tmp_path / "code"
    code.mkdir()
    data = _archive({"dagml/__init__.py": b"X = 1\n", "attr/__init__.py": b"", "networkx/__init__.py": b""})
    (code / bootstrap.BUNDLE_NAME).write_bytes(data)
    dest = str(code / ("dagml-bundle-" + hashlib.sha256(data).hexdigest()[:16]))
    return str(code / "dagml_entry.py"), dest


def test_a_processing_bundle_is_extracted_once_next_to_the_script_under_its_hash(tmp_path):
    script, dest = _processing_code_dir(tmp_path)
    assert bootstrap._bundle_root(script) == dest
    assert _tree(dest)["dagml/__init__.py"] == b"X = 1\n"
    assert oct(os.stat(dest).st_mode & 0o777) == oct(0o755)
    marker = pathlib.Path(dest, "dagml", "marker")
    marker.touch()
    assert bootstrap._bundle_root(script) == dest  # the second run reuses it
    assert marker.exists()
    assert sorted(os.listdir(tmp_path / "code")) == sorted([bootstrap.BUNDLE_NAME, os.path.basename(dest)])


def test_a_read_only_code_dir_extracts_into_the_temporary_directory(tmp_path, monkeypatch):
    script, dest = _processing_code_dir(tmp_path)
    here = os.path.dirname(script)
    real_mkdtemp = bootstrap.tempfile.mkdtemp

    def mkdtemp(**kwargs: str) -> str:
        if kwargs["dir"] == here:
            raise PermissionError(13, "Read-only file system", here)
        return real_mkdtemp(**kwargs)

    monkeypatch.setattr(bootstrap.tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(bootstrap.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    got = bootstrap._bundle_root(script)
    assert got == str(tmp_path / "tmp" / os.path.basename(dest))
    assert _tree(got)["dagml/__init__.py"] == b"X = 1\n"
    assert sorted(os.listdir(here)) == [bootstrap.BUNDLE_NAME]


def test_a_bundle_another_process_extracted_meanwhile_is_used_and_the_copy_removed(tmp_path, monkeypatch):
    script, dest = _processing_code_dir(tmp_path)
    real_extract = bootstrap._extract

    def racing_extract(archive: str, staging: str) -> None:
        real_extract(archive, staging)
        real_extract(archive, dest)  # the other process renamed its copy into place first

    monkeypatch.setattr(bootstrap, "_extract", racing_extract)
    assert bootstrap._bundle_root(script) == dest
    assert sorted(os.listdir(os.path.dirname(script))) == sorted(
        [bootstrap.BUNDLE_NAME, os.path.basename(dest)]
    )


# ---------------------------------------------------------------- setup and main


def test_setup_puts_the_bundle_first_on_sys_path_once(tmp_path, monkeypatch):
    script, dest = _processing_code_dir(tmp_path)
    monkeypatch.setattr(sys, "path", [*sys.path, dest])  # there already, but not first
    assert bootstrap.setup(script) == dest
    assert bootstrap.setup(script) == dest
    assert sys.path[0] == dest and sys.path.count(dest) == 1


def test_setup_refuses_a_bundle_without_the_vendored_libraries(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "dagml").mkdir()
    (tmp_path / "attr").mkdir()
    with pytest.raises(BootstrapError) as raised:
        bootstrap.setup(str(tmp_path / "dagml_entry.py"))
    assert str(raised.value) == (
        f"dagml bootstrap: the code bundle in {tmp_path} lacks networkx, which dagml vendors into it. "
        "Fix: recompile and redeploy the pipeline with dagml."
    )


def test_main_hands_over_to_dagmls_runtime_and_returns_its_status(tmp_path, monkeypatch):
    script, dest = _processing_code_dir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(dagml.runtime.entry, "main", lambda: 7)
    assert bootstrap.main(script) == 7
    assert sys.path[0] == dest


def test_main_reports_a_bootstrap_failure_and_returns_1(tmp_path, monkeypatch, capsys):
    root = tmp_path / "ml"
    monkeypatch.setenv(bootstrap.ROOT_ENV, str(root))
    monkeypatch.setattr(dagml.runtime.entry, "main", lambda: pytest.fail("the runtime must not run"))
    assert bootstrap.main(str(tmp_path / "dagml_entry.py")) == 1
    reason = (root / "output" / "failure").read_text(encoding="utf-8")
    assert reason.startswith("dagml bootstrap: neither a dagml/ package nor sourcedir.tar.gz")
    assert capsys.readouterr().err == reason + "\n"


# ---------------------------------------------------------------- the failure report


def test_the_failure_report_is_cut_to_1024_bytes_without_splitting_a_character(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(bootstrap.ROOT_ENV, str(tmp_path / "ml"))
    message = "x" + "€" * 400  # 1201 bytes of UTF-8
    bootstrap._report_failure(message)
    for name in ("failure", "message"):
        written = (tmp_path / "ml" / "output" / name).read_bytes()
        assert len(written) == 1 + 3 * 341 and written.decode("utf-8") == message[:342]
    assert capsys.readouterr().err == message + "\n"  # the log gets all of it


def test_a_failure_report_that_cannot_be_written_is_still_printed(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "ml"
    blocker.write_text("a file where the job's directory should be")
    monkeypatch.setenv(bootstrap.ROOT_ENV, str(blocker))
    bootstrap._report_failure("dagml bootstrap: no writable directory")
    assert capsys.readouterr().err == "dagml bootstrap: no writable directory\n"
    assert blocker.read_text() == "a file where the job's directory should be"


@pytest.mark.parametrize("value", [None, ""])
def test_without_the_root_variable_the_report_goes_to_opt_ml(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(bootstrap.ROOT_ENV, raising=False)
    else:
        monkeypatch.setenv(bootstrap.ROOT_ENV, value)
    made = []

    def makedirs(path: str, exist_ok: bool) -> None:
        made.append(path)
        raise PermissionError(13, "Permission denied", path)  # never write to this machine's /opt/ml

    with monkeypatch.context() as patch:
        patch.setattr(bootstrap.os, "makedirs", makedirs)
        bootstrap._report_failure("x")
    assert made == ["/opt/ml/output", "/opt/ml/output"]
