"""The SageMaker SDK v3 as the oracle for dagml.sagemaker.images: dagml's URIs are the SDK's.

``sagemaker.core.image_uris.retrieve`` computes each URI from the SDK's own tables
(``image_uri_config/*.json``) and botocore's endpoint data; dagml computes it from its copy, offline.
The SDK is imported once for the module (skipped where it is not installed), with the network refused,
and its per-call file loading cached so that thousands of comparisons stay fast. Every difference is
named here: the SDK lists sklearn 1.4-2 for training only, and dagml leaves out the SDK's XGBoost
algorithm image ``1`` (alias ``latest``) and its ``eia``/``inference_graviton`` scopes.
"""

from __future__ import annotations

import functools
import socket
import warnings

import pytest

from dagml.sagemaker.images import (
    FRAMEWORKS,
    SCOPES,
    SKLEARN_ACCOUNTS,
    FrameworkImage,
    ImageError,
    framework_image,
    framework_versions,
    parse_framework_image,
    sklearn_image,
)

#: (framework, scope, version) dagml has and the SDK does not list.
ONLY_DAGML = {("sklearn", "inference", "1.4-2")}
#: (framework, version) the SDK lists and dagml leaves out.
ONLY_SDK = {("xgboost", "1")}
INSTANCE = {"cpu": "ml.m5.xlarge", "gpu": "ml.g5.xlarge", None: None}


def _refuse(*args, **kwargs):
    raise OSError("the network is disabled in the image URI oracle")


@pytest.fixture(scope="module")
def sdk():
    with pytest.MonkeyPatch.context() as mp:
        for name in ("connect", "connect_ex"):
            mp.setattr(socket.socket, name, _refuse)
        mp.setattr(socket, "getaddrinfo", _refuse)
        with warnings.catch_warnings():  # the import adds warning filters; keep them out of other tests
            image_uris = pytest.importorskip("sagemaker.core.image_uris")
            from sagemaker.core import common_utils
        # retrieve() reads its JSON and botocore's endpoint data anew on every call (~40 ms): cache both.
        mp.setattr(image_uris, "config_for_framework", functools.lru_cache(image_uris.config_for_framework))
        mp.setattr(common_utils, "_botocore_resolver", functools.lru_cache(common_utils._botocore_resolver))
        yield image_uris


def sdk_entries(sdk, framework):
    """(scope, version, entry, processors) of every version the SDK lists in the scopes dagml knows."""
    config = sdk.config_for_framework(framework)
    for scope in SCOPES:
        for version, entry in config[scope]["versions"].items():
            yield scope, version, entry, entry.get("processors") or config[scope].get("processors") or [None]


def regions(sdk):
    """Every region some entry of the three tables names, and one no table names."""
    found = {"xx-nowhere-1"}
    for framework in FRAMEWORKS:
        for _, _, entry, _ in sdk_entries(sdk, framework):
            found |= set(entry["registries"])
    return sorted(found)


def retrieve(sdk, framework, version, region, scope, python, processor):
    try:
        return sdk.retrieve(
            framework,
            region,
            version,
            py_version=python,
            instance_type=INSTANCE[processor],
            image_scope=scope,
        )
    except ValueError:
        return None


def ours(framework, version, region, scope, python=None, processor=None):
    try:
        return framework_image(framework, version, region, scope=scope, python=python, processor=processor)
    except ImageError:
        return None


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_dagml_publishes_a_version_in_a_region_exactly_where_the_sdk_does(sdk, framework):
    universe = regions(sdk)
    listed = {
        (scope, version): set(entry["registries"]) for scope, version, entry, _ in sdk_entries(sdk, framework)
    }
    wrong = []
    for scope in SCOPES:
        for version in framework_versions(framework):
            have = {r for r in universe if ours(framework, version, r, scope) is not None}
            if have != listed.get((scope, version), set()) and (framework, scope, version) not in ONLY_DAGML:
                wrong.append((scope, version, sorted(have ^ listed.get((scope, version), set()))))
    missing = {(framework, v) for s, v in listed if v not in framework_versions(framework)}
    assert wrong == [] and missing == {m for m in ONLY_SDK if m[0] == framework}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_uri_is_the_sdks(sdk, framework):
    universe = regions(sdk)
    wrong, compared = [], 0
    for i, (scope, version, entry, processors) in enumerate(sdk_entries(sdk, framework)):
        if (framework, version) in ONLY_SDK:
            continue
        published = sorted(entry["registries"])
        # Every region once over the whole table, and the China and ISO partitions for every version.
        chosen = {universe[i % len(universe)], published[i % len(published)], *published[:1]}
        chosen |= {r for r in published if r.startswith(("cn-", "us-iso", "eu-isoe-", "eusc-"))}
        for python in entry.get("py_versions") or [None]:
            for processor in processors:
                for region in sorted(chosen):
                    expected = retrieve(sdk, framework, version, region, scope, python, processor)
                    got = ours(framework, version, region, scope, python, processor)
                    compared += 1
                    if got != expected:
                        wrong.append((scope, version, python, processor, region, got, expected))
                    if got is not None and parse_framework_image(got) != (framework, version):
                        wrong.append(("parse", got))
    assert wrong == [] and compared > 100


def test_every_region_resolves_to_the_sdks_hostname(sdk):
    wrong = []
    for region in regions(sdk):
        for framework in FRAMEWORKS:
            for version in reversed(framework_versions(framework)):
                got = ours(framework, version, region, "training")
                if got is not None:
                    expected = retrieve(sdk, framework, version, region, "training", None, "cpu")
                    if got != expected:
                        wrong.append((region, got, expected))
                    break
    assert wrong == []


def test_pytorch_aliases_are_the_sdks(sdk):
    config = sdk.config_for_framework("pytorch")
    for scope in SCOPES:
        for alias, version in config[scope]["version_aliases"].items():
            mine = ours("pytorch", alias, "us-east-1", scope)
            python = FrameworkImage.parse(mine).python  # the SDK wants one where there are several
            assert mine == retrieve(sdk, "pytorch", alias, "us-east-1", scope, python, "cpu")
            assert mine == ours("pytorch", version, "us-east-1", scope).replace(f":{version}-", f":{alias}-")


def test_sklearn_image_is_the_sdks(sdk):
    for region in SKLEARN_ACCOUNTS:
        assert sklearn_image(region) == retrieve(sdk, "sklearn", "1.4-2", region, "training", None, "cpu")


def test_the_named_differences_are_still_differences(sdk):
    # The SDK lists sklearn 1.4-2 for training only; dagml serves the same image for inference.
    assert retrieve(sdk, "sklearn", "1.4-2", "us-east-1", "inference", None, "cpu") is None
    assert ours("sklearn", "1.4-2", "us-east-1", "inference") == ours(
        "sklearn", "1.4-2", "us-east-1", "training"
    )
    # The retired XGBoost algorithm image: the SDK still serves it; it runs no script, so dagml does not.
    assert retrieve(sdk, "xgboost", "1", "us-east-1", "training", None, None).endswith("/xgboost:1")
    assert ours("xgboost", "1", "us-east-1", "training") is None
