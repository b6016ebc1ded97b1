"""Run one SageMaker job's container: the image's environment, ``/opt/ml`` laid out, no network.

A job runs as root in new network and mount namespaces (``unshare --net
--mount``): the network namespace has no interface but a downed loopback, so
nothing the job does can reach PyPI, S3 or anything else. In the mount
namespace, ``/opt/ml`` is bound to the job's directory (so every path is the
one SageMaker uses; the host keeps an empty ``/opt/ml`` as the mount point),
and ``/etc/hosts`` names the job's
host ``algo-1`` as SageMaker's resolver does (the training toolkit looks every
host up before it starts the user's script).

The environment is the image's (``Image.env``) plus the job's, never the test
process's, and pip reads no configuration file of this machine: PATH starts at the image environment's ``bin``, so ``python3``,
``train`` and ``serve`` are the image's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

import attrs

from tests.containers.envs import BedSetupError
from tests.containers.images import Image

HOST = "algo-1"
MOUNT_POINT = "/opt/ml"
#: Inside the namespaces: make /opt/ml the job's directory, name the host, then run the job.
_SETUP = 'mount --bind "$1" /opt/ml && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"'


@attrs.frozen
class JobResult:
    exit_code: int
    output: str


def require_isolation() -> None:
    """The bed cuts the network with namespaces: root and ``unshare`` are needed (never a skip)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        raise BedSetupError(
            "the container bed runs every job with the network cut (unshare --net --mount), which needs "
            "root and util-linux's unshare. Fix: run the tests as root (CI does) with unshare installed."
        )


def run_container(
    image: Image,
    venv: str,
    job_root: str,
    argv: Sequence[str],
    env: Mapping[str, str] = {},
    timeout: float = 600,
) -> JobResult:
    """Run ``argv`` in the image's environment with ``job_root`` as ``/opt/ml`` and no network."""
    require_isolation()
    os.makedirs(MOUNT_POINT, exist_ok=True)
    hosts = os.path.join(os.path.dirname(job_root), "hosts")
    with open(hosts, "w", encoding="utf-8") as f:
        f.write(f"127.0.0.1 localhost\n127.0.0.1 {HOST}\n")
    environment = {
        "PATH": os.path.join(venv, "bin") + ":/usr/local/bin:/usr/bin:/bin",
        "HOME": "/root",
        "AWS_REGION": "us-east-1",
        # The image has no pip configuration; this machine's (extra indexes, local wheel folders,
        # constraints) must not reach the job, or an install could succeed here and fail on SageMaker.
        "PIP_CONFIG_FILE": os.devnull,
        **image.env,
        **env,
    }
    command = ["unshare", "--net", "--mount", "--", "/bin/sh", "-c", _SETUP, "sh", job_root, hosts, *argv]
    try:
        done = subprocess.run(
            command,
            env=environment,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode("utf-8", "replace") if exc.stdout else ""
        return JobResult(-9, out + f"\n[bed] the job ran over {timeout} s and was killed")
    return JobResult(done.returncode, done.stdout.decode("utf-8", "replace"))
