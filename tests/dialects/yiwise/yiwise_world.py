"""The world of the spec's examples (tenant 37, line 512, script 88, task 1052, customer 3300412, call
700231), stored row by row with the examples' ids, so responses can be compared to the spec literally."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
from yiwise_client import YiwiseClient

from callbot.kit.clock import FrozenClock
from callbot.kit.db import Store
from callbot.models import (
    CallRecord,
    Credential,
    Customer,
    Line,
    Script,
    ScriptVersion,
    Task,
    TaskStats,
    TaskStatsDaily,
    Tenant,
)
from callbot.models.enums import (
    CallResult,
    CredentialKind,
    CustomerStatus,
    LineType,
    ScriptStatus,
    TaskMode,
    TaskStatus,
)

from factories import SCRIPT

V1 = {
    "appKey": "cbDemoAppKey0001",
    "appSecret": "cbDemoAppSecret0123456789abcdefX",
    "tenantSign": "callbotdemo",
    "timestamp": "1540800000000",
    "signature": "ef22d93603963bbeb44cdc77b7458b26b4ff0a5f1f9e4a8ef4adf3ad3149939e",
}
# 2018-11-06 11:02:13 in Shanghai: the task's lastModifiedTime in §8.9.
NOW = datetime(2018, 11, 6, 3, 2, 13, tzinfo=UTC)
ROBOT_LINE = "王先生您好，我是招商银行信用卡中心的客服，您的账单可以办理分期，现在方便听我介绍一下吗？"


def utc(text: str) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


@dataclass
class World:
    tenant: Tenant
    line: Line
    script: Script
    task: Task
    customer: Customer
    record: CallRecord


async def build_world(store: Store) -> World:
    clock = store.clock
    assert isinstance(clock, FrozenClock)
    clock.set(NOW)
    body = SCRIPT.replace("测试分期回访", "信用卡分期回访").replace("format: 1\n", "format: 1\nindustry: finance\n")
    async with store.transaction() as tx:
        tenant = Tenant(id=37, name="杭州禾木信息技术有限公司", sign=V1["tenantSign"], created_at=NOW, updated_at=NOW)
        tx.session.add(tenant)
        await tx.session.flush()
        tx.session.add(
            Credential(
                tenant_id=37,
                kind=CredentialKind.YIWISE,
                key=V1["appKey"],
                secret_encrypted=tx.secrets.encrypt(V1["appSecret"]),
                created_at=NOW,
            )
        )
        line = Line(
            id=512,
            tenant_id=37,
            phone="057188880001",
            name="杭州中继1",
            type=LineType.UNFIXED_CALL,
            concurrency=30,
            created_at=NOW,
        )
        script = Script(
            id=88,
            tenant_id=37,
            name="信用卡分期回访",
            industry="finance",
            sn="88".zfill(32),
            latest_version=1,
            approved_version=1,
            created_at=NOW,
            updated_at=NOW,
        )
        tx.session.add_all([line, script])
        await tx.session.flush()
        tx.session.add(
            ScriptVersion(
                script_id=88,
                version=1,
                status=ScriptStatus.APPROVED,
                body=body,
                checksum=hashlib.sha256(body.encode()).hexdigest(),
                created_at=NOW,
            )
        )
        task = Task(
            id=1052,
            tenant_id=37,
            name="11月分期回访",
            mode=TaskMode.AUTO,
            status=TaskStatus.IN_PROCESS,
            start_time=utc("2018-11-05 09:30:00"),
            daily_start=datetime(2018, 1, 1, 9).time(),
            daily_end=datetime(2018, 1, 1, 20).time(),
            inactive_windows=[["12:00:00", "13:30:00"]],
            script_id=88,
            robot_count=5,
            description="API创建",
            alerts={"sms_levels": ["A"]},
            sn="1052".zfill(32),
            customer_count=200,
            finished_count=180,
            created_at=utc("2018-11-04 17:12:40"),
            updated_at=NOW,
            started_at=utc("2018-11-05 09:30:00"),
        )
        task.lines = [line]
        tx.session.add(task)
        await tx.session.flush()
        customer = Customer(
            id=3300412,
            tenant_id=37,
            task_id=1052,
            name="王先生",
            phone="13900001234",
            properties={"amount": "3200"},
            status=CustomerStatus.FINISHED,
            attempts=1,
            created_at=utc("2018-11-04 17:15:00"),
        )
        tx.session.add(customer)
        await tx.session.flush()
        record = CallRecord(
            id=700231,
            tenant_id=37,
            task_id=1052,
            customer_id=3300412,
            line_id=512,
            script_id=88,
            script_version=1,
            sn="700231".zfill(32),
            phone="13900001234",
            result=CallResult.ANSWERED,
            started_at=utc("2018-11-06 10:41:07"),
            answered_at=utc("2018-11-06 10:41:07"),
            ended_at=utc("2018-11-06 10:42:21"),
            chat_seconds=74,
            rounds=6,
            level="A",
            reason="客户同意办理分期",
            concerns=["利息"],
            tags=["有意向"],
            transcript=[
                {"speaker": "ROBOT", "text": ROBOT_LINE, "node": "opening", "intent": None, "offset_ms": 0},
                {"speaker": "PERSON", "text": "嗯你说", "node": "opening", "intent": "affirm", "offset_ms": 9000},
            ],
            recording_path="recordings/700231.wav",
            created_at=utc("2018-11-06 10:42:21"),
        )
        tx.session.add(record)
        tx.session.add(
            TaskStats(
                task_id=1052,
                calls=180,
                answered=81,
                chat_seconds=4860,
                levels={"A": 9, "B": 14, "C": 20, "D": 18, "E": 20, "F": 99},
                results={
                    "ANSWERED": 81,
                    "NO_ANSWER": 40,
                    "BUSY": 12,
                    "POWER_OFF": 10,
                    "OUT_OF_SERVICE": 6,
                    "REFUSED": 9,
                    "VACANT_NUMBER": 8,
                    "CAN_NOT_CONNECT": 11,
                    "SYSTEM_ERROR": 3,
                },
                rounds={"LESS_3": 25, "F3_T6": 30, "F6_T10": 18, "F10_MORE": 8},
                durations={"LESS_10S": 12, "F10S_T1MIN": 35, "F1MIN_T2MIN": 22, "F2MIN_T3MIN": 9, "F3MIN_TMORE": 3},
                concerns={"利息": 20, "价格": 31, "额度": 12},
            )
        )
        tx.session.add_all(
            [
                TaskStatsDaily(task_id=1052, day=date(2018, 11, 5), calls=100, answered=47, chat_seconds=2726),
                TaskStatsDaily(task_id=1052, day=date(2018, 11, 6), calls=80, answered=34, chat_seconds=2134),
            ]
        )
        await tx.session.flush()
    return World(tenant, line, script, task, customer, record)


def world_client(http: httpx.AsyncClient, store: Store, **kwargs: object) -> YiwiseClient:
    return YiwiseClient(
        http,
        V1["appKey"],
        V1["appSecret"],
        V1["tenantSign"],
        now_ms=lambda: int(store.clock.now().timestamp() * 1000),
        **kwargs,  # type: ignore[arg-type]
    )
