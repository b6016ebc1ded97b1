"""SageMaker's scikit-learn framework image URIs, offline.

The table is SageMaker's own (``sagemaker/core/image_uri_config/sklearn.json``
in the SDK v3 distribution, the same registry account for every version and
scope). Computing the URI here keeps compile free of network calls and of the
1 GB SDK.
"""

from __future__ import annotations

from dagml.errors import did_you_mean
from dagml.sagemaker.errors import ImageError

__all__ = [
    "DEFAULT_FRAMEWORK_VERSION",
    "IMAGE_PYTHON",
    "PROVEN_VERSIONS",
    "RUNTIME_PYTHON",
    "SKLEARN_VERSIONS",
    "ImageError",
    "check_framework_version",
    "image_python",
    "sklearn_image",
]

#: Versions SageMaker publishes for both training and inference.
SKLEARN_VERSIONS = ("0.20.0", "0.23-1", "1.0-1", "1.2-1", "1.4-2", "1.9-0")

#: The Python each image runs, from its Dockerfiles in aws/sagemaker-scikit-learn-container (one branch
#: per version: ``docker/<version>/base/Dockerfile.cpu``). 1.9-0 has no public build files.
IMAGE_PYTHON: dict[str, tuple[int, int]] = {
    "0.20.0": (3, 7),
    "0.23-1": (3, 7),
    "1.0-1": (3, 8),
    "1.2-1": (3, 9),
    "1.4-2": (3, 10),
}

#: The oldest Python dagml's step runtime runs on: the vendored networkx (``networkx<3.5``,
#: the last line supporting 3.10) sets it; the container test bed proves it.
RUNTIME_PYTHON = (3, 10)

#: The versions the container test bed (tests/containers) proves end to end: the step runtime, the
#: training toolkit and the serving stack of that image, on its own Python, with the network cut.
#: Compile accepts only these for SageMaker's image (image_uri is the way out, at the user's risk).
PROVEN_VERSIONS = ("1.4-2",)
#: The newest proven version.
DEFAULT_FRAMEWORK_VERSION = "1.4-2"

#: Region -> account that hosts ``sagemaker-scikit-learn`` in ECR.
SKLEARN_ACCOUNTS = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "ca-west-1": "190319476487",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}


def _python(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def check_framework_version(version: str) -> None:
    """Refuse a framework version whose image cannot run dagml's step runtime, or that nothing proved."""
    if version not in SKLEARN_VERSIONS:
        raise ImageError(
            f"scikit-learn framework version {version!r} is not one SageMaker publishes "
            f"({', '.join(SKLEARN_VERSIONS)}){did_you_mean(version, SKLEARN_VERSIONS)}. "
            f"Fix: set framework_version to {DEFAULT_FRAMEWORK_VERSION!r} (the default), or set image_uri."
        )
    if version in PROVEN_VERSIONS:
        return
    python = IMAGE_PYTHON.get(version)
    if python is not None and python < RUNTIME_PYTHON:
        raise ImageError(
            f"scikit-learn framework version {version!r} runs Python {_python(python)} "
            f"(sagemaker-scikit-learn:{version}-cpu-py3), older than the Python {_python(RUNTIME_PYTHON)} "
            "dagml's step runtime needs: every step would fail at import. "
            f"Fix: use framework_version {DEFAULT_FRAMEWORK_VERSION!r} (the default), or an image_uri "
            f"with Python >= {_python(RUNTIME_PYTHON)}."
        )
    raise ImageError(
        f"scikit-learn framework version {version!r} has no public build files, so dagml cannot prove "
        "that its training toolkit and serving stack run dagml's steps. "
        f"Fix: use framework_version {DEFAULT_FRAMEWORK_VERSION!r} (the default), or set image_uri to "
        "use that image at your own risk."
    )


def image_python(version: str) -> tuple[int, int]:
    """The Python of SageMaker's scikit-learn image ``version`` (the runtime's floor when unknown)."""
    return IMAGE_PYTHON.get(version, RUNTIME_PYTHON)


def sklearn_image(region: str, version: str = DEFAULT_FRAMEWORK_VERSION) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com/sagemaker-scikit-learn:<version>-cpu-py3``."""
    account = SKLEARN_ACCOUNTS.get(region)
    if account is None:
        raise ImageError(
            f"no SageMaker scikit-learn image is known for region {region!r}{did_you_mean(region, SKLEARN_ACCOUNTS)}. "
            "Fix: use a supported region, or set image_uri explicitly."
        )
    check_framework_version(version)
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/sagemaker-scikit-learn:{version}-cpu-py3"
