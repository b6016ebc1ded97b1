"""SageMaker's framework images (scikit-learn, XGBoost, PyTorch): their URIs and what they hold, offline.

The URI tables are SageMaker's own, copied as data from the SDK v3 distribution
(``sagemaker/core/image_uri_config/{sklearn,xgboost,pytorch}.json``, sagemaker-core 2.27.0): the
account per region, the repository and the tag's parts (processor, Python) per version and scope.
The facts about each image (its Python, its base OS's glibc, the distributions it pins) come from its
public build files, cited beside each entry. Computing all this here keeps compile free of network
calls and of the 1 GB SDK.

Left out on purpose: the SDK's ``eia`` and ``inference_graviton`` scopes (accelerators and ARM images
dagml does not target) and XGBoost ``1``/``latest`` (the retired built-in algorithm image ``xgboost:1``,
which runs no script).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple, NoReturn

import attrs

from dagml.errors import did_you_mean
from dagml.sagemaker.errors import ImageError

__all__ = [
    "DEFAULT_FRAMEWORK_VERSION",
    "FRAMEWORKS",
    "IMAGE_PYTHON",
    "PROVEN_VERSIONS",
    "RUNTIME_PYTHON",
    "SCOPES",
    "SKLEARN_VERSIONS",
    "FrameworkImage",
    "ImageError",
    "check_framework_version",
    "framework_image",
    "framework_python",
    "framework_versions",
    "image_glibc",
    "image_packages",
    "image_python",
    "parse_framework_image",
    "sklearn_image",
]

#: The frameworks whose SageMaker images dagml knows.
FRAMEWORKS = ("sklearn", "xgboost", "pytorch")
#: What an image is for: jobs (training, processing) or models (endpoints, batch transform).
SCOPES = ("training", "inference")

#: Versions SageMaker publishes for both training and inference.
SKLEARN_VERSIONS = ("0.20.0", "0.23-1", "1.0-1", "1.2-1", "1.4-2", "1.9-0")

#: The Python each image runs, from its Dockerfiles in aws/sagemaker-scikit-learn-container (one branch
#: per version: ``docker/<version>/base/Dockerfile.cpu``), except the two that
#: aws/deep-learning-containers builds (``docker/sklearn/<version>/Dockerfile`` on main, e0ecedea6a:
#: ``ARG PYTHON_VERSION=3.12``).
IMAGE_PYTHON: dict[str, tuple[int, int]] = {
    "0.20.0": (3, 7),
    "0.23-1": (3, 7),
    "1.0-1": (3, 8),
    "1.2-1": (3, 9),
    "1.4-2": (3, 10),
    "1.4-2-py312": (3, 12),
    "1.9-0": (3, 12),
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

# ---------------------------------------------------------------------------------------------------
# Accounts (the SDK's "registries"): region -> the AWS account whose ECR holds the image.

#: sagemaker-scikit-learn and sagemaker-xgboost: sklearn.json and xgboost.json list these same accounts
#: for every version and scope.
_SAGEMAKER_ACCOUNTS = {
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
    "us-iso-east-1": "833128469047",
    "us-isob-east-1": "281123927165",
    "us-isof-east-1": "108575199400",
    "us-isof-south-1": "124985052026",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}
#: Region -> account that hosts ``sagemaker-scikit-learn`` in ECR, as :func:`sklearn_image` has always
#: served it: the table above without the ISO partitions.
SKLEARN_ACCOUNTS = {r: a for r, a in _SAGEMAKER_ACCOUNTS.items() if not r.startswith("us-iso")}

#: The regions that share one account: 763104351884 for the DLC, 520713654638 for sagemaker-pytorch.
_MAIN_REGIONS = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)
#: The Deep Learning Containers accounts (pytorch-training, pytorch-inference from 1.2.0 on): every
#: version of pytorch.json lists a subset of these, never another account for a region.
_DLC_ACCOUNTS = {
    **dict.fromkeys(_MAIN_REGIONS, "763104351884"),
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-east-2": "975050140332",
    "ap-northeast-3": "364406365360",
    "ap-south-2": "772153158452",
    "ap-southeast-3": "907027046896",
    "ap-southeast-4": "457447274322",
    "ap-southeast-5": "550225433462",
    "ap-southeast-6": "633930458069",
    "ap-southeast-7": "590183813437",
    "ca-west-1": "204538143572",
    "cn-north-1": "727897471807",  # both China regions: one account
    "cn-northwest-1": "727897471807",
    "eu-central-2": "380420809688",
    "eu-isoe-west-1": "371248457586",
    "eu-south-1": "692866216735",
    "eu-south-2": "503227376785",
    "eusc-de-east-1": "204133271717",
    "il-central-1": "780543022126",
    "me-central-1": "914824155844",
    "me-south-1": "217643126080",
    "me-west-1": "124382933778",
    "mx-central-1": "637423239942",
    "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
    "us-iso-east-1": "886529160074",
    "us-isob-east-1": "094389454867",
    "us-isof-east-1": "303241398832",
    "us-isof-south-1": "454834333376",
}
#: ``sagemaker-pytorch``, the repository of PyTorch 0.4.0 to 1.1.0 (both scopes).
_PYTORCH_LEGACY_ACCOUNTS = {
    **dict.fromkeys(_MAIN_REGIONS, "520713654638"),
    "af-south-1": "313743910680",
    "ap-east-1": "057415533634",
    "cn-north-1": "422961961927",
    "cn-northwest-1": "423003514399",
    "eu-south-1": "048378556238",
    "me-south-1": "724002660598",
    "us-gov-west-1": "246785580436",
    "us-iso-east-1": "744548109606",
    "us-isob-east-1": "453391408702",
}


def _without(accounts: Mapping[str, str], *regions: str) -> dict[str, str]:
    return {r: a for r, a in accounts.items() if r not in regions}


_ISO = ("us-iso-east-1", "us-isob-east-1", "us-isof-east-1", "us-isof-south-1")
_NEW = ("eu-isoe-west-1", "eusc-de-east-1")
# The DLC regions each PyTorch release lists, by the first version that lists them (pytorch.json):
#: 1.2.0 to 2.0.1, both scopes.
_DLC_1_2 = _without(_DLC_ACCOUNTS, *_NEW, "me-west-1", "us-isof-east-1", "us-isof-south-1")
#: 2.1.0, 2.2.0, and training 2.3.0.
_DLC_2_1 = _without(_DLC_ACCOUNTS, *_NEW, "me-west-1")
#: inference 2.3.0 to 2.5.1, training 2.4.0 to 2.7.1: no ISO partition.
_DLC_2_4 = _without(_DLC_ACCOUNTS, *_NEW, "me-west-1", *_ISO)
#: inference 2.6.0, training 2.8.0: me-west-1 joins.
_DLC_2_8 = _without(_DLC_ACCOUNTS, *_NEW, *_ISO)
# training 2.9.0 and 2.10.0 list every DLC region (_DLC_ACCOUNTS).

#: Region prefix -> the DNS suffix of its partition, as botocore's endpoint data (which the SDK asks for
#: ECR's hostname) gives it; every other region is under amazonaws.com.
_DNS_SUFFIXES = {
    "cn-": "amazonaws.com.cn",
    "us-iso-": "c2s.ic.gov",
    "us-isob-": "sc2s.sgov.gov",
    "us-isof-": "csp.hci.ic.gov",
    "eu-isoe-": "cloud.adc-e.uk",
    "eusc-": "amazonaws.eu",
}


def _domain(region: str) -> str:
    return next((s for p, s in _DNS_SUFFIXES.items() if region.startswith(p)), "amazonaws.com")


# ---------------------------------------------------------------------------------------------------
# Releases: what the SDK's tables say per framework, scope and version.


class _Release(NamedTuple):
    """One version's image in one scope: ``<account>.dkr.ecr.<region>.<domain>/<repository>:<tag>``,
    the tag being ``<version>[-<processor>][-<python>]``."""

    repository: str
    accounts: Mapping[str, str]
    #: The tag's Python part ("py_versions"); () when the tag carries none.
    pythons: tuple[str, ...] = ()
    #: The tag's processor part ("processors"); () when the tag carries none.
    processors: tuple[str, ...] = ()


_SKLEARN = _Release("sagemaker-scikit-learn", _SAGEMAKER_ACCOUNTS, ("py3",), ("cpu",))
# The SDK lists 1.4-2 for training only (sklearn.json "inference" jumps from 1.2-1 to 1.4-2-py312), yet
# the image serves too: the same image serves both scopes of every other version, and dagml's container
# test bed proves 1.4-2's serving stack. dagml keeps it in both scopes.
_SKLEARN_VERSIONS = (*SKLEARN_VERSIONS, "1.4-2-py312")

# xgboost.json gives 0.90-1 to 1.0-1 a processor and a Python ("1.0-1-cpu-py3"); later tags are the
# version alone ("1.7-1"), though SageMaker also publishes them as "<version>-cpu-py3".
_XGBOOST_TAGGED = _Release("sagemaker-xgboost", _SAGEMAKER_ACCOUNTS, ("py3",), ("cpu",))
_XGBOOST_BARE = _Release("sagemaker-xgboost", _SAGEMAKER_ACCOUNTS)
_XGBOOST = {
    **dict.fromkeys(("0.90-1", "0.90-2", "1.0-1"), _XGBOOST_TAGGED),
    **dict.fromkeys(("1.2-1", "1.2-2", "1.3-1", "1.5-1", "1.7-1", "3.0-5", "3.2-0"), _XGBOOST_BARE),
}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))


#: PyTorch version -> (the tag's Pythons, accounts), per scope.
_PYTORCH_TRAINING: dict[str, tuple[str, Mapping[str, str]]] = {
    "0.4.0": ("py2 py3", _PYTORCH_LEGACY_ACCOUNTS),
    "1.0.0": ("py2 py3", _PYTORCH_LEGACY_ACCOUNTS),
    "1.1.0": ("py2 py3", _PYTORCH_LEGACY_ACCOUNTS),
    "1.2.0": ("py2 py3", _DLC_1_2),
    "1.3.1": ("py2 py3", _DLC_1_2),
    "1.4.0": ("py2 py3 py36", _DLC_1_2),
    "1.5.0": ("py3 py36", _DLC_1_2),
    "1.6.0": ("py3 py36", _DLC_1_2),
    "1.7.1": ("py3 py36", _DLC_1_2),
    "1.8.0": ("py3 py36", _DLC_1_2),
    "1.8.1": ("py3 py36", _DLC_1_2),
    "1.9.0": ("py38", _DLC_1_2),
    "1.9.1": ("py38", _DLC_1_2),
    "1.10.0": ("py38", _DLC_1_2),
    "1.10.2": ("py38", _DLC_1_2),
    "1.11.0": ("py38", _DLC_1_2),
    "1.12.0": ("py38", _DLC_1_2),
    "1.12.1": ("py38", _DLC_1_2),
    "1.13.1": ("py39", _DLC_1_2),
    "2.0.0": ("py310", _DLC_1_2),
    "2.0.1": ("py310", _DLC_1_2),
    "2.1.0": ("py310", _DLC_2_1),
    "2.2.0": ("py310", _DLC_2_1),
    "2.3.0": ("py311", _DLC_2_1),
    "2.4.0": ("py311", _DLC_2_4),
    "2.5.1": ("py311", _DLC_2_4),
    "2.6.0": ("py312", _DLC_2_4),
    "2.7.1": ("py312", _DLC_2_4),
    "2.8.0": ("py312", _DLC_2_8),
    "2.9.0": ("py312", _DLC_ACCOUNTS),
    "2.10.0": ("py313", _DLC_ACCOUNTS),
}
_PYTORCH_INFERENCE: dict[str, tuple[str, Mapping[str, str]]] = {
    **{v: row for v, row in _PYTORCH_TRAINING.items() if _version_key(v) <= (2, 6, 0)},
    "1.4.0": ("py3 py36", _DLC_1_2),  # no py2, unlike training
    "2.3.0": ("py311", _DLC_2_4),  # no ISO region, unlike training
    "2.6.0": ("py312", _DLC_2_8),  # me-west-1, unlike training
}


def _pytorch(scope: str, rows: Mapping[str, tuple[str, Mapping[str, str]]]) -> dict[str, _Release]:
    return {
        version: _Release(
            "sagemaker-pytorch" if accounts is _PYTORCH_LEGACY_ACCOUNTS else f"pytorch-{scope}",
            accounts,
            tuple(pythons.split()),
            ("cpu", "gpu"),
        )
        for version, (pythons, accounts) in rows.items()
    }


#: framework -> scope -> version -> release.
_RELEASES: dict[str, dict[str, dict[str, _Release]]] = {
    "sklearn": {scope: dict.fromkeys(_SKLEARN_VERSIONS, _SKLEARN) for scope in SCOPES},
    "xgboost": dict.fromkeys(SCOPES, _XGBOOST),
    "pytorch": {
        "training": _pytorch("training", _PYTORCH_TRAINING),
        "inference": _pytorch("inference", _PYTORCH_INFERENCE),
    },
}
_LABELS = {"sklearn": "scikit-learn", "xgboost": "XGBoost", "pytorch": "PyTorch"}
_VERSIONS = {
    framework: tuple(sorted({v for releases in scopes.values() for v in releases}, key=_version_key))
    for framework, scopes in _RELEASES.items()
}
#: PyTorch's "X.Y" tags: the SDK's version_aliases, each the newest X.Y.Z it lists.
_ALIASES: dict[str, dict[str, str]] = {
    "sklearn": {},
    "xgboost": {},
    "pytorch": {".".join(v.split(".")[:2]): v for v in _VERSIONS["pytorch"]},
}

# ---------------------------------------------------------------------------------------------------
# Facts about each image, from its public build files.


class _Facts(NamedTuple):
    #: The image's Python (for PyTorch, that of its "py3" tag; the other tags name theirs).
    python: tuple[int, int] | None
    #: The base OS of the image's final stage (its Dockerfile's FROM line).
    os: str
    #: The distributions the image pins exactly, "name==version ...", from its requirements.
    pins: str = ""


#: Base OS -> the glibc it ships (Ubuntu's and Amazon Linux's package archives).
_GLIBC = {
    "ubuntu16.04": (2, 23),
    "ubuntu18.04": (2, 27),
    "ubuntu20.04": (2, 31),
    "ubuntu22.04": (2, 35),
    "ubuntu24.04": (2, 39),
    "amzn2023": (2, 34),
}

_SKLEARN_FACTS = {
    # aws/sagemaker-scikit-learn-container, one branch per version (head commit): the OS is the FROM
    # line of docker/<version>/base/Dockerfile.cpu (ARG UBUNTU_VERSION), the pins are requirements.txt.
    # Branch 0.20.0 (d021ef4); scikit-learn==0.20.0 from the base Dockerfile (requirements.txt: >=).
    "0.20.0": _Facts(
        IMAGE_PYTHON["0.20.0"],
        "ubuntu18.04",
        "cryptography==35.0.0 numpy==1.19.5 retrying==1.3.3 itsdangerous==2.0.1 jinja2==2.10.2 "
        "MarkupSafe==1.1.1 Werkzeug==0.15.6 certifi==2023.7.22 scikit-learn==0.20.0",
    ),
    # Branch 0.23-1 (e7ab948).
    "0.23-1": _Facts(
        IMAGE_PYTHON["0.23-1"],
        "ubuntu18.04",
        "boto3==1.24.17 botocore==1.27.18 cryptography==35.0.0 Flask==1.1.1 gunicorn==20.0.4 "
        "itsdangerous==2.0.1 jinja2==3.0.3 MarkupSafe==2.1.1 model-archiver==1.0.3 "
        "multi-model-server==1.1.1 numpy==1.19.2 pandas==1.1.3 protobuf==3.20.2 psutil==5.7.2 "
        "pyarrow==1.0.0 python-dateutil==2.8.1 retrying==1.3.3 sagemaker-containers==2.8.6.post2 "
        "sagemaker-inference==1.2.0 sagemaker-training==4.0.1 scikit-learn==0.23.2 scipy==1.5.3 "
        "six==1.15.0 Werkzeug==0.15.6",
    ),
    # Branch 1.0-1 (117925d).
    "1.0-1": _Facts(
        IMAGE_PYTHON["1.0-1"],
        "ubuntu18.04",
        "boto3==1.28.57 cryptography==40.0.2 Flask==1.1.1 itsdangerous==2.0.1 gunicorn==20.0.4 "
        "model-archiver==1.0.3 multi-model-server==1.1.1 pandas==1.1.3 protobuf==3.20.2 psutil==5.7.2 "
        "python-dateutil==2.8.1 retrying==1.3.3 sagemaker-containers==2.8.6.post2 "
        "sagemaker-inference==1.2.0 sagemaker-training==4.7.4 scikit-learn==1.0.2 scipy==1.8.0 "
        "six==1.15.0 jinja2==3.0.3 MarkupSafe==2.1.1 Werkzeug==0.15.6 setuptools==65.5.1 wheel==0.38.1 "
        "numpy==1.24.1 certifi==2023.7.22 pyopenssl==23.1.0 gevent==23.9.1",
    ),
    # Branch 1.2-1 (b440c40).
    "1.2-1": _Facts(
        IMAGE_PYTHON["1.2-1"],
        "ubuntu20.04",
        "boto3==1.28.57 Flask==1.1.1 itsdangerous==2.0.1 gunicorn==23.0.0 model-archiver==1.0.3 "
        "multi-model-server==1.1.1 pandas==1.1.3 protobuf==3.20.2 psutil==5.7.2 python-dateutil==2.8.1 "
        "retrying==1.3.3 sagemaker-containers==2.8.6.post2 sagemaker-inference==1.2.0 "
        "sagemaker-training==4.8.0 scikit-learn==1.2.1 scipy==1.8.0 urllib3==1.26.17 six==1.15.0 "
        "jinja2==3.0.3 MarkupSafe==2.1.1 numpy==1.24.1 gevent==23.9.1 Werkzeug==2.0.3",
    ),
    # Branch v1.4-2 (6c5704d), as tests/containers/images.py: the final stage is FROM ubuntu:24.04 (only
    # the mlio-builder stage is 20.04).
    "1.4-2": _Facts(
        IMAGE_PYTHON["1.4-2"],
        "ubuntu24.04",
        "numpy==2.1.0 scikit-learn==1.4.2 pandas==2.3.2 pyarrow==17.0.0 boto3==1.28.57 "
        "cryptography==46.0.7 Flask==1.1.1 gevent==23.9.1 gunicorn==23.0.0 itsdangerous==2.0.1 "
        "model-archiver==1.0.3 multi-model-server==1.1.1 protobuf==3.20.2 psutil==5.7.2 PyYAML==6.0.1 "
        "retrying==1.3.3 sagemaker-containers==2.8.6.post2 sagemaker-inference==1.2.0 "
        "sagemaker-training==4.8.0 setuptools==80.9.0 six==1.15.0 urllib3==1.26.17 Werkzeug==2.0.3 "
        "wheel==0.45.1",
    ),
    # aws/deep-learning-containers main (e0ecedea6a), which builds it: docker/sklearn/1.4-2-py312/
    # Dockerfile (FROM ubuntu:24.04) and requirements.txt.
    "1.4-2-py312": _Facts(
        IMAGE_PYTHON["1.4-2-py312"],
        "ubuntu24.04",
        "boto3==1.28.57 cryptography==50.0.0 Flask==1.1.1 gevent==23.9.1 gunicorn==23.0.0 "
        "itsdangerous==2.0.1 model-archiver==1.0.3 multi-model-server==1.1.1 numpy==2.1.0 pandas==2.3.2 "
        "protobuf==3.20.2 psutil==5.7.2 pyarrow==17.0.0 PyYAML==6.0.1 retrying==1.3.3 "
        "sagemaker-containers==2.8.6.post2 sagemaker-inference==1.2.0 sagemaker-training==4.8.0 "
        "scikit-learn==1.4.2 setuptools==80.9.0 six==1.16.0 urllib3==1.26.17 Werkzeug==2.0.3 "
        "wheel==0.45.1",
    ),
    # aws/deep-learning-containers main (e0ecedea6a): docker/sklearn/1.9-0/Dockerfile (FROM
    # amazonlinux:2023) and pyproject.toml's dependencies.
    "1.9-0": _Facts(
        IMAGE_PYTHON["1.9-0"],
        "amzn2023",
        "scikit-learn==1.9.0 numpy==2.5.1 scipy==1.18.0 pandas==2.2.3 pyarrow==25.0.0 boto3==1.43.46 "
        "Flask==3.1.3 gunicorn==26.0.0 multi-model-server==1.1.2 sagemaker-containers==2.8.6.post2 "
        "sagemaker-inference==1.5.5 sagemaker-training==4.8.0 PyYAML==6.0.3 requests==2.33.0 "
        "protobuf==3.20.2",
    ),
}

_XGBOOST_FACTS = {
    # aws/sagemaker-xgboost-container, one branch per version (head commit): docker/<version>/base/
    # Dockerfile.cpu gives the OS (FROM ubuntu or nvidia/cuda:...-ubuntu<UBUNTU_VERSION>), the Python
    # (ARG PYTHON_VERSION, or `conda install python=`) and `pip install xgboost==<XGBOOST_VERSION>`; the
    # other pins are requirements.txt.
    # Branch 0.90-1 (132188b): PYTHON_VERSION=3.7.10.
    "0.90-1": _Facts(
        (3, 7),
        "ubuntu16.04",
        "xgboost==0.90 Flask==1.1.1 PyYAML==5.4.1 boto3==1.10.47 botocore==1.13.47 cryptography==3.4.6 "
        "matplotlib==3.1.2 numpy==1.18.1 pandas==0.25.3 psutil==5.6.7 python-dateutil==2.8.0 "
        "retrying==1.3.3 sagemaker-containers==2.8.6.post2 scikit-learn==0.22.1 scipy==1.2.2 "
        "urllib3==1.25.9",
    ),
    # Branch 0.90-2 (a034e4b): `conda install -c conda-forge python=3.6.13`.
    "0.90-2": _Facts(
        (3, 6),
        "ubuntu16.04",
        "xgboost==0.90 Flask==1.1.1 PyYAML==5.4.1 boto3==1.13.21 botocore==1.13.14 cryptography==3.4.6 "
        "matplotlib==3.2.1 multi-model-server==1.1.1 numpy==1.18.4 pandas==1.0.4 psutil==5.6.7 "
        "python-dateutil==2.8.0 retrying==1.3.3 sagemaker-inference==1.2.0 scikit-learn==0.23.1 "
        "scipy==1.2.2 smdebug==0.4.13 urllib3==1.25.9",
    ),
    # Branch 1.0-1 (0c7a3b8): PYTHON_VERSION=3.7.10 (its final Dockerfile still names python3.6 paths).
    "1.0-1": _Facts(
        (3, 7),
        "ubuntu18.04",
        "xgboost==1.0.0 Flask==1.1.1 Pillow==9.1.1 PyYAML==5.4.1 boto3==1.17.52 botocore==1.20.52 "
        "gunicorn==19.10.0 cryptography==3.4.6 itsdangerous==2.0.1 matplotlib==3.3.2 "
        "multi-model-server==1.1.1 pandas==1.1.3 protobuf==3.20.1 psutil==5.6.7 python-dateutil==2.8.0 "
        "requests==2.25.1 retrying==1.3.3 sagemaker-containers==2.8.6.post2 sagemaker-inference==1.2.0 "
        "scikit-learn==0.24.1 scipy==1.2.2 smdebug==1.0.10 urllib3==1.26.5 wheel==0.36.2 jinja2==2.11.3 "
        "MarkupSafe==1.1.1 Werkzeug==0.15.6",
    ),
    # Branch 1.2-1 (0d8f55d): PYTHON_VERSION=3.7.10.
    "1.2-1": _Facts(
        (3, 7),
        "ubuntu18.04",
        "xgboost==1.2.0 Flask==1.1.1 PyYAML==5.4 Pillow==9.1.1 boto3==1.17.52 botocore==1.20.52 "
        "cryptography==35.0.0 gunicorn==19.10.0 matplotlib==3.3.2 multi-model-server==1.1.1 numpy==1.21.6 "
        "pandas==1.1.3 protobuf==3.20.1 psutil==5.6.7 python-dateutil==2.8.0 requests==2.25.1 "
        "retrying==1.3.3 sagemaker-containers==2.8.6.post2 sagemaker-inference==1.2.0 "
        "scikit-learn==0.23.2 scipy==1.5.3 smdebug==1.0.7 urllib3==1.26.5 wheel==0.35.1 jinja2==3.0.3 "
        "itsdangerous==2.0.1 MarkupSafe==2.1.1 Werkzeug==0.15.6",
    ),
    # Branch 1.2-2 (dd637a0): PYTHON_VERSION=3.7.10.
    "1.2-2": _Facts(
        (3, 7),
        "ubuntu18.04",
        "xgboost==1.2.0 Flask==1.1.1 PyYAML==5.4 Pillow==9.1.1 boto3==1.17.52 botocore==1.20.52 "
        "cryptography==35.0.0 gunicorn==19.10.0 matplotlib==3.3.2 multi-model-server==1.1.1 numpy==1.21.6 "
        "pandas==1.1.3 protobuf==3.20.1 psutil==5.6.7 python-dateutil==2.8.0 requests==2.25.1 "
        "retrying==1.3.3 sagemaker-containers==2.8.6.post2 sagemaker-inference==1.2.0 "
        "scikit-learn==0.23.2 scipy==1.5.3 smdebug==1.0.10 urllib3==1.26.5 wheel==0.35.1 jinja2==3.0.3 "
        "itsdangerous==2.0.1 MarkupSafe==2.1.1 Werkzeug==0.15.6",
    ),
    # Branch 1.3-1 (07ece4c): PYTHON_VERSION=3.7.10.
    "1.3-1": _Facts(
        (3, 7),
        "ubuntu18.04",
        "xgboost==1.3.3 Flask==1.1.1 PyYAML==5.4.1 Pillow==9.1.1 boto3==1.17.52 botocore==1.20.52 "
        "cryptography==35.0.0 gunicorn==19.10.0 itsdangerous==2.0.1 matplotlib==3.4.1 "
        "multi-model-server==1.1.2 numpy==1.21.6 pandas==1.2.4 protobuf==3.20.1 psutil==5.6.7 "
        "python-dateutil==2.8.1 requests==2.25.1 retrying==1.3.3 sagemaker-containers==2.8.6.post2 "
        "sagemaker-inference==1.5.5 scikit-learn==0.24.1 scipy==1.6.2 urllib3==1.26.5 wheel==0.36.2 "
        "jinja2==2.10.2 MarkupSafe==1.1.1 Werkzeug==0.15.6",
    ),
    # Branch 1.5-1 (4eef773): PYTHON_VERSION=3.8.13.
    "1.5-1": _Facts(
        (3, 8),
        "ubuntu18.04",
        "xgboost==1.5.2 Flask==1.1.1 PyYAML==5.4.1 Pillow==9.1.1 boto3==1.17.52 botocore==1.20.52 "
        "cryptography==39.0.1 dask==2022.11.1 dask-cuda==22.12.0 gunicorn==19.10.0 itsdangerous==2.0.1 "
        "matplotlib==3.4.1 multi-model-server==1.1.2 numpy==1.24.4 pandas==1.5.3 protobuf==3.20.1 "
        "psutil==5.6.7 pynvml==11.4.1 python-dateutil==2.8.2 retrying==1.3.3 "
        "sagemaker-containers==2.8.6.post2 sagemaker-inference==1.5.5 scikit-learn==0.24.1 scipy==1.8.0 "
        "urllib3==1.26.5 wheel==0.36.2 jinja2==2.11.3 MarkupSafe==1.1.1 Werkzeug==0.15.6 "
        "certifi==2023.7.22 pyopenssl==23.1.0 gevent==23.9.1",
    ),
    # Branch 1.7-1 (f7a93a2): PYTHON_VERSION=3.9 (3.8 before "upgrade python to 3.9", 2024-10).
    "1.7-1": _Facts(
        (3, 9),
        "ubuntu20.04",
        "xgboost==1.7.4 Flask==1.1.1 PyYAML==5.4.1 Pillow==9.1.1 boto3==1.17.52 botocore==1.20.52 "
        "cryptography==39.0.1 dask==2022.11.1 dask-cuda==22.12.0 gunicorn==23.0.0 itsdangerous==2.0.1 "
        "matplotlib==3.4.1 multi-model-server==1.1.2 numpy==1.24.1 pandas==1.2.4 protobuf==3.20.1 "
        "psutil==5.6.7 pynvml==11.4.1 python-dateutil==2.8.1 retrying==1.3.3 requests==2.29.0 "
        "sagemaker-containers==2.8.6.post2 sagemaker-inference==1.5.5 scikit-learn==0.24.1 scipy==1.8.0 "
        "urllib3==1.26.5 wheel==0.36.2 jinja2==2.11.3 MarkupSafe==1.1.1 Werkzeug==0.15.6 "
        "certifi==2023.7.22 gevent==23.9.1 numba==0.58.1",
    ),
    # aws/deep-learning-containers main (e0ecedea6a), which builds it now (.github/config/image/xgboost/
    # sagemaker-3.0.yml): docker/xgboost/3.0-5/Dockerfile (UBUNTU_VERSION=20.04, PYTHON_VERSION=3.10,
    # `pip install xgboost==3.0.5 ... pyarrow==22.0.0`) and its requirements.txt. Branch release-3.0.5
    # (fe01f24) of aws/sagemaker-xgboost-container agrees on OS and Python, not on every pin.
    "3.0-5": _Facts(
        (3, 10),
        "ubuntu20.04",
        "xgboost==3.0.5 pyarrow==22.0.0 boto3==1.17.52 botocore==1.20.52 certifi==2025.4.26 "
        "cryptography==50.0.0 cuda-python==12.6.0 dask-cuda==24.12.00 dask==2024.11.2 Flask==1.1.1 "
        "gevent==23.9.1 gunicorn==23.0.0 itsdangerous==2.0.1 jinja2==2.11.3 MarkupSafe==1.1.1 "
        "matplotlib==3.9.2 multi-model-server==1.1.2 numba==0.61.0 numpy==2.1.0 pandas==2.2.3 "
        "Pillow==12.3.0 psutil==5.8.0 pynvml==11.4.1 python-dateutil==2.8.2 PyYAML==6.0.1 "
        "requests==2.33.0 retrying==1.3.3 sagemaker-containers==2.8.6.post2 sagemaker-inference==1.5.5 "
        "scikit-learn==1.5.2 scipy==1.15.0 urllib3==1.26.20 Werkzeug==0.15.6 wheel==0.46.2",
    ),
    # aws/deep-learning-containers main (e0ecedea6a): docker/xgboost/Dockerfile (FROM
    # nvidia/cuda:12.9.1-base-amzn2023, PYTHON_VERSION=3.12) and pyproject.toml's dependencies.
    "3.2-0": _Facts(
        (3, 12),
        "amzn2023",
        "xgboost==3.2.0 boto3==1.38.0 botocore==1.38.0 certifi==2025.4.26 cryptography==50.0.0 "
        "cuda-python==12.9.0 dask-cuda==26.4.0 dask==2026.1.1 Flask==3.1.3 gevent==26.4.0 "
        "gunicorn==25.3.0 matplotlib==3.10.9 multi-model-server==1.1.2 numba==0.65.1 numpy==2.1.0 "
        "pandas==2.2.3 Pillow==12.3.0 psutil==7.0.0 pynvml==12.0.0 python-dateutil==2.9.0 PyYAML==6.0.1 "
        "requests==2.33.0 retrying==1.3.3 sagemaker-containers==2.8.6.post2 sagemaker-inference==1.5.5 "
        "scikit-learn==1.8.0 scipy==1.15.0 urllib3==2.7.0 Werkzeug==3.1.8 pyarrow==22.0.0",
    ),
}

# PyTorch: the tag names the Python from py38 on (each Dockerfile's PYTHON_VERSION agrees); "py3" is
# 3.5 in 0.4.0 (python3 of Ubuntu 16.04, cp35 wheels) and 3.6 from 1.0.0 to 1.8.1; "py2" is 2.7. The OS is
# the FROM line of the CPU Dockerfile (the GPU one's nvidia/cuda base is the same Ubuntu):
# - 0.4.0: aws/sagemaker-pytorch-container 1f2079e, docker/0.4.0/base/Dockerfile.cpu;
# - 1.0.0 to 1.2.0: aws/sagemaker-pytorch-container 285bfdb, docker/<v>/base/Dockerfile.cpu and
#   docker/1.2.0/py3/Dockerfile.cpu;
# - 1.3.1: aws/deep-learning-containers 9212c1e6d1, pytorch/{training,inference}/docker/1.3.1/py3/;
# - 1.4.0 to 1.9.1: aws/deep-learning-containers 37df056d4c, pytorch/*/docker/<major.minor>/py3/;
# - 1.10.0 on: aws/deep-learning-containers master f06ada0e08, pytorch/*/docker/<major.minor>/py3/
#   Dockerfile.cpu (1.10: Dockerfile.ec2.cpu, whose image the SageMaker one builds on).
_PYTORCH_OS = {
    **dict.fromkeys(("0.4.0", "1.0.0", "1.1.0", "1.2.0", "1.3.1", "1.4.0", "1.5.0", "1.6.0"), "ubuntu16.04"),
    **dict.fromkeys(("1.7.1", "1.8.0", "1.8.1"), "ubuntu18.04"),
    **dict.fromkeys(("1.9.0", "1.9.1", "1.10.0", "1.10.2", "1.11.0", "1.12.0", "1.12.1"), "ubuntu20.04"),
    **dict.fromkeys(("1.13.1", "2.0.0", "2.0.1", "2.1.0", "2.2.0", "2.3.0"), "ubuntu20.04"),
    **dict.fromkeys(("2.4.0", "2.5.1", "2.6.0", "2.7.1", "2.8.0", "2.9.0", "2.10.0"), "ubuntu22.04"),
}
_PYTORCH_FACTS = {
    v: _Facts((3, 5) if v == "0.4.0" else (3, 6) if "py3" in _PYTORCH_TRAINING[v][0].split() else None, os)
    for v, os in _PYTORCH_OS.items()
}

_FACTS: dict[str, dict[str, _Facts]] = {
    "sklearn": _SKLEARN_FACTS,
    "xgboost": _XGBOOST_FACTS,
    "pytorch": _PYTORCH_FACTS,
}

# ---------------------------------------------------------------------------------------------------
# The scikit-learn image dagml runs its steps in by default.


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


# ---------------------------------------------------------------------------------------------------
# Every framework.

#: Every region some framework image is published in.
_REGIONS = frozenset(
    r for scopes in _RELEASES.values() for rs in scopes.values() for x in rs.values() for r in x.accounts
)


def _fail(message: str, fix: str) -> NoReturn:
    raise ImageError(f"{message} Fix: {fix}")


def _check_framework(framework: str) -> None:
    if framework not in FRAMEWORKS:
        _fail(
            f"no SageMaker framework image is known for framework {framework!r}"
            f"{did_you_mean(framework, FRAMEWORKS)}.",
            f"use one of {', '.join(map(repr, FRAMEWORKS))}, or set image_uri.",
        )


def _concrete(framework: str, version: str) -> str:
    """The version the tables list for ``version`` (PyTorch's "X.Y" is its newest X.Y.Z)."""
    _check_framework(framework)
    concrete = _ALIASES[framework].get(version, version)
    if concrete not in _FACTS[framework]:
        versions = _VERSIONS[framework]
        _fail(
            f"{_LABELS[framework]} version {version!r} is not one SageMaker publishes "
            f"({', '.join(versions)}){did_you_mean(version, versions)}.",
            "use one of those versions, or set image_uri.",
        )
    return concrete


def _py_key(tag: str) -> tuple[int, ...]:
    """``"py3"`` -> (3,), ``"py311"`` -> (3, 11): "py3" sorts below the minor versions it may be."""
    digits = tag.removeprefix("py")
    return (int(digits[0]), int(digits[1:])) if digits[1:] else (int(digits),)


def _tag_python(framework: str, version: str, tag: str | None) -> tuple[int, int] | None:
    """The Python of the image whose tag carries ``tag`` ("py311", "py3", "py2" or None)."""
    if tag == "py2":
        return (2, 7)
    key = _py_key(tag) if tag else ()
    return (key[0], key[1]) if len(key) == 2 else _FACTS[framework][version].python


def _pick_python(
    framework: str, version: str, concrete: str, pythons: tuple[str, ...], python: str | None
) -> str | None:
    """The tag's Python part for ``python``: one of the tags, or the Python the default tag's image runs."""
    default = max(pythons, key=_py_key) if pythons else None
    if python is None or python in pythons:
        return python or default
    runs = _tag_python(framework, concrete, default)
    if runs is not None and python == f"py{runs[0]}{runs[1]}":
        return default
    has = f"its tags carry {', '.join(pythons)}" if pythons else "its tags carry no Python"
    if runs is not None:
        has += f"; it runs Python {_python(runs)}"
    fix = "leave python unset, or set image_uri."
    if len(pythons) > 1:
        fix = f"use one of {', '.join(pythons)}, or leave python unset (the newest), or set image_uri."
    _fail(
        f"SageMaker publishes no {_LABELS[framework]} {version} image for Python {python!r} ({has})"
        f"{did_you_mean(python, pythons)}.",
        fix,
    )


def _release(framework: str, version: str, scope: str) -> tuple[str, _Release]:
    concrete = _concrete(framework, version)
    if scope not in SCOPES:
        _fail(
            f"image scope {scope!r} is not one of {', '.join(map(repr, SCOPES))}{did_you_mean(scope, SCOPES)}.",
            "use scope='training' (jobs) or scope='inference' (models and endpoints).",
        )
    release = _RELEASES[framework][scope].get(concrete)
    if release is None:
        there = [v for v in _VERSIONS[framework] if v in _RELEASES[framework][scope]]
        _fail(
            f"SageMaker publishes no {scope} image of {_LABELS[framework]} {version} (its {scope} images are "
            f"{there[0]} to {there[-1]}).",
            f"use a version it publishes, e.g. {there[-1]!r}, or set image_uri.",
        )
    return concrete, release


def framework_versions(framework: str) -> tuple[str, ...]:
    """The versions of ``framework``'s SageMaker images, oldest first (PyTorch's "X.Y" works too)."""
    _check_framework(framework)
    return _VERSIONS[framework]


def framework_image(
    framework: str,
    version: str,
    region: str,
    *,
    scope: str = "training",
    python: str | None = None,
    processor: str | None = None,
) -> str:
    """The ECR URI of SageMaker's ``framework`` image at ``version`` in ``region``, as the SDK computes it.

    ``scope``: ``"training"`` or ``"inference"`` (matters for PyTorch, whose repositories differ).
    ``python``: e.g. ``"py311"`` where the version has several Pythons (PyTorch); default: the newest
    the version supports. ``processor``: ``"cpu"`` (the default) or ``"gpu"`` (PyTorch). Raises
    :class:`ImageError`, ending with the fix, for an unknown framework, version, scope, region, python
    or processor.
    """
    concrete, release = _release(framework, version, scope)
    label = f"{_LABELS[framework]} {version}"
    account = release.accounts.get(region)
    if account is None and region not in _REGIONS:
        _fail(
            f"no SageMaker {label} image is known for region {region!r}{did_you_mean(region, release.accounts)}.",
            "use a supported region, or set image_uri explicitly.",
        )
    if account is None:
        there = [v for v, r in _RELEASES[framework][scope].items() if region in r.accounts]
        _fail(
            f"SageMaker publishes no {label} {scope} image in region {region!r}.",
            (f"use a version published there (e.g. {there[-1]!r}), " if there else "use ")
            + "another region, or set image_uri.",
        )
    tag_python = _pick_python(framework, version, concrete, release.pythons, python)
    offered = release.processors or ("cpu", "gpu")  # a tag without one: the same image for both
    if processor is not None and processor not in offered:
        _fail(
            f"SageMaker publishes no {processor!r} image of {label} (only {', '.join(offered)}).",
            f"use processor={offered[0]!r} (the default), or set image_uri.",
        )
    tag_processor = (processor or release.processors[0]) if release.processors else None
    tag = "-".join(p for p in (version, tag_processor, tag_python) if p)
    return f"{account}.dkr.ecr.{region}.{_domain(region)}/{release.repository}:{tag}"


@attrs.frozen
class FrameworkImage:
    """What a SageMaker framework image URI says; :meth:`parse` reads one."""

    framework: str
    #: As the tag spells it (PyTorch's "X.Y" tags too); every function here takes it.
    version: str
    region: str
    #: None when one image serves both scopes (scikit-learn, XGBoost, sagemaker-pytorch).
    scope: str | None = None
    processor: str | None = None
    #: The tag's Python part as the SDK's tables name it (``"py311"``); None when it has none.
    python: str | None = None

    @classmethod
    def parse(cls, uri: str) -> FrameworkImage | None:
        """The framework image ``uri`` names, or None for any other image: another account, repository
        or tag, a digest, a longer DLC tag (``2.5.1-gpu-py311-cu124-ubuntu22.04-sagemaker``)."""
        match = _URI.fullmatch(uri)
        if match is None or match["domain"] != _domain(match["region"]):
            return None
        account, region, repository, tag = match.group("account", "region", "repository", "tag")
        for framework, scopes in _RELEASES.items():
            spellings = [(v, v) for v in _VERSIONS[framework]] + list(_ALIASES[framework].items())
            for scope, releases in scopes.items():
                for version, concrete in spellings:
                    release = releases.get(concrete)
                    if (
                        release is None
                        or release.repository != repository
                        or release.accounts.get(region) != account
                    ):
                        continue
                    parts = _tag_parts(framework, release, version).get(tag)
                    if parts is not None:
                        shared = repository in {r.repository for r in scopes[_OTHER[scope]].values()}
                        return cls(framework, version, region, None if shared else scope, *parts)
        return None


_OTHER = {"training": "inference", "inference": "training"}
_URI = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.(?P<domain>[a-z0-9.-]+)"
    r"/(?P<repository>[a-z0-9._-]+):(?P<tag>[A-Za-z0-9._-]+)"
)


def _tag_parts(framework: str, release: _Release, version: str) -> dict[str, tuple[str | None, str | None]]:
    """Each tag of ``release`` at ``version`` -> the (processor, python) it carries."""
    tags = {
        "-".join(p for p in (version, processor, python) if p): (processor, python)
        for processor in release.processors or (None,)
        for python in release.pythons or (None,)
    }
    if framework in ("sklearn", "xgboost"):  # SageMaker tags these images both ways
        parts = next(iter(tags.values()))
        tags.setdefault(version, parts)
        tags.setdefault(f"{version}-cpu-py3", parts)
    return tags


def parse_framework_image(uri: str) -> tuple[str, str] | None:
    """``(framework, version)`` of a SageMaker framework image URI, None for any other image."""
    image = FrameworkImage.parse(uri)
    return None if image is None else (image.framework, image.version)


def framework_python(framework: str, version: str, python: str | None = None) -> tuple[int, int] | None:
    """The Python the image runs: scikit-learn's from :data:`IMAGE_PYTHON`, PyTorch's from its tag
    (``python``, default the newest; "py3" tags from their Dockerfiles), XGBoost's from the Dockerfiles of
    aws/sagemaker-xgboost-container and aws/deep-learning-containers. None when no public source says."""
    concrete = _concrete(framework, version)
    pythons = {
        p for scope in _RELEASES[framework].values() if concrete in scope for p in scope[concrete].pythons
    }
    tag = _pick_python(framework, version, concrete, tuple(sorted(pythons, key=_py_key)), python)
    return _tag_python(framework, concrete, tag)


def image_glibc(framework: str, version: str) -> tuple[int, int] | None:
    """The glibc of the image's base OS (Ubuntu 16.04: 2.23, 18.04: 2.27, 20.04: 2.31, 22.04: 2.35,
    24.04: 2.39; Amazon Linux 2023: 2.34), from its Dockerfile's FROM line; None when unknown."""
    return _GLIBC.get(_FACTS[framework][_concrete(framework, version)].os)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def image_packages(framework: str, version: str) -> dict[str, str]:
    """The distributions the image pins exactly (PEP 503 name -> version), from its public requirements
    and its Dockerfile's ``pip install x==y``; {} when unknown (PyTorch: dagml reads none)."""
    pins = _FACTS[framework][_concrete(framework, version)].pins
    return {_normalise(name): pinned for name, _, pinned in (pin.partition("==") for pin in pins.split())}
