"""/api/v1/callback-settings: where the tenant's events are delivered."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from callbot.api.deps import CurrentTenant, WriteTx
from callbot.callback import service
from callbot.models import CallbackSettings

router = APIRouter(prefix="/callback-settings", tags=["callbacks"])


class CallbackSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    enabled: bool | None = None
    task_url: str | None = None
    dialect: str | None = None


class CallbackSettingsOut(BaseModel):
    url: str
    enabled: bool
    task_url: str
    dialect: str
    updated_at: datetime


def _out(settings: CallbackSettings) -> CallbackSettingsOut:
    return CallbackSettingsOut(
        url=settings.url,
        enabled=settings.enabled,
        task_url=settings.task_url,
        dialect=settings.dialect,
        updated_at=settings.updated_at,
    )


@router.get("", response_model=CallbackSettingsOut, summary="Current callback settings")
async def read_settings(tx: WriteTx, tenant: CurrentTenant) -> CallbackSettingsOut:
    return _out(await service.get_settings(tx, tenant))


@router.put("", response_model=CallbackSettingsOut, summary="Set the callback URL, task URL, on/off and dialect")
async def update_settings(body: CallbackSettingsIn, tx: WriteTx, tenant: CurrentTenant) -> CallbackSettingsOut:
    changes = service.CallbackChanges(**body.model_dump(exclude_unset=True))
    return _out(await service.update_settings(tx, tenant, changes))
