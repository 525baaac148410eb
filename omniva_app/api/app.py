"""The ASGI app: authentication, the response wrapper and errors around the routes."""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omniva.contracts import SCHEMA_VERSION, supported_versions
from omniva.settings import layout
from omniva_app.api.context import ApiContext
from omniva_app.api.envelope import MAX_DETAILS, ApiError, failure
from omniva_app.api.keys import TOKEN, TooManyAttempts
from omniva_app.api.refusals import RefusalLog
from omniva_app.api.routes import router
from omniva_app.api.session import COOKIE, CSRF_HEADER, STATE_CHANGES, csrf_ok
from omniva_app.api.static import is_app_path, secure_headers
from omniva_app.api.static import router as app_router

__all__ = ["ApiContext", "create_app"]

log = logging.getLogger("omniva_app.api")

#: Paths served without a key: the API's own description, and the OAuth redirect back from the
#: authorization server (its one-time ``state`` is its credential: routes/channels.py).
PUBLIC = {"/v1/openapi.json", "/v1/docs", "/v1/docs/oauth2-redirect", "/v1/oauth/callback"}
#: Sign-in: checked by the key verifier itself (its wrong-secret limits), audited when refused.
SIGN_IN = ("POST", "/v1/session")
PAGINATION = {"limit", "offset"}
#: A caller's X-Request-ID is kept only if it is this (it is echoed and logged); else a fresh one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ERROR_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}
#: Refusals audited in the warehouse ``logs`` table (``refusals.RefusalLog``).
AUDITED = {401, 403, 404, 429}


class BodyTooLarge(StarletteHTTPException):
    """A body without Content-Length that grew past the limit (FastAPI passes HTTP errors on)."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


#: Uploads of a channel's banner and logo (#29: YouTube takes banners up to 6 MB, logos up to
#: 4 MB) may be this large whatever the general limit (``OMNIVA_API_MAX_BODY_BYTES``) says.
BRANDING_PATH = re.compile(r"^/v1/projects/[^/]+/channels/[^/]+/branding$")
BRANDING_MAX_BYTES = 12 * 1024 * 1024


def body_limit(path: str, general: int) -> int:
    """The most bytes a request body to ``path`` may have."""
    return max(general, BRANDING_MAX_BYTES) if BRANDING_PATH.match(path) else general


class BodyLimit:
    """Stops reading a request body at its path's limit (``body_limit``), whatever its
    Content-Length said."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0
        limit = body_limit(scope.get("path", ""), self.limit)

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if REQUEST_ID.fullmatch(given) else str(uuid.uuid4())


def _content_length(request: Request) -> int:
    try:
        return int(request.headers.get("content-length") or 0)
    except ValueError:
        return 0


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
    version = next((e for e in errors if e.get("type") == "schema_version_unsupported"), None)
    if version is not None:
        received = (version.get("ctx") or {}).get("received", version.get("input"))
        message = (
            f"schema_version {received} is not supported: this API reads {supported_versions()}; "
            f"send schema_version {SCHEMA_VERSION} (or leave it out)"
        )
        return ApiError(
            400, "UNSUPPORTED_SCHEMA_VERSION", message, [{"field": "schema_version", "problem": message}]
        )
    # At most MAX_DETAILS problems are listed (a body of 60,000 unknown fields is one short answer).
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e.get("msg")}
        for e in errors[:MAX_DETAILS]
    ]
    if all(e.get("loc", ("",))[0] == "query" and e["loc"][-1] in PAGINATION for e in errors):
        return ApiError(400, "INVALID_PAGINATION", "limit must be 1-500 and offset 0-1000000", details)
    text = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details[:5])
    more = len(errors) - min(len(errors), 5)
    if more:
        text += f"; and {more} more problem(s)"
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
    # No redirect to the path with(out) its trailing slash: Starlette builds that Location from
    # the Host header. Such a path is a 404 in the envelope, like any other unknown path.
    app.router.redirect_slashes = False
    try:
        ctx.projects.adopt_states()
    except Exception:  # noqa: BLE001 - an unreadable registry is reported by the routes that read it
        log.warning("could not carry the API's project states into projects.json", exc_info=True)

    refusals = RefusalLog(lambda message, **fields: ctx.store.log("api", "WARNING", message, **fields))

    async def refused(request: Request, status: int, code: str, reason: str) -> None:
        """The refusal's audit row (rate-limited); a failing write only reaches the server log."""
        key = getattr(request.state, "api_key", None)
        claimed = TOKEN.match(_token(request))
        key_id = key.key_id if key else (claimed.group(1) if claimed else None)
        try:
            await run_in_threadpool(
                refusals.refused,
                key_id=key_id,
                # a wrong secret for a real key id is counted under that key (bounded: the
                # keys are few); invented key ids all share one budget
                known=key is not None or (key_id is not None and ctx.keys.known(key_id)),
                path=request.url.path,
                method=request.method,
                status=status,
                code=code,
                reason=reason,
                request_id=request.state.request_id,
            )
        except Exception:  # noqa: BLE001 - the answer goes out whatever the audit trail does
            log.exception("could not audit a refused request")

    app.add_middleware(BodyLimit, limit=ctx.settings.max_body_bytes)

    @app.middleware("http")
    async def authenticate(request: Request, call_next):
        """Every request needs a valid key (a bearer token, or the dashboard's session cookie)
        before anything else runs (the body is not even read); then the security headers."""
        request.state.request_id = _request_id(request)
        response = await _authenticated(request, call_next)
        secure_headers(request.url.path, response)
        return response

    async def _authenticated(request: Request, call_next):
        rid = request.state.request_id
        path = request.url.path
        sign_in = (request.method, path) == SIGN_IN
        if path not in PUBLIC and not sign_in and not is_app_path(path):
            token = _token(request)
            session = None
            if not token and request.cookies.get(COOKIE):
                session = ctx.sessions.get(request.cookies.get(COOKIE))
            try:
                if session is not None:
                    key = await run_in_threadpool(ctx.keys.get, session.key_id)
                else:
                    # scrypt takes ~100 ms of CPU: off the event loop, or one guesser stalls everyone
                    key = await run_in_threadpool(ctx.keys.verify, token)
            except TooManyAttempts as exc:
                await refused(request, 429, "TOO_MANY_ATTEMPTS", "too many wrong secrets for this key id")
                return failure(ApiError(429, "TOO_MANY_ATTEMPTS", str(exc), retry_after=exc.retry_after), rid)
            if key is None:
                await refused(request, 401, "UNAUTHORIZED", "no valid API key")
                return failure(
                    ApiError(
                        401,
                        "UNAUTHORIZED",
                        "a valid API key is required: 'Authorization: Bearer omv_...' "
                        "(create one with `omniva api keys create --project PROJECT`), "
                        "or the dashboard's session (POST /v1/session)",
                    ),
                    rid,
                )
            request.state.api_key = key
            if session is not None:
                request.state.session = session
                if request.method in STATE_CHANGES and not csrf_ok(session, request.headers.get(CSRF_HEADER)):
                    await refused(
                        request, 403, "CSRF_REQUIRED", "a state change with the session cookie, no CSRF token"
                    )
                    message = "with the session cookie, every POST/PUT/PATCH/DELETE needs header X-CSRF-Token"
                    return failure(ApiError(403, "CSRF_REQUIRED", message), rid)
            wait = ctx.rate_limit.take(key.key_id)
            if wait:
                await refused(request, 429, "RATE_LIMITED", "over the key's request budget")
                limit = ctx.settings.rate_limit_per_min
                message = f"API key {key.key_id} is over {limit} requests a minute; retry in {wait} s"
                return failure(ApiError(429, "RATE_LIMITED", message, retry_after=wait), rid)
        limit = body_limit(request.url.path, ctx.settings.max_body_bytes)
        if _content_length(request) > limit:
            message = f"the request body is larger than {limit} bytes"
            return failure(ApiError(413, "PAYLOAD_TOO_LARGE", message), rid)
        response = await call_next(request)
        response.headers["X-Request-ID"] = rid
        if response.status_code in AUDITED and (hasattr(request.state, "api_key") or sign_in):
            code, reason = getattr(request.state, "refusal", ("HTTP_ERROR", "refused"))
            await refused(request, response.status_code, code, reason)
        return response

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        request.state.refusal = (exc.code, exc.message)
        return failure(exc, getattr(request.state, "request_id", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return failure(_validation_error(exc), getattr(request.state, "request_id", None))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = ERROR_CODES.get(exc.status_code, "HTTP_ERROR")
        request.state.refusal = (code, str(exc.detail))
        return failure(
            ApiError(exc.status_code, code, str(exc.detail)), getattr(request.state, "request_id", None)
        )

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception):
        # The details (paths, SQL, library messages) go to the server's log, never to the caller.
        rid = getattr(request.state, "request_id", None) or str(uuid.uuid4())
        log.error(
            "unhandled error in %s %s [request %s]", request.method, request.url.path, rid, exc_info=exc
        )
        message = f"internal error; the server's log has the details under request id {rid}"
        return failure(ApiError(500, "INTERNAL_ERROR", message), rid)

    app.include_router(router)
    app.include_router(app_router)
    return app
