"""The SageMaker scikit-learn images the container test bed emulates, read from their public build files.

Each entry is one ``sagemaker-scikit-learn:<version>-cpu-py3`` image as its
Dockerfiles in aws/sagemaker-scikit-learn-container build it:

- ``python``: the interpreter the base Dockerfile installs;
- ``requirements``: the image's own ``requirements.txt``, line for line, which
  the final Dockerfile installs with ``uv pip install --system -r``;
- ``env``: the ``ENV`` lines of the base and final Dockerfiles that the
  toolkits read;
- ``patches``: the edits the final Dockerfile makes to installed packages.

Packages the image builds from source that are not on PyPI (mlio) are left
out: neither dagml nor the toolkits import them. The bed installs the image's
scikit-learn glue (``sagemaker_sklearn_container``, not on PyPI) as the small
equivalent in ``tests/containers/glue``.

Only versions dagml accepts are here (``dagml.sagemaker.images.PROVEN_VERSIONS``
must equal this table's keys: a test checks it).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs


@attrs.frozen
class Image:
    framework_version: str
    #: major.minor of the image's Python.
    python: str
    requirements: tuple[str, ...]
    #: pip as get-pip.py installs it at build time (unpinned in the Dockerfile): the newest release
    #: before the image's last build-file change. It matters: serving runs ``pip install .``.
    pip: str
    env: Mapping[str, str]
    #: (file inside site-packages, old text, new text) edits of the final Dockerfile.
    patches: tuple[tuple[str, str, str], ...]
    #: Where each fact above comes from.
    source: str


_REPO = "aws/sagemaker-scikit-learn-container"

IMAGES: dict[str, Image] = {
    "1.4-2": Image(
        framework_version="1.4-2",
        python="3.10",
        # requirements.txt on branch v1.4-2 (6c5704d, 2026-04-17).
        requirements=(
            "numpy==2.1.0",
            "scikit-learn==1.4.2",
            "scipy>=1.9.0",
            "pandas==2.3.2",
            "pyarrow==17.0.0",
            "boto3==1.28.57",
            "botocore>=1.31.57,<1.32.0",
            "certifi",
            "cryptography==46.0.7",
            "Flask==1.1.1",
            "gevent==23.9.1",
            "gunicorn==23.0.0",
            "itsdangerous==2.0.1",
            "jinja2<3.0",
            "MarkupSafe<2.0",
            "model-archiver==1.0.3",
            "multi-model-server==1.1.1",
            "protobuf==3.20.2",
            "psutil==5.7.2",
            "python-dateutil",
            "PyYAML==6.0.1",
            "retrying==1.3.3",
            "sagemaker-containers==2.8.6.post2",
            "sagemaker-inference==1.2.0",
            "sagemaker-training==4.8.0",
            "setuptools==80.9.0",
            "six==1.15.0",
            "urllib3==1.26.17",
            "Werkzeug==2.0.3",
            "wheel==0.45.1",
        ),
        pip="26.0.1",
        env={
            # docker/1.4-2/base/Dockerfile.cpu
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONIOENCODING": "UTF-8",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PIP_ROOT_USER_ACTION": "ignore",
            # docker/1.4-2/final/Dockerfile.cpu
            "SAGEMAKER_SKLEARN_VERSION": "1.4-2",
            "SAGEMAKER_TRAINING_MODULE": "sagemaker_sklearn_container.training:main",
            "SAGEMAKER_SERVING_MODULE": "sagemaker_sklearn_container.serving:main",
            "SM_INPUT": "/opt/ml/input",
            "SM_INPUT_TRAINING_CONFIG_FILE": "/opt/ml/input/config/hyperparameters.json",
            "SM_INPUT_DATA_CONFIG_FILE": "/opt/ml/input/config/inputdataconfig.json",
            "SM_CHECKPOINT_CONFIG_FILE": "/opt/ml/input/config/checkpointconfig.json",
            "SM_MODEL_DIR": "/opt/ml/model",
        },
        patches=(
            # docker/1.4-2/final/Dockerfile.cpu: Python 3.10 removed collections.Mapping.
            ("sagemaker_containers/_mapping.py", "collections.Mapping", "collections.abc.Mapping"),
        ),
        source=f"{_REPO}, branch v1.4-2: requirements.txt, docker/1.4-2/base/Dockerfile.cpu, "
        "docker/1.4-2/final/Dockerfile.cpu",
    ),
}
