"""Golden compiled definitions: one function shared by the golden test and `make golden`.

The code bundle's S3 key is a content hash over the user's code *and dagml's own
source*, so it changes with every edit to dagml; golden files store it as
``<bundle-sha256>`` (the bundle's own determinism is tested separately, byte for
byte). Everything else is compared exactly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from dagml.api import graph_of

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
PIPELINES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pipelines")
#: The settings every golden definition is compiled with.
GOLDEN_SETTINGS = {
    "role_arn": "arn:aws:iam::111122223333:role/SageMakerRole",
    "bucket": "dagml-example-bucket",
    "region": "us-east-1",
}
_BUNDLE = re.compile(r"/code/[0-9a-f]{64}/")


def golden_sources() -> dict[str, str]:
    """Golden name -> the pipeline file it is compiled from: every ``examples/NAME_pipeline.py``
    (as ``NAME``) and every ``tests/pipelines/NAME.py``."""
    sources = {
        f[: -len("_pipeline.py")]: os.path.join(EXAMPLES, f) for f in sorted(os.listdir(EXAMPLES)) if f.endswith("_pipeline.py")
    }
    for f in sorted(os.listdir(PIPELINES)):
        if f.endswith(".py"):
            sources[f[:-3]] = os.path.join(PIPELINES, f)
    return sources


def normalize(text: str) -> str:
    return _BUNDLE.sub("/code/<bundle-sha256>/", text)


def compile_golden(source: str) -> str:
    from dagml.sagemaker import Settings, compile_pipeline
    from dagml.spec.target import load_target

    return normalize(compile_pipeline(graph_of(load_target(source)), Settings(**GOLDEN_SETTINGS)).json)


def write_goldens(extension: str, text_of: Callable[[str], str]) -> list[str]:
    """Write ``tests/pipelines/NAME.<extension>`` for every golden source; return the paths."""
    written = []
    for name, source in golden_sources().items():
        path = os.path.join(PIPELINES, f"{name}.{extension}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text_of(source))
        written.append(path)
    return written


def write_json_goldens() -> list[str]:
    return write_goldens("json", compile_golden)
