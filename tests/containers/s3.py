"""A local stand-in for S3: ``s3://bucket/key`` is the file ``<root>/bucket/key``.

It copies objects the way SageMaker's data movement does for the job types the
bed plays: an ``S3Prefix`` input lays every object whose key starts with the
prefix into the job's local path, at its key less the prefix (a key equal to the
prefix, a single object, keeps its file name); an output uploads every file under
the job's local path below the output URI.
"""

from __future__ import annotations

import os
import shutil


class S3:
    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, exist_ok=True)

    def path(self, uri: str) -> str:
        if not isinstance(uri, str) or not uri.startswith("s3://"):
            raise ValueError(f"not an S3 URI: {uri!r}")
        bucket, _, key = uri[len("s3://") :].partition("/")
        return os.path.join(self.root, bucket, *[p for p in key.split("/") if p])

    def put(self, uri: str, data: bytes) -> None:
        path = self.path(uri)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def put_file(self, uri: str, source: str) -> None:
        path = self.path(uri)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(source, path)

    def get(self, uri: str) -> bytes:
        with open(self.path(uri), "rb") as f:
            return f.read()

    def exists(self, uri: str) -> bool:
        return os.path.isfile(self.path(uri))

    def objects(self, prefix: str) -> list[tuple[str, str]]:
        """(key less the prefix, file) of every object whose key starts with ``prefix``."""
        bucket, _, key_prefix = prefix[len("s3://") :].partition("/")
        base = os.path.join(self.root, bucket)
        found = []
        for directory, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(directory, name)
                key = os.path.relpath(full, base).replace(os.sep, "/")
                if key.startswith(key_prefix):
                    found.append((key[len(key_prefix) :].lstrip("/") or key.rsplit("/", 1)[-1], full))
        return found

    def download(self, prefix: str, destination: str) -> int:
        """Lay out ``S3Prefix`` ``prefix`` in ``destination``; the number of objects."""
        objects = self.objects(prefix)
        for rel, full in objects:
            target = os.path.join(destination, *rel.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(full, target)
        return len(objects)

    def upload(self, source: str, prefix: str) -> list[str]:
        """Upload every file under ``source`` below ``prefix``; the URIs written."""
        written = []
        for directory, dirs, files in os.walk(source):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(directory, name)
                rel = os.path.relpath(full, source).replace(os.sep, "/")
                uri = prefix.rstrip("/") + "/" + rel
                self.put_file(uri, full)
                written.append(uri)
        return written
