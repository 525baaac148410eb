"""The spec's response wrapper ``{status, data, error, meta}`` and its typed errors."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse


class ApiError(Exception):
    """An error the caller can act on: HTTP status, a stable code, a message naming the thing.

    ``retry_after``: seconds the caller should wait (429, 503), sent as ``Retry-After``.
    """

    def __init__(self, status: int, code: str, message: str, details: Any = None, *, retry_after: int = 0):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.retry_after = retry_after


#: An error body stays small whatever the request held: a message of at most MAX_MESSAGE
#: characters, quoted ids and names echoed in it cut to MAX_ECHO (other unbroken runs to
#: twice that), at most MAX_DETAILS details.
MAX_MESSAGE = 1000
MAX_ECHO = 64
MAX_DETAILS = 20
#: a quoted value (``repr`` of an id, a field name) or a long unbroken run
_QUOTED = re.compile(
    rf"'([^']{{{MAX_ECHO}}})[^']+'|\"([^\"]{{{MAX_ECHO}}})[^\"]+\"|(\S{{{2 * MAX_ECHO}}})\S+"
)


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with every echoed id or name of more than MAX_ECHO characters cut (``…``), and
    at most ``limit`` characters in all."""

    def cut(m: re.Match) -> str:
        if m.group(1) is not None:
            return f"'{m.group(1)}…'"
        if m.group(2) is not None:
            return f'"{m.group(2)}…"'
        return f"{m.group(3)}…"

    text = _QUOTED.sub(cut, str(text))
    return text if len(text) <= limit else text[:limit] + "…"


def _small(value: Any, depth: int = 0) -> Any:
    """Details cut to size: strings shortened, lists to MAX_DETAILS items, nesting to 4 levels."""
    if isinstance(value, str):
        return shorten(value, 300)
    if depth > 4:
        return "…"
    if isinstance(value, dict):
        return {shorten(str(k), MAX_ECHO): _small(v, depth + 1) for k, v in list(value.items())[:MAX_DETAILS]}
    if isinstance(value, list | tuple):
        items = [_small(v, depth + 1) for v in list(value)[:MAX_DETAILS]]
        if len(value) > MAX_DETAILS:
            items.append({"more": len(value) - MAX_DETAILS})
        return items
    return value


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(request_id: str | None = None) -> dict:
    return {"request_id": request_id or str(uuid.uuid4()), "generated_at": now_iso()}


def success(data: Any, request_id: str | None = None, status_code: int = 200) -> JSONResponse:
    body = {"status": "success", "data": data, "error": None, "meta": meta(request_id)}
    return JSONResponse(jsonable_encoder(body), status_code=status_code)


def failure(err: ApiError, request_id: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"message": shorten(err.message), "code": err.code}
    if err.details is not None:
        error["details"] = _small(err.details)
    about = meta(request_id)
    body = {"status": "error", "data": None, "error": error, "meta": about}
    headers = {"X-Request-ID": about["request_id"]}
    if err.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if err.retry_after:
        headers["Retry-After"] = str(err.retry_after)
    return JSONResponse(jsonable_encoder(body), status_code=err.status, headers=headers)


def page(items: list, limit: int, offset: int, total: int) -> dict:
    return {"items": items, "pagination": {"limit": limit, "offset": offset, "total": total}}
