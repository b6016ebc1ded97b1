import json
import math
import multiprocessing
import os
import pickle
import re
import sqlite3
from fractions import Fraction

import attrs
import pytest

from dagml.errors import DagmlError
from dagml.local import registry as registry_module
from dagml.local.registry import (
    SCHEMA_VERSION,
    ModelNotFoundError,
    ModelRegistry,
    ModelVersion,
    RegistryBusyError,
    RegistryDatabaseError,
    RegistryValueError,
)


def register(reg, group="SklearnIris", **overrides):
    kwargs = {
        "approval": "PendingManualApproval",
        "metrics": {"accuracy": 0.97, "f1": 0.95},
        "artifact": "/runs/r1/steps/train/model.tar.gz",
        "pipeline": "iris-classifier",
        "run_id": "r1",
        "step": "RegisterModel",
        "code_hash": "abc123",
    }
    kwargs.update(overrides)
    return reg.register(group, **kwargs)


@pytest.fixture
def reg(tmp_path):
    return ModelRegistry(tmp_path)


# ---------------------------------------------------------------- the API


def test_versions_are_numbered_per_group_from_1(reg):
    assert [register(reg).version for _ in range(3)] == [1, 2, 3]
    assert register(reg, "Other").version == 1
    assert register(reg).version == 4


def test_register_returns_every_field(reg, tmp_path):
    v = register(reg, approval="Approved", description="first", metrics={"accuracy": 0.97, "n": 150})
    assert (v.group, v.version, v.status, v.description) == ("SklearnIris", 1, "Approved", "first")
    assert (v.artifact, v.pipeline, v.run_id, v.step, v.code_hash) == (
        "/runs/r1/steps/train/model.tar.gz", "iris-classifier", "r1", "RegisterModel", "abc123"
    )
    assert dict(v.metrics) == {"accuracy": 0.97, "n": 150}
    assert v.created_at == v.updated_at and v.created_at.endswith("+00:00")
    assert reg.get("SklearnIris", 1) == v
    assert reg.db_path == os.path.join(str(tmp_path), "registry.db")


def test_model_version_is_frozen_read_only_json_ready_and_picklable(reg):
    v = register(reg, metrics={"b": 1.5, "a": 2})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        v.status = "Approved"  # type: ignore[misc]
    with pytest.raises(TypeError):
        v.metrics["a"] = 3  # type: ignore[index]
    data = v.to_dict()
    assert data["metrics"] == {"a": 2, "b": 1.5} and list(v.metrics) == ["a", "b"]
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {f.name for f in attrs.fields(ModelVersion)}
    assert pickle.loads(pickle.dumps(v)) == v and hash(pickle.loads(pickle.dumps(v))) == hash(v)


def test_metrics_none_means_empty_and_numbers_are_normalised(reg):
    assert dict(register(reg, metrics=None).metrics) == {}
    assert dict(register(reg, metrics={"half": Fraction(1, 2)}).metrics) == {"half": 0.5}


def test_versions_sorted_by_group_then_version(reg):
    for group in ("b-group", "A-group", "b-group", "A-group", "a-group"):
        register(reg, group)
    assert [(v.group, v.version) for v in reg.versions()] == [
        ("A-group", 1), ("A-group", 2), ("a-group", 1), ("b-group", 1), ("b-group", 2)
    ]
    assert [v.version for v in reg.versions("b-group")] == [1, 2]


def test_latest_with_and_without_status(reg):
    register(reg, approval="Approved", run_id="r1")
    register(reg, approval="Approved", run_id="r2")
    register(reg, approval="PendingManualApproval", run_id="r3")
    assert reg.latest("SklearnIris").run_id == "r3"
    assert reg.latest("SklearnIris", "Approved").run_id == "r2"
    assert reg.latest("SklearnIris", "Rejected") is None
    assert reg.latest("NoSuchGroup") is None


def test_groups_summarise_each_group(reg):
    register(reg, approval="Approved")
    register(reg, approval="Rejected")
    register(reg)
    register(reg, "Other")
    groups = reg.groups()
    assert [g["name"] for g in groups] == ["Other", "SklearnIris"]
    iris = groups[1]
    assert iris["latest_version"] == 3 and iris["versions"] == 3
    assert iris["counts"] == {"Approved": 1, "PendingManualApproval": 1, "Rejected": 1}
    assert iris["created_at"] == reg.get("SklearnIris", 1).created_at


def test_set_status_changes_only_status_and_updated_at(reg):
    before = register(reg, description="keep me", metrics={"accuracy": 0.97})
    approved = reg.set_status("SklearnIris", 1, "Approved")
    assert approved.status == "Approved" and approved.updated_at >= before.updated_at
    assert attrs.evolve(approved, status=before.status, updated_at=before.updated_at) == before
    rejected = reg.set_status("SklearnIris", 1, "Rejected")
    assert reg.get("SklearnIris", 1) == rejected
    assert attrs.evolve(rejected, status=before.status, updated_at=before.updated_at) == before


# ---------------------------------------------------------------- unknown names


def test_unknown_group_suggests_the_closest(reg):
    register(reg)
    with pytest.raises(ModelNotFoundError, match=r"did you mean 'SklearnIris'\?") as info:
        reg.get("SklearnIirs", 1)
    assert isinstance(info.value, LookupError) and isinstance(info.value, DagmlError)
    with pytest.raises(ModelNotFoundError, match="did you mean 'SklearnIris'"):
        reg.versions("SklearnIirs")
    with pytest.raises(ModelNotFoundError, match="did you mean 'SklearnIris'"):
        reg.set_status("SklearnIirs", 1, "Approved")


def test_unknown_version_lists_the_existing_ones(reg):
    for _ in range(3):
        register(reg)
    reg_error = r"has no version 7; it has versions 1-3\. Fix: .*dagml models list SklearnIris"
    with pytest.raises(ModelNotFoundError, match=reg_error):
        reg.get("SklearnIris", 7)
    with pytest.raises(ModelNotFoundError, match=reg_error):
        reg.set_status("SklearnIris", 7, "Approved")
    assert [v.status for v in reg.versions("SklearnIris")] == ["PendingManualApproval"] * 3


def test_reads_of_an_empty_registry_create_no_database(reg):
    assert reg.versions() == [] and reg.groups() == [] and reg.latest("SklearnIris") is None
    with pytest.raises(ModelNotFoundError, match="registry .* is empty"):
        reg.get("SklearnIris", 1)
    with pytest.raises(ModelNotFoundError, match="is empty"):
        reg.versions("SklearnIris")
    assert not os.path.exists(reg.db_path)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "group, fix",
    [
        ("my_group", "my-group"),
        ("-lead", "lead"),
        ("a" * 64, "a" * 63),
        ("", "group"),
        ("two  words", "two-words"),
    ],
)
def test_invalid_group_names_are_refused_before_touching_disk(tmp_path, group, fix):
    home = tmp_path / "fresh"
    reg = ModelRegistry(home)
    for call in (lambda: register(reg, group), lambda: reg.get(group, 1), lambda: reg.versions(group),
                 lambda: reg.latest(group), lambda: reg.set_status(group, 1, "Approved")):
        with pytest.raises(RegistryValueError, match=f"use {fix!r}") as info:
            call()
        assert isinstance(info.value, ValueError)
    assert not home.exists()


@pytest.mark.parametrize("status", ["approved", "Pending", None, 1])
def test_invalid_statuses_are_refused(tmp_path, status):
    reg = ModelRegistry(tmp_path / "fresh")
    calls = [lambda: register(reg, approval=status), lambda: reg.set_status("G", 1, status)]
    if status is not None:  # latest(group, None) means any status
        calls.append(lambda: reg.latest("G", status))
    for call in calls:
        with pytest.raises(RegistryValueError, match="Fix: use one of 'Approved', 'PendingManualApproval'"):
            call()
    assert not (tmp_path / "fresh").exists()


def test_a_near_miss_status_gets_did_you_mean(reg):
    with pytest.raises(RegistryValueError, match="did you mean 'Approved'"):
        register(reg, approval="approved")


@pytest.mark.parametrize(
    "metrics, words",
    [
        ({"accuracy": math.nan}, "'accuracy' is nan"),
        ({"accuracy": math.inf}, "'accuracy' is inf"),
        ({"accuracy": "0.9"}, "'accuracy' is '0.9'"),
        ({"ok": True}, "'ok' is True"),
        ({1: 0.5}, "metric name 1"),
        ({"": 0.5}, "metric name ''"),
        ([("accuracy", 0.9)], "must be a mapping"),
    ],
)
def test_invalid_metrics_are_refused(tmp_path, metrics, words):
    reg = ModelRegistry(tmp_path / "fresh")
    with pytest.raises(RegistryValueError, match=re.escape(words)) as info:
        register(reg, metrics=metrics)
    assert "Fix:" in str(info.value)
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize("version", [0, -1, True, "1", 1.0])
def test_invalid_versions_are_refused(reg, version):
    with pytest.raises(RegistryValueError, match="whole numbers from 1"):
        reg.get("SklearnIris", version)


@pytest.mark.parametrize("field", ["artifact", "pipeline", "run_id", "step", "code_hash"])
def test_provenance_fields_must_be_non_empty_strings(reg, field):
    with pytest.raises(RegistryValueError, match=field):
        register(reg, **{field: ""})


# ---------------------------------------------------------------- the database file


def test_schema_version_wal_and_unique_backstop(reg):
    register(reg)
    db = sqlite3.connect(reg.db_path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            db.execute(
                "INSERT INTO model_versions VALUES"
                " ('SklearnIris', 1, 'Approved', '{}', 'a', 'p', 'r', 's', 'c', NULL, 't', 't')"
            )
    finally:
        db.close()


def test_a_registry_from_a_newer_dagml_is_refused(reg):
    register(reg)
    db = sqlite3.connect(reg.db_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RegistryDatabaseError, match="newer dagml .* Fix: upgrade dagml"):
        reg.versions()


def test_a_file_that_is_not_a_registry_is_refused(reg):
    with open(reg.db_path, "wb") as f:
        f.write(b"this is not sqlite" * 100)
    with pytest.raises(RegistryDatabaseError, match="not a readable dagml registry"):
        register(reg)


def test_a_lock_held_throughout_ends_in_a_clear_error_and_nothing_half_written(reg, monkeypatch):
    register(reg)
    monkeypatch.setattr(registry_module, "_BUSY_TIMEOUT", 0.01)
    monkeypatch.setattr(registry_module, "_ATTEMPTS", 3)
    monkeypatch.setattr(registry_module, "_BACKOFF", (0.001, 0.002))
    holder = sqlite3.connect(reg.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(RegistryBusyError, match="stayed locked") as info:
            register(reg)
        assert isinstance(info.value, TimeoutError)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert register(reg).version == 2


def test_database_is_locked_is_retried(reg, monkeypatch):
    monkeypatch.setattr(registry_module, "_BACKOFF", (0.001, 0.002))
    real = ModelRegistry._connect
    calls = []

    def flaky(self):
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return real(self)

    monkeypatch.setattr(ModelRegistry, "_connect", flaky)
    assert register(reg).version == 1 and len(calls) == 2


# ---------------------------------------------------------------- eight processes at once

WORKERS = 8


def _register_when_released(home, barrier, index, out_dir, reg=None):
    reg = reg or ModelRegistry(home)
    barrier.wait(timeout=120)  # every process is up: all register at the same moment
    version = register(reg, "Concurrent", run_id=f"run-{index}", metrics={"index": index}).version
    with open(os.path.join(out_dir, f"{index}.version"), "w") as f:
        f.write(str(version))


@pytest.mark.parametrize(
    "method, warm",
    [
        (method, warm)
        for method, warm in (("fork", False), ("fork", True), ("spawn", False))
        if method in multiprocessing.get_all_start_methods()
    ],
)
def test_eight_processes_registering_at_once_get_versions_1_to_8(tmp_path, method, warm):
    """``warm``: the parent used the registry before forking; children must not share its connection."""
    ctx = multiprocessing.get_context(method)
    reg = ModelRegistry(tmp_path)
    if warm:
        register(reg, "Warmup")
    barrier = ctx.Barrier(WORKERS)
    out = tmp_path / "out"
    out.mkdir()
    procs = [
        ctx.Process(
            target=_register_when_released, args=(str(tmp_path), barrier, i, str(out), reg if warm else None)
        )
        for i in range(WORKERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0] * WORKERS

    versions = reg.versions("Concurrent")
    assert [v.version for v in versions] == list(range(1, WORKERS + 1))
    assert sorted(v.run_id for v in versions) == sorted(f"run-{i}" for i in range(WORKERS))
    returned = {i: int((out / f"{i}.version").read_text()) for i in range(WORKERS)}
    assert sorted(returned.values()) == list(range(1, WORKERS + 1))
    assert all(reg.get("Concurrent", v).run_id == f"run-{i}" for i, v in returned.items())
    assert reg.groups()[0]["counts"]["PendingManualApproval"] == WORKERS
