"""The spec's v1 endpoints, one module per resource. Reads: the warehouse (named queries in
``sql/queries``) and Dagster's storage. Actions: Dagster runs (``dagster_ops``), with Zenith's
rules applied first and the run ids in the answer.

The modules are included in the order of the spec's endpoint list, which is also the order
of the paths in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.security import HTTPBearer

from omniva_app.api.routes import (
    analysis,
    channels,
    clips,
    creators,
    dashboard,
    insights,
    jobs,
    logs,
    notifications,
    projects,
    review,
    schedule,
    scrape,
    settings,
    system,
    uploads,
)
from omniva_app.api.schemas import ErrorEnvelope
from omniva_app.api.session import router as session_router

# Documents the scheme in the OpenAPI description; the check itself is the app's middleware.
bearer = HTTPBearer(auto_error=False, description="API key: `omv_...` (omniva api keys create)")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "model": ErrorEnvelope}
    for code, text in {
        400: "bad request: INVALID_JSON, VALIDATION_ERROR, UNSUPPORTED_SCHEMA_VERSION, INVALID_PAGINATION, "
        "INVALID_DATE_RANGE",
        401: "missing or invalid API key",
        403: "the key is scoped to another project",
        404: "not found",
        409: "conflict with the current state",
        422: "well-formed but not acceptable",
        500: "STATUS_UNAVAILABLE, INTERNAL_ERROR",
    }.items()
}
RESOURCES = (projects, creators, scrape, analysis, clips, uploads, schedule, logs, insights, jobs, system)

router = APIRouter(prefix="/v1", responses=ERRORS, dependencies=[Depends(bearer)])
for resource in RESOURCES:
    router.include_router(resource.router)
router.include_router(session_router)  # the dashboard's sign-in (#28)
router.include_router(dashboard.router)  # funnel, video, log entries, workers, bot control (#28)
router.include_router(review.router)  # review before publish, copy, re-cut, calendar (#28)
router.include_router(settings.router)  # a project's settings, audited (#29)
router.include_router(notifications.router)  # a project's e-mail, webhook and PagerDuty alerts (#29)
router.include_router(channels.router)  # a project's YouTube channels, OAuth from the browser, branding (#29)
