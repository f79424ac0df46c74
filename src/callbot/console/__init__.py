"""The web console (管理后台): server-rendered pages with htmx and ECharts, on the same services as the API.

Served at `/` beside the API (which stays under /api/v1). Front-end files are vendored under static/vendor
(scripts/vendor-console.sh), so the console works without internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from callbot.console.session import SessionSigner
from callbot.console.web import HERE, ConsoleState
from callbot.kit.db import Store


def mount_console(app: FastAPI, store: Store, *, recordings_dir: Path) -> ConsoleState:
    from callbot.console import admin, auth, dashboard, records, scripts, tasks

    console = ConsoleState(store, SessionSigner(store.secrets.derive("console-session")), recordings_dir)
    app.state.console = console
    # Under /static/console, so another surface (the API documentation) may keep assets of its own in /static.
    app.mount("/static/console", StaticFiles(directory=HERE / "static"), name="console-static")
    for module in (auth, dashboard, tasks, records, scripts, admin):
        app.include_router(module.router, include_in_schema=False)
    return console
