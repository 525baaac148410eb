"""``omniva api``: serve the API with uvicorn, and manage keys and projects."""

from __future__ import annotations

import logging


def serve(host: str = "127.0.0.1", port: int = 8090, log_level: str = "info") -> None:
    import uvicorn

    from omniva.api.app import ApiContext, create_app
    from omniva.cli import _loopback_emulator
    from omniva.settings import layout

    lay = layout()
    ctx = ApiContext(lay)
    ctx.actions  # noqa: B018 - load the code location and the instance before the first request
    # Upload actions publish like `omniva run`: to the loopback emulator when configured so.
    emulator = _loopback_emulator(lay)
    logging.getLogger("omniva.api").info(
        "Omniva API on http://%s:%d/v1 (OpenAPI: /v1/openapi.json)", host, port
    )
    try:
        uvicorn.run(create_app(ctx), host=host, port=port, log_level=log_level)
    finally:
        if emulator:
            emulator.stop()
