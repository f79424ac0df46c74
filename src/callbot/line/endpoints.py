"""/api/v1/lines: caller lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from callbot.api.deps import CurrentTenant, WriteTx
from callbot.api.schemas import MAX_ID, Id, ReadModel
from callbot.line import service
from callbot.models import Line
from callbot.models.enums import LineType

router = APIRouter(prefix="/lines", tags=["lines"])


class LineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=32)
    name: str = Field(default="", max_length=100)
    type: LineType = LineType.UNFIXED_CALL
    concurrency: int = Field(default=10, ge=1, le=MAX_ID)
    gateway: str = Field(default="sim", min_length=1, max_length=64)
    settings: dict[str, Any] = Field(default_factory=dict)


class LinePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    type: LineType | None = None
    concurrency: int | None = Field(default=None, ge=1, le=MAX_ID)
    gateway: str | None = Field(default=None, min_length=1, max_length=64)
    settings: dict[str, Any] | None = None
    enabled: bool | None = None


class LineRead(ReadModel):
    id: int
    phone: str
    name: str
    type: LineType
    concurrency: int
    gateway: str
    settings: dict[str, Any]
    enabled: bool
    created_at: datetime

    @field_validator("settings")
    @classmethod
    def _hide_secrets(cls, settings: dict[str, Any]) -> dict[str, Any]:
        return service.public_settings(settings)


@router.get("", response_model=list[LineRead], summary="Caller lines")
async def list_lines(tx: WriteTx, tenant: CurrentTenant) -> list[Line]:
    return await service.list_lines(tx, tenant)


@router.post("", response_model=LineRead, status_code=status.HTTP_201_CREATED, summary="Add a caller line")
async def add_line(body: LineCreate, tx: WriteTx, tenant: CurrentTenant) -> Line:
    return await service.add_line(
        tx,
        tenant,
        body.phone,
        name=body.name,
        type=body.type,
        concurrency=body.concurrency,
        gateway=body.gateway,
        settings=body.settings,
    )


@router.get("/{line_id}", response_model=LineRead, summary="One caller line")
async def read_line(line_id: Id, tx: WriteTx, tenant: CurrentTenant) -> Line:
    return await service.get_line(tx, tenant, line_id)


@router.patch("/{line_id}", response_model=LineRead, summary="Change a caller line")
async def update_line(line_id: Id, body: LinePatch, tx: WriteTx, tenant: CurrentTenant) -> Line:
    return await service.update_line(tx, tenant, line_id, service.LineChanges(**body.model_dump(exclude_unset=True)))
