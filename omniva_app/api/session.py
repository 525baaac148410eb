"""The dashboard's sign-in: an API key exchanged for a session cookie and a CSRF token.

``POST /v1/session`` checks the key with the key store's verifier (the same wrong-secret
limits as a bearer token) and sets ``omniva_session``: a random token, HttpOnly,
SameSite=Strict, Path=/, Secure when the request came over https. The server keeps the
sessions in memory only (a restart signs everyone out), each by the SHA-256 of its cookie,
with the key id it stands for and its CSRF token; the key is looked up again on every request,
so revoking it ends its sessions. With the cookie, every state change (POST, PUT, PATCH,
DELETE) must carry ``X-CSRF-Token`` (the app's middleware refuses it otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from omniva_app.api.envelope import ApiError, success
from omniva_app.api.keys import ALL_PROJECTS, ApiKey, TooManyAttempts
from omniva_app.api.schemas import Envelope, SessionCreate, SessionEnvelope

COOKIE = "omniva_session"
CSRF_HEADER = "x-csrf-token"
PATH = "/v1/session"
#: A session lasts this long after its last request (and never longer than MAX_AGE_S).
IDLE_S = 12 * 3600
MAX_AGE_S = 7 * 24 * 3600
STATE_CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Session:
    key_id: str
    csrf_token: str
    created: float
    seen: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Sessions in memory, by the SHA-256 of their cookie."""

    def __init__(self, idle_s: float = IDLE_S, max_age_s: float = MAX_AGE_S):
        self.idle_s, self.max_age_s = idle_s, max_age_s
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, key_id: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        session = Session(key_id, secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._expire(now)
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 128:
            return None
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            session = self._sessions.get(_digest(token))
            if session is not None:
                session.seen = now
            return session

    def drop(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)

    def _expire(self, now: float) -> None:
        for digest, s in list(self._sessions.items()):
            if now - s.seen > self.idle_s or now - s.created > self.max_age_s:
                del self._sessions[digest]


def csrf_ok(session: Session, request_token: str | None) -> bool:
    return bool(request_token) and hmac.compare_digest(session.csrf_token, str(request_token))


def _view(key: ApiKey, session: Session) -> dict:
    return {
        "csrf_token": session.csrf_token,
        "key_id": key.key_id,
        "project_id": key.project,
        "admin": key.project == ALL_PROJECTS,
    }


router = APIRouter()


@router.post("/session", response_model=SessionEnvelope)
async def sign_in(request: Request, body: SessionCreate) -> JSONResponse:
    """Sign in with an API key: sets the ``omniva_session`` cookie; answers the CSRF token."""
    ctx = request.app.state.ctx  # (not context.ctx_of: the context builds this module's store)
    try:
        key = await run_in_threadpool(ctx.keys.verify, body.api_key.strip())
    except TooManyAttempts as exc:
        raise ApiError(429, "TOO_MANY_ATTEMPTS", str(exc), retry_after=exc.retry_after) from None
    if key is None:
        raise ApiError(401, "UNAUTHORIZED", "that API key is not valid (or was revoked)")
    request.state.api_key = key
    token, session = ctx.sessions.create(key.key_id)
    response = success(_view(key, session), request.state.request_id)
    response.set_cookie(
        COOKIE,
        token,
        max_age=MAX_AGE_S,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/session", response_model=SessionEnvelope)
def current(request: Request) -> JSONResponse:
    """The signed-in session (cookie): its CSRF token, key id, project and whether it is admin."""
    session = getattr(request.state, "session", None)
    if session is None:
        raise ApiError(401, "UNAUTHORIZED", "not signed in: POST /v1/session with an API key")
    return success(_view(request.state.api_key, session), request.state.request_id)


@router.delete("/session", response_model=Envelope)
def sign_out(request: Request) -> JSONResponse:
    """Sign out: the session ends and the cookie is cleared."""
    request.app.state.ctx.sessions.drop(request.cookies.get(COOKIE))
    response = success({"signed_out": True}, request.state.request_id)
    response.delete_cookie(
        COOKIE, path="/", secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )
    return response
