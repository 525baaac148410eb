"""``omniva api``: serve the REST API v1 (no subcommand), or manage its keys.

Registered by ``omniva_app.cli`` (``add_parser``); nothing heavy is imported until it runs.
Projects are managed with ``omniva projects`` (omniva_resources/projects.py) or ``POST /v1/projects``.
"""

from __future__ import annotations

import argparse
import os
import sys


def cmd_api(args) -> int:
    from omniva.errors import OmnivaError
    from omniva.settings import layout
    from omniva_app.api.context import ApiContext
    from omniva_app.api.envelope import ApiError

    if getattr(args, "api_command", None) is None:
        from omniva_app.api.server import serve

        serve(args.host, args.port)
        return 0
    ctx = ApiContext(layout())
    try:
        return _keys(args, ctx)
    except ApiError as exc:  # e.g. PROJECT_NOT_FOUND: a user error on the command line too
        raise OmnivaError(exc.message) from exc


def _keys(args, ctx) -> int:
    from omniva.errors import OmnivaError
    from omniva_app.api.keys import ALL_PROJECTS
    from omniva_app.api.project_registry import project_id_for

    if args.keys_action == "create":
        if bool(args.admin) == bool(args.project):
            raise OmnivaError("give --project PROJECT (its name or proj_ id) or --admin")
        project = (
            ctx.projects.get(project_id_for(args.project))["project_id"] if args.project else ALL_PROJECTS
        )
        token, key = ctx.keys.create(project, args.label or "")
        print(token)
        print(
            f"key {key.key_id} for {key.project}: shown once, stored only as a salted hash", file=sys.stderr
        )
    elif args.keys_action == "revoke":
        print(f"revoked {ctx.keys.revoke(args.key_id).key_id}")
    else:
        for k in ctx.keys.list():
            state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
            print(f"{k.key_id}\t{k.project}\t{k.created_at}\t{state}\t{k.label}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    api = sub.add_parser("api", help="serve the REST API v1 (default 127.0.0.1:8090), or manage its keys")
    api.add_argument("--host", default=os.environ.get("OMNIVA_API_HOST", "127.0.0.1"))
    api.add_argument("--port", type=int, default=int(os.environ.get("OMNIVA_API_PORT", "8090")))
    apisub = api.add_subparsers(dest="api_command")
    keys = apisub.add_parser("keys", help="create, list or revoke API keys")
    ksub = keys.add_subparsers(dest="keys_action", required=True)
    create = ksub.add_parser("create", help="print a new key once (only a salted hash is stored)")
    create.add_argument("--project", help="the project (name or proj_ id) the key may see and act on")
    create.add_argument("--admin", action="store_true", help="a key for every project; may create projects")
    create.add_argument("--label", help="a note to recognise the key by")
    ksub.add_parser("list")
    revoke = ksub.add_parser("revoke")
    revoke.add_argument("key_id")
    api.set_defaults(func=cmd_api)
