"""A project's YouTube channels (#29): which are connected, how their tokens and today's quota
stand, which one the project publishes to; connecting one from the browser, revoking one, and
its banner and logo.

Tokens live where ``omniva youtube auth`` puts them (``youtube_api.token_store``: one file per
channel, 0600). A project's key sees the channel it publishes to and those it connected itself
(``omniva.projects`` in the token's non-secret block); an admin key sees every one.

Connecting: ``POST .../channels/connect`` starts the authorization-code flow with PKCE
(``omniva_resources.youtube.auth.BrowserFlows``: a random ``state``, used once, ten minutes)
and answers the authorization URL; the browser goes there and comes back to
``GET /v1/oauth/callback``. That request comes from the authorization server's redirect and
carries no API key (and, from Google, no SameSite=Strict session cookie): the ``state`` is its
credential. An unknown state is refused in the server's log only (anyone can call the path);
what happens to a real flow goes to the audit log. Started from the dashboard (the session cookie), the flow is also bound to that
browser by an ``omniva_oauth`` cookie (random, HttpOnly, SameSite=Lax, path /v1, ten minutes)
that the callback must bring back. The callback exchanges the code, stores the token as the CLI does and
redirects to the dashboard's Channels page; every refusal is a clear error and is audited.
"""

from __future__ import annotations

import email.parser
import email.policy
import logging
import re
import secrets
import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from omniva.alerts import TOKEN_WARNING, parse_time
from omniva.errors import OmnivaError
from omniva_app.api.context import ctx_of, key_of
from omniva_app.api.envelope import ApiError, failure
from omniva_app.api.project_registry import PREFIX
from omniva_app.api.routes.actions import audit
from omniva_app.api.routes.common import is_admin, ok, project_of
from omniva_app.api.schemas import Envelope
from omniva_resources import notify, projects
from omniva_resources.resources import resources_from_env
from omniva_resources.youtube import YouTubeClient
from omniva_resources.youtube.auth import (
    BrowserFlows,
    TokenStore,
    check_channel_name,
    finish_browser_flow,
    redirect_allowed,
    revoke,
)
from omniva_resources.youtube.branding import RULES, BrandingError, BrandingStore, apply_banner, check_image
from omniva_resources.youtube.errors import YouTubeError
from omniva_resources.youtube_resource import YouTubeResource

router = APIRouter()
server_log = logging.getLogger("omniva_app.api")

#: The OAuth redirect target (``omniva_app.api.app`` serves it without an API key).
CALLBACK = "/v1/oauth/callback"
#: The cookie binding a flow started from the dashboard to that browser.
FLOW_COOKIE = "omniva_oauth"
FLOW_TTL_S = 600
_FLOWS_LOCK = threading.Lock()
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")


class ChannelChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(min_length=1, max_length=64, description="a connected channel's name (its token's)")


# ------------------------------------------------------------------ helpers
def _api() -> YouTubeResource:
    return resources_from_env()["youtube_api"]


def _tokens(request: Request) -> TokenStore:
    return _api().token_store(ctx_of(request).layout.home)


def _flows(request: Request) -> BrowserFlows:
    state = request.app.state
    with _FLOWS_LOCK:
        if not hasattr(state, "oauth_flows"):
            state.oauth_flows = BrowserFlows(ttl_s=FLOW_TTL_S)
    return state.oauth_flows


def _channel_name(channel: str) -> str:
    try:
        return check_channel_name(channel)
    except YouTubeError as exc:
        raise ApiError(
            400, "VALIDATION_ERROR", str(exc), [{"field": "channel", "problem": str(exc)}]
        ) from exc


def token_status(facts: Any, now: datetime) -> str:
    """valid, expiring (within the notifications' warning, 3 days), expired or revoked: the
    same reading of the token as the notifications sensor's (``omniva.alerts.token_alert``)."""
    if facts is None:
        return "missing"
    if facts.revoked_at:
        return "revoked"
    ends = parse_time(facts.refresh_expires_at)
    if ends is None and not facts.has_refresh_token:
        ends = parse_time(facts.expiry)
    if ends is None:
        return "valid"
    if ends <= now:
        return "expired"
    return "expiring" if ends - now <= TOKEN_WARNING else "valid"


def _visible(request: Request, project_id: str, project: dict, channel: str, raw: dict) -> bool:
    if is_admin(request) or channel == project.get("channel"):
        return True
    return project_id in ((raw.get("omniva") or {}).get("projects") or [])


def _quota(request: Request, channel: str, raw: dict) -> dict:
    """Today's use of the Google Cloud project the channel's calls are charged to (the ledger
    uploads use), with the channel's own uploads today."""
    api, home = _api(), ctx_of(request).layout.home
    # the credentials uploads would use: the emulator's own token in emulator mode
    creds = (
        None if api.is_emulator and not api.token_file else SimpleNamespace(client_id=raw.get("client_id"))
    )
    status = api.quota_ledger(creds, home, channel).status()
    mine = (status.get("channels") or {}).get(channel) or {}
    return {
        "project": status["project"],
        "model": status["model"],
        "day": status["day"],
        "buckets": status["buckets"],
        "exhausted": status["exhausted"],
        "uploads_today": int(mine.get("uploads", 0)),
        "paused": mine.get("paused"),
        "resets_at": status["resets_at"],
    }


def _branding_view(request: Request, project_id: str, channel: str) -> dict:
    meta = BrandingStore(ctx_of(request).layout.home).meta(channel)
    out: dict[str, Any] = {}
    for kind in RULES:
        entry = meta.get(kind)
        if entry:
            out[kind] = {k: v for k, v in entry.items() if k != "file"} | {
                "url": f"/v1/projects/{project_id}/channels/{channel}/branding/{kind}"
            }
    return out


def _channel_view(request: Request, project_id: str, project: dict, store: TokenStore, name: str) -> dict:
    raw = store.raw(name)
    meta = raw.get("omniva") or {}
    facts = notify.token_facts(store, name)
    return {
        "channel": name,
        "channel_id": meta.get("channel_id"),
        "channel_title": meta.get("channel_title"),
        "status": token_status(facts, datetime.now(UTC)),
        "scopes": list(raw.get("scopes") or []),
        "expiry": raw.get("expiry"),
        "refresh_expires_at": facts.refresh_expires_at if facts else None,
        "has_refresh_token": bool(raw.get("refresh_token")),
        "authorized_at": meta.get("authorized_at"),
        "revoked_at": meta.get("revoked_at"),
        "selected": name == project.get("channel"),
        "quota": _quota(request, name, raw),
        "branding": _branding_view(request, project_id, name),
    }


def _visible_channel(request: Request, project_id: str, channel: str) -> tuple[dict, TokenStore, dict]:
    """(project, token store, raw token) of a channel the key may see; 404 otherwise."""
    project = project_of(request, project_id)
    channel = _channel_name(channel)
    store = _tokens(request)
    raw = store.raw(channel)
    if not raw or not _visible(request, project_id, project, channel, raw):
        raise ApiError(
            404, "CHANNEL_NOT_FOUND", f"no connected channel {channel!r} for {project_id}: connect it first"
        )
    return project, store, raw


def _view(request: Request, project_id: str) -> dict:
    project = project_of(request, project_id)
    store = _tokens(request)
    items = [
        _channel_view(request, project_id, project, store, name)
        for name in store.channels()
        if _visible(request, project_id, project, name, store.raw(name))
    ]
    current = project.get("channel")
    return {
        "project_id": project_id,
        "channel": current,
        "channel_connected": any(
            i["channel"] == current and i["status"] in ("valid", "expiring") for i in items
        ),
        "connect_available": store.client_path.is_file(),
        # emulator mode without a token file: uploads use the emulator's development token
        # (make demo, tests), so a channel without a stored token still uploads there
        "emulator_dev_token": _emulator_root(),
        "items": items,
    }


def _emulator_root() -> str | None:
    """The emulator's address when uploads go there with its development token, else None."""
    api = _api()
    return api.effective_api_root if api.is_emulator and not api.token_file else None


# ------------------------------------------------------------------ channels
@router.get("/projects/{project_id}/channels", response_model=Envelope)
def list_channels(request: Request, project_id: str):
    """The connected channels this key may see: token status (valid / expiring / expired /
    revoked), scopes, expiry, today's quota use, branding; and the one the project publishes to."""
    return ok(request, _view(request, project_id))


@router.put("/projects/{project_id}/channel", response_model=Envelope)
def choose_channel(request: Request, project_id: str, body: ChannelChoice):
    """Publish the project's clips to ``channel``, one of its connected channels (audited)."""
    _, store, raw = _visible_channel(request, project_id, body.channel)
    facts = notify.token_facts(store, body.channel)
    status = token_status(facts, datetime.now(UTC))
    if status in ("revoked", "expired"):
        raise ApiError(
            409,
            "CHANNEL_NOT_CONNECTED",
            f"channel {body.channel!r}'s token is {status}: connect it again first",
        )
    before, _ = projects.set_channel(project_id.removeprefix(PREFIX), body.channel, ctx_of(request).layout)
    if before != body.channel:
        audit(
            ctx_of(request),
            request,
            f"channel of {project_id} changed: {before or '-'} -> {body.channel}",
            project_id=project_id,
            event="channel_changed",
            changes={"channel": {"before": before, "after": body.channel}},
        )
    return ok(request, _view(request, project_id))


@router.post("/projects/{project_id}/channels/connect", response_model=Envelope)
def connect_channel(request: Request, project_id: str, body: ChannelChoice):
    """Start connecting ``channel`` (OAuth authorization code + PKCE): answers the URL the
    browser goes to; the authorization server sends it back to ``/v1/oauth/callback``."""
    project = project_of(request, project_id)
    channel = _channel_name(body.channel)
    store = _tokens(request)
    raw = store.raw(channel)
    if raw and not _visible(request, project_id, project, channel, raw):
        raise ApiError(
            409, "CHANNEL_TAKEN", f"channel name {channel!r} is another project's: choose another name"
        )
    try:
        config = store.load_client()
    except YouTubeError as exc:
        raise ApiError(409, "NO_OAUTH_CLIENT", str(exc)) from exc
    redirect_uri = _redirect_uri(request, config)
    session = getattr(request.state, "session", None)
    binding = request.cookies.get(FLOW_COOKIE) if session is not None else None
    if session is not None and not (binding and 20 <= len(binding) <= 64):
        binding = secrets.token_urlsafe(32)
    url = _flows(request).start(
        store, channel, redirect_uri, project_id=project_id, key_id=key_of(request).key_id, binding=binding
    )
    audit(ctx_of(request), request, f"connecting channel {channel} for {project_id}", project_id=project_id,
          event="channel_connect_started", channel=channel)  # fmt: skip
    response = ok(
        request,
        {
            "channel": channel,
            "authorization_url": url,
            "redirect_uri": redirect_uri,
            "expires_in_s": FLOW_TTL_S,
        },
    )
    if binding:
        response.set_cookie(
            FLOW_COOKIE,
            binding,
            max_age=FLOW_TTL_S,
            path="/v1",  # back with the next Connect too, so two flows in one browser share it
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",  # sent on the authorization server's top-level redirect back
        )
    return response


def _redirect_uri(request: Request, config: dict) -> str:
    """A web client's registered callback; a Desktop client's is this API's loopback address."""
    if "web" in config:
        registered = [u for u in config["web"].get("redirect_uris") or [] if u.endswith(CALLBACK)]
        if not registered:
            raise ApiError(
                409,
                "NO_OAUTH_CLIENT",
                f"the OAuth web client has no redirect URI ending in {CALLBACK}: add "
                f"https://YOUR-HOST{CALLBACK} to it in Google Cloud console",
            )
        return registered[0]
    uri = f"{request.url.scheme}://{request.url.netloc}{CALLBACK}"
    if not redirect_allowed(config, uri):
        raise ApiError(
            409,
            "NO_OAUTH_CLIENT",
            "a Desktop-app OAuth client can only send the browser back to a loopback address: open "
            f"the dashboard on 127.0.0.1, or use a Web application client with redirect URI "
            f"https://YOUR-HOST{CALLBACK}",
        )
    return uri


@router.get("/oauth/callback", include_in_schema=True)
def oauth_callback(
    request: Request,
    state: Annotated[str | None, Query(max_length=128)] = None,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
):
    """Where the authorization server sends the browser back: the ``state`` must be one this API
    issued, unused, at most ten minutes old (and, from the dashboard, for this browser). The code
    is exchanged, the token stored (0600) and the browser sent to the Channels page."""
    ctx = ctx_of(request)
    rid = request.state.request_id

    def log(level: str, message: str, **fields: Any) -> None:
        ctx.store.log("api", level, message, request_id=rid, path=request.url.path, **fields)

    try:
        pending = _flows(request).take(state, request.cookies.get(FLOW_COOKIE))
    except YouTubeError as exc:
        # the server's log only: anyone can call this path, and must not fill the warehouse
        server_log.warning("OAuth callback refused [request %s]: %s", rid, exc)
        return failure(ApiError(400, "OAUTH_STATE_INVALID", str(exc)), rid)
    fields = {"project_id": pending.project_id, "channel": pending.channel, "key_id": pending.key_id}
    page = f"/app/#/projects/{quote(pending.project_id)}/channels"
    if ctx.keys.get(pending.key_id) is None:
        log("WARNING", "OAuth callback refused: the key that started it was revoked", **fields)
        return failure(
            ApiError(403, "FORBIDDEN", "the API key that started this connection was revoked"), rid
        )
    if error or not code:
        reason = error if error and _ERROR_CODE.fullmatch(error) else "no_code"
        log("WARNING", f"connecting channel {pending.channel} refused by the authorization server: {reason}",
            event="channel_connect_refused", **fields)  # fmt: skip
        return _back(f"{page}/failed/{reason}")
    try:
        store = _tokens(request)
        previous = store.raw(pending.channel).get("omniva") or {}
        owners = sorted({*(previous.get("projects") or []), pending.project_id})
        token = finish_browser_flow(store, pending, code, {"projects": owners})
    except OmnivaError as exc:
        log("WARNING", f"connecting channel {pending.channel} failed: {exc}", event="channel_connect_failed",
            **fields)  # fmt: skip
        return _back(f"{page}/failed/exchange_failed")
    log("INFO", f"channel {pending.channel} connected for {pending.project_id}", event="channel_connected",
        channel_id=token.channel_id, **fields)  # fmt: skip
    return _back(f"{page}/connected/{quote(pending.channel)}")


def _back(location: str) -> RedirectResponse:
    # a relative Location: nothing from Host. The flow cookie stays (ten minutes): another flow
    # of this browser may still be on its way back.
    response = RedirectResponse(location, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/projects/{project_id}/channels/{channel}/revoke", response_model=Envelope)
def revoke_channel(request: Request, project_id: str, channel: str):
    """Revoke the channel's grant at the authorization server and drop the stored token's
    secrets (its non-secret block stays with ``revoked_at``: the notifications alert on it)."""
    _, store, raw = _visible_channel(request, project_id, channel)
    if (raw.get("omniva") or {}).get("revoked_at") and not raw.get("refresh_token"):
        raise ApiError(
            409, "ALREADY_REVOKED", f"channel {channel!r} was revoked at {raw['omniva']['revoked_at']}"
        )
    remote, note = revoke(store, channel)
    audit(ctx_of(request), request, f"channel {channel} revoked ({note})", project_id=project_id,
          event="channel_revoked", channel=channel)  # fmt: skip
    view = _channel_view(request, project_id, project_of(request, project_id), store, channel)
    return ok(request, {**view, "revoked_remotely": remote, "note": note})


# ------------------------------------------------------------------ branding
def _form_files(request: Request, body: bytes) -> dict[str, bytes]:
    """The files of a ``multipart/form-data`` body by field name."""
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(
            400, "VALIDATION_ERROR", "send the images as multipart/form-data (fields banner, logo)"
        )
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode("latin-1") + body
    )
    if not msg.is_multipart():
        raise ApiError(400, "VALIDATION_ERROR", "the multipart body cannot be read")
    out: dict[str, bytes] = {}
    for part in msg.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        data = part.get_payload(decode=True)
        out[name] = data if isinstance(data, bytes) else b""
    return out


@router.post("/projects/{project_id}/channels/{channel}/branding", response_model=Envelope)
async def upload_branding(
    request: Request, project_id: str, channel: str, apply: Annotated[bool, Query()] = True
):
    """Upload the channel's ``banner`` and/or ``logo`` (multipart/form-data). Each is checked
    (PNG or JPEG by its bytes; banner 16:9, at least 2048x1152, at most 6 MB; logo square, at
    least 98x98, at most 4 MB), every refusal naming its field; then kept, and the banner
    applied to the channel (``channelBanners.insert``, ``channels.update``) unless ``apply=false``."""
    body = await request.body()
    return await run_in_threadpool(_branding, request, project_id, channel, body, apply)


def _branding(request: Request, project_id: str, channel: str, body: bytes, apply: bool):
    _, store, _ = _visible_channel(request, project_id, channel)
    files = _form_files(request, body)
    unknown = sorted(set(files) - set(RULES))
    problems = [
        {"field": f or "(unnamed)", "problem": "unknown field: send banner and/or logo"} for f in unknown
    ]
    checked = []
    for kind in RULES:
        if kind in files:
            try:
                checked.append(check_image(kind, files[kind]))
            except BrandingError as exc:
                problems.append({"field": exc.field, "problem": exc.problem})
    if not problems and not checked:
        problems.append({"field": "banner", "problem": "send a banner and/or a logo"})
    if problems:
        text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise ApiError(400, "VALIDATION_ERROR", f"branding refused: {text}", problems)
    home = ctx_of(request).layout.home
    brand = BrandingStore(home)
    result: dict[str, Any] = {"channel": channel}
    for image in checked:
        brand.save(channel, image)
        result[image.kind] = {
            "width": image.width,
            "height": image.height,
            "bytes": image.size,
            "mime": image.mime,
        }
    banner = next((i for i in checked if i.kind == "banner"), None)
    if banner is not None and apply:
        result["banner"] |= _apply(store, channel, banner.data, banner.mime, home, brand)
    audit(ctx_of(request), request, f"branding of channel {channel}: {', '.join(i.kind for i in checked)}",
          project_id=project_id, event="channel_branding", channel=channel,
          applied=bool((result.get("banner") or {}).get("applied")))  # fmt: skip
    result["branding"] = _branding_view(request, project_id, channel)
    return ok(request, result)


def _apply(store: TokenStore, channel: str, data: bytes, mime: str, home: Any, brand: BrandingStore) -> dict:
    api = _api()
    try:
        creds = store.load(channel)
        ledger_creds = None if api.is_emulator and not api.token_file else creds
        client = YouTubeClient(
            api.api_root or None, creds, quota=api.quota_ledger(ledger_creds, home, channel)
        )
        url, channel_id = apply_banner(client, data, mime)
    except OmnivaError as exc:  # YouTubeError, ConfigError (a token for the other side), quota
        return {"applied": False, "error": str(exc)}
    brand.applied(channel, url, channel_id)
    return {"applied": True, "banner_url": url, "channel_id": channel_id}


@router.get("/projects/{project_id}/channels/{channel}/branding/{kind}", include_in_schema=True)
def branding_image(request: Request, project_id: str, channel: str, kind: str):
    """The channel's kept ``banner`` or ``logo`` image (for the dashboard's preview)."""
    _visible_channel(request, project_id, channel)
    if kind not in RULES:
        raise ApiError(404, "NOT_FOUND", f"no branding image {kind!r}: banner or logo")
    found = BrandingStore(ctx_of(request).layout.home).image(channel, kind)
    if found is None:
        raise ApiError(404, "NOT_FOUND", f"channel {channel!r} has no {kind} yet")
    path, mime = found
    return Response(path.read_bytes(), media_type=mime, headers={"Cache-Control": "no-store"})


__all__ = ["CALLBACK", "router", "token_status"]
