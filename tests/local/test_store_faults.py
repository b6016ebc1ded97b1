"""A broken run store or registry (issue 13): every fault of ``runs.db`` and ``registry.db`` is one
line that names the file, says what is wrong and ends with the fix, through the library and the CLI;
a file that is there is never replaced, so no history vanishes silently.

The full-disk tests use a real, small tmpfs (the test machines run as root; a missing permission
fails the test rather than skipping it); one more fills the database with SQLite's own
``max_page_count``. The permission tests run in a child process that drops to user ``nobody``
when the tests run as root (root reads any file, so a mode-000 file would not bite otherwise).
"""

import contextlib
import hashlib
import io
import json
import multiprocessing
import os
import sqlite3
import subprocess
import tempfile
import threading
import time

import pytest

from dagml.cli.main import build_parser, main
from dagml.errors import DagmlError
from dagml.local import home as home_module
from dagml.local import registry as registry_module
from dagml.local import store as store_module
from dagml.local.home import (
    StoreAccessError,
    StoreBusyError,
    StoreDatabaseError,
    StoreError,
    StoreFullError,
    StoreIOError,
)
from dagml.local.registry import ModelRegistry, RegistryBusyError, RegistryDatabaseError
from dagml.local.store import RunStore, StepRecord

GROUP = "Models"


def register(home, **overrides):
    kwargs = {
        "approval": "Approved",
        "metrics": {"accuracy": 0.9},
        "artifact": "/runs/r/steps/train/model.tar.gz",
        "pipeline": "flow",
        "run_id": "r",
        "step": "Register",
        "code_hash": "h",
        "description": "d" * 400,
    }
    kwargs.update(overrides)
    return ModelRegistry(home).register(GROUP, **kwargs)


def populate(home):
    """A store with 40 runs and a registry with 20 versions, checkpointed (no -wal left)."""
    store = RunStore(home)
    for i in range(40):
        store.new_run("flow", "flow.py", {"i": i, "pad": "x" * 400}, "h")
    store.close()
    for _ in range(20):
        register(home)
    for name in ("runs.db", "registry.db"):
        assert not os.path.exists(os.path.join(home, name + "-wal"))


@pytest.fixture
def home(tmp_path):
    path = str(tmp_path / "home")
    populate(path)
    return path


# ---------------------------------------------------------------- damaged files


def truncate(path):
    os.truncate(path, os.path.getsize(path) // 2)


def garbage(path):
    with open(path, "wb") as f:
        f.write(b"this is not a database\n" * 300)


def directory(path):
    os.remove(path)
    os.mkdir(path)


def empty(path):
    """Emptied an hour ago (a file changed in the last seconds may be another process's new database)."""
    os.truncate(path, 0)
    os.utime(path, (time.time() - 3600, time.time() - 3600))


DAMAGE = {"truncated": truncate, "not-a-database": garbage, "directory": directory, "empty": empty}

STORES = {
    # name -> (file, class raised, the library calls that must fail, CLI commands that must fail)
    "runs": (
        "runs.db",
        StoreDatabaseError,
        {"open": lambda h: RunStore(h)},  # opening checks the file: every later call needs it open
        [["runs", "list"], ["runs", "list", "--json"], ["runs", "show", "20260101-000000-abcdef"]],
    ),
    "registry": (
        "registry.db",
        RegistryDatabaseError,
        {
            "versions": lambda h: ModelRegistry(h).versions(),
            "get": lambda h: ModelRegistry(h).get(GROUP, 1),
            "latest": lambda h: ModelRegistry(h).latest(GROUP),
            "register": lambda h: register(h),
            "set_status": lambda h: ModelRegistry(h).set_status(GROUP, 1, "Rejected"),
        },
        [["models", "list"], ["models", "list", "--json"], ["models", "show", GROUP, "1"],
         ["models", "approve", GROUP, "1"]],
    ),
}


def snapshot(home):
    """Every entry of ``home`` (SQLite's -wal/-shm aside) with its content hash or listing."""
    out = {}
    for name in sorted(os.listdir(home)):
        path = os.path.join(home, name)
        if name.endswith(("-wal", "-shm")):
            continue
        if os.path.isdir(path):
            out[name] = sorted(os.listdir(path))
        else:
            with open(path, "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def assert_one_line_with_fix(message, path):
    assert "\n" not in message and "Traceback" not in message
    assert path in message, message
    assert "Fix: " in message and message.endswith("."), message


API_CASES = [(s, f, op) for s in STORES for f in DAMAGE for op in STORES[s][2]]
CLI_CASES = [
    pytest.param(s, f, tuple(cmd), id=f"{f}-{'-'.join(cmd)}")
    for s in STORES
    for f in DAMAGE
    for cmd in STORES[s][3]
]


@pytest.mark.parametrize("store, fault, op", API_CASES)
def test_a_damaged_database_is_a_clear_error_and_is_left_alone(home, store, fault, op):
    name, cls, ops, _ = STORES[store]
    path = os.path.join(home, name)
    DAMAGE[fault](path)
    before = snapshot(home)
    with pytest.raises(cls) as info:
        ops[op](home)
    err = info.value
    assert isinstance(err, StoreError) and isinstance(err, DagmlError) and isinstance(err, RuntimeError)
    assert (err.fault, err.path) == (fault, path)
    assert_one_line_with_fix(str(err), path)
    assert f"mv {path} {path}.broken" in str(err) and str(err).endswith("will start " + (
        "a new run history." if store == "runs" else "a new, empty registry."))
    assert snapshot(home) == before  # not recreated, not touched, nothing new beside it


@pytest.mark.parametrize("store, fault, cmd", CLI_CASES)
def test_the_cli_reports_a_damaged_database_in_one_line_and_exits_1(home, store, fault, cmd, capsys):
    name = STORES[store][0]
    path = os.path.join(home, name)
    DAMAGE[fault](path)
    before = snapshot(home)
    assert main([*cmd, "--home", home]) == 1
    out, err = capsys.readouterr()
    if "--json" in cmd:
        payload = json.loads(out)
        assert payload["ok"] is False and err == ""
        message = payload["error"]
    else:
        assert out == "" and err.startswith("error: ") and err.count("\n") == 1
        message = err[len("error: "):-1]
    assert_one_line_with_fix(message, path)
    assert "not a readable dagml" in message
    assert snapshot(home) == before


def test_a_zero_length_database_is_not_recreated_and_keeps_its_neighbour(home):
    """The old code treated an empty runs.db as a new store: history vanished without a word."""
    empty(os.path.join(home, "runs.db"))
    with pytest.raises(StoreDatabaseError, match="is empty"):
        RunStore(home)
    assert os.path.getsize(os.path.join(home, "runs.db")) == 0
    assert len(ModelRegistry(home).versions()) == 20  # the other store is unaffected
    empty(os.path.join(home, "registry.db"))
    with pytest.raises(RegistryDatabaseError, match="is empty"):
        register(home)
    assert os.path.getsize(os.path.join(home, "registry.db")) == 0


def test_a_fresh_zero_length_database_being_created_in_place_is_waited_for(home):
    """An older dagml (or a file system without hard links) creates the file first, then fills it."""
    path = os.path.join(home, "runs.db")
    os.rename(path, path + ".old")
    open(path, "wb").close()

    def creator():
        time.sleep(0.3)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.close()

    thread = threading.Thread(target=creator)
    thread.start()
    try:
        assert RunStore(home).runs() == []
    finally:
        thread.join()


def test_a_fresh_zero_length_database_that_stays_empty_is_reported(home, monkeypatch):
    monkeypatch.setattr(home_module, "_CREATING", 0.3)
    path = os.path.join(home, "registry.db")
    os.truncate(path, 0)
    started = time.monotonic()
    with pytest.raises(RegistryDatabaseError, match="is empty"):
        ModelRegistry(home).versions()
    assert 0.2 < time.monotonic() - started < 5
    assert os.path.getsize(path) == 0


def test_after_moving_the_damaged_file_aside_dagml_starts_a_new_history(home):
    path = os.path.join(home, "runs.db")
    garbage(path)
    with pytest.raises(StoreDatabaseError):
        RunStore(home)
    os.rename(path, path + ".broken")
    store = RunStore(home)
    assert store.runs() == []
    store.new_run("flow", "flow.py", {}, "h")
    assert len(store.runs()) == 1


def test_a_database_that_lost_its_tables_is_a_clear_error(home):
    db = sqlite3.connect(os.path.join(home, "runs.db"))
    db.execute("DROP TABLE runs")
    db.commit()
    db.close()
    with pytest.raises(StoreDatabaseError) as info:
        RunStore(home).runs()
    assert info.value.fault == "missing-tables" and "no such table: runs" in str(info.value)


def test_a_run_store_from_a_newer_dagml_is_refused(home):
    db = sqlite3.connect(os.path.join(home, "runs.db"))
    db.execute(f"PRAGMA user_version = {store_module.SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreDatabaseError, match="newer dagml .* Fix: upgrade dagml") as info:
        RunStore(home)
    assert info.value.fault == "newer-schema"


def test_a_home_that_is_a_file_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "home"
    path.write_text("not a directory")
    with pytest.raises(StoreIOError, match="is a file, not a directory") as info:
        RunStore(str(path))
    assert isinstance(info.value, OSError) and info.value.fault == "not-a-directory"
    assert main(["runs", "list", "--home", str(path)]) == 1
    assert main(["models", "list", "--home", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("error: ") == 2 and "Traceback" not in err


@pytest.mark.parametrize("name", ["runs.db", "registry.db"])
def test_a_write_ahead_log_left_without_its_database_is_not_replayed_into_a_new_one(home, name):
    """SQLite would apply the old log's pages to a freshly created file: refuse instead."""
    path = os.path.join(home, name)
    holder = sqlite3.connect(path, isolation_level=None)  # keeps the -wal alive
    try:
        holder.execute("PRAGMA wal_autocheckpoint = 0")
        holder.execute("CREATE TABLE extra (x)")
        holder.execute("INSERT INTO extra VALUES (1)")
        assert os.path.getsize(path + "-wal") > 0
        os.rename(path, path + ".moved")
        with pytest.raises(StoreDatabaseError) as info:
            RunStore(home) if name == "runs.db" else register(home)
        assert info.value.fault == "stale-wal"
        assert_one_line_with_fix(str(info.value), path)
        assert not os.path.exists(path)  # nothing created in its place
    finally:
        holder.close()


# ---------------------------------------------------------------- creation stays safe


def test_a_new_database_appears_only_complete(tmp_path, monkeypatch):
    """Built beside its name and linked into place: never visible empty or half-initialised."""
    home = str(tmp_path / "home")
    seen = []
    real = store_module._build

    def build(db):
        seen.append(os.path.exists(os.path.join(home, "runs.db")))
        real(db)

    monkeypatch.setattr(store_module, "_build", build)
    RunStore(home).close()
    assert seen == [False]
    assert sorted(os.listdir(home)) == ["runs.db"]  # no temporary file left behind


def test_a_valid_but_uninitialised_database_from_an_older_dagml_gets_its_schema(tmp_path):
    """Older dagml created runs.db in place: a header with no tables yet is a store to finish, not damage."""
    home = tmp_path / "home"
    home.mkdir()
    db = sqlite3.connect(home / "runs.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    assert RunStore(str(home)).runs() == []


def _open_and_write_when_released(home, barrier, index):
    barrier.wait(timeout=120)
    RunStore(home).new_run("flow", "flow.py", {"i": index}, "h")
    register(home, run_id=f"run-{index}")


def test_eight_processes_creating_both_databases_at_once_all_succeed(tmp_path):
    ctx = multiprocessing.get_context("fork")
    home = str(tmp_path / "home")
    barrier = ctx.Barrier(8)
    procs = [ctx.Process(target=_open_and_write_when_released, args=(home, barrier, i)) for i in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0] * 8
    assert len(RunStore(home).runs()) == 8
    assert [v.version for v in ModelRegistry(home).versions(GROUP)] == list(range(1, 9))
    left = sorted(n for n in os.listdir(home) if not n.endswith(("-wal", "-shm")))
    assert left == ["registry.db", "runs", "runs.db"]  # no temporary file left behind


# ---------------------------------------------------------------- locks


@pytest.fixture
def short_timeouts(monkeypatch):
    monkeypatch.setattr(store_module, "_BUSY_TIMEOUT", 0.2)
    monkeypatch.setattr(registry_module, "_BUSY_TIMEOUT", 0.05)
    monkeypatch.setattr(registry_module, "_ATTEMPTS", 2)
    monkeypatch.setattr(registry_module, "_BACKOFF", (0.001, 0.002))


@contextlib.contextmanager
def exclusive_lock(path):
    """Another process's lock that keeps readers out too (WAL readers are not blocked by writers)."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE held (x)")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("store", ["runs", "registry"])
def test_a_database_locked_past_the_timeout_is_a_clear_error(home, store, short_timeouts, capsys):
    name = STORES[store][0]
    path = os.path.join(home, name)
    cls = StoreBusyError if store == "runs" else RegistryBusyError
    with exclusive_lock(path):
        started = time.monotonic()
        with pytest.raises(cls) as info:
            RunStore(home).runs() if store == "runs" else ModelRegistry(home).versions()
        assert time.monotonic() - started < 10
        assert isinstance(info.value, TimeoutError)
        assert (info.value.fault, info.value.path) == ("locked", path)
        assert_one_line_with_fix(str(info.value), path)
        assert "stayed locked" in str(info.value)
        assert main([*STORES[store][3][0], "--home", home]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "stayed locked" in err
    assert (RunStore(home).runs() if store == "runs" else ModelRegistry(home).versions())  # history intact


def test_a_write_locked_past_the_timeout_says_how_to_resume(home, short_timeouts):
    store = RunStore(home)
    run_id = store.runs()[0].run_id
    holder = sqlite3.connect(os.path.join(home, "runs.db"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError) as info:
            store.set_step(run_id, StepRecord("train", "training", "running"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(info.value).endswith(f"then finish run {run_id} with `dagml run --resume {run_id}`.")
    store.set_step(run_id, StepRecord("train", "training", "running"))  # works once the lock is gone


# ---------------------------------------------------------------- full disk


def fill(path):
    """Write ``path`` until its disk is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"x" * 4096)
    finally:
        os.close(fd)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs."""
    mount = tmp_path / "disk"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, f"this test needs root to mount a tmpfs: {done.stderr}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def full_disk(small_disk):
    """A populated home on a small disk, then the disk filled up; yields (home, make_room)."""
    home = str(small_disk / "home")
    populate(home)
    fill(small_disk / "filler")
    assert os.statvfs(small_disk).f_bfree == 0
    return home, (small_disk / "filler").unlink


FULL_API = {
    "open runs.db": lambda h: RunStore(h),
    "runs list": lambda h: RunStore(h).runs(),
    "registry versions": lambda h: ModelRegistry(h).versions(),
    "register": lambda h: register(h),
}


def test_a_full_disk_is_a_clear_error_for_every_call_and_loses_nothing(full_disk, capsys):
    home, make_room = full_disk
    for what, call in FULL_API.items():
        with pytest.raises(StoreFullError) as info:
            call(home)
        err = info.value
        assert isinstance(err, OSError) and err.fault == "full", what
        assert_one_line_with_fix(str(err), home)
        assert "disk holding it is full. Fix: free disk space" in str(err)
    commands = (["runs", "list"], ["runs", "show", "x"], ["models", "list"], ["models", "show", GROUP, "3"])
    for cmd in commands:
        assert main([*cmd, "--home", home]) == 1, cmd
        out, err = capsys.readouterr()
        assert out == "" and err.startswith("error: ") and err.count("\n") == 1, (cmd, err)
        assert "is full" in err and "Traceback" not in err, (cmd, err)
    make_room()
    assert len(RunStore(home).runs()) == 40
    assert len(ModelRegistry(home).versions()) == 20
    assert register(home).version == 21


def test_a_disk_filling_up_under_an_open_store_says_how_to_resume(small_disk):
    store = RunStore(str(small_disk / "home"))
    run_id = store.new_run("flow", "flow.py", {}, "h")
    fill(small_disk / "filler")
    record = StepRecord("train", "training", "failed", detail={"log": "x" * 200_000})
    with pytest.raises(StoreFullError) as info:
        store.set_step(run_id, record)
    assert str(info.value).endswith(f"then finish run {run_id} with `dagml run --resume {run_id}`.")
    (small_disk / "filler").unlink()
    store.set_step(run_id, record)
    assert store.steps(run_id)["train"].status == "failed"
    store.close()


def test_a_full_database_from_sqlites_own_page_limit_is_a_clear_error(home, monkeypatch):
    """SQLITE_FULL without a small disk: cap the file at its current size (PRAGMA max_page_count)."""
    real = home_module.Database.connect

    def capped(self, timeout):
        db = real(self, timeout)
        db.execute("PRAGMA max_page_count = " + str(db.execute("PRAGMA page_count").fetchone()[0]))
        return db

    monkeypatch.setattr(home_module.Database, "connect", capped)
    store = RunStore(home)
    with pytest.raises(StoreFullError, match="is full"):
        store.new_run("flow", "flow.py", {"pad": "x" * 100_000}, "h")
    with pytest.raises(StoreFullError, match="is full"):
        register(home, description="d" * 100_000)
    monkeypatch.undo()
    runs = RunStore(home).runs(100)
    assert len(runs) == 40 and len(ModelRegistry(home).versions()) == 20  # nothing half-written
    assert sorted(os.listdir(os.path.join(home, "runs"))) == sorted(r.run_id for r in runs)  # no orphan


# ---------------------------------------------------------------- permissions


def as_other_user(call):
    """``call()``'s result, computed as user nobody when running as root (else as this user)."""
    if os.geteuid() != 0:
        return call()
    build_parser()  # import every command now: nobody cannot read root's Python installation
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, answer through the pipe, never return into pytest
        code = 1
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            with os.fdopen(write, "w") as out:
                out.write(json.dumps(call()))
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and answer, "the unprivileged child failed"
    return json.loads(answer)


def outcome(call):
    try:
        call()
    except Exception as exc:
        return {"classes": [c.__name__ for c in type(exc).__mro__], "fault": getattr(exc, "fault", None),
                "message": str(exc)}
    return {"classes": [], "fault": None, "message": "no error"}


def cli_outcome(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return {"code": code, "err": err.getvalue()}


@pytest.fixture
def shared_home():
    """A populated home another user can reach (pytest's tmp_path is private to root)."""
    base = tempfile.mkdtemp(prefix="dagml-perm-")
    os.chmod(base, 0o755)
    path = os.path.join(base, "home")
    populate(path)
    os.chmod(path, 0o755)
    yield path
    subprocess.run(["rm", "-rf", base], check=False)


CALLS = {
    "runs.db": (lambda h: RunStore(h).runs(), ["runs", "list"]),
    "registry.db": (lambda h: ModelRegistry(h).versions(), ["models", "list"]),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("mode, fault", [(0o000, "permission"), (0o444, "read-only")], ids=["000", "444"])
def test_a_database_the_user_may_not_use_is_a_clear_error(shared_home, name, mode, fault):
    """0o000: unreadable. 0o444 in a directory nobody may write: readable, but SQLite can neither
    write it nor make its -wal/-shm files beside it."""
    path = os.path.join(shared_home, name)
    before = snapshot(shared_home)
    os.chmod(path, mode)
    if mode:
        os.chmod(shared_home, 0o555)
    call, argv = CALLS[name]
    try:
        got = as_other_user(lambda: outcome(lambda: call(shared_home)))
        cli = as_other_user(lambda: cli_outcome([*argv, "--home", shared_home]))
    finally:
        os.chmod(shared_home, 0o755)
        os.chmod(path, 0o644)
    assert {StoreAccessError.__name__, "PermissionError"} <= set(got["classes"]), got
    assert got["fault"] == fault, got
    assert_one_line_with_fix(got["message"], path)
    assert cli["code"] == 1 and cli["err"].startswith("error: ") and cli["err"].count("\n") == 1, cli
    assert "Traceback" not in cli["err"] and path in cli["err"]
    assert snapshot(shared_home) == before
