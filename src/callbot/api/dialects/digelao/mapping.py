"""Translation between Digelao fields and callbot's: identifiers, enumerations and the item shapes of the
lists and pushes (requests are read by the models of `schemas`). Pure code: everything it renders is handed
to it."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callbot.api.dialects.digelao.envelope import BAD_PARAM, DigelaoError
from callbot.api.dialects.digelao.options import DigelaoOptions
from callbot.api.dialects.digelao.schemas import INT_MAX
from callbot.models import CallRecord, Customer, CustomerImport, Script, Task, Tenant, User
from callbot.models.enums import CallResult, ImportStatus, Role, TaskStatus

USER_PREFIX = "SYSUSER|"
TASK_PREFIX = "dial_task_main_sn|"
PROJECT_PREFIXES = ("projects|", "project|")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
NO_EXPIRY = "2099-12-31"


# --- identifiers -------------------------------------------------------------------------------------


def task_id(key: str) -> int:
    """A dial_task_main_id given as ASCII digits; beyond 32 bits → 30001."""
    number = int(key)
    if not 1 <= number <= INT_MAX:
        raise DigelaoError(BAD_PARAM, f"dial_task_main_id {key} is out of range")
    return number


def parse_local(value: str, zone: ZoneInfo, *, end: bool = False) -> datetime:
    """`Y-m-d H:i:s` or `Y-m-d` in the tenant's zone, as an aware UTC time. A date-only end covers its day."""
    value = value.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=zone)
        else:
            moment = datetime.strptime(value, TIME_FORMAT).replace(tzinfo=zone)
    except ValueError:
        raise DigelaoError(BAD_PARAM, f"{value!r} is not Y-m-d or Y-m-d H:i:s") from None
    return moment.astimezone(UTC)


# --- identifiers --------------------------------------------------------------------------------------


def user_sn(sn: str) -> str:
    return USER_PREFIX + sn


def task_sn(task: Task) -> str:
    return TASK_PREFIX + task.sn


def project_sn(script: Script) -> str:
    return PROJECT_PREFIXES[0] + script.sn


def strip_project(value: str) -> str:
    for prefix in PROJECT_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def team_sn(tenant: Tenant) -> str:
    return "SON|" + tenant.sign


def main_name(tenant: Tenant, main: User | None) -> str:
    """The main account's name: its first admin's login name, else the tenant's name."""
    return main.username if main is not None else tenant.name


JOBS = {Role.ADMIN: "管理员", Role.OPERATOR: "坐席", Role.VIEWER: "观察员"}


# --- times --------------------------------------------------------------------------------------------


def local(moment: datetime | None, tenant: Tenant) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(tenant.timezone)).strftime(TIME_FORMAT)


def local_day(moment: datetime | None, tenant: Tenant) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(tenant.timezone)).strftime("%Y-%m-%d")


# --- enumerations (§6) --------------------------------------------------------------------------------

# callbot state → (/api/index text, 5.7.3 status, 5.7.3 desc)
TASK_STATUS: dict[TaskStatus, tuple[str, int, str]] = {
    TaskStatus.NOT_STARTED: ("未发送", 20, "任务未发送"),
    TaskStatus.RUNNABLE: ("发送中", 22, "正在发送"),
    TaskStatus.IN_PROCESS: ("发送中", 22, "正在发送"),
    TaskStatus.IN_QUEUE: ("发送中", 22, "正在发送"),
    TaskStatus.USER_PAUSE: ("暂停发送", 24, "暂停发送"),
    TaskStatus.SYSTEM_SUSPENDED: ("发送失败", 23, "发送失败"),
    TaskStatus.COMPLETED: ("已发送", 21, "发送完成"),
    TaskStatus.TERMINATE: ("已发送", 21, "发送完成"),
}
IMPORT_STATUS = {None: (0, "未处理"), ImportStatus.RUNNING: (1, "导入中"), ImportStatus.FAILED: (3, "导入失败")}

CALL_RESULT = {
    CallResult.ANSWERED: "已接听",
    CallResult.NO_ANSWER: "未接",
    CallResult.BUSY: "占线",
    CallResult.POWER_OFF: "关机",
    CallResult.OUT_OF_SERVICE: "停机",
    CallResult.REFUSED: "拒接",
    CallResult.VACANT_NUMBER: "空号",
    CallResult.CAN_NOT_CONNECT: "无法接通",
    CallResult.FROM_PHONE_ERROR: "主叫异常",
    CallResult.SYSTEM_ERROR: "外呼失败",
}

ROLES = {"ROBOT": "robot", "PERSON": "customer"}

# Import rejection reasons → import_mark counters; unknown reasons count as failures.
_MARK_OF_REASON = {"dnc": "blacklistCount", "duplicate": "repeatCount", "frequency_cap": "chaopinCount"}
MARK_KEYS = (
    "totalCount",
    "failCount",
    "blacklistCount",
    "repeatCount",
    "successCount",
    "filterCount",
    "shiCount",
    "kongCount",
    "tingjiCount",
    "kuwuCount",
    "chenmoCount",
    "fenxianCount",
    "chaopinCount",
)


def import_mark(row: CustomerImport) -> dict[str, Any]:
    mark: dict[str, Any] = dict.fromkeys(MARK_KEYS, 0)
    mark["totalCount"] = row.total
    mark["successCount"] = row.accepted
    for reason, count in (row.counts or {}).items():
        mark[_MARK_OF_REASON.get(reason, "failCount")] += int(count)
    if row.status is ImportStatus.FAILED:
        mark["reason"] = row.error
    return mark


def async_result(task: Task, row: CustomerImport | None) -> dict[str, Any]:
    """5.7.3: the import's state until it succeeds, the task's after."""
    if row is None or row.status is not ImportStatus.FINISHED:
        status, desc = IMPORT_STATUS[row.status if row is not None else None]
        data: dict[str, Any] = {"status": status, "desc": desc, "import_percent": "0%"}
        if row is not None and row.status is ImportStatus.FAILED:
            data["import_mark"] = import_mark(row)
        return data
    _, status, desc = TASK_STATUS[task.status]
    return {"status": status, "desc": desc, "import_percent": "100%", "import_mark": import_mark(row)}


# --- recordings ---------------------------------------------------------------------------------------


def recording_url(options: DigelaoOptions, sn: str, expires: int, index: int | None = None) -> str:
    """A signed link to a recording (`/r/{sn}.wav`) or one fragment of it (`/r/{sn}/{index}.wav`)."""
    path = f"/r/{sn}.wav" if index is None else f"/r/{sn}/{index}.wav"
    return f"{options.public_url.rstrip('/')}{path}?e={expires}&t={recording_signature(options, path, expires)}"


def recording_signature(options: DigelaoOptions, path: str, expires: int) -> str:
    """The `t` of a recording link: HMAC-SHA256(recording_key, "path:expires"), 16 hex. For the download
    endpoint to check (with hmac.compare_digest) together with `e` > now."""
    return hmac.new(options.recording_key.encode(), f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()[:16]


def _expires(now: datetime, options: DigelaoOptions) -> int:
    return int(now.timestamp()) + options.recording_ttl


def fragments(record: CallRecord, options: DigelaoOptions, now: datetime) -> list[dict[str, Any]]:
    """One fragment per utterance of an answered call, from the transcript's offsets."""
    if record.result is not CallResult.ANSWERED or not record.recording_path:
        return []
    lines = [line for line in record.transcript if line.get("text")]
    total_ms = max(record.chat_seconds * 1000, max((int(line.get("offset_ms") or 0) for line in lines), default=0))
    expires = _expires(now, options)
    result = []
    for index, line in enumerate(lines):
        start = int(line.get("offset_ms") or 0)
        end = int(lines[index + 1].get("offset_ms") or 0) if index + 1 < len(lines) else total_ms
        result.append(
            {
                "index": index,
                "role": ROLES.get(str(line.get("speaker")), "robot"),
                "text": str(line.get("text", "")),
                "url": recording_url(options, record.sn, expires, index),
                "start_ms": start,
                "end_ms": max(start, end),
            }
        )
    return result


# --- items --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """A task's owning account as the vendor shows it."""

    user: User | None
    main: User | None

    def name(self, tenant: Tenant) -> str:
        return self.user.username if self.user is not None else main_name(tenant, self.main)

    def sn(self) -> str:
        account = self.user or self.main
        return user_sn(account.sn) if account is not None else ""


def _client_info(customer: Customer | None, record: CallRecord) -> dict[str, Any]:
    if customer is None:
        return {"电话": record.phone}
    info: dict[str, Any] = {"电话": customer.phone}
    if customer.name:
        info["姓名"] = customer.name
    info.update(customer.properties or {})
    return info


def area_code(phone: str) -> str:
    """A landline's area code (0571…); mobiles have none in this rendering."""
    if phone.startswith("01") or phone.startswith("02"):
        return phone[:3]
    if phone.startswith("0"):
        return phone[:4]
    return ""


def record_item(
    record: CallRecord,
    task: Task,
    customer: Customer | None,
    script: Script | None,
    tenant: Tenant,
    owner: Owner,
    options: DigelaoOptions,
    now: datetime,
) -> dict[str, Any]:
    """A crmList item (§4.8), which is also the per-call push body (§5.2)."""
    answered = record.result is CallResult.ANSWERED
    properties = customer.properties if customer is not None else {}
    name = owner.name(tenant)
    return {
        "sn": record.sn,
        "phone": record.phone,
        "created_at": local(record.created_at, tenant),
        "started_at": local(record.started_at, tenant),
        "talktimes": record.chat_seconds if answered else 0,
        "status": record.level.value if record.level is not None else ("" if answered else "F"),
        "status_manual": record.manual_level.value if record.manual_level is not None else "",
        "source": task.name,
        "user_name": name,
        "parent_sn": main_name(tenant, owner.main),
        "team_name": tenant.name,
        "operator": name,
        "mark": str(properties.get("备注", "")),
        "fs_push_screens": 0,
        "pushed_at": None,
        "listened_at": None,
        "intervention_at": None,
        "dial_task_main_id": task.id,
        "dial_task_main_sn": task_sn(task),
        "project_sn": project_sn(script) if script is not None else "",
        "project_caption": script.name if script is not None else "",
        "name": customer.name if customer is not None else "",
        "client_info": _client_info(customer, record),
        "ended_at": local(record.ended_at, tenant),
        "turn_count": record.rounds,
        "area_code": area_code(record.phone),
        "call_result": CALL_RESULT[record.result],
        "intent_reason": record.reason,
        "labels": list(record.tags),
        "record_url": recording_url(options, record.sn, _expires(now, options)) if record.recording_path else "",
        "dialogue": [
            {"role": ROLES.get(str(line.get("speaker")), "robot"), "text": str(line.get("text", ""))}
            for line in record.transcript
            if line.get("text")
        ],
    }


@dataclass(frozen=True)
class TaskFigures:
    customers: int
    finished: int
    calls: int
    answered: int


def task_item(task: Task, script: Script | None, tenant: Tenant, owner: Owner, figures: TaskFigures) -> dict[str, Any]:
    """An /api/index item (§4.4)."""
    name = owner.name(tenant)
    failed = max(0, figures.calls - figures.answered)
    percent = round(100 * figures.answered / figures.calls) if figures.calls else 0
    created = task.created_at.astimezone(ZoneInfo(tenant.timezone)).strftime("%Y%m%d%H%M%S")
    return {
        "dial_task_main_id": task.id,
        "dial_task_main_sn": task_sn(task),
        "status": TASK_STATUS[task.status][0],
        "user_sn": owner.sn(),
        "user_name": name,
        "team_sn": team_sn(tenant),
        "team_name": tenant.name,
        "created_at": local(task.created_at, tenant),
        "last_modify": local(task.updated_at, tenant),
        "started_at": local(task.started_at, tenant),
        "stoped_at": local(task.finished_at, tenant),
        "total_count": figures.customers,
        "send_count": figures.calls,
        "unsend_count": max(0, figures.customers - figures.finished),
        "success": str(figures.answered),
        "fail": str(failed),
        "stops": "0",
        "percent": f"{percent}%",
        "project_sn": project_sn(script) if script is not None else "",
        "project_caption": script.name if script is not None else "",
        "source": task.name,
        "batch": name + created,
        "operator": name,
        "parent_sn": main_name(tenant, owner.main),
        "caller_group": ",".join(line.phone for line in task.lines),
        "remark": task.description or None,
        "mark": None,
        "priority": None,
        "percentage": None,
        "trunkgroup_sn": None,
        "ring_groups": None,
        "task_type": 0,
        "task_state": task.status.value.lower(),
    }


def user_item(user: User, tenant: Tenant, main: User | None, projects: str) -> dict[str, Any]:
    """An /api/aiUserDatasapi item (§4.2): a sub-account."""
    return {
        "user_sn": user_sn(user.sn),
        "user_name": user.username,
        "parent_sn": main_name(tenant, main),
        "contact": user.display_name,
        "job": JOBS.get(user.role, "坐席"),
        "ext": "",
        "sipname": "",
        "linkext": "",
        "skillgroup_sn": None,
        "project_sn": projects,
        "callin_project_sn": None,
        "max_call_count": user.max_seats if user.max_seats is not None else tenant.seats,
        "display_phone": "",
        "yd_display_phone": "",
        "sdzj_phone": "",
        "organization_id": 0,
        "last_login_time": local(user.last_login_at, tenant),
        "expired": None,
        "wangwang": None,
    }


def expiry_day(tenant: Tenant) -> str:
    return local_day(tenant.expires_on, tenant) or NO_EXPIRY
