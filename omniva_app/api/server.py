"""``omniva api``: serve the API with uvicorn, and manage keys and projects."""

from __future__ import annotations

import logging
import os


def serve(host: str = "127.0.0.1", port: int = 8090, log_level: str = "info") -> None:
    import uvicorn

    from omniva.settings import layout
    from omniva_app.api.app import ApiContext, create_app
    from omniva_devkit.loopback import DEFAULT_API_ROOT, loopback_emulator

    lay = layout()
    ctx = ApiContext(lay)
    ctx.actions  # noqa: B018 - load the code location and the instance before the first request
    # Upload actions publish like `omniva run`: to the loopback emulator when configured so.
    emulator = loopback_emulator(lay, os.environ.get("OMNIVA_YOUTUBE_API_ROOT", DEFAULT_API_ROOT))
    logging.getLogger("omniva_app.api").info(
        "Omniva API on http://%s:%d/v1 (OpenAPI: /v1/openapi.json)", host, port
    )
    try:
        uvicorn.run(create_app(ctx), host=host, port=port, log_level=log_level)
    finally:
        if emulator:
            emulator.stop()
