"""Endpoints and batch transforms through the image's serving stack (:mod:`serve_driver`).

:func:`serve` stands up a model container in the image its ``Image`` names
(``/opt/ml/model`` from the model data, the container's environment, ``serve``'s
install step, its WSGI app) with the network cut, sends it requests and returns
the responses.
:func:`batch_transform` plays SageMaker's batch agent over it: every input
object is split by ``SplitType`` (``Line``: one record per line), records are
sent to ``/invocations`` with the job's ``ContentType`` and ``Accept``, one per
request (``SingleRecord``) or as many as fit in ``MaxPayloadInMB``
(``MultiRecord``, default 6 MB), and each response is followed by a newline
when ``AssembleWith`` is ``Line`` ("add a newline character at the end of
every transformed record"); the result is ``<input>.out``. The container's
environment is the model's plus the job's ``Environment`` and what the service
sets for a transform (``SAGEMAKER_BATCH``, ``SAGEMAKER_MAX_PAYLOAD_IN_MB``,
``SAGEMAKER_BATCH_STRATEGY``: the SageMaker SDK's local mode plays the same,
``sagemaker/local/entities.py`` ``_LocalTransformJob._get_container_environment``);
the built-in XGBoost algorithm reads ``SAGEMAKER_BATCH``, the scikit-learn
image's stack none of them.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from tests.containers.jobs import JobResult, run_container

if TYPE_CHECKING:
    from tests.containers.controlplane import ControlPlane

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve_driver.py")


@attrs.frozen
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Response:
    status: int
    content_type: str | None
    body: bytes


@attrs.frozen
class Served:
    job: JobResult
    responses: tuple[Response, ...]


def serve(
    plane: ControlPlane,
    container: Mapping[str, Any],
    requests: Sequence[Request],
    name: str,
    environment: Mapping[str, str] = {},
) -> Served:
    """Stand up ``container`` (a model's PrimaryContainer) in its image, with ``environment`` added to its own."""
    from tests.containers.controlplane import stage_model

    image, venv = plane.image_env(container.get("Image"))
    root, env = stage_model(plane, container, name)
    env.update(environment)
    side = os.path.dirname(root)
    wanted, answers = os.path.join(side, "requests.json"), os.path.join(side, "responses.json")
    with open(wanted, "w") as f:
        json.dump(
            [
                {
                    "method": r.method,
                    "path": r.path,
                    "headers": dict(r.headers),
                    "body": base64.b64encode(r.body).decode(),
                }
                for r in requests
            ],
            f,
        )
    setup = [image.serve_setup] if image.serve_setup else []
    job = run_container(image, venv, root, ["python3", DRIVER, "start", wanted, answers, *setup], env)
    if job.exit_code != 0 or not os.path.isfile(answers):
        return Served(job, ())
    with open(answers) as f:
        got = json.load(f)
    return Served(
        job, tuple(Response(a["status"], a["content_type"], base64.b64decode(a["body"])) for a in got)
    )


def _batches(records: list[bytes], strategy: str, max_bytes: int) -> list[list[bytes]]:
    if strategy == "SingleRecord":
        return [[r] for r in records]
    batches: list[list[bytes]] = []
    size = 0
    for record in records:
        if batches and size + len(record) <= max_bytes:
            batches[-1].append(record)
            size += len(record)
        else:
            batches.append([record])
            size = len(record)
    return batches


def batch_transform(
    plane: ControlPlane,
    container: Mapping[str, Any],
    args: Mapping[str, Any],
    objects: list[tuple[str, str]],
    strategy: str,
    name: str,
) -> dict[str, bytes] | str:
    """Each input object's assembled output, or the job's failure reason."""
    job_input, job_output = args["TransformInput"], args["TransformOutput"]
    split = job_input.get("SplitType", "None")
    headers = {"Content-Type": job_input.get("ContentType", "application/octet-stream")}
    if job_output.get("Accept"):
        headers["Accept"] = job_output["Accept"]
    max_bytes = int(float(args.get("MaxPayloadInMB", 6)) * 1024 * 1024)
    plan: list[tuple[str, int]] = []  # (object, number of requests)
    requests = [Request("GET", "/ping")]
    for rel, path in objects:
        with open(path, "rb") as f:
            data = f.read()
        if split == "Line":
            records = [line + b"\n" for line in data.splitlines() if line.strip()]
            batches = [b"".join(b) for b in _batches(records, strategy, max_bytes)]
        else:
            batches = [data]
        plan.append((rel, len(batches)))
        requests += [Request("POST", "/invocations", body, headers) for body in batches]
    environment = {
        "SAGEMAKER_BATCH": "True",
        "SAGEMAKER_MAX_PAYLOAD_IN_MB": str(args.get("MaxPayloadInMB", 6)),
        "SAGEMAKER_BATCH_STRATEGY": {"SingleRecord": "SINGLE_RECORD", "MultiRecord": "MULTI_RECORD"}[
            strategy
        ],
        **{k: str(v) for k, v in args.get("Environment", {}).items()},
    }
    served = serve(plane, container, requests, name, environment)
    if not served.responses:
        return f"the model container did not start:\n{served.job.output[-2000:]}"
    if served.responses[0].status != 200:
        return f"/ping answered {served.responses[0].status}"
    results: dict[str, bytes] = {}
    answers = iter(served.responses[1:])
    for rel, count in plan:
        out = []
        for _ in range(count):
            answer = next(answers)
            if answer.status != 200:
                return f"ClientError: /invocations answered {answer.status}: {answer.body[:300]!r}"
            out.append(answer.body + (b"\n" if job_output.get("AssembleWith") == "Line" else b""))
        results[rel] = b"".join(out)
    return results
