"""SageMaker's scikit-learn framework image URIs, offline.

The table is SageMaker's own (``sagemaker/core/image_uri_config/sklearn.json``
in the SDK v3 distribution, the same registry account for every version and
scope). Computing the URI here keeps compile free of network calls and of the
1 GB SDK.
"""

from __future__ import annotations

from dagml.errors import DagmlError, did_you_mean

__all__ = ["DEFAULT_FRAMEWORK_VERSION", "SKLEARN_VERSIONS", "sklearn_image"]

DEFAULT_FRAMEWORK_VERSION = "1.2-1"
#: Versions SageMaker publishes for both training and inference.
SKLEARN_VERSIONS = ("0.20.0", "0.23-1", "1.0-1", "1.2-1", "1.4-2", "1.9-0")

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


class ImageError(DagmlError, ValueError):
    """No SageMaker scikit-learn image for the region or version asked for."""


def sklearn_image(region: str, version: str = DEFAULT_FRAMEWORK_VERSION) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com/sagemaker-scikit-learn:<version>-cpu-py3``."""
    account = SKLEARN_ACCOUNTS.get(region)
    if account is None:
        raise ImageError(
            f"no SageMaker scikit-learn image is known for region {region!r}{did_you_mean(region, SKLEARN_ACCOUNTS)}. "
            "Fix: use a supported region, or set image_uri explicitly."
        )
    if version not in SKLEARN_VERSIONS:
        raise ImageError(
            f"scikit-learn framework version {version!r} is not one SageMaker publishes "
            f"({', '.join(SKLEARN_VERSIONS)}). Fix: set framework_version to one of them, or set image_uri."
        )
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/sagemaker-scikit-learn:{version}-cpu-py3"
