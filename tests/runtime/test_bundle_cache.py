"""The code bundle's disk cache: hits, invalidation, bounds, corrupt entries, and where it writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagml._cache import DiskCache
from dagml.runtime import bundle as bundle_module
from dagml.runtime.bundle import BundleError, make_bundle

from ..conftest import EXAMPLES, ROOT

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty DAGML_CACHE, and no segment kept in this process's memory."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("DAGML_CACHE", str(directory))
    monkeypatch.setattr(bundle_module, "_SEGMENTS", {})
    return directory / "bundles"


def _package(base, files: dict[str, str]) -> str:
    for rel, text in files.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    return str(base)


def _segment(package: str) -> bundle_module._Segment:
    return bundle_module._segment("pkg", package, frozenset(), frozenset())


def _no_building(monkeypatch) -> None:
    """Fail the test if a segment is archived or compressed (rather than read from the disk cache)."""

    def refuse(*args, **kwargs):
        raise AssertionError("built again instead of read from the disk cache")

    monkeypatch.setattr(bundle_module, "_tar_blocks", refuse)
    monkeypatch.setattr(bundle_module, "_deflate", refuse)


def test_a_fresh_process_reads_the_segments_from_disk_and_gets_the_same_bytes(cache, monkeypatch):
    first = make_bundle(IRIS)
    assert len(os.listdir(cache)) == 1 + len(bundle_module.VENDORED)  # dagml and each vendored package
    bundle_module._SEGMENTS.clear()  # what a new process starts with

    def refuse(self, key, payload):
        raise AssertionError("a segment was built again instead of read from the disk cache")

    monkeypatch.setattr(DiskCache, "put", refuse)
    again = make_bundle(IRIS)
    assert again.data == first.data and again.files == first.files and again.sha256 == first.sha256
    assert again.vendored == first.vendored


def test_a_hit_is_read_and_a_changed_file_makes_a_new_entry(cache, tmp_path, monkeypatch):
    package = _package(tmp_path / "site" / "pkg", {"__init__.py": "A = 1\n", "sub/mod.py": "B = 2\n"})
    one = _segment(package)
    bundle_module._SEGMENTS.clear()
    with monkeypatch.context() as patched:
        _no_building(patched)
        hit = _segment(package)
    assert (hit.files, hit.deflated, hit.size, hit.crc) == (one.files, one.deflated, one.size, one.crc)

    path = os.path.join(package, "sub", "mod.py")
    with open(path, "w") as handle:
        handle.write("B = 3\n")  # same size: only the mtime says it changed
    os.utime(path, ns=(os.stat(path).st_mtime_ns + 10**9,) * 2)
    bundle_module._SEGMENTS.clear()
    two = _segment(package)
    assert dict(two.files)["pkg/sub/mod.py"] == b"B = 3\n"
    assert len(os.listdir(cache)) == 2  # the old entry stays until pruning: content-keyed, never rewritten

    os.remove(path)  # a file removed is a new signature too
    bundle_module._SEGMENTS.clear()
    assert [name for name, _ in _segment(package).files] == ["pkg/__init__.py"]


def _digests() -> DiskCache:
    return DiskCache("bundle-digests", max_entries=8, max_bytes=1 << 30)


def test_a_known_digest_names_the_bundle_without_reading_the_segments(cache, monkeypatch):
    first = make_bundle(IRIS)
    bundle_module._SEGMENTS.clear()
    with monkeypatch.context() as patched:
        patched.setattr(bundle_module, "_load", lambda scan: pytest.fail("read a segment to hash the bundle"))
        again = make_bundle(IRIS)
    assert (again.sha256, again.size, again.target) == (first.sha256, first.size, first.target)
    assert again.data == first.data and again.files == first.files  # made on first use, and checked


def test_the_users_code_is_keyed_by_content_not_by_its_stat(cache, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("__pycache__", ".dagml"))
    pipeline = str(project / "iris_pipeline.py")
    helper = project / "helper.py"
    helper.write_text("LIMIT = 1\n")
    before = make_bundle(pipeline)
    stat = os.stat(helper)
    helper.write_text("LIMIT = 2\n")  # same size, and the same mtime put back
    os.utime(helper, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = make_bundle(pipeline)
    assert after.sha256 != before.sha256
    assert dict(after.files)["helper.py"] == b"LIMIT = 2\n"


def test_a_digest_that_does_not_match_the_bytes_fails_before_anything_is_uploaded(cache):
    first = make_bundle(IRIS)
    (key,) = os.listdir(_digests().directory)
    _digests().put(key, json.dumps({"sha256": "0" * 64, "size": first.size}).encode())
    bundle_module._SEGMENTS.clear()
    lying = make_bundle(IRIS)
    assert lying.sha256 == "0" * 64  # what the entry says: the bytes are not read to name the code
    with pytest.raises(BundleError, match="changed after it was hashed.*Fix: run the command again"):
        lying.data  # noqa: B018 - reading it is the test


@pytest.mark.parametrize("payload", [b"", b"not json", b'{"sha256": "ab", "size": 3}', b'{"size": 3}'])
def test_a_damaged_digest_is_a_miss(cache, payload):
    first = make_bundle(IRIS)
    (key,) = os.listdir(_digests().directory)
    _digests().put(key, payload)
    again = make_bundle(IRIS)
    assert (again.sha256, again.size) == (first.sha256, first.size)
    assert bundle_module._known_digest(key) == (first.sha256, first.size)  # written again


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty"])
def test_a_corrupt_entry_is_ignored_and_rebuilt(cache, tmp_path, damage):
    package = _package(tmp_path / "site" / "pkg", {"__init__.py": "A = 1\n" * 50, "b.py": "B = 2\n"})
    good = _segment(package)
    (entry,) = os.listdir(cache)
    path = os.path.join(cache, entry)
    data = bytearray(open(path, "rb").read())
    if damage == "flip":
        data[-10] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytearray(b"not a cache entry at all" * 10)
    else:
        data = bytearray()
    with open(path, "wb") as handle:
        handle.write(bytes(data))
    bundle_module._SEGMENTS.clear()
    assert DiskCache("bundles", max_entries=8, max_bytes=1 << 30).get(entry) is None
    rebuilt = _segment(package)
    assert (rebuilt.files, rebuilt.deflated, rebuilt.crc) == (good.files, good.deflated, good.crc)
    assert DiskCache("bundles", max_entries=8, max_bytes=1 << 30).get(entry) is not None  # written again, whole


def test_an_entry_that_holds_other_files_is_not_used(cache, tmp_path):
    """A well-formed entry whose index does not list the files walked (a hash collision, a bug) is a miss."""
    package = _package(tmp_path / "site" / "pkg", {"__init__.py": "A = 1\n"})
    segment = _segment(package)
    signature = (("other.py", 6, 0),)
    payload = memoryview(bundle_module._dump_segment(segment))
    assert bundle_module._load_segment(payload, "pkg", segment.signature) is not None
    assert bundle_module._load_segment(payload, "pkg", signature) is None
    assert bundle_module._load_segment(payload[:-1], "pkg", segment.signature) is None


def test_the_cache_keeps_the_most_recently_used_entries_within_its_bounds(cache):
    disk = DiskCache("bundles", max_entries=3, max_bytes=1 << 30)
    for i in range(3):
        disk.put(f"k{i}", b"x" * 100)
        os.utime(os.path.join(cache, f"k{i}"), ns=(i * 10**9, i * 10**9))
    assert disk.get("k0") is not None  # a hit makes k0 the most recently used
    disk.put("k3", b"x" * 100)
    assert sorted(os.listdir(cache)) == ["k0", "k2", "k3"]  # k1 was the least recently used

    small = DiskCache("bundles", max_entries=100, max_bytes=250)
    small.put("k4", b"y" * 100)  # k4, k3 fit (about 2 x 120 bytes with headers); the rest go
    assert sorted(os.listdir(cache)) == ["k3", "k4"]


def test_pruning_removes_a_dead_writers_temporary_file_only_when_stale(cache):
    disk = DiskCache("bundles", max_entries=8, max_bytes=1 << 30)
    os.makedirs(cache)
    stale, fresh = os.path.join(cache, ".k.1.1.tmp"), os.path.join(cache, ".k.2.2.tmp")
    for path in (stale, fresh):
        with open(path, "wb") as handle:
            handle.write(b"partial")
    os.utime(stale, (0, 0))
    disk.put("k", b"data")
    assert sorted(os.listdir(cache)) == [".k.2.2.tmp", "k"]


def test_an_unwritable_cache_only_makes_compile_slower(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("DAGML_CACHE", str(blocker))  # $DAGML_CACHE/bundles cannot be created
    monkeypatch.setattr(bundle_module, "_SEGMENTS", {})
    assert make_bundle(IRIS).data == make_bundle(IRIS).data


@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_crc32_combine_is_zlibs(first, second):
    combined = bundle_module._crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second))
    assert combined == zlib.crc32(first + second)


def test_the_vendored_versions_read_from_dist_info_are_importlib_metadatas():
    import importlib
    import importlib.metadata

    directories = {
        name: os.path.dirname(os.path.abspath(importlib.import_module(name).__file__ or ""))
        for name in bundle_module.VENDORED
    }
    expected = tuple(
        (name, importlib.metadata.version(name), importlib.metadata.metadata(name).get("Requires-Python") or "")
        for name in sorted(set(bundle_module._DISTRIBUTION.values()))
    )
    assert bundle_module._vendored(directories) == expected == bundle_module._vendored()


def _tree_state(root: str) -> dict[str, tuple[int, int]]:
    state = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            st_ = os.stat(path)
            state[os.path.relpath(path, root)] = (st_.st_size, st_.st_mtime_ns)
    return state


def test_concurrent_compiles_share_the_cache_and_write_nothing_into_the_project(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("__pycache__", ".dagml"))
    before = _tree_state(str(project))
    env = {
        **os.environ,
        "DAGML_CACHE": str(tmp_path / "cache"),
        "PYTHONDONTWRITEBYTECODE": "1",  # Python's own __pycache__ is not dagml's doing
        "PYTHONPATH": ROOT,
        "DAGML_ROLE_ARN": "arn:aws:iam::111122223333:role/R",
        "DAGML_BUCKET": "dagml-cache-bucket",
        "DAGML_REGION": "us-east-1",
    }
    outputs = [str(tmp_path / f"out{i}.json") for i in range(3)]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "dagml.cli.main", "compile", "iris_pipeline.py", "-o", out],
            cwd=project,
            env=env,
            stderr=subprocess.PIPE,
        )
        for out in outputs
    ]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err.decode()
    texts = {open(out, encoding="utf-8").read() for out in outputs}
    assert len(texts) == 1  # same definition (and code hash) whoever wrote the entries
    entries = os.listdir(tmp_path / "cache" / "bundles")
    assert len([e for e in entries if not e.startswith(".")]) == 1 + len(bundle_module.VENDORED)
    assert not [e for e in entries if e.startswith(".")]  # no temporary file left behind
    assert _tree_state(str(project)) == before
