"""/api/v1/callback-settings: where the tenant's events are delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import httpx
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from callbot.api.deps import CurrentTenant, Paging, WriteTx
from callbot.api.schemas import Id, PageOut, ReadModel, page_out
from callbot.callback import handshake, outbox, service
from callbot.kit.db import Tx
from callbot.models import CallbackSettings

router = APIRouter(prefix="/callback-settings", tags=["callbacks"])


class CallbackSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=1000)
    enabled: bool | None = None
    task_url: str | None = Field(default=None, max_length=1000)
    dialect: Literal["native", "yiwise", "yiwise2023", "digelao"] | None = None
    # yiwise2023: the receiver's token and EncodingAESKey; saving them runs the verification handshake.
    token: str | None = Field(default=None, max_length=100)
    aes_key: str | None = Field(default=None, max_length=100)


class CallbackSettingsOut(BaseModel):
    url: str
    enabled: bool
    task_url: str
    dialect: str
    token: str
    # The HMAC-SHA256 key of native callbacks' X-Callbot-Signature (the tenant's own; shown to the tenant).
    signing_secret: str
    updated_at: datetime


def _out(tx: Tx, settings: CallbackSettings) -> CallbackSettingsOut:
    return CallbackSettingsOut(
        url=settings.url,
        enabled=settings.enabled,
        task_url=settings.task_url,
        dialect=settings.dialect,
        token=settings.token,
        signing_secret=service.signing_secret(tx, settings),
        updated_at=settings.updated_at,
    )


@router.get("", response_model=CallbackSettingsOut, summary="Current callback settings")
async def read_settings(tx: WriteTx, tenant: CurrentTenant) -> CallbackSettingsOut:
    return _out(tx, await service.get_settings(tx, tenant))


@router.put("", response_model=CallbackSettingsOut, summary="Set the callback URL, task URL, on/off and dialect")
async def update_settings(body: CallbackSettingsIn, tx: WriteTx, tenant: CurrentTenant) -> CallbackSettingsOut:
    changes = service.CallbackChanges(**body.model_dump(exclude_unset=True))
    async with httpx.AsyncClient() as http:
        await handshake.verify_changes(tx, tenant, changes, http)
    return _out(tx, await service.update_settings(tx, tenant, changes))


events_router = APIRouter(prefix="/callback-events", tags=["callbacks"])


class DeliveryAttemptOut(ReadModel):
    attempt: int
    url: str
    status_code: int | None
    ok: bool
    latency_ms: int
    response_excerpt: str
    error: str
    created_at: datetime


class CallbackEventOut(ReadModel):
    id: int
    kind: str
    event_id: str
    subject: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class CallbackEventDetail(CallbackEventOut):
    deliveries: list[DeliveryAttemptOut]


@events_router.get("", response_model=PageOut[CallbackEventOut], summary="Callback events, newest first")
async def list_events(
    tx: WriteTx, tenant: CurrentTenant, paging: Paging, status: str | None = None, kind: str | None = None
) -> PageOut[CallbackEventOut]:
    return page_out(await outbox.list_events(tx, tenant, paging, status=status, kind=kind), CallbackEventOut)


@events_router.get("/{event_id}", response_model=CallbackEventDetail, summary="One event and its delivery log")
async def read_event(event_id: Id, tx: WriteTx, tenant: CurrentTenant) -> CallbackEventDetail:
    event = await outbox.get_event(tx, tenant, event_id)
    attempts = await outbox.attempts_of(tx, event)
    return CallbackEventDetail(
        **CallbackEventOut.model_validate(event).model_dump(),
        deliveries=[DeliveryAttemptOut.model_validate(a) for a in attempts],
    )


@events_router.post("/{event_id}/redeliver", response_model=CallbackEventOut, summary="Send an event again")
async def redeliver(event_id: Id, tx: WriteTx, tenant: CurrentTenant) -> CallbackEventOut:
    return CallbackEventOut.model_validate(await outbox.redeliver(tx, tenant, event_id))
