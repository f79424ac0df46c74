"""/api/v1/dnc: the do-not-call list."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from callbot.api.deps import CurrentTenant, Paging, WriteTx
from callbot.api.schemas import PageOut, ReadModel, page_out
from callbot.dnc import service
from callbot.models import DncEntry

router = APIRouter(prefix="/dnc", tags=["dnc"])


class DncCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=32)
    reason: str = ""


class DncRead(ReadModel):
    id: int
    phone: str
    source: str
    reason: str
    record_id: int | None
    created_at: datetime


@router.get("", response_model=PageOut[DncRead], summary="Numbers never to call")
async def list_numbers(tx: WriteTx, tenant: CurrentTenant, paging: Paging) -> PageOut[DncRead]:
    page = await service.list_numbers(tx, tenant, paging)
    return page_out(page, DncRead)


@router.post("", response_model=DncRead, status_code=status.HTTP_201_CREATED, summary="Add a number")
async def add_number(body: DncCreate, tx: WriteTx, tenant: CurrentTenant) -> DncEntry:
    return await service.add_number(tx, tenant, body.phone, source="api", reason=body.reason)


@router.delete("/{phone}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a number")
async def remove_number(phone: str, tx: WriteTx, tenant: CurrentTenant) -> Response:
    await service.remove_number(tx, tenant, phone)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
