"""The ASGI app: authentication, the response wrapper, errors, and the context routes share."""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from functools import cached_property

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from omniva.settings import Layout, layout
from omniva_app.api.envelope import ApiError, failure
from omniva_app.api.keys import ApiKey, KeyStore
from omniva_app.api.project_registry import ProjectRegistry

log = logging.getLogger("omniva_app.api")

#: Paths served without a key: the API's own description.
PUBLIC = {"/v1/openapi.json", "/v1/docs", "/v1/docs/oauth2-redirect"}
PAGINATION = {"limit", "offset"}


def api_dir(lay: Layout):
    return lay.home / "api"


@dataclass
class ApiContext:
    """What every request uses; the Dagster side is loaded on first use."""

    layout: Layout

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(api_dir(self.layout) / "keys.json")

    @cached_property
    def projects(self) -> ProjectRegistry:
        return ProjectRegistry(self.layout, api_dir(self.layout) / "projects.json")

    @cached_property
    def actions(self):
        import dagster as dg

        from omniva.settings import ensure_dagster_home
        from omniva_app.api.dagster_ops import Actions
        from omniva_assets.definitions import defs

        ensure_dagster_home()
        return Actions(defs, dg.DagsterInstance.get(), self.store, api_dir(self.layout) / "jobs")

    @cached_property
    def store(self):
        """The working folder (warehouse, logs, quarantine), without loading Dagster."""
        from omniva_resources.resources import OmnivaStore

        return OmnivaStore(home=str(self.layout.home))

    @property
    def warehouse(self):
        from omniva_resources.warehouse import Warehouse

        return Warehouse(self.layout.warehouse, self.layout.duckdb_path)

    @property
    def ui_url(self) -> str:
        return os.environ.get("OMNIVA_DAGSTER_UI", "http://127.0.0.1:3000").rstrip("/")


def _token(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key", "").strip()


def key_of(request: Request) -> ApiKey:
    return request.state.api_key


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
    from omniva_app.api.routes import router

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
