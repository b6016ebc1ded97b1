"""The local run cache: a function step's key, and reusing the outputs of an earlier run's step.

A step's key hashes the user's code (:func:`code_hash`), the step's function
(:mod:`dagml.local.fingerprint`) and its inputs: the keys of the steps it reads,
the contents of its datasets and its param values (docs/local.md, "Caching").
A finished step records a hash of what it wrote (:func:`artifact_hash`); a hit
is used only while those outputs are still there, unchanged, and they are
hard-linked into the new run rather than copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil

from dagml import contract as c
from dagml.graph.wiring import CONSTANT, DATASET, OUTPUT, OUTPUT_DIRS, PARAM, STEP, UNBOUND
from dagml.local.context import RunContext
from dagml.local.fingerprint import Uncacheable, dependency_versions, function_fingerprint
from dagml.local.requirements import installed_version
from dagml.local.result import PREDICTIONS_DIR
from dagml.runtime.bundle import content_hash, user_files
from dagml.runtime.modules import user_modules
from dagml.spec.specs import ContainerSpec, FunctionSpec

__all__ = ["StepCache", "artifact_hash", "code_hash", "link_tree"]

#: What each step kind writes, relative to its directory: what an artifact hash covers.
_OUTPUTS = {
    "processing": (c.PROCESSING_OUTPUT_DIR, c.PROCESSING_OUTPUTS_DIR, c.PROCESSING_METRICS_DIR, c.PROCESSING_CSV_DIR),
    "training": (c.MODEL_DIR,),
    "container": (c.MODEL_DIR,),
    "script": (c.SCRIPT_OUTPUT_DIR, c.MODEL_DIR),
    "transform": (PREDICTIONS_DIR,),
}


def code_hash(source_file: str) -> str:
    """Hash of the user's code, for cache keys and lineage.

    Every .py file the bundle would ship, every other module of the user's the
    pipeline imported (see :mod:`dagml.runtime.modules`), and the versions of
    what that code imports (:func:`dagml.local.fingerprint.dependency_versions`).
    """
    digest = hashlib.sha256()
    shipped = sorted(user_files(source_file))
    known = {os.path.realpath(path) for _, path in shipped}
    elsewhere = sorted((path, path) for path in user_modules().values() if path not in known)
    for rel, path in shipped + elsewhere:
        with open(path, "rb") as f:
            digest.update(rel.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    versions = dependency_versions([path for _, path in shipped + elsewhere])
    digest.update(json.dumps(versions).encode())
    return digest.hexdigest()


def artifact_hash(kind: str, root: str) -> str | None:
    """A content hash of what a finished step wrote (None for kinds that write nothing)."""
    parts = _OUTPUTS.get(kind)
    if parts is None:
        return None
    digest = hashlib.sha256()
    listed: dict[str, set[str]] = {}  # a folder -> what is in it: one listing, not a stat per part
    for part in parts:
        path = os.path.join(root, part)
        folder, name = os.path.split(path)
        if folder not in listed:
            try:
                listed[folder] = set(os.listdir(folder))
            except OSError:
                listed[folder] = set()
        there = name in listed[folder] and os.path.exists(path)  # exists: a dangling link is not there
        digest.update(part.encode() + b"\0" + (content_hash(path).encode() if there else b"-"))
    return digest.hexdigest()


def link_tree(src: str, dst: str) -> None:
    """Hard-link ``src`` into ``dst`` (copy where links are impossible): no extra copies of artifacts."""
    for directory, _, files in os.walk(src):
        rel = os.path.relpath(directory, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in files:
            s, d = os.path.join(directory, name), os.path.join(dst, rel, name)
            if os.path.islink(s):
                os.symlink(os.readlink(s), d)
                continue
            try:
                os.link(s, d)
            except OSError:
                shutil.copy2(s, d)


class StepCache:
    """The cache keys of one run's function steps, and the earlier outputs they find."""

    def __init__(self, context: RunContext, enabled: bool) -> None:
        self.context, self.enabled = context, enabled
        #: Step -> its cache key (this run's, or the one a resumed run recorded).
        self.keys: dict[str, str] = {}
        #: Steps whose result depends on a value without a stable fingerprint, and why.
        self.uncacheable: dict[str, str] = {}
        #: (key, step) of this run's steps that succeeded since :meth:`take` was last called.
        self._remembered: list[tuple[str, str]] = []

    def key(self, spec: FunctionSpec, environment: str | None = None) -> str:
        """Compute, remember and return the step's key (its upstream steps' keys must be known).

        ``environment``: where the step runs when not in this Python (``--image-env``: the image
        environment's key and the step's wheels), so the two never share a result.
        """
        ctx = self.context
        try:
            function = function_fingerprint(spec.fn)
        except Uncacheable as exc:  # never a wrong hit: this step's key is this run's own
            self.uncacheable[spec.name] = f"not cached: {exc}"
            function = f"uncacheable:{ctx.run_id}"
        inputs = []
        for b in ctx.graph.bindings[spec.name]:
            if b.source == STEP:
                source = ctx.graph[b.ref or ""]
                if isinstance(source, ContainerSpec) and source.local is not None:  # its stand-in's content
                    inputs.append((b.parameter, content_hash(source.local)))
                    continue
                inputs.append((b.parameter, self.keys.get(b.ref or "", f"{ctx.run_id}/{b.ref}")))
            elif b.source == OUTPUT:
                upstream = self.keys.get(b.ref or "", f"{ctx.run_id}/{b.ref}")
                inputs.append((b.parameter, f"{upstream}/outputs/{b.output}"))
            elif b.source == DATASET:
                inputs.append((b.parameter, content_hash(ctx.params[b.ref or ""])))
            elif b.source == PARAM:
                inputs.append((b.parameter, repr(ctx.params[b.ref or ""])))
            elif b.source not in (CONSTANT, UNBOUND, OUTPUT_DIRS):  # a constant is in the function's fingerprint
                raise AssertionError(f"step {spec.name!r}: unhandled binding source {b.source!r}")
        # A step's requirements and the versions of them installed here: the key changes exactly when they do.
        packages = [(r, installed_version(r)) for r in spec.requirements]
        blob = json.dumps(
            [
                ctx.code_hash,
                ctx.graph.name,
                spec.name,
                spec.kind,
                spec.qualname,
                function,
                inputs,
                [o.name for o in spec.outputs],
                packages,
                *([environment] if environment is not None else []),
            ],
            sort_keys=True,
        )
        key = hashlib.sha256(blob.encode()).hexdigest()
        self.keys[spec.name] = key
        return key

    def reuse(self, spec: FunctionSpec, key: str) -> tuple[str, str] | None:
        """Link an earlier step's outputs with this key into this step's directory.

        Returns (the run they come from, their artifact hash), or None when there is no
        usable hit: caching is off, no step has the key, or its outputs are gone or changed.
        """
        found = self.hit(spec, key)
        if found is None:
            return None
        (run_id, step), expected = found
        root = self.context.dir(spec.name)
        shutil.rmtree(root, ignore_errors=True)
        link_tree(self.context.store.step_dir(run_id, step), root)
        return run_id, expected

    def hit(self, spec: FunctionSpec, key: str) -> tuple[tuple[str, str], str] | None:
        """((run, step), the artifact hash) of an earlier step with this key whose outputs are
        still there and still match the hash recorded when it finished (a torn or changed file
        never does); None when there is none. Changes nothing."""
        ctx = self.context
        if not self.enabled:
            return None
        hit = ctx.store.cached(key)
        if hit is None or hit == (ctx.run_id, spec.name):
            return None
        source = ctx.store.step_dir(*hit)
        recorded = ctx.store.steps(hit[0]).get(hit[1])
        expected = recorded.detail.get("artifacts") if recorded is not None else None
        if expected is None or expected != artifact_hash(spec.kind, source):
            return None  # the cached outputs are gone or changed: run the step
        return hit, str(expected)

    def remember(self, spec: FunctionSpec) -> None:
        """Note that this run's step, which just succeeded, holds the outputs for its key; the run
        store records it with the step's status (:meth:`take`)."""
        key = self.keys.get(spec.name)
        if key and self.enabled:
            self._remembered.append((key, spec.name))

    def take(self) -> list[tuple[str, str]]:
        """The (key, step) entries noted since the last call, for the run store to record."""
        taken, self._remembered = self._remembered, []
        return taken

    def give_back(self, taken: list[tuple[str, str]]) -> None:
        """Entries :meth:`take` returned that the run store could not record: taken again next time."""
        self._remembered[:0] = taken
