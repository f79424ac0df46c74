"""/api/v1/imports: what an import accepted and rejected."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from callbot.api.deps import CurrentTenant, Paging, WriteTx
from callbot.api.schemas import Id, PageOut, ReadModel, page_out
from callbot.customer import service
from callbot.models import CustomerImport
from callbot.models.enums import ImportStatus

router = APIRouter(prefix="/imports", tags=["imports"])


class ImportRead(ReadModel):
    id: int
    task_id: int
    source: str
    status: ImportStatus
    total: int
    accepted: int
    rejected: int
    counts: dict[str, int]
    created_at: datetime
    finished_at: datetime | None


class RejectionRead(ReadModel):
    row: int
    phone: str
    reason: str
    message: str


@router.get("/{import_id}", response_model=ImportRead, summary="One import's totals")
async def read_import(import_id: Id, tx: WriteTx, tenant: CurrentTenant) -> CustomerImport:
    return await service.get_import(tx, tenant, import_id)


@router.get("/{import_id}/rejections", response_model=PageOut[RejectionRead], summary="Every rejected row, in order")
async def list_rejections(import_id: Id, tx: WriteTx, tenant: CurrentTenant, paging: Paging) -> PageOut[RejectionRead]:
    page = await service.list_rejections(tx, tenant, import_id, paging)
    return page_out(page, RejectionRead)
