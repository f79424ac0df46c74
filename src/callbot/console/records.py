"""Call records (通话记录): filters, keyset paging, the transcript as a chat, the recording, manual grading,
and export of the filtered records to XLSX or CSV (formula-looking cells neutralised)."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from callbot.console.web import ConsoleRoute, Operator, Viewer, state
from callbot.errors import ValidationFailed
from callbot.kit.paging import PageRequest
from callbot.kit.spreadsheet import neutralise_row
from callbot.models import CallRecord
from callbot.models.enums import RESULT_LABELS, CallResult, Level, Role
from callbot.record import service as record_service
from callbot.task import service as task_service
from callbot.task.schemas import TaskFilter

router = APIRouter(route_class=ConsoleRoute)

PAGE_SIZE = 20
DIRECTIONS = {"outbound": "呼出", "inbound": "呼入"}
EXPORT_LIMIT = 200_000  # rows in one export file
EXPORT_BATCH = 1_000


@dataclass(frozen=True)
class RecordQuery:
    """The filters as they are in the page's query string (text, so they can be shown back as typed)."""

    task_id: str = ""
    result: str = ""
    level: str = ""
    search: str = ""
    date_from: str = ""
    date_to: str = ""
    direction: str = ""

    @classmethod
    def of(cls, request: Request) -> RecordQuery:
        q = request.query_params
        return cls(**{name: q.get(name, "").strip()[:100] for name in cls.__dataclass_fields__})

    def to_filter(self) -> record_service.RecordFilter:
        problems: list[tuple[str, str]] = []
        task_id = None
        if self.task_id:
            if self.task_id.isdigit() and int(self.task_id) < 2**31:
                task_id = int(self.task_id)
            else:
                problems.append(("task_id", "任务 ID 应为数字"))
        results = [CallResult(self.result)] if self.result in CallResult.__members__ else []
        if self.result and not results:
            problems.append(("result", f"未知的外呼结果 {self.result}"))
        levels = [Level(self.level)] if self.level in Level.__members__ else []
        if self.level and not levels:
            problems.append(("level", f"未知的意向等级 {self.level}"))
        if self.direction and self.direction not in DIRECTIONS:
            problems.append(("direction", f"未知的呼叫方向 {self.direction}"))
        start = end = None
        for name, text in (("date_from", self.date_from), ("date_to", self.date_to)):
            if not text:
                continue
            try:
                day = date.fromisoformat(text)
            except ValueError:
                problems.append((name, "日期格式应为 YYYY-MM-DD"))
                continue
            if name == "date_from":
                start = datetime.combine(day, time(0))
            else:
                end = datetime.combine(day + timedelta(days=1), time(0))  # the whole last day
        if problems:
            raise ValidationFailed("筛选条件不正确", problems)
        return record_service.RecordFilter(
            task_id=task_id,
            results=results,
            levels=levels,
            search=self.search or None,
            started_from=start,
            started_to=end,
            direction=self.direction or None,
        )

    def link(self, **extra: object) -> str:
        values = {k: v for k, v in self.__dict__.items() if v} | {k: v for k, v in extra.items() if v}
        return urlencode(values)


@router.get("/records")
async def record_list(ctx: Viewer, before: int | None = None) -> Response:
    query = RecordQuery.of(ctx.request)
    errors: dict[str, str] = {}
    records: list[CallRecord] = []
    try:
        filters = query.to_filter()
    except ValidationFailed as exc:
        errors = dict(exc.problems)
    else:
        records = await record_service.list_records_before(
            ctx.tx, ctx.tenant, filters, before_id=before, limit=PAGE_SIZE + 1
        )
    more = len(records) > PAGE_SIZE
    records = records[:PAGE_SIZE]
    tasks = await task_service.list_tasks(ctx.tx, ctx.tenant, TaskFilter(), PageRequest(page=1, size=200))
    return ctx.page(
        "records.html",
        status_code=422 if errors else 200,
        records=records,
        query=query,
        errors=errors,
        tasks=tasks.items,
        next_link=query.link(before=records[-1].id) if more and records else "",
        first_link=f"/records?{query.link()}" if before else "",
        results=list(CallResult),
        levels=[level.value for level in Level],
        directions=DIRECTIONS,
        result_labels=RESULT_LABELS,
    )


@router.get("/records/export.{kind}")
async def export_records(ctx: Viewer, kind: str) -> Response:
    if kind not in ("csv", "xlsx"):
        raise ValidationFailed("只能导出 CSV 或 XLSX", [("kind", kind)])
    filters = RecordQuery.of(ctx.request).to_filter()
    header = [
        "记录ID",
        "任务ID",
        "号码",
        "外呼结果",
        "意向等级",
        "人工等级",
        "拨打时间",
        "通话秒数",
        "轮次",
        "分析依据",
        "关注点",
    ]
    rows: list[list[Any]] = []
    before: int | None = None
    while len(rows) < EXPORT_LIMIT:
        batch = await record_service.list_records_before(
            ctx.tx, ctx.tenant, filters, before_id=before, limit=EXPORT_BATCH
        )
        for r in batch:
            rows.append(
                neutralise_row(
                    [
                        r.id,
                        r.task_id,
                        r.phone,
                        RESULT_LABELS.get(r.result.value, r.result.value),
                        r.level.value if r.level else "",
                        r.manual_level.value if r.manual_level else "",
                        r.started_at.isoformat(),
                        r.chat_seconds,
                        r.rounds,
                        r.reason,
                        "、".join(r.concerns),
                    ]
                )
            )
        if len(batch) < EXPORT_BATCH:
            break
        before = batch[-1].id
    stamp = ctx.tx.now().strftime("%Y%m%d%H%M%S")
    if kind == "csv":
        body = await asyncio.to_thread(_csv_bytes, header, rows)
        media = "text/csv; charset=utf-8"
    else:
        body = await asyncio.to_thread(_xlsx_bytes, header, rows)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="records-{stamp}.{kind}"'}
    )


def _csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM lets Excel read the Chinese


def _xlsx_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("通话记录")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/records/{record_id}")
async def record_detail(ctx: Viewer, record_id: int) -> Response:
    record = await record_service.get_record(ctx.tx, ctx.tenant, record_id)
    if ctx.can(Role.OPERATOR):
        await record_service.mark_read(ctx.tx, record)  # a viewer's look changes nothing
    return ctx.page(
        "record_detail.html",
        record=record,
        levels=[level.value for level in Level],
        result_labels=RESULT_LABELS,
        has_recording=bool(record.recording_path),
    )


@router.post("/records/{record_id}/grade")
async def regrade(ctx: Operator, record_id: int) -> Response:
    form = await ctx.request.form()
    value = str(form.get("manual_level", ""))
    if value and value not in Level.__members__:
        raise ValidationFailed("未知的意向等级", [("manual_level", value)])
    await record_service.regrade(ctx.tx, ctx.tenant, record_id, Level(value) if value else None)
    return RedirectResponse(f"/records/{record_id}", status_code=303)


def recording_file(root: Path, recording_path: str) -> Path | None:
    """The recording's file inside `root`, or None when the path leaves that folder or there is no file."""
    if not recording_path or "\x00" in recording_path:
        return None
    base = root.resolve()
    target = (base / recording_path).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


@router.get("/records/{record_id}/recording")
async def recording(ctx: Viewer, record_id: int) -> Response:
    record = await record_service.get_record(ctx.tx, ctx.tenant, record_id)
    path = await asyncio.to_thread(recording_file, state(ctx.request).recordings_dir, record.recording_path)
    if path is None:
        raise record_service.RecordNotFound(f"通话 {record_id} 没有录音文件")
    media = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg"}.get(path.suffix.lower(), "audio/wav")
    return FileResponse(path, media_type=media)
