"""Tiny wheels and a local package index for tests of requirements (no network: pip reads only here).

:func:`make_wheel` writes a valid PEP 427 wheel of one module; :func:`local_index` points pip at a
directory of them (``PIP_NO_INDEX`` and ``PIP_FIND_LINKS``, which pip reads from the environment),
and gives dagml a fresh wheel cache, so resolving requirements in a test touches nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import zipfile
from collections.abc import Iterator


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(
    directory: str, name: str, version: str, tag: str = "py3-none-any", module: str = "", requires: tuple[str, ...] = ()
) -> str:
    """Write ``<name>-<version>-<tag>.whl`` holding module ``<name>`` (``module`` its source); its path."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{dist}/__init__.py": (module or f"VERSION = {version!r}\n").encode(),
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            + "".join(f"Requires-Dist: {r}\n" for r in requires)
        ).encode(),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: dagml-tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode(),
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items()) + f"{info}/RECORD,,\n"
    path = os.path.join(directory, f"{dist}-{version}-{tag}.whl")
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        archive.writestr(f"{info}/RECORD", record)
    return path


@contextlib.contextmanager
def local_index(directory: str, cache: str) -> Iterator[None]:
    """pip finds packages only in ``directory``; dagml caches resolutions under ``cache``."""
    saved = {k: os.environ.get(k) for k in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "PIP_CONFIG_FILE", "DAGML_CACHE")}
    os.environ.update(
        {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": directory, "PIP_CONFIG_FILE": os.devnull, "DAGML_CACHE": cache}
    )
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
