"""The home page (首页): today's calls, answered rate, A/B leads, seats in use, running tasks, the trend."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from callbot.console.web import ConsoleRoute, Viewer
from callbot.record import stats

router = APIRouter(route_class=ConsoleRoute)


@router.get("/")
async def dashboard(ctx: Viewer, days: int = 7) -> Response:
    days = 30 if days == 30 else 7
    overview = await stats.tenant_overview(ctx.tx, ctx.tenant, days=days)
    trend = {
        "days": [d.day.isoformat() for d in overview.daily],
        "calls": [d.calls for d in overview.daily],
        "answered": [d.answered for d in overview.daily],
    }
    return ctx.page("dashboard.html", overview=overview, days=days, trend=trend)
