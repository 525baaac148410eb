"""The error bodies Google's APIs answer with, and the exceptions that carry them."""

from __future__ import annotations

from typing import Any

#: The ``errors[].reason`` an injected fault answers with (``Faults.fail_next``).
FAULT_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    429: "rateLimitExceeded",
    500: "backendError",
    502: "backendError",
    503: "backendError",
    504: "backendError",
}


def error_body(code: int, message: str, reason: str, domain: str = "global", **extra: str) -> dict:
    err: dict[str, Any] = {"message": message, "domain": domain, "reason": reason}
    err.update(extra)
    return {"error": {"code": code, "message": message, "errors": [err]}}


def unauthenticated_body(what: str, reason: str, short: str) -> dict:
    """Google's 401 body for a missing or invalid bearer token."""
    body = error_body(
        401,
        f"{what} Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        reason,
        location="Authorization",
        locationType="header",
    )
    body["error"]["errors"][0]["message"] = short
    body["error"]["status"] = "UNAUTHENTICATED"
    return body


class ApiError(Exception):
    """A Data API error: the handler answers ``code`` with Google's error body."""

    def __init__(self, code: int, message: str, reason: str, domain: str = "global", **extra: str):
        super().__init__(message)
        self.code = code
        self.body = error_body(code, message, reason, domain, **extra)


class OAuthError(Exception):
    """An OAuth 2.0 token endpoint error (RFC 6749 section 5.2 body)."""

    def __init__(self, code: int, error: str, description: str):
        super().__init__(description)
        self.code = code
        self.body = {"error": error, "error_description": description}


def required_parts(query: dict[str, str]) -> set[str]:
    """The request's ``part`` values; a list call without any is refused, as YouTube does."""
    parts = {p.strip() for p in query.get("part", "").split(",") if p.strip()}
    if not parts:
        raise ApiError(400, "'part' is required.", "required", location="part", locationType="parameter")
    return parts
