import re

import pytest

from dagml.errors import DagmlError
from dagml.runtime import bundle
from dagml.sagemaker import Settings
from dagml.sagemaker.images import (
    DEFAULT_FRAMEWORK_VERSION,
    FRAMEWORKS,
    IMAGE_PYTHON,
    PROVEN_VERSIONS,
    RUNTIME_PYTHON,
    SCOPES,
    SKLEARN_ACCOUNTS,
    SKLEARN_VERSIONS,
    FrameworkImage,
    ImageError,
    check_framework_version,
    framework_image,
    framework_python,
    framework_versions,
    image_glibc,
    image_packages,
    parse_framework_image,
    sklearn_image,
)

SETTINGS = {"role_arn": "arn:aws:iam::111122223333:role/R", "bucket": "b-1", "region": "us-east-1"}


def test_known_regions_and_versions():
    assert (
        sklearn_image("eu-west-1", "1.4-2")
        == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
    )
    assert sklearn_image("cn-north-1").endswith(".amazonaws.com.cn/sagemaker-scikit-learn:1.4-2-cpu-py3")


def test_unknown_region_or_version_is_a_clear_error():
    with pytest.raises(ImageError, match="did you mean 'us-east-2'"):
        sklearn_image("us-east-9")
    with pytest.raises(ImageError, match="framework version '9.9'"):
        sklearn_image("us-east-1", "9.9")


def test_the_default_is_the_newest_proven_version_and_its_python_meets_the_runtime():
    assert DEFAULT_FRAMEWORK_VERSION in PROVEN_VERSIONS and set(PROVEN_VERSIONS) <= set(SKLEARN_VERSIONS)
    assert all(IMAGE_PYTHON[v] >= RUNTIME_PYTHON for v in PROVEN_VERSIONS)
    assert bundle.RUNTIME_PYTHON == RUNTIME_PYTHON  # the bootstrap checks the same floor compile enforces


@pytest.mark.parametrize(
    "version, python", [("0.20.0", "3.7"), ("0.23-1", "3.7"), ("1.0-1", "3.8"), ("1.2-1", "3.9")]
)
def test_an_image_older_than_the_runtime_is_refused_naming_its_python(version, python):
    with pytest.raises(ImageError) as info:
        check_framework_version(version)
    text = str(info.value)
    assert (
        f"runs Python {python}" in text
        and "needs" in text
        and f"Fix: use framework_version '{DEFAULT_FRAMEWORK_VERSION}'" in text
    )
    with pytest.raises(DagmlError, match=f"runs Python {python}"):
        Settings(framework_version=version, **SETTINGS)


def test_an_unproven_version_is_refused_unless_the_user_takes_the_image():
    with pytest.raises(ImageError, match="no public build files"):
        Settings(framework_version="1.9-0", **SETTINGS)
    custom = Settings(
        framework_version="1.9-0", image_uri="111122223333.dkr.ecr.us-east-1.amazonaws.com/mine:1", **SETTINGS
    )
    assert custom.image.endswith("/mine:1") and custom.python == RUNTIME_PYTHON


# --- every framework -------------------------------------------------------------------------------

PYTORCH_VERSIONS = (
    "0.4.0", "1.0.0", "1.1.0", "1.2.0", "1.3.1", "1.4.0", "1.5.0", "1.6.0", "1.7.1", "1.8.0", "1.8.1",
    "1.9.0", "1.9.1", "1.10.0", "1.10.2", "1.11.0", "1.12.0", "1.12.1", "1.13.1", "2.0.0", "2.0.1",
    "2.1.0", "2.2.0", "2.3.0", "2.4.0", "2.5.1", "2.6.0", "2.7.1", "2.8.0", "2.9.0", "2.10.0",
)  # fmt: skip
XGBOOST_VERSIONS = (
    "0.90-1",
    "0.90-2",
    "1.0-1",
    "1.2-1",
    "1.2-2",
    "1.3-1",
    "1.5-1",
    "1.7-1",
    "3.0-5",
    "3.2-0",
)


def test_each_framework_lists_the_versions_sagemaker_publishes_oldest_first():
    assert FRAMEWORKS == ("sklearn", "xgboost", "pytorch")
    assert framework_versions("sklearn") == (
        "0.20.0",
        "0.23-1",
        "1.0-1",
        "1.2-1",
        "1.4-2",
        "1.4-2-py312",
        "1.9-0",
    )
    assert set(SKLEARN_VERSIONS) < set(framework_versions("sklearn"))
    assert framework_versions("xgboost") == XGBOOST_VERSIONS
    assert framework_versions("pytorch") == PYTORCH_VERSIONS


SKLEARN_EU = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn"
XGBOOST_US = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost"
DLC_US = "763104351884.dkr.ecr.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    "args, kwargs, uri",
    [
        (("sklearn", "1.4-2", "eu-west-1"), {}, f"{SKLEARN_EU}:1.4-2-cpu-py3"),
        (("sklearn", "1.4-2", "eu-west-1"), {"scope": "inference"}, f"{SKLEARN_EU}:1.4-2-cpu-py3"),
        (("sklearn", "1.4-2-py312", "eu-west-1"), {}, f"{SKLEARN_EU}:1.4-2-py312-cpu-py3"),
        (
            ("sklearn", "1.9-0", "cn-north-1"),
            {},
            "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-scikit-learn:1.9-0-cpu-py3",
        ),
        (
            ("sklearn", "1.4-2", "us-iso-east-1"),
            {},
            "833128469047.dkr.ecr.us-iso-east-1.c2s.ic.gov/sagemaker-scikit-learn:1.4-2-cpu-py3",
        ),
        (("xgboost", "1.7-1", "us-east-1"), {}, f"{XGBOOST_US}:1.7-1"),
        (("xgboost", "3.2-0", "us-east-1"), {"scope": "inference"}, f"{XGBOOST_US}:3.2-0"),
        (("xgboost", "1.0-1", "us-east-1"), {}, f"{XGBOOST_US}:1.0-1-cpu-py3"),
        (
            ("xgboost", "1.5-1", "cn-northwest-1"),
            {},
            "451049120500.dkr.ecr.cn-northwest-1.amazonaws.com.cn/sagemaker-xgboost:1.5-1",
        ),
        (
            ("xgboost", "1.7-1", "us-isob-east-1"),
            {},
            "281123927165.dkr.ecr.us-isob-east-1.sc2s.sgov.gov/sagemaker-xgboost:1.7-1",
        ),
        (
            ("xgboost", "3.0-5", "us-isof-south-1"),
            {},
            "124985052026.dkr.ecr.us-isof-south-1.csp.hci.ic.gov/sagemaker-xgboost:3.0-5",
        ),
        (("pytorch", "2.5.1", "us-east-1"), {}, f"{DLC_US}/pytorch-training:2.5.1-cpu-py311"),
        (
            ("pytorch", "2.5.1", "us-east-1"),
            {"scope": "inference", "processor": "gpu"},
            f"{DLC_US}/pytorch-inference:2.5.1-gpu-py311",
        ),
        (
            ("pytorch", "2.5", "us-east-1"),
            {},
            f"{DLC_US}/pytorch-training:2.5-cpu-py311",
        ),  # the SDK's alias tag
        (
            ("pytorch", "1.4.0", "us-east-1"),
            {},
            f"{DLC_US}/pytorch-training:1.4.0-cpu-py36",
        ),  # the newest Python
        (("pytorch", "1.4.0", "us-east-1"), {"python": "py2"}, f"{DLC_US}/pytorch-training:1.4.0-cpu-py2"),
        (
            ("pytorch", "1.1.0", "us-east-1"),
            {"scope": "inference"},
            "520713654638.dkr.ecr.us-east-1.amazonaws.com/sagemaker-pytorch:1.1.0-cpu-py3",
        ),
        (
            ("pytorch", "2.6.0", "cn-north-1"),
            {},
            "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-training:2.6.0-cpu-py312",
        ),
        (
            ("pytorch", "2.6.0", "cn-northwest-1"),
            {},
            "727897471807.dkr.ecr.cn-northwest-1.amazonaws.com.cn/pytorch-training:2.6.0-cpu-py312",
        ),
        (
            ("pytorch", "1.1.0", "cn-northwest-1"),
            {},
            "423003514399.dkr.ecr.cn-northwest-1.amazonaws.com.cn/sagemaker-pytorch:1.1.0-cpu-py3",
        ),
        (
            ("pytorch", "2.10.0", "eusc-de-east-1"),
            {},
            "204133271717.dkr.ecr.eusc-de-east-1.amazonaws.eu/pytorch-training:2.10.0-cpu-py313",
        ),
        (
            ("pytorch", "2.9.0", "eu-isoe-west-1"),
            {},
            "371248457586.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk/pytorch-training:2.9.0-cpu-py312",
        ),
        (
            ("pytorch", "2.3.0", "us-iso-east-1"),
            {},
            "886529160074.dkr.ecr.us-iso-east-1.c2s.ic.gov/pytorch-training:2.3.0-cpu-py311",
        ),
    ],
)
def test_framework_image_uris(args, kwargs, uri):
    assert framework_image(*args, **kwargs) == uri


def test_framework_image_serves_scikit_learn_as_sklearn_image_does():
    for region in SKLEARN_ACCOUNTS:
        for scope in SCOPES:
            assert framework_image(
                "sklearn", DEFAULT_FRAMEWORK_VERSION, region, scope=scope
            ) == sklearn_image(region)
    assert not any(r.startswith("us-iso") for r in SKLEARN_ACCOUNTS) and len(SKLEARN_ACCOUNTS) == 33


def test_python_and_processor_are_chosen_per_image():
    # A Python the image runs, though its tag says only "py3" or nothing, picks the image's one tag.
    assert framework_image("sklearn", "1.4-2", "us-east-1", python="py310").endswith(":1.4-2-cpu-py3")
    assert framework_image("xgboost", "1.7-1", "us-east-1", python="py39").endswith(":1.7-1")
    # XGBoost's image serves CPU and GPU instances alike: its tag carries no processor.
    assert framework_image("xgboost", "3.2-0", "us-east-1", processor="gpu").endswith(":3.2-0")
    assert framework_image("pytorch", "1.6.0", "us-east-1", python="py3", processor="gpu").endswith(
        ":1.6.0-gpu-py3"
    )


ERRORS = [
    # (args, kwargs, what the message says, its fix)
    (
        ("pytorh", "2.5.1", "us-east-1"),
        {},
        "no SageMaker framework image is known for framework 'pytorh' (did you mean 'pytorch'?).",
        "Fix: use one of 'sklearn', 'xgboost', 'pytorch', or set image_uri.",
    ),
    (
        ("xgboost", "1.7-2", "us-east-1"),
        {},
        "XGBoost version '1.7-2' is not one SageMaker publishes (0.90-1, 0.90-2, 1.0-1, 1.2-1, 1.2-2, 1.3-1, "
        "1.5-1, 1.7-1, 3.0-5, 3.2-0) (did you mean '1.7-1'?).",
        "Fix: use one of those versions, or set image_uri.",
    ),
    (
        ("xgboost", "1", "us-east-1"),  # the retired built-in algorithm image, not a framework image
        {},
        "XGBoost version '1' is not one SageMaker publishes",
        "Fix: use one of those versions, or set image_uri.",
    ),
    (
        ("pytorch", "2.5.1", "us-east-1"),
        {"scope": "train"},
        "image scope 'train' is not one of 'training', 'inference' (did you mean 'training'?).",
        "Fix: use scope='training' (jobs) or scope='inference' (models and endpoints).",
    ),
    (
        ("pytorch", "2.10.0", "us-east-1"),
        {"scope": "inference"},
        "SageMaker publishes no inference image of PyTorch 2.10.0 (its inference images are 0.4.0 to 2.6.0).",
        "Fix: use a version it publishes, e.g. '2.6.0', or set image_uri.",
    ),
    (
        ("sklearn", "1.4-2", "eu-wset-1"),
        {},
        "no SageMaker scikit-learn 1.4-2 image is known for region 'eu-wset-1' (did you mean 'eu-west-1'?).",
        "Fix: use a supported region, or set image_uri explicitly.",
    ),
    (
        ("pytorch", "2.5.1", "me-west-1"),
        {},
        "SageMaker publishes no PyTorch 2.5.1 training image in region 'me-west-1'.",
        "Fix: use a version published there (e.g. '2.10.0'), another region, or set image_uri.",
    ),
    (
        ("xgboost", "1.7-1", "ap-east-2"),  # a DLC region, where no sagemaker-xgboost is published
        {},
        "SageMaker publishes no XGBoost 1.7-1 training image in region 'ap-east-2'.",
        "Fix: use another region, or set image_uri.",
    ),
    (
        ("pytorch", "2.5.1", "us-east-1"),
        {"python": "py310"},
        "SageMaker publishes no PyTorch 2.5.1 image for Python 'py310' (its tags carry py311; it runs Python "
        "3.11) (did you mean 'py311'?).",
        "Fix: leave python unset, or set image_uri.",
    ),
    (
        ("pytorch", "1.4.0", "us-east-1"),
        {"scope": "inference", "python": "py2"},
        "SageMaker publishes no PyTorch 1.4.0 image for Python 'py2' (its tags carry py3, py36; it runs Python 3.6)",
        "Fix: use one of py3, py36, or leave python unset (the newest), or set image_uri.",
    ),
    (
        ("xgboost", "1.7-1", "us-east-1"),
        {"python": "py310"},
        "SageMaker publishes no XGBoost 1.7-1 image for Python 'py310' (its tags carry no Python; it runs Python 3.9).",
        "Fix: leave python unset, or set image_uri.",
    ),
    (
        ("pytorch", "2.5.1", "us-east-1"),
        {"processor": "tpu"},
        "SageMaker publishes no 'tpu' image of PyTorch 2.5.1 (only cpu, gpu).",
        "Fix: use processor='cpu' (the default), or set image_uri.",
    ),
    (
        ("sklearn", "1.4-2", "us-east-1"),
        {"processor": "gpu"},
        "SageMaker publishes no 'gpu' image of scikit-learn 1.4-2 (only cpu).",
        "Fix: use processor='cpu' (the default), or set image_uri.",
    ),
]


@pytest.mark.parametrize("args, kwargs, says, fix", ERRORS)
def test_every_refusal_says_what_is_wrong_and_ends_with_the_fix(args, kwargs, says, fix):
    with pytest.raises(ImageError) as info:
        framework_image(*args, **kwargs)
    text = str(info.value)
    assert text.startswith(says) and text.endswith(fix)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "call",
    [
        lambda: framework_versions("tensorflow"),
        lambda: framework_python("pytorch", "3.0"),
        lambda: framework_python("pytorch", "2.5.1", "py3"),
        lambda: image_glibc("xgboost", "latest"),
        lambda: image_packages("sklearn", "1.4"),
    ],
)
def test_the_facts_refuse_what_framework_image_refuses(call):
    with pytest.raises(ImageError, match="Fix: "):
        call()


def scope_versions(framework):
    """(scope, version) pairs the framework publishes, found through framework_image alone."""
    for scope in SCOPES:
        for version in framework_versions(framework):
            try:
                framework_image(framework, version, "us-east-1", scope=scope)
            except ImageError as exc:
                assert f"no {scope} image of" in str(exc)
                continue
            yield scope, version


PYTHON_TAGS = ("py2", "py3", "py36", "py38", "py39", "py310", "py311", "py312", "py313")


def tags(framework, version, scope):
    """Every (python, processor) the tag of (framework, version, scope) carries, as framework_image takes them."""
    if framework != "pytorch":
        return [(None, None)]
    pythons = [p for p in PYTHON_TAGS if has_python(version, scope, p)]
    return [(p, c) for p in pythons for c in ("cpu", "gpu")]


def has_python(version, scope, python):
    try:
        return framework_image("pytorch", version, "us-east-1", scope=scope, python=python).endswith(
            f"-{python}"
        )
    except ImageError:
        return False


REGIONS = (
    "us-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "eu-west-1",
    "af-south-1",
)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_framework_image_parses_back(framework):
    for scope, version in scope_versions(framework):
        for python, processor in tags(framework, version, scope):
            for region in REGIONS:
                try:
                    uri = framework_image(
                        framework, version, region, scope=scope, python=python, processor=processor
                    )
                except ImageError:
                    continue  # not published in that region
                image = FrameworkImage.parse(uri)
                assert parse_framework_image(uri) == (framework, version), uri
                assert image is not None and image.region == region
                assert image.scope == (scope if "/pytorch-" in uri else None)
                assert image.python == (uri.rsplit("-", 1)[-1] if re.search(r"-py\d+$", uri) else None)
                again = framework_image(
                    framework, version, region, scope=scope, python=image.python, processor=image.processor
                )
                assert again == uri


def test_pytorch_aliases_and_other_tag_spellings_parse_back():
    uri = framework_image("pytorch", "2.5", "us-east-1", scope="inference", processor="gpu")
    assert FrameworkImage.parse(uri) == FrameworkImage(
        "pytorch", "2.5", "us-east-1", "inference", "gpu", "py311"
    )
    # SageMaker tags its own images both ways; the SDK writes the one in its table.
    assert parse_framework_image(f"{XGBOOST_US}:3.2-0-cpu-py3") == ("xgboost", "3.2-0")
    assert parse_framework_image(f"{SKLEARN_EU}:1.9-0") == ("sklearn", "1.9-0")
    assert parse_framework_image(f"{SKLEARN_EU}:1.4-2-py312-cpu-py3") == ("sklearn", "1.4-2-py312")


@pytest.mark.parametrize(
    "uri",
    [
        "111122223333.dkr.ecr.us-east-1.amazonaws.com/mine:1",
        "111122223333.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311",  # another account
        "763104351884.dkr.ecr.eu-south-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311",  # not eu-south-1's
        "763104351884.dkr.ecr.us-east-1.amazonaws.com.cn/pytorch-training:2.5.1-cpu-py311",  # the wrong domain
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-cpu-py310",  # no such tag
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311-cu124-ubuntu22.04-sagemaker",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.10.0-cpu-py313",  # training only
        "763104351884.dkr.ecr.me-west-1.amazonaws.com/pytorch-training:2.5.1-cpu-py311",  # not published there
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost@sha256:" + "0" * 64,
        "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",  # the retired algorithm image
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-gpu-py3",
        "python:3.11",
        "",
    ],
)
def test_any_other_image_parses_to_none(uri):
    assert parse_framework_image(uri) is None and FrameworkImage.parse(uri) is None


# --- facts -----------------------------------------------------------------------------------------


def test_framework_python():
    for version in framework_versions("sklearn"):
        assert framework_python("sklearn", version) == IMAGE_PYTHON[version]
    assert (
        framework_python("sklearn", "1.4-2", "py3")
        == framework_python("sklearn", "1.4-2", "py310")
        == (3, 10)
    )
    assert [framework_python("xgboost", v) for v in XGBOOST_VERSIONS] == [
        (3, 7), (3, 6), (3, 7), (3, 7), (3, 7), (3, 7), (3, 8), (3, 9), (3, 10), (3, 12),
    ]  # fmt: skip
    assert framework_python("pytorch", "2.5.1") == framework_python("pytorch", "2.5") == (3, 11)
    assert framework_python("pytorch", "2.10.0") == (3, 13)
    assert framework_python("pytorch", "1.4.0") == framework_python("pytorch", "1.4.0", "py3") == (3, 6)
    assert framework_python("pytorch", "1.4.0", "py2") == (2, 7)
    assert framework_python("pytorch", "0.4.0") == (3, 5)
    assert framework_python("pytorch", "1.9.0") == (3, 8)


def test_every_tag_python_is_the_python_framework_python_names():
    for scope, version in scope_versions("pytorch"):
        for python, _ in tags("pytorch", version, scope):
            if python not in (None, "py2", "py3"):
                assert framework_python("pytorch", version, python) == (int(python[2]), int(python[3:]))


def test_image_glibc_is_known_for_every_image():
    for framework in FRAMEWORKS:
        for version in framework_versions(framework):
            assert image_glibc(framework, version) in {(2, 23), (2, 27), (2, 31), (2, 34), (2, 35), (2, 39)}
    assert image_glibc("sklearn", "1.4-2") == (2, 39)  # the final stage is ubuntu:24.04
    assert image_glibc("sklearn", "1.2-1") == (2, 31)
    assert image_glibc("sklearn", "1.9-0") == image_glibc("xgboost", "3.2-0") == (2, 34)  # Amazon Linux 2023
    assert image_glibc("xgboost", "1.7-1") == image_glibc("xgboost", "3.0-5") == (2, 31)
    assert image_glibc("xgboost", "0.90-2") == (2, 23)
    assert image_glibc("pytorch", "2.3.0") == (2, 31) and image_glibc("pytorch", "2.4.0") == (2, 35)
    assert image_glibc("pytorch", "2.4") == image_glibc("pytorch", "2.4.0")
    assert image_glibc("pytorch", "1.8.1") == (2, 27)


def test_image_packages_are_exact_pins_under_pep_503_names():
    for framework in FRAMEWORKS:
        for version in framework_versions(framework):
            packages = image_packages(framework, version)
            assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in packages), packages
            assert all(re.fullmatch(r"\d[\w.+!]*", pinned) for pinned in packages.values()), packages
            if framework != "pytorch":  # each pins its framework at the version's major.minor
                pinned = packages["scikit-learn" if framework == "sklearn" else "xgboost"]
                assert pinned.startswith(".".join(re.findall(r"\d+", version)[:2]))
    assert image_packages("pytorch", "2.5.1") == {}
    assert image_packages("xgboost", "3.2-0")["pyyaml"] == "6.0.1"
    assert image_packages("xgboost", "3.0-5")["dask"] == "2024.11.2"  # dask[dataframe]==2024.11.2


def test_the_sklearn_image_pins_what_the_container_bed_installs():
    from tests.containers.images import IMAGES

    pins = [r.split("==") for r in IMAGES[DEFAULT_FRAMEWORK_VERSION].requirements if "==" in r]
    expected = {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}
    assert image_packages("sklearn", DEFAULT_FRAMEWORK_VERSION) == expected
