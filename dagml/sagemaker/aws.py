"""Talking to AWS: boto3 clients, one-line errors that say what to fix, throttling retried.

boto3 is imported only when a client is made (``import dagml`` stays light).
Credentials and region come from boto3's standard chain (environment, shared
config and credentials files, SSO, instance and container roles);
``endpoint_url`` points S3 and SageMaker at a compatible endpoint (moto,
LocalStack). Every call goes through :meth:`Aws.call`, which retries
throttling with exponential backoff and turns botocore's exceptions into
:class:`AwsError` subclasses (no traceback from botocore reaches the user).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import attrs

from dagml._version import __version__
from dagml.errors import DagmlError
from dagml.sagemaker.errors import (
    AccessDeniedError,
    AwsConfigurationError,
    AwsError,
    MissingBucketError,
    NotFoundError,
    ThrottledError,
)

__all__ = [
    "AccessDeniedError",
    "Aws",
    "AwsConfigurationError",
    "AwsError",
    "MissingBucketError",
    "NotFoundError",
    "ThrottledError",
]

#: Error codes AWS services use for "slow down".
THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
#: Error codes meaning the credentials themselves are wrong or expired.
BAD_CREDENTIALS = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "InvalidToken",
    }
)
ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403", "Forbidden"}
)
NOT_FOUND = frozenset({"ResourceNotFound", "NoSuchKey", "404", "NotFound"})
#: API operations whose IAM action has another name.
IAM_ACTION = {"HeadObject": "s3:GetObject", "HeadBucket": "s3:ListBucket"}
CREDENTIALS_FIX = (
    "configure credentials for boto3's standard chain: `aws configure` (or `aws sso login`), "
    "AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


def _one_line(message: str, status: int | None) -> str:
    text = (message or "").strip()
    if not text or text.startswith("<"):  # an HTML error page (e.g. HTTP 500 from a proxy or emulator)
        return f"HTTP {status}" if status else "no message"
    return text.splitlines()[0]


@attrs.define
class Aws:
    """Where AWS calls go: region and endpoint, and the retry policy for throttling."""

    region: str | None = None
    endpoint_url: str | None = None
    #: Attempts per call when AWS throttles (the first try included).
    max_attempts: int = 6
    #: First backoff in seconds; doubled each retry, with jitter, up to ``max_delay``.
    base_delay: float = 0.5
    max_delay: float = 20.0
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, repr=False)
    #: Clients by service name; made on first use (tests may put stubbed clients here).
    clients: dict[str, Any] = attrs.field(factory=dict, repr=False)
    _session: Any = attrs.field(default=None, init=False, repr=False)

    @property
    def where(self) -> str:
        """``us-east-1`` or ``us-east-1 at http://127.0.0.1:5000``, for messages."""
        region = self.region or self.session().region_name or "?"
        return f"{region} at {self.endpoint_url}" if self.endpoint_url else region

    def session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session(region_name=self.region)
        return self._session

    def has_credentials(self) -> bool:
        """Whether boto3's chain finds credentials (without calling AWS)."""
        try:
            return self.session().get_credentials() is not None
        except Exception:  # noqa: BLE001 - a broken profile (any of botocore's errors): the calls will say what is wrong
            return False

    def client(self, service: str) -> Any:
        if service not in self.clients:
            from botocore.config import Config
            from botocore.exceptions import NoRegionError

            config = Config(retries={"total_max_attempts": 1}, user_agent_extra=f"dagml/{__version__}")
            try:
                self.clients[service] = self.session().client(
                    service, endpoint_url=self.endpoint_url, config=config
                )
            except NoRegionError:
                raise AwsConfigurationError(
                    "no AWS region is set. Fix: pass --region, or set DAGML_REGION or AWS_REGION "
                    "(or region in your AWS config profile)."
                ) from None
        return self.clients[service]

    def call(self, service: str, operation: str, context: str = "", **kwargs: Any) -> dict[str, Any]:
        """``client(service).operation(**kwargs)``, retrying throttling; errors become :class:`AwsError`.

        ``context`` starts every error message (``pipeline 'iris-classifier'``).
        """
        client = self.client(service)
        method = getattr(client, operation)
        for attempt in range(1, self.max_attempts + 1):
            try:
                response: dict[str, Any] = method(**kwargs)  # boto3 is untyped: a response is a dict
                return response
            except Exception as exc:  # noqa: BLE001 - translate() re-raises what is not botocore's
                error = self.translate(exc, client, operation, context, kwargs)
                if not isinstance(error, ThrottledError) or attempt == self.max_attempts:
                    if isinstance(error, ThrottledError):
                        error = ThrottledError(
                            f"{error}, {self.max_attempts} attempts with backoff. Fix: try again later, or ask AWS for a "
                            "higher request quota.",
                            error.code,
                            error.action,
                        )
                    raise error from None
                delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                self.sleep(delay * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")  # pragma: no cover

    def translate(
        self,
        exc: Exception,
        client: Any,
        operation: str,
        context: str = "",
        kwargs: dict[str, Any] | None = None,
    ) -> DagmlError:
        """A botocore exception as a one-line dagml error that says what to fix."""
        from botocore import exceptions as bx

        api = client.meta.method_to_api_mapping.get(operation, operation)
        service = client.meta.service_model.signing_name or client.meta.service_model.service_name
        action = IAM_ACTION.get(api, f"{service}:{api}")
        head = f"{context}: " if context else ""
        if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError)):
            return AwsConfigurationError(f"{head}no AWS credentials found ({exc}). Fix: {CREDENTIALS_FIX}.")
        if isinstance(exc, bx.NoRegionError):
            return AwsConfigurationError(
                f"{head}no AWS region is set. Fix: pass --region, or set DAGML_REGION or AWS_REGION."
            )
        if isinstance(
            exc,
            (
                bx.EndpointConnectionError,
                bx.ConnectTimeoutError,
                bx.ReadTimeoutError,
                bx.ConnectionClosedError,
            ),
        ):
            return AwsError(
                f"{head}cannot reach {self.endpoint_url or 'AWS'} for {api} ({exc}). "
                "Fix: check the network, the region and --endpoint-url.",
                "connection",
                action,
            )
        if isinstance(exc, bx.ParamValidationError):
            return AwsError(
                f"{head}{api} refused its arguments: {_one_line(str(exc), None)}", "ParamValidation", action
            )
        if not isinstance(exc, bx.ClientError):
            if isinstance(exc, bx.BotoCoreError):
                return AwsError(f"{head}{api} failed: {exc}", type(exc).__name__, action)
            raise exc
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(error.get("Code") or status or "")
        message = _one_line(str(error.get("Message", "")), status)
        if code in THROTTLING:
            return ThrottledError(f"{head}AWS throttled {api} ({code}: {message})", code, action)
        if code in BAD_CREDENTIALS:
            return AwsConfigurationError(
                f"{head}AWS rejected the credentials ({code}: {message}). Fix: {CREDENTIALS_FIX}."
            )
        if code in ACCESS_DENIED:
            return AccessDeniedError(
                f"{head}access denied: {action} ({code}: {message}). Fix: allow {action} for the deploying "
                "identity (docs/deploy.md lists the policy dagml needs).",
                code,
                action,
            )
        if code == "NoSuchBucket" or (api == "HeadBucket" and code in NOT_FOUND):
            bucket = error.get("BucketName") or (kwargs or {}).get("Bucket") or "?"
            return MissingBucketError(
                f"{head}bucket {bucket!r} does not exist ({self.where}). Fix: create it "
                f"(aws s3 mb s3://{bucket}) or set --bucket / DAGML_BUCKET to an existing bucket."
            )
        if code in NOT_FOUND or "could not find" in message.lower() or "does not exist" in message.lower():
            return NotFoundError(f"{head}{api}: not found ({code}: {message})", code, action)
        code = f"HTTP {code}" if code.isdigit() else code
        detail = code if message == code else f"{code}: {message}"
        return AwsError(f"{head}{api} failed ({detail})", code, action)
