"""A real HTTP endpoint for S3 and SageMaker: moto's server on 127.0.0.1, started and stopped here.

No real AWS and no internet: the server runs in this process on a free local port,
each test gets fake credentials and a fresh, empty server (moto's reset API).
"""

from __future__ import annotations

import os
import socket
import urllib.request

import attrs
import pytest

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "dagml-deploy-test"


@attrs.frozen
class Endpoint:
    url: str
    bucket: str = BUCKET
    role: str = ROLE
    region: str = REGION

    def settings_args(self, bucket: str | None = None) -> list[str]:
        return [
            "--role-arn",
            self.role,
            "--bucket",
            bucket or self.bucket,
            "--region",
            self.region,
            "--endpoint-url",
            self.url,
        ]

    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=self.region, endpoint_url=self.url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_url():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def fake_credentials(monkeypatch, tmp_path) -> None:
    """Only fake AWS settings: nothing from the machine's AWS config, no instance metadata lookups."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "DAGML_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def endpoint(moto_url, monkeypatch, tmp_path):
    """The moto server, emptied, with fake credentials in the environment and the test bucket created."""
    fake_credentials(monkeypatch, tmp_path)
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=10
    ).close()
    ep = Endpoint(moto_url)
    ep.client("s3").create_bucket(Bucket=BUCKET)
    return ep
