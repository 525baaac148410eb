"""The dashboard's single-page app under ``/app`` and the security headers of every answer.

``GET /app`` and ``/app/...`` serve the built files of ``dashboard/dist`` (``make setup``
builds them; ``OMNIVA_DASHBOARD_DIST`` names another folder); a path that names no file
gets ``index.html`` (the app routes in the browser). Hashed assets (``/app/assets/``) are
cached for a year, ``index.html`` never. Without a build, ``/app`` answers a plain 503 page.
``GET /`` redirects to ``/app/`` with a relative Location (never built from Host).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from omniva_app.api.context import ctx_of

#: The app's policy: no inline script or style, nothing from elsewhere, no framing.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
#: The API's answers are data, never a page to frame.
API_CSP = "frame-ancestors 'none'; default-src 'none'"
LONG_CACHE = "public, max-age=31536000, immutable"
NOT_BUILT = (
    "<!doctype html><title>Omniva dashboard</title>"
    "<p>The dashboard is not built yet (no dashboard/dist/index.html): "
    "run make setup to build the dashboard, then reload.</p>"
)


def is_app_path(path: str) -> bool:
    return path == "/" or path == "/app" or path.startswith("/app/")


def secure_headers(path: str, response: Response) -> None:
    """The security headers every answer carries (the app's CSP under /app and /)."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    if is_app_path(path):
        headers["Content-Security-Policy"] = APP_CSP
    elif "content-security-policy" not in headers:
        headers["Content-Security-Policy"] = API_CSP


router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    # a relative Location: nothing of the request (Host, X-Forwarded-*) goes into it
    return RedirectResponse("/app/", status_code=307)


def _file(dist: Path, rel: str) -> Path | None:
    """The file ``rel`` names inside ``dist``, if any (never outside it)."""
    if not rel or rel.endswith("/"):
        return None
    root = dist.resolve()
    try:
        target = (root / rel).resolve()
    except (OSError, ValueError):
        return None
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target


@router.api_route("/app", methods=["GET", "HEAD"])
@router.api_route("/app/{rel:path}", methods=["GET", "HEAD"])
def app_files(request: Request, rel: str = "") -> Response:
    dist = ctx_of(request).settings.dashboard_dist
    index = dist / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
    target = _file(dist, rel)
    if target is None or target.name == "index.html":
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})
    cache = LONG_CACHE if rel.startswith("assets/") else "public, max-age=3600"
    return FileResponse(target, headers={"Cache-Control": cache})
