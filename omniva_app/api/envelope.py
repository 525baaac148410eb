"""The spec's response wrapper ``{status, data, error, meta}`` and its typed errors."""

from __future__ import annotations

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


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(request_id: str | None = None) -> dict:
    return {"request_id": request_id or str(uuid.uuid4()), "generated_at": now_iso()}


def success(data: Any, request_id: str | None = None, status_code: int = 200) -> JSONResponse:
    body = {"status": "success", "data": data, "error": None, "meta": meta(request_id)}
    return JSONResponse(jsonable_encoder(body), status_code=status_code)


def failure(err: ApiError, request_id: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"message": err.message, "code": err.code}
    if err.details is not None:
        error["details"] = err.details
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
