"""Translation between Yiwise shapes and callbot's: the vendor's enumerations and codes, and vendor JSON out
(formats per §7); requests are read by the models of `schemas`. No business rule lives here; services
decide, this module only renames."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callbot.api.dialects.yiwise.options import YiwiseOptions
from callbot.models import CallRecord, Customer, Line, Script, Task, Tenant
from callbot.models.enums import CallResult, Level
from callbot.record.stats import TaskStatsView
from callbot.script.service import script_status

# --- enumerations (§6) --------------------------------------------------------------------------------

TASK_STATUS_CODES: dict[int, str] = {
    0: "NOT_STARTED",
    1: "IN_PROCESS",
    2: "COMPLETED",
    3: "RUNNABLE",
    4: "USER_PAUSE",
    5: "SYSTEM_SUSPENDED",
    6: "TERMINATE",
    7: "IN_QUEUE",
    8: "AI_EXPIRED",
    10: "SYSTEM_HANG_UP",
    11: "WAITING_FOR_REDIAL",
    12: "ACCOUNT_DISABLE",
    13: "MAINTAIN",
}
# Accepted as filters, never emitted: they match no callbot task.
NEVER_EMITTED_STATUSES = frozenset(
    {"AI_EXPIRED", "SYSTEM_HANG_UP", "WAITING_FOR_REDIAL", "ACCOUNT_DISABLE", "MAINTAIN"}
)
RESULT_CODES: dict[int, str] = dict(enumerate(r.value for r in CallResult))  # the seed's order
NEVER_EMITTED_RESULTS = {10: "CALL_LOSS", 11: "TRANSFER_ARTIFICIAL"}
# Filters accept every result the vendor ever had; the 2019 ones match nothing.
ALL_RESULT_CODES = {**RESULT_CODES, **NEVER_EMITTED_RESULTS}
LEVEL_CODES: dict[int, str] = dict(enumerate(level.value for level in Level))
PHONE_TYPE_CODES: dict[int, str] = {
    0: "MOBILE",
    1: "LANDLINE",
    2: "UNFIXED_CALL",
    3: "VERBAL_TRICK_TRAINING_CALLER",
    4: "VERBAL_TRICK_TRAINING_CALLED",
    5: "VOIP_DEVICE",
}
WECHAT_SEND_METHOD_CODES: dict[int, str] = {0: "SENDTOALL", 1: "SENDTOONE", 2: "SENDTONONE"}
FOLLOW_STATUS_CODES: dict[int, str] = {0: "AI_INITIAL_VISIT", 1: "PEOPLE_INITIAL_VISIT", 2: "FOLLOW_UP"}
FOLLOW_STATUS_2019 = ("CLUE", "AI_FOLLOW_UP", "PEOPLE_FOLLOW_UP", "QUOTE", "DEAL", "LOSS")
# Every callbot customer is at the AI's first visit: callbot keeps no follow-up workflow.
FOLLOW_STATUS = "AI_INITIAL_VISIT"
MODES = ("AUTO", "MANUAL")


_INDUSTRIES = {"finance": ("FINANCE", "金融类"), "金融": ("FINANCE", "金融类"), "金融类": ("FINANCE", "金融类")}
_OTHER_INDUSTRY = {"name": "OTHER", "desc": "其他产品推广"}

# --- reading requests -----------------------------------------------------------------------------------


def present(value: Any) -> bool:
    """Java clients send null or "" for a field they leave out."""
    return value is not None and value != ""


def find_nul(value: Any, field: str = "body") -> str | None:
    """The first field whose text holds a NUL character (no store takes one), or None."""
    if isinstance(value, str):
        return field if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = find_nul(key, field) or find_nul(item, f"{field}.{key}" if field != "body" else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = find_nul(item, f"{field}[{i}]")
            if found:
                return found
    return None


# --- rendering ------------------------------------------------------------------------------------------


def zone(tenant: Tenant) -> ZoneInfo:
    return ZoneInfo(tenant.timezone)


def local(moment: datetime, tenant: Tenant) -> datetime:
    return moment.astimezone(zone(tenant))


def fmt_datetime(moment: datetime | None, tenant: Tenant) -> str | None:
    return None if moment is None else local(moment, tenant).strftime("%Y-%m-%d %H:%M:%S")


def fmt_minute(moment: datetime | None, tenant: Tenant) -> str | None:
    return None if moment is None else local(moment, tenant).strftime("%Y-%m-%d %H:%M")


def fmt_iso(moment: datetime | None, tenant: Tenant) -> str | None:
    return None if moment is None else local(moment, tenant).strftime("%Y-%m-%dT%H:%M:%S")


def fmt_time(value: time | str) -> str:
    return (value if isinstance(value, time) else time.fromisoformat(value)).strftime("%H:%M:%S")


def local_day_start(day: date, tenant: Tenant) -> datetime:
    """Midnight of `day` in the tenant's zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone(tenant)).astimezone(UTC)


def next_day_start(day: date, tenant: Tenant) -> datetime:
    return local_day_start(day + timedelta(days=1), tenant)


def recording_urls(record: CallRecord, options: YiwiseOptions) -> tuple[str | None, str | None]:
    """(fullAudioUrl, customerAudioUrl): absolute, tokened URLs; none without a recording, and no customer
    channel for an unanswered call (its recording is the early media)."""
    if not record.recording_path:
        return None, None

    def url(channel: str) -> str:
        base = f"{options.public_url.rstrip('/')}/r/{record.id}/{channel}.wav"
        token = options.recording_token(record.id, channel) if options.recording_token else ""
        return f"{base}?t={token}" if token else base

    customer = url("customer") if record.result is CallResult.ANSWERED else None
    return url("full"), customer


def transcript(record: CallRecord, *, with_ids: bool = True) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for i, turn in enumerate(record.transcript, start=1):
        item: dict[str, Any] = {"text": str(turn.get("text", "")), "type": str(turn.get("speaker", "ROBOT"))}
        if with_ids:
            item["callDetailId"] = i
        items.append(item)
    return items


def level_name(level: Level | None) -> str | None:
    return level.value if level is not None else None


def company(tenant: Tenant) -> dict[str, Any]:
    return {"tenantId": tenant.id, "companyName": tenant.name, "tenantName": tenant.name}


def phone_row(line: Line, in_use: int) -> dict[str, Any]:
    return {
        "userPhoneId": line.id,
        "phone": line.phone,
        "phoneName": line.name,
        "phoneType": line.type.value,
        "concurrency": in_use,
        "maxConcurrency": line.concurrency,
    }


def industry(text: str) -> dict[str, str]:
    known = _INDUSTRIES.get(text.strip().lower())
    return {"name": known[0], "desc": known[1]} if known else dict(_OTHER_INDUSTRY)


def robot_row(script: Script) -> dict[str, Any]:
    return {
        "robotDialogFlowId": script.id,
        "name": script.name,
        "type": "NORMAL",
        "industry": industry(script.industry),
        "subIndustry": dict(_OTHER_INDUSTRY),
        "familyNameTemplateId": None,
        "status": script_status(script).value,
    }


def task_row(task: Task, tenant: Tenant, created_by: str) -> dict[str, Any]:
    return {
        "robotCallJobId": task.id,
        "name": task.name,
        "status": task.status.value,
        "completedTask": task.finished_count,
        "taskCallTotal": task.customer_count,
        "creationTime": fmt_minute(task.created_at, tenant),
        "createdByUserName": created_by,
        "organizationName": None,
    }


def task_phone_type(task: Task) -> str:
    return task.lines[0].type.value if task.lines else "UNFIXED_CALL"


def robot_call_job(task: Task, tenant: Tenant) -> dict[str, Any]:
    inactive = task.inactive_windows[0] if task.inactive_windows else ["00:00:00", "00:00:00"]
    alerts = task.alerts or {}
    return {
        "robotCallJobId": task.id,
        "tenantId": task.tenant_id,
        "dialogFlowId": task.script_id,
        "name": task.name,
        "mode": task.mode.value,
        "robotCount": task.robot_count,
        "smsTemplateId": alerts.get("sms_template_id"),
        "phoneType": task_phone_type(task),
        "dailyStartTime": fmt_time(task.daily_start),
        "dailyEndTime": fmt_time(task.daily_end),
        "inactiveStartTime": fmt_time(inactive[0]),
        "inactiveEndTime": fmt_time(inactive[1]),
        "description": task.description,
        "wechatAlertLevel": list(alerts.get("wechat_levels", [])),
        "smsAlertLevel": list(alerts.get("sms_levels", [])),
        "alertUsers": list(alerts.get("users", [])),
        "wechatSendMethod": alerts.get("wechat_send_method", "SENDTONONE"),
        "status": task.status.value,
        "startTime": fmt_datetime(task.start_time, tenant),
        "nextStartTime": fmt_time(task.daily_start),
        "creationTime": fmt_datetime(task.created_at, tenant),
        "lastModifiedTime": fmt_datetime(task.updated_at, tenant),
        "earlyWarningAlertUsers": list(alerts.get("early_warning_users", [])),
    }


def _rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def stats_info(stats: TaskStatsView) -> dict[str, Any]:
    """`callJobStatsInfo` (§7)."""
    daily = stats.daily
    return {
        "taskProgress": stats.progress,
        "answeredRate": stats.answered_rate,
        "intentLevel": dict(stats.levels),
        "taskCallTotal": stats.calls,
        "answeredTask": stats.answered,
        "chatDurationTotal": stats.chat_seconds,
        "completedTask": stats.finished_customers,
        "customerConcern": stats.top_concerns(10),
        "dialResult": dict(stats.results),
        "chatRound": dict(stats.rounds),
        "chatDuration": dict(stats.durations),
        "callJobStatsBrokenLine": {
            "taskCallCompletedList": [{"date": d.day.isoformat(), "val": d.calls} for d in daily],
            "answeredTaskList": [{"date": d.day.isoformat(), "val": d.answered} for d in daily],
            "answeredTaskRateList": [{"date": d.day.isoformat(), "val": _rate(d.answered, d.calls)} for d in daily],
            "chatDurationTotalList": [{"date": d.day.isoformat(), "val": d.chat_seconds} for d in daily],
            "averageDurationList": [
                {"date": d.day.isoformat(), "val": (100 * d.chat_seconds) // d.answered if d.answered else 0}
                for d in daily
            ],
        },
    }


def task_detail(
    task: Task, tenant: Tenant, *, created_by: str, script_name: str, stats: TaskStatsView
) -> dict[str, Any]:
    return {
        "robotCallJob": robot_call_job(task, tenant),
        "jobPhoneNumberList": [{"key": line.id, "value": line.phone} for line in task.lines],
        "completedTask": task.finished_count,
        "taskCallTotal": task.customer_count,
        "createdByUserName": created_by,
        "organizationName": None,
        "dialogFlowName": script_name,
        "smsTemplateName": None,
        "systemPauseNextStart": None,
        "callJobStatsInfo": stats_info(stats),
    }


def record_row(
    record: CallRecord, tenant: Tenant, *, task_name: str, script_name: str, options: YiwiseOptions
) -> dict[str, Any]:
    """One row of `getCallRecordInfoList` (§8.10)."""
    full, customer = recording_urls(record, options)
    return {
        "callRecordId": record.id,
        "tenantId": record.tenant_id,
        "robotCallJobId": record.task_id,
        "dialogFlowId": record.script_id,
        "robotCallTaskId": record.customer_id,
        "customerPersonId": record.customer_id,
        "calledPhoneNumber": record.phone,
        "phoneNumberId": record.line_id,
        "resultStatus": record.result.value,
        "intentLevel": level_name(record.level),
        "realIntentLevel": level_name(record.manual_level),
        "customerConcern": list(record.concerns),
        "fullAudioUrl": full,
        "customerAudioUrl": customer,
        "analysisBasis": record.reason,
        "startTime": fmt_datetime(record.started_at, tenant),
        "chatDuration": record.chat_seconds,
        "chatRound": record.rounds,
        "manualMarked": record.manual_level is not None,
        "readStatus": "HAS_READ" if record.read else "NOT_READ",
        "customerGroupName": None,
        "robotCallJobName": task_name,
        "dialogFlowName": script_name,
        "customerPersonInfo": None,
        "callDetailList": transcript(record) if options.list_includes_transcript else None,
    }


def customer_person(customer: Customer, tenant: Tenant, latest: CallRecord | None) -> dict[str, Any]:
    """`customerPerson` of `phoneLogInfo`; the `last*` fields come from the customer's latest call."""
    return {
        "customerPersonId": customer.id,
        "creationTime": fmt_minute(customer.created_at, tenant),
        "tenantId": customer.tenant_id,
        "customerGroupId": None,
        "name": customer.name,
        "phoneNumber": customer.phone,
        "wechatNumber": None,
        "source": "UPLOADED_BY_YOURSELF",
        "lastEmotion": "UNKNOWN",
        "customerLevel": "UNKNOWN",
        "gender": "UNKNOWN",
        "followUserId": None,
        "followStatus": FOLLOW_STATUS,
        "properties": {str(k): v if isinstance(v, str) else str(v) for k, v in customer.properties.items()},
        "lastFollowTime": fmt_datetime(latest.ended_at or latest.started_at, tenant) if latest else None,
        "lastChatDuration": latest.chat_seconds if latest else None,
        "lastStartTime": fmt_datetime(latest.started_at, tenant) if latest else None,
        "attributes": list(latest.tags) if latest else [],
        "lastIntentLevel": level_name(latest.level) if latest else None,
        "lastDialStatus": latest.result.value if latest else None,
        "assignTime": None,
        "customerGroupName": None,
    }


def call_detail(record: CallRecord, tenant: Tenant, person: dict[str, Any], options: YiwiseOptions) -> dict[str, Any]:
    """`phoneLogInfo` (§8.11): ISO times at the top level."""
    full, customer = recording_urls(record, options)
    return {
        "callRecordId": record.id,
        "customerAudioUrl": customer,
        "startTime": fmt_iso(record.started_at, tenant),
        "endTime": fmt_iso(record.ended_at or record.started_at, tenant),
        "chatRound": record.rounds,
        "chatDuration": record.chat_seconds,
        "customerPerson": person,
        "resultStatus": record.result.value,
        "intentLevel": level_name(record.level),
        "realIntentLevel": level_name(record.manual_level),
        "customerConcern": list(record.concerns),
        "fullAudioUrl": full,
        "analysisBasis": record.reason,
        "callDetailList": transcript(record),
        "manualMarked": record.manual_level is not None,
        "robotCallJobId": record.task_id,
        "attributes": list(record.tags),
    }
