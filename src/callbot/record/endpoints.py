"""/api/v1/records: call records with filters and paging."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from callbot.api.deps import CurrentTenant, Paging, WriteTx
from callbot.api.schemas import Id, IdQuery, PageOut, ReadModel, page_out
from callbot.errors import NotFound
from callbot.models import CallRecord
from callbot.models.enums import CallResult, Level
from callbot.record import recordings, service, stats

router = APIRouter(prefix="/records", tags=["records"])


class RecordRead(ReadModel):
    id: int
    sn: str
    task_id: int
    customer_id: int
    line_id: int | None
    script_id: int | None
    script_version: int | None
    phone: str
    attempt: int
    result: CallResult
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ring_seconds: int
    chat_seconds: int
    rounds: int
    level: Level | None
    manual_level: Level | None
    reason: str
    concerns: list[str]
    tags: list[str]
    end_reason: str
    hangup_by: str
    transferred_to: str
    transfer_status: str
    direction: str
    # Recording files, relative to the recordings folder ("" when none); GET .../recording serves them.
    recording_path: str
    customer_recording_path: str
    recording_deleted_at: datetime | None
    read: bool


class RecordDetail(RecordRead):
    transcript: list[dict[str, Any]]


@router.get("", response_model=PageOut[RecordRead], summary="Call records, newest first")
async def list_records(
    tx: WriteTx,
    tenant: CurrentTenant,
    paging: Paging,
    task_id: IdQuery = None,
    result: Annotated[list[CallResult] | None, Query(description="dial results")] = None,
    level: Annotated[list[Level] | None, Query(description="intent levels A-F")] = None,
    search: Annotated[str | None, Query(description="substring of the number or customer name")] = None,
    started_from: Annotated[datetime | None, Query(alias="from")] = None,
    started_to: Annotated[datetime | None, Query(alias="to")] = None,
    script_id: IdQuery = None,
    direction: Annotated[
        Literal["outbound", "inbound"] | None, Query(description="outbound (呼出) or inbound (呼入) calls only")
    ] = None,
) -> PageOut[RecordRead]:
    filters = service.RecordFilter(
        task_id=task_id,
        results=result or [],
        levels=level or [],
        search=search,
        started_from=started_from,
        started_to=started_to,
        script_id=script_id,
        direction=direction,
    )
    page = await service.list_records(tx, tenant, filters, paging)
    return page_out(page, RecordRead)


@router.get("/{record_id}", response_model=RecordDetail, summary="One call with its transcript")
async def read_record(record_id: Id, tx: WriteTx, tenant: CurrentTenant) -> CallRecord:
    return await service.get_record(tx, tenant, record_id)


@router.get(
    "/{record_id}/recording",
    response_class=FileResponse,
    summary="The call's recording as 8 kHz WAV: both parties, or with part=customer the customer alone",
    responses={200: {"content": {"audio/wav": {}}}},
)
async def read_recording(
    record_id: Id,
    request: Request,
    tx: WriteTx,
    tenant: CurrentTenant,
    part: Annotated[Literal["full", "customer"], Query(description="full: both parties; customer: alone")] = "full",
) -> FileResponse:
    record = await service.get_record(tx, tenant, record_id)
    folder = request.app.state.recordings_dir
    if folder is None:
        raise NotFound("this server keeps no recordings")
    path = recordings.recording_file(folder, record, part)
    return FileResponse(path, media_type="audio/wav", filename=f"{record.sn}-{part}.wav")


class RecordPatch(BaseModel):
    manual_level: Level | None = None


@router.patch("/{record_id}", response_model=RecordDetail, summary="Grade a call by hand (manual_level; null clears)")
async def update_record(record_id: Id, body: RecordPatch, tx: WriteTx, tenant: CurrentTenant) -> CallRecord:
    return await service.regrade(tx, tenant, record_id, body.manual_level)


stats_router = APIRouter(tags=["stats"])


class DailyOut(BaseModel):
    day: date
    calls: int
    answered: int
    chat_seconds: int


class TaskStatsOut(BaseModel):
    task_id: int
    customers: int
    finished_customers: int
    progress: float
    calls: int
    answered: int
    answered_rate: float
    chat_seconds: int
    levels: dict[str, int]
    results: dict[str, int]
    rounds: dict[str, int]
    durations: dict[str, int]
    concerns: dict[str, int]
    daily: list[DailyOut]


def stats_out(view: stats.TaskStatsView) -> TaskStatsOut:
    return TaskStatsOut(
        task_id=view.task_id,
        customers=view.customers,
        finished_customers=view.finished_customers,
        progress=view.progress,
        calls=view.calls,
        answered=view.answered,
        answered_rate=view.answered_rate,
        chat_seconds=view.chat_seconds,
        levels=view.levels,
        results=view.results,
        rounds=view.rounds,
        durations=view.durations,
        concerns=view.concerns,
        daily=[
            DailyOut(day=d.day, calls=d.calls, answered=d.answered, chat_seconds=d.chat_seconds) for d in view.daily
        ],
    )


@stats_router.get(
    "/tasks/{task_id}/stats",
    response_model=TaskStatsOut,
    summary="A task's statistics: progress, answered rate, levels, results, rounds, durations, concerns, daily",
)
async def read_stats(task_id: Id, tx: WriteTx, tenant: CurrentTenant) -> TaskStatsOut:
    return stats_out(await stats.get_task_stats(tx, tenant, task_id))
