"""Every failure the Flux APIs can produce, as one exception hierarchy.

The tree (each class says what a caller should do through :attr:`FluxError.action`)::

    FluxError                          (flux_tui.base.errors) base of everything raised
    ├── ConfigError                    (flux_tui.base.errors) a wrong setting: file, profile, key
    ├── AuthError                      the token endpoint (Auth0) refused or failed      FATAL
    │   ├── InvalidClientError         wrong client id or secret (401 access_denied)
    │   ├── MissingGrantError          the client has no grant for the audience (403)
    │   ├── AuthThrottledError         Auth0 rate limit (429); ``reset_at`` is a UNIX time  RETRY
    │   ├── AuthUnreachableError       token endpoint unreachable / not JSON              RETRY
    │   ├── LoginRequiredError         no usable token and a person must log in (device flow)
    │   ├── LoginDeniedError           the person refused the device login (access_denied)
    │   └── LoginExpiredError          the device code expired before anyone approved it
    ├── TransportError                 no well-formed answer reached us                  RETRY
    │   ├── ConnectError               DNS, refused, reset, TLS failure
    │   ├── TimeoutError               no answer in time
    │   └── NonJSONResponse            a body that is not JSON (HTML from a CDN, truncated JSON);
    │                                  ``status`` and the first bytes (``snippet``) are kept
    └── ApiError                       the gateway or Kinesis answered with an error; ``status``
        ├── UnexpectedResponseError    JSON of the wrong shape (not the documented envelope) FATAL
        ├── GatewayError               API Gateway's own ``{"message": ...}``
        │   ├── UnauthorizedError      401 -> refresh the token once, retry once          REAUTH
        │   ├── ForbiddenError         403 Forbidden / Missing Authentication Token       FATAL
        │   ├── ThrottledError         429 Too Many Requests / Limit Exceeded             THROTTLED
        │   ├── PayloadTooLargeError   413 -> shrink the page                             SHRINK
        │   └── GatewayServerError     500/502/503/504 (504 = Endpoint request timed out) RETRY
        └── KinesisError               a ``{"__type", "message"}`` body, with a 4xx/5xx or inside a 200
            ├── ThroughputExceededError    ProvisionedThroughputExceeded, KMSThrottling,
            │                              LimitExceeded                                   RETRY
            ├── InternalFailureError       InternalFailure (500)                           RETRY
            ├── ExpiredIteratorError       ExpiredIterator                                 NEW_ITERATOR
            ├── InvalidArgumentError       InvalidArgument (``about_iterator`` tells which) NEW_ITERATOR
            │                              when about the iterator, else FATAL
            ├── IteratorTypeRefusedError   AT_TIMESTAMP / AT|AFTER_SEQUENCE_NUMBER refused   FALLBACK
            ├── ValidationError            ValidationException                             FATAL
            ├── ResourceNotFoundError      the stream or shard is gone                     REDESCRIBE
            ├── AccessDeniedKinesisError   AccessDenied and every KMS*                     FATAL
            └── UnknownKinesisError        any other ``__type``                            FATAL

:func:`error_from_response` turns an HTTP answer into one of these (or ``None`` for a good
answer); :func:`error_from_exception` does the same for an ``httpx`` exception. Messages
never contain a token or a secret: nothing here is ever given one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from flux_tui.base.errors import Action, FluxError

if TYPE_CHECKING:  # httpx is loaded by whoever talks HTTP: not by every command that reports
    import httpx

# --- Auth0 -------------------------------------------------------------------------------


class AuthError(FluxError):
    """The token endpoint refused to give a token, or could not be used."""


class InvalidClientError(AuthError):
    """Wrong client id or client secret."""


class MissingGrantError(AuthError):
    """The client is not authorised for the requested audience (no grant)."""


class AuthThrottledError(AuthError):
    """Auth0 throttled the token request; ``reset_at`` is the UNIX time it lifts, if known."""

    action = Action.RETRY

    def __init__(self, message: str, reset_at: float | None = None) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class AuthUnreachableError(AuthError):
    """The token endpoint could not be reached or did not answer sensibly."""

    action = Action.RETRY


class LoginRequiredError(AuthError):
    """No usable token: a person must log in (``flux-tui login``)."""


class LoginDeniedError(AuthError):
    """The person cancelled the device login on the activation page (``access_denied``)."""


class LoginExpiredError(AuthError):
    """The device code expired (``expired_token``) before the login was approved."""


# --- transport ---------------------------------------------------------------------------


class TransportError(FluxError):
    """No well-formed answer: connection failure, timeout or a body that is not JSON."""

    action = Action.RETRY


class ConnectError(TransportError):
    """The connection failed (name resolution, refused, reset, TLS)."""


class TimeoutError(TransportError):  # deliberately our own name in our namespace (shadows builtin)
    """The server did not answer in time."""


class NonJSONResponse(TransportError):
    """The answer's body is not JSON (an HTML page from a proxy, a truncated body...)."""

    def __init__(self, status: int, snippet: str) -> None:
        super().__init__(f"HTTP {status} with a body that is not JSON: {snippet!r}")
        self.status = status
        self.snippet = snippet


# --- the API answered with an error ------------------------------------------------------


class ApiError(FluxError):
    """The gateway or Kinesis answered with an error."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class UnexpectedResponseError(ApiError):
    """The answer was JSON but not the documented envelope (a changed or misrouted gateway)."""

    action = Action.FATAL


class GatewayError(ApiError):
    """An error from API Gateway itself: a ``{"message": ...}`` body."""


class UnauthorizedError(GatewayError):
    action = Action.REAUTH


class ForbiddenError(GatewayError):
    action = Action.FATAL


class ThrottledError(GatewayError):
    """The gateway's rate limit (429). Reported as a state, not an error."""

    action = Action.THROTTLED


class PayloadTooLargeError(GatewayError):
    action = Action.SHRINK


class GatewayServerError(GatewayError):
    """500/502/503/504 from the gateway. 502/504 also suggest a smaller page."""

    action = Action.RETRY


class KinesisError(ApiError):
    """A Kinesis ``{"__type", "message"}`` error; ``type`` has prefix and suffix stripped."""

    def __init__(self, type_: str, message: str, status: int) -> None:
        super().__init__(f"{type_}: {message}" if message else type_, status)
        self.type = type_
        self.detail = message


class ThroughputExceededError(KinesisError):
    action = Action.RETRY


class InternalFailureError(KinesisError):
    action = Action.RETRY


class ExpiredIteratorError(KinesisError):
    action = Action.NEW_ITERATOR


class InvalidArgumentError(KinesisError):
    """InvalidArgument; ``about_iterator`` is True when the shard iterator is what is wrong."""

    def __init__(self, type_: str, message: str, status: int) -> None:
        super().__init__(type_, message, status)
        self.about_iterator = "iterator" in message.lower()
        self.action = Action.NEW_ITERATOR if self.about_iterator else Action.FATAL


class ValidationError(KinesisError):
    """ValidationException: a request field the backend does not accept."""

    action = Action.FATAL


class IteratorTypeRefusedError(KinesisError):
    """The gateway refused an iterator type beyond the documented TRIM_HORIZON and LATEST
    (``AT_TIMESTAMP``, ``AT/AFTER_SEQUENCE_NUMBER``): read from TRIM_HORIZON and skip."""

    action = Action.FALLBACK

    def __init__(self, iterator_type: str, cause: KinesisError) -> None:
        super().__init__(
            cause.type,
            f"the API refused iterator type {iterator_type}: {cause.detail}",
            cause.status,
        )
        self.iterator_type = iterator_type


class ResourceNotFoundError(KinesisError):
    action = Action.REDESCRIBE


class AccessDeniedKinesisError(KinesisError):
    action = Action.FATAL


class UnknownKinesisError(KinesisError):
    action = Action.FATAL


_KINESIS_TYPES: dict[str, type[KinesisError]] = {
    "ProvisionedThroughputExceededException": ThroughputExceededError,
    "KMSThrottlingException": ThroughputExceededError,
    "LimitExceededException": ThroughputExceededError,
    "InternalFailureException": InternalFailureError,
    "InternalFailure": InternalFailureError,
    "ExpiredIteratorException": ExpiredIteratorError,
    "InvalidArgumentException": InvalidArgumentError,
    "ResourceNotFoundException": ResourceNotFoundError,
    "ValidationException": ValidationError,
    "AccessDeniedException": AccessDeniedKinesisError,
    "KMSAccessDeniedException": AccessDeniedKinesisError,
    "KMSDisabledException": AccessDeniedKinesisError,
    "KMSNotFoundException": AccessDeniedKinesisError,
    "KMSInvalidStateException": AccessDeniedKinesisError,
    "KMSOptInRequired": AccessDeniedKinesisError,
}

SNIPPET_BYTES = 120


def clean_kinesis_type(raw: str) -> str:
    """Strip a ``namespace#`` prefix and a ``:suffix`` from a Kinesis ``__type``."""
    name = raw.rsplit("#", 1)[-1]
    return name.split(":", 1)[0].strip()


def snippet(body: bytes) -> str:
    """The first bytes of a body, decoded leniently, for an error message."""
    text = body[:SNIPPET_BYTES].decode("utf-8", "replace")
    return " ".join(text.split())


def kinesis_error(raw_type: str, message: str, status: int) -> KinesisError:
    """The :class:`KinesisError` subclass for a raw ``__type``."""
    type_ = clean_kinesis_type(raw_type)
    cls = _KINESIS_TYPES.get(type_)
    if cls is None and type_.startswith("KMS"):
        cls = AccessDeniedKinesisError
    return (cls or UnknownKinesisError)(type_, message, status)


def error_from_response(status: int, body: bytes) -> tuple[FluxError | None, Any]:
    """Classify an HTTP answer from the Realtime gateway.

    Returns ``(error, parsed_json)``: ``error`` is None for a good answer, whose parsed JSON
    comes second. A 200 carrying a ``__type`` body is an error (gateways that map every
    backend answer to 200 do this).
    """
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        if status == 401:
            return UnauthorizedError("Unauthorized", status), None
        if status == 429:
            return ThrottledError("Too Many Requests", status), None
        return NonJSONResponse(status, snippet(body)), None
    if isinstance(data, dict) and "__type" in data:
        message = data.get("message") or data.get("Message") or ""
        return kinesis_error(str(data["__type"]), str(message), status), data
    if 200 <= status < 300:
        if data is None:
            return NonJSONResponse(status, "(empty body)"), None
        return None, data
    message = ""
    if isinstance(data, dict):
        message = str(data.get("message") or data.get("Message") or "")
    if status == 401:
        return UnauthorizedError(message or "Unauthorized", status), data
    if status == 403:
        hint = ""
        if "missing authentication token" in message.lower():
            hint = " (the gateway does not know this path or method: check base_url and company)"
        return ForbiddenError(f"{message or 'Forbidden'}{hint}", status), data
    if status == 429:
        return ThrottledError(message or "Too Many Requests", status), data
    if status == 413:
        return PayloadTooLargeError(message or "Payload too large", status), data
    if status >= 500:
        text = message or ("Endpoint request timed out" if status == 504 else "server error")
        return GatewayServerError(f"HTTP {status}: {text}", status), data
    return GatewayError(f"HTTP {status}: {message or snippet(body)}", status), data


def error_from_exception(exc: httpx.HTTPError, host: str) -> FluxError:
    """Classify an ``httpx`` exception raised while talking to ``host``.

    The message names the host and the failure, never the request headers (the token).
    """
    import httpx  # loaded already: exc is one of its exceptions

    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError(f"{host} did not answer in time ({type(exc).__name__})")
    detail = str(exc).strip() or type(exc).__name__
    return ConnectError(f"cannot reach {host}: {detail}")
