"""The ASGI app: authentication, the response wrapper and errors around the routes."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from omniva.settings import layout
from omniva_app.api.context import ApiContext
from omniva_app.api.envelope import ApiError, failure
from omniva_app.api.routes import router

__all__ = ["ApiContext", "create_app"]

log = logging.getLogger("omniva_app.api")

#: Paths served without a key: the API's own description.
PUBLIC = {"/v1/openapi.json", "/v1/docs", "/v1/docs/oauth2-redirect"}
PAGINATION = {"limit", "offset"}


def _token(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key", "").strip()


def _validation_error(exc: RequestValidationError) -> ApiError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return ApiError(400, "INVALID_JSON", "the request body is not valid JSON")
    if any(tuple(e.get("loc", ())) == ("body",) and e.get("type") == "model_attributes_type" for e in errors):
        return ApiError(
            400, "INVALID_JSON", "the request body must be a JSON object (Content-Type: application/json)"
        )
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e.get("msg")}
        for e in errors
    ]
    if all(e.get("loc", ("",))[0] == "query" and e["loc"][-1] in PAGINATION for e in errors):
        return ApiError(400, "INVALID_PAGINATION", "limit must be 1-500 and offset at least 0", details)
    text = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details)
    return ApiError(400, "VALIDATION_ERROR", f"invalid request: {text}", details)


def create_app(ctx: ApiContext | None = None) -> FastAPI:
    ctx = ctx or ApiContext(layout())
    app = FastAPI(
        title="Omniva API",
        version="1",
        description="The spec's REST API v1 over Dagster and the warehouse (docs/api.md).",
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx

    @app.middleware("http")
    async def authenticate(request: Request, call_next):
        """Every request needs a valid key before anything else runs (the body is not even read)."""
        request.state.request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        if request.url.path not in PUBLIC:
            key = ctx.keys.verify(_token(request))
            if key is None:
                return failure(
                    ApiError(
                        401,
                        "UNAUTHORIZED",
                        "a valid API key is required: 'Authorization: Bearer omv_...' "
                        "(create one with `omniva api keys create --project PROJECT`)",
                    ),
                    request.state.request_id,
                )
            request.state.api_key = key
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return failure(exc, getattr(request.state, "request_id", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return failure(_validation_error(exc), getattr(request.state, "request_id", None))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return failure(
            ApiError(exc.status_code, code, str(exc.detail)), getattr(request.state, "request_id", None)
        )

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        log.exception("unhandled error")
        return failure(
            ApiError(500, "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"),
            getattr(request.state, "request_id", None),
        )

    app.include_router(router)
    return app
