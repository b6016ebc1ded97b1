"""The SageMaker images the container test bed emulates, read from their public build files.

Each entry of :data:`IMAGES` is one ``sagemaker-scikit-learn:<version>-cpu-py3``
image as its Dockerfiles in aws/sagemaker-scikit-learn-container build it:

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
must equal this table's keys: a test checks it): they are the images dagml runs
its own Python steps in (the ``image_env`` fixture is parametrised over them).

:data:`XGBOOST_IMAGES` holds the images of SageMaker's built-in XGBoost algorithm
(``sagemaker-xgboost:<version>``), which run jobs of their own (the algorithm's
training and its model server) rather than dagml's steps; see the entry's
comments for where each fact comes from and what the bed leaves out.

:func:`image_for_uri` maps an ECR image URI to its entry; the control plane
(:mod:`tests.containers.controlplane`) uses it to run each job in its own image.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

SKLEARN_REPOSITORY = "sagemaker-scikit-learn"
XGBOOST_REPOSITORY = "sagemaker-xgboost"


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
    #: The image's ECR repository.
    repository: str = SKLEARN_REPOSITORY
    #: The packages the image installs from its own wheel (not on PyPI), as directories of
    #: tests/containers/glue that the bed copies into site-packages under the same name.
    glue: tuple[str, ...] = ("sagemaker_sklearn_container",)
    #: True when ``requirements`` is the image's complete lock, installed as it is (``--no-deps``, as
    #: ``uv sync --frozen`` does: a lock may override a package's own pins); False for a requirements.txt.
    locked: bool = False
    #: ``module:function`` the image's ``serve`` runs before sagemaker-containers' ``server.start``
    #: (None: ``serve`` is that start alone); the bed's serve driver calls it first.
    serve_setup: str | None = None

    @property
    def slug(self) -> str:
        """The name of the image's environment in the bed's cache (the version alone for scikit-learn)."""
        if self.repository == SKLEARN_REPOSITORY:
            return self.framework_version
        return f"{self.repository}-{self.framework_version}"


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


_DLC = "aws/deep-learning-containers"
_XGB = "aws/sagemaker-xgboost-container"

XGBOOST_IMAGES: dict[str, Image] = {
    # 3.2-0, the newest version in the SageMaker SDK's image table (sagemaker/core/image_uri_config/
    # xgboost.json: 1 ... 3.0-5, 3.2-0). aws/sagemaker-xgboost-container no longer builds images (its
    # README points to the Deep Learning Containers repository, and its docker/ stops at 3.0-5); 3.2-0 is
    # built by aws/deep-learning-containers, docker/xgboost/ on master (352bdf2, 2026-08-04): Dockerfile,
    # pyproject.toml and uv.lock. Its Dockerfile installs the wheel of aws/sagemaker-xgboost-container's
    # master (cb8df91, "upgrade to Python 3.12, remove MLIO"), whose equivalent is the bed's glue.
    "3.2-0": Image(
        framework_version="3.2-0",
        repository=XGBOOST_REPOSITORY,
        # docker/xgboost/Dockerfile: ARG PYTHON_VERSION=3.12; `python3.12 -m venv /opt/venv`.
        python="3.12",
        # The Dockerfile runs `uv sync --frozen --no-dev --no-install-project` on pyproject.toml and uv.lock:
        # this is that lock as `uv export --frozen --no-dev --no-emit-project --no-hashes` prints it, every
        # package pinned, installed as it is: its overrides (flask 3.1.3, werkzeug 3.1.8...) contradict
        # sagemaker-containers' own pins (flask==1.1.1), which only a frozen lock gets past. All wheels but
        # sagemaker-containers, a pure-Python sdist that uv builds. The CUDA packages (cuda-python,
        # nvidia-nccl-cu12, dask-cuda) are the image's too: the GPU paths need them, and they install and
        # import without a GPU. Left out: smdebug, which the Dockerfile installs from its git repository
        # (`pip install git+https://github.com/awslabs/sagemaker-debugger.git@v1.0.32`, not PyPI) and which
        # nothing imports (callback.py has its Hook commented out).
        requirements=(
            "bcrypt==5.0.0",
            "blinker==1.9.0",
            "boto3==1.38.0",
            "botocore==1.38.0",
            "certifi==2025.4.26",
            "cffi==2.0.0 ; platform_python_implementation != 'PyPy'",
            "charset-normalizer==3.4.7",
            "click==8.3.3",
            "cloudpickle==3.1.2",
            "colorama==0.4.6 ; sys_platform == 'win32'",
            "contourpy==1.3.3",
            "cryptography==50.0.0",
            "cuda-bindings==12.9.6",
            "cuda-core==0.7.0",
            "cuda-pathfinder==1.5.4",
            "cuda-python==12.9.0",
            "cycler==0.12.1",
            "dask==2026.1.1",
            "dask-cuda==26.4.0",
            "distributed==2026.1.1",
            "enum-compat==0.0.3",
            "flask==3.1.3",
            "fonttools==4.62.1",
            "fsspec==2026.4.0",
            "future==1.0.0",
            "gevent==26.4.0",
            "greenlet==3.5.0 ; platform_python_implementation == 'CPython'",
            "gunicorn==25.3.0",
            "idna==3.18",
            "inotify-simple==1.2.1",
            "invoke==3.0.3",
            "itsdangerous==2.2.0",
            "jinja2==3.1.6",
            "jmespath==1.1.0",
            "joblib==1.5.3",
            "kiwisolver==1.5.0",
            "llvmlite==0.47.0",
            "locket==1.0.0",
            "markupsafe==3.0.3",
            "matplotlib==3.10.9",
            "model-archiver==1.0.3",
            "msgpack==1.2.1",
            "multi-model-server==1.1.2",
            "numba==0.65.1",
            "numpy==2.1.0",
            "nvidia-ml-py==12.575.51",
            "nvidia-nccl-cu12==2.30.4 ; sys_platform == 'linux'",
            "packaging==26.2",
            "pandas==2.2.3",
            "paramiko==4.0.0",
            "partd==1.4.2",
            "pillow==12.3.0",
            "pip==26.1",
            "protobuf==3.20.3",
            "psutil==7.0.0",
            "pyarrow==22.0.0",
            "pycparser==3.0 ; implementation_name != 'PyPy' and platform_python_implementation != 'PyPy'",
            "pynacl==1.6.2",
            "pynvml==12.0.0",
            "pyparsing==3.3.2",
            "python-dateutil==2.9.0",
            "pytz==2026.1.post1",
            "pyyaml==6.0.1",
            "rapids-dask-dependency==26.4.0",
            "requests==2.33.0",
            "retrying==1.3.3",
            "s3transfer==0.12.0",
            "sagemaker-containers==2.8.6.post2",
            "sagemaker-inference==1.5.5",
            "scikit-learn==1.8.0",
            "scipy==1.15.0",
            "setuptools==80.10.2",
            "six==1.17.0",
            "sortedcontainers==2.4.0",
            "tblib==3.2.2",
            "threadpoolctl==3.6.0",
            "toolz==1.1.0",
            "tornado==6.5.7",
            "typing==3.10.0.0",
            "tzdata==2026.2",
            "urllib3==2.7.0",
            "werkzeug==3.1.8",
            "xgboost==3.2.0",
            "zict==3.0.0",
            "zope-event==6.2",
            "zope-interface==8.4",
        ),
        locked=True,
        # pip==26.1 is in the lock itself (the venv's pip is upgraded by `uv sync`).
        pip="26.1",
        env={
            # docker/xgboost/Dockerfile, stage xgboost-sagemaker.
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONIOENCODING": "utf-8",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "SM_INPUT": "/opt/ml/input",
            "SM_INPUT_TRAINING_CONFIG_FILE": "/opt/ml/input/config/hyperparameters.json",
            "SM_INPUT_DATA_CONFIG_FILE": "/opt/ml/input/config/inputdataconfig.json",
            "SM_CHECKPOINT_CONFIG_FILE": "/opt/ml/input/config/checkpointconfig.json",
            "NCCL_SOCKET_IFNAME": "eth",
            "SM_MODEL_DIR": "/opt/ml/model",
            "SAGEMAKER_TRAINING_MODULE": "sagemaker_xgboost_container.training:main",
            "SAGEMAKER_SERVING_MODULE": "sagemaker_xgboost_container.serving:main",
            # Left out: TEMP=/home/model-server/tmp (a directory the image makes for its multi-model
            # server; without it Python's tempfile falls back to /tmp, as here), XGBOOST_MMS_CONFIG (the
            # multi-model server, left out) and LD_LIBRARY_PATH (NCCL, for GPU training).
        },
        patches=(
            # docker/xgboost/Dockerfile: `sed -i 's/collections\.Mapping/collections.abc.Mapping/g'`.
            ("sagemaker_containers/_mapping.py", "collections.Mapping", "collections.abc.Mapping"),
            # docker/xgboost/resources/patches/decoder.py replaces sagemaker-inference 1.5.5's decoder.py
            # (CWE-502); besides docstrings and import order it differs in these two places.
            ("sagemaker_inference/decoder.py", "allow_pickle=True", "allow_pickle=False"),
            (
                "sagemaker_inference/decoder.py",
                '    stream = StringIO(string_like)\n    return np.genfromtxt(stream, dtype=dtype, delimiter=",")\n',
                "    try:\n        stream = StringIO(string_like)\n"
                '        return np.genfromtxt(stream, dtype=dtype, delimiter=",")\n'
                "    except ValueError:\n        raise errors.UnsupportedFormatError(content_types.CSV)\n",
            ),
        ),
        # The wheel of aws/sagemaker-xgboost-container (setup.py: packages under src/) brings
        # sagemaker_xgboost_container and sagemaker_algorithm_toolkit; the bed's glue stands in for both.
        glue=("sagemaker_xgboost_container",),
        # setup.py: `serve=sagemaker_xgboost_container.serving:serving_entrypoint`, which sets
        # OMP_NUM_THREADS=1 unless given, then runs server.start.
        serve_setup="sagemaker_xgboost_container.serving:set_default_serving_env_if_unspecified",
        source=f"{_DLC}, master 352bdf2: docker/xgboost/Dockerfile, pyproject.toml, uv.lock, "
        f"resources/patches/decoder.py; {_XGB}, master cb8df91: setup.py, src/",
    ),
}


class NotEmulatedError(LookupError):
    """An image URI the container test bed has no environment for."""


_ECR_URI = re.compile(r"^(?P<registry>[^/]+)/(?P<repository>[^:@/]+):(?P<tag>[^:@/]+)$")
_ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")


def image_for_uri(uri: str) -> Image:
    """The bed's entry for an ECR image URI, ``<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>``:
    ``sagemaker-scikit-learn:<version>-cpu-py3`` (:data:`IMAGES`) or ``sagemaker-xgboost:<version>``
    / ``sagemaker-xgboost:<version>-cpu-py3`` (:data:`XGBOOST_IMAGES`).

    Raises :class:`NotEmulatedError` (a ``LookupError``) for any other image.
    """
    emulated = [f"{SKLEARN_REPOSITORY}:{v}-cpu-py3" for v in sorted(IMAGES)]
    emulated += [f"{XGBOOST_REPOSITORY}:{v}" for v in sorted(XGBOOST_IMAGES)]
    match = _ECR_URI.match(uri) if isinstance(uri, str) else None
    if match is None or not _ECR_HOST.match(match["registry"]):
        raise NotEmulatedError(
            f"{uri!r} is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>). "
            f"The container test bed emulates: {', '.join(emulated)}."
        )
    repository, tag = match["repository"], match["tag"]
    if repository == SKLEARN_REPOSITORY and tag.endswith("-cpu-py3"):
        found = IMAGES.get(tag[: -len("-cpu-py3")])
    elif repository == XGBOOST_REPOSITORY:
        found = XGBOOST_IMAGES.get(tag.removesuffix("-cpu-py3"))
    else:
        found = None
    if found is None:
        raise NotEmulatedError(
            f"the container test bed does not emulate {repository}:{tag} (in {uri!r}); it emulates "
            f"{', '.join(emulated)}. Fix: use one of those, or add the image to tests/containers/images.py "
            "from its public build files."
        )
    return found
