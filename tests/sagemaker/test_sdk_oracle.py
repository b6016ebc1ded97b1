"""The SageMaker SDK v3 as the oracle for dagml's compiled definitions.

Two SDK builds are compared with dagml's JSON (``compile_pipeline(...).definition``):

- sdk_iris.py, the iris example written by hand with the SDK (independent of dagml's builders);
- ``to_sdk(graph).definition()`` for every golden pipeline.

The SDK runs once, in a subprocess (``SDK_SCRIPT``): its import and the process-wide environment
it needs (``offline_sdk_environment``, the one place the offline recipe lives) stay out of the
other tests, and a socket guard there records and refuses every connection, so a test fails if
the SDK tried the network. Every intentional difference is a named ``Difference`` below, each
one listed in docs/sagemaker.md ("Differences from the SageMaker SDK v3").
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dagml.api import graph_of
from dagml.sagemaker import Settings, compile_pipeline
from dagml.spec.target import load_target
from tests.conftest import ROOT
from tests.golden_json import GOLDEN_SETTINGS, golden_sources

SDK_MISSING = 3
#: Mappings the goldens leave out (an explicit model step, transforms of step outputs, ...).
EXTRAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdk_extras.py")

#: The start of every script that builds a definition with the SDK: sockets refuse (and record) every
#: connection, and exit SDK_MISSING when the SDK is not importable. Defines ``attempts``, ``settings``.
OFFLINE_SDK_PRELUDE = r"""
import importlib.util, json, logging, os, socket, sys, warnings

attempts = []

def refuse(*args, **kwargs):
    attempts.append(repr(args[1:3] if args and isinstance(args[0], socket.socket) else args[:2]))
    raise OSError("network is disabled in the SDK oracle")

socket.socket.connect = socket.socket.connect_ex = refuse
socket.getaddrinfo = socket.create_connection = refuse
warnings.filterwarnings("ignore")

from dagml.sagemaker import Settings, compile_pipeline
from dagml.sagemaker.interop import offline_sdk_environment, pipeline_session, to_sdk
from dagml.spec.target import load_target
from tests.golden_json import GOLDEN_SETTINGS, golden_sources

try:
    missing = importlib.util.find_spec("sagemaker.mlops") is None
except ImportError:
    missing = True
if missing:
    raise SystemExit(3)

settings = Settings(**GOLDEN_SETTINGS)
"""

SDK_SCRIPT = OFFLINE_SDK_PRELUDE + r"""
EXTRAS = sys.argv[1]
watched = ("AWS_REGION", "AWS_DEFAULT_REGION", "SAGEMAKER_VALIDATE_ROLE", "SAGEMAKER_USER_CONFIG_OVERRIDE")
before = {k: os.environ.get(k) for k in watched}
with offline_sdk_environment(settings.region):
    from sagemaker.core.telemetry import telemetry_logging
    logging.disable(logging.WARNING)
    session = pipeline_session(settings)
    out = {"to_sdk": {}}
    for name, source in {**golden_sources(), "extras": EXTRAS}.items():
        out["to_sdk"][name] = json.loads(to_sdk(load_target(source).validate(), settings, session=session).definition())
    from tests.sagemaker import sdk_iris
    iris = compile_pipeline(load_target(golden_sources()["iris"]).validate(), settings).definition
    out["sdk_iris"] = json.loads(sdk_iris.build(session, **sdk_iris.locations(iris)).definition())
out["network"] = attempts
out["environment_restored"] = before == {k: os.environ.get(k) for k in watched}
out["telemetry_restored"] = telemetry_logging._send_telemetry_request.__name__ == "_send_telemetry_request"
print(json.dumps(out))
"""


def run_sdk(prelude: str = "") -> dict[str, Any]:
    """Run ``SDK_SCRIPT``; fail (never skip: the SDK is a dev dependency) when the SDK is missing."""
    return run_sdk_script(prelude + SDK_SCRIPT, EXTRAS)


def run_sdk_script(script: str, *argv: str) -> dict[str, Any]:
    """Run a script that builds with the SDK (``OFFLINE_SDK_PRELUDE`` first) and return the JSON it prints
    last; fail (never skip: the SDK is a dev dependency) when the SDK is missing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_", "DAGML_"))}
    env["PYTHONPATH"] = ROOT
    command = [sys.executable, "-c", script, *argv]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if result.returncode == SDK_MISSING:
        pytest.fail(
            f"the SageMaker SDK v3 (sagemaker.mlops) is not importable by {sys.executable}. It is a dev "
            "dependency: run `make setup-dev` or `pip install -e '.[dev]'`.",
            pytrace=False,
        )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def sdk() -> dict[str, Any]:
    """What the SDK printed: ``to_sdk`` definitions by pipeline name, ``sdk_iris``, ``network``."""
    return run_sdk()


def dagml_definition(name: str) -> dict[str, Any]:
    source = EXTRAS if name == "extras" else golden_sources()[name]
    return compile_pipeline(graph_of(load_target(source)), Settings(**GOLDEN_SETTINGS)).definition


# ---------------------------------------------------------------- the comparison

MISSING = "<missing>"


@dataclass(frozen=True)
class Difference:
    """An intentional difference: at paths matching ``path``, ``accept(dagml, sdk)`` holds."""

    name: str
    reason: str
    path: str
    accept: Callable[[Any, Any], bool]


#: Between dagml and every SDK build.
SDK_DEFAULTS = [
    Difference(
        "MlflowConfig: null",
        "SDK v3 always writes MlflowConfig, null without MLflow; dagml writes no key, which means the same.",
        "MlflowConfig",
        lambda dagml, sdk: dagml == MISSING and sdk is None,
    ),
    Difference(
        "Training CompressionType",
        "ModelTrainer always writes OutputDataConfig.CompressionType GZIP; dagml leaves the field to the "
        "service, whose default is GZIP.",
        "Steps/*/Arguments/OutputDataConfig/CompressionType",
        lambda dagml, sdk: dagml == MISSING and sdk == "GZIP",
    ),
    Difference(
        "Training ContainerEntrypoint",
        "dagml runs the training toolkit's trainer by name (the scikit-learn image has two `train` "
        "commands and only sagemaker-training's keeps dagml's failure reason; tests/containers proves "
        "it); ModelTrainer writes a ContainerEntrypoint only for its own source_code.",
        "Steps/*/Arguments/AlgorithmSpecification/ContainerEntrypoint",
        lambda dagml, sdk: dagml == ["python3", "-m", "sagemaker_training.cli.train"] and sdk == MISSING,
    ),
    Difference(
        "Container-step model environment",
        "for a model without source code (a container step's, served by the image's own server) ModelBuilder "
        "writes SAGEMAKER_PROGRAM and SAGEMAKER_SUBMIT_DIRECTORY empty, the log level and the region; dagml "
        "writes no Environment: the image needs none (tests/containers serves it without).",
        "Steps/*/Arguments/*/Environment",
        lambda dagml, sdk: dagml == MISSING and (sdk == {} or _without_source(sdk)),
    ),
]


def _without_source(environment: Any) -> bool:
    """ModelBuilder's environment of a model that has no source code (see the difference above)."""
    return isinstance(environment, dict) and environment.get("SAGEMAKER_PROGRAM") == "" and not environment.get(
        "SAGEMAKER_SUBMIT_DIRECTORY"
    )


def _split_retry(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """dagml's retry policies as the SDK writes them: step and job exceptions in separate policies."""
    split = []
    for policy in policies:
        for family in ("Step.", "SageMaker."):
            types = [e for e in policy["ExceptionType"] if e.startswith(family)]
            if types:
                split.append({**policy, "ExceptionType": types})
    return split


#: Between dagml and ``to_sdk`` for sdk_extras.py.
TO_SDK_EXTRAS = SDK_DEFAULTS + [
    Difference(
        "Retry mixing step and job exceptions",
        "one dagml Retry may list Step.* and SageMaker.* exceptions; the SDK has one policy class per "
        "family, so to_sdk writes two policies with the same settings.",
        "Steps/*/RetryPolicies",
        lambda dagml, sdk: _split_retry(dagml) == sdk,
    ),
]
#: Between dagml and the hand-written SDK build of iris (sdk_iris.py).
SDK_IRIS = SDK_DEFAULTS + [
    Difference(
        "ScriptProcessor code input",
        "ScriptProcessor(code=...) ships one file; dagml's code input is the whole content-hashed prefix "
        "(dagml_entry.py and sourcedir.tar.gz). to_sdk uses the base Processor with an explicit entrypoint.",
        "Steps/*/Arguments/ProcessingInputs/code/S3Input/S3Uri",
        lambda dagml, sdk: isinstance(dagml, str) and sdk == dagml + "dagml_entry.py",
    ),
]

#: List items that have a name; such lists are compared by name (and their order separately).
ITEM_KEYS = ("Name", "InputName", "OutputName", "ChannelName")


def _keyed(value: Any) -> tuple[dict[str, Any], list[str]] | None:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for key in ITEM_KEYS:
            if all(key in v for v in value):
                return {v[key]: v for v in value}, [v[key] for v in value]
    return None


def differences(dagml: Any, sdk: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Every (path, dagml value, sdk value) that differs; named list items appear by name."""
    a, b = _keyed(dagml), _keyed(sdk)
    if a and b:
        if a[1] != b[1]:
            yield f"{path}#order", a[1], b[1]
        dagml, sdk = a[0], b[0]
    if isinstance(dagml, dict) and isinstance(sdk, dict):
        for key in sorted(set(dagml) | set(sdk)):
            yield from differences(
                dagml.get(key, MISSING), sdk.get(key, MISSING), f"{path}/{key}".lstrip("/")
            )
    elif isinstance(dagml, list) and isinstance(sdk, list) and len(dagml) == len(sdk):
        for i, (x, y) in enumerate(zip(dagml, sdk, strict=True)):
            yield from differences(x, y, f"{path}[{i}]")
    elif dagml != sdk or type(dagml) is not type(sdk):
        yield path, dagml, sdk


def _normal_path(path: str) -> str:
    """Branch steps sit under Steps/<condition>/Arguments/IfSteps/<name>: match them as Steps/<name>."""
    for branch in ("/Arguments/IfSteps/", "/Arguments/ElseSteps/"):
        while branch in path:
            head, tail = path.split(branch, 1)
            path = "Steps/" + tail
    return path


def unexplained(
    dagml: dict[str, Any], sdk: dict[str, Any], expected: list[Difference]
) -> tuple[list[str], set[str]]:
    """Differences no named ``Difference`` explains, and the names of those that explained one."""
    left, used = [], set()
    for path, a, b in differences(dagml, sdk):
        match = next(
            (d for d in expected if fnmatch.fnmatchcase(_normal_path(path), d.path) and d.accept(a, b)), None
        )
        if match:
            used.add(match.name)
        else:
            left.append(f"{path}: dagml {json.dumps(a)[:200]} | sdk {json.dumps(b)[:200]}")
    return left, used


# ---------------------------------------------------------------- facets the brief names


def walk(steps: list[dict[str, Any]], branch: str = "") -> Iterator[tuple[dict[str, Any], str]]:
    for s in steps:
        yield s, branch
        if s["Type"] == "Condition":
            yield from walk(s["Arguments"]["IfSteps"], f"{s['Name']}.IfSteps")
            yield from walk(s["Arguments"]["ElseSteps"], f"{s['Name']}.ElseSteps")


def references(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every Get / Std:JsonGet / Std:Join expression with its path (steps and named items by name)."""
    keyed = _keyed(value)
    if keyed:
        value = keyed[0]
    if isinstance(value, dict):
        if {"Get", "Std:JsonGet", "Std:Join"} & set(value):
            yield path, json.dumps(value, sort_keys=True)
            return
        for key, item in value.items():
            yield from references(item, f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from references(item, f"{path}[{i}]")


def register_core(step: dict[str, Any]) -> dict[str, Any]:
    args = step["Arguments"]
    spec = args["InferenceSpecification"]
    (container,) = spec["Containers"]
    return {
        "group": args["ModelPackageGroupName"],
        "approval": args.get("ModelApprovalStatus"),
        "content_types": spec["SupportedContentTypes"],
        "response_types": spec["SupportedResponseMIMETypes"],
        "realtime_instances": spec["SupportedRealtimeInferenceInstanceTypes"],
        "transform_instances": spec["SupportedTransformInstanceTypes"],
        "model_data": container["ModelDataUrl"],
        "image": container["Image"],
        "environment": None if _without_source(container.get("Environment")) else container.get("Environment"),
        "metrics": args.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics"),
        "description": args.get("ModelPackageDescription"),
    }


def facets(definition: dict[str, Any]) -> dict[str, Any]:
    steps = list(walk(definition["Steps"]))
    return {
        "steps": [(s["Name"], s["Type"], branch) for s, branch in steps],
        "references": sorted(references(definition)),
        "conditions": {s["Name"]: s["Arguments"]["Conditions"] for s, _ in steps if s["Type"] == "Condition"},
        "parameters": definition["Parameters"],
        "depends_on": {s["Name"]: s.get("DependsOn") for s, _ in steps},
        "property_files": {s["Name"]: s.get("PropertyFiles") for s, _ in steps},
        "register": {s["Name"]: register_core(s) for s, _ in steps if s["Type"] == "RegisterModel"},
        "experiment": definition.get("PipelineExperimentConfig"),
    }


def assert_same_facets(dagml: dict[str, Any], sdk: dict[str, Any]) -> None:
    ours, theirs = facets(dagml), facets(sdk)
    for facet in ours:
        assert ours[facet] == theirs[facet], f"{facet} differ"


# ---------------------------------------------------------------- tests


def test_the_sdk_never_touched_the_network_and_its_environment_was_restored(sdk):
    assert sdk["network"] == []
    assert sdk["environment_restored"] and sdk["telemetry_restored"]


def test_an_independent_sdk_build_of_iris_matches_dagml(sdk):
    dagml = dagml_definition("iris")
    assert_same_facets(dagml, sdk["sdk_iris"])
    left, _ = unexplained(dagml, sdk["sdk_iris"], SDK_IRIS)
    assert left == []


def expected_for(name: str) -> list[Difference]:
    return TO_SDK_EXTRAS if name == "extras" else SDK_DEFAULTS


@pytest.mark.parametrize("name", sorted(golden_sources()) + ["extras"])
def test_to_sdk_matches_the_compiled_definition(sdk, name):
    dagml = dagml_definition(name)
    assert_same_facets(dagml, sdk["to_sdk"][name])
    left, _ = unexplained(dagml, sdk["to_sdk"][name], expected_for(name))
    assert left == []


def test_every_named_difference_is_still_needed(sdk):
    used = unexplained(dagml_definition("iris"), sdk["sdk_iris"], SDK_IRIS)[1]
    for name in [*golden_sources(), "extras"]:
        used |= unexplained(dagml_definition(name), sdk["to_sdk"][name], expected_for(name))[1]
    assert used == {d.name for d in SDK_IRIS + TO_SDK_EXTRAS}


def test_the_comparison_catches_a_real_defect(sdk):
    dagml = copy.deepcopy(dagml_definition("iris"))
    steps = {s["Name"]: s for s, _ in walk(dagml["Steps"])}
    steps["BatchTransform"]["Arguments"]["ModelName"] = {"Get": "Steps.RegisterModel.ModelName"}
    steps["evaluate"]["PropertyFiles"][0]["FilePath"] = "metrics.json"
    left, _ = unexplained(dagml, sdk["to_sdk"]["iris"], SDK_DEFAULTS)
    assert [line.split(":")[0] for line in left] == [
        "Steps/CheckAccuracy/Arguments/IfSteps/BatchTransform/Arguments/ModelName/Get",
        "Steps/evaluate/PropertyFiles/metrics/FilePath",
    ]
    with pytest.raises(AssertionError, match="references differ"):
        assert_same_facets(dagml, sdk["to_sdk"]["iris"])


def test_the_interop_module_imports_no_sdk():
    code = (
        "import sys, dagml.sagemaker.interop\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sagemaker', 'boto3')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_missing_sdk_fails_and_says_how_to_install_it():
    with pytest.raises(pytest.fail.Exception, match=r"not importable .*pip install -e '\.\[dev\]'"):
        run_sdk(prelude="import sys; sys.modules['sagemaker'] = None\n")


@pytest.mark.parametrize("name", ["sdk_iris", *sorted(golden_sources()), "extras"])
def test_sdk_built_definitions_import_validate_and_compile_back_to_the_same_json(sdk, name):
    from dagml.sagemaker.importer import import_definition

    definition = sdk["sdk_iris"] if name == "sdk_iris" else sdk["to_sdk"][name]
    graph = pipe = import_definition(json.dumps(definition), name="sdk-built")
    assert {s["Name"] for s, _ in walk(definition["Steps"])} == set(graph.nodes)
    assert compile_pipeline(graph_of(pipe), None).definition == definition  # MlflowConfig: null and all
