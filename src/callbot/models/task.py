"""Tasks (外呼任务): who to call, with which script, on which lines, when, with how many AI seats."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, Time, text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callbot.kit.db import Base, JsonType, UtcDateTime
from callbot.models.enums import TaskMode, TaskStatus, enum_column
from callbot.models.line import Line

task_lines = Table(
    "task_lines",
    Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("line_id", ForeignKey("lines.id", ondelete="CASCADE"), primary_key=True),
)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_tenant_status", "tenant_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[TaskMode] = mapped_column(enum_column(TaskMode))
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus), default=TaskStatus.NOT_STARTED)
    # AUTO tasks start by themselves at start_time.
    start_time: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Daily calling window, tenant-local wall clock.
    daily_start: Mapped[time] = mapped_column(Time)
    daily_end: Mapped[time] = mapped_column(Time)
    # Up to three inactive slots inside the window (e.g. lunch): [["12:00:00", "13:30:00"], ...]
    inactive_windows: Mapped[list[list[str]]] = mapped_column(JsonType, default=list)
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id"))
    robot_count: Mapped[int] = mapped_column(Integer)  # AI seats (concurrent calls) of this task
    description: Mapped[str] = mapped_column(Text, default="")
    # [{"results": ["NO_ANSWER", "BUSY"], "delay_minutes": 30, "max_times": 2}, ...]
    redial_rules: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    # How many times a customer is called again after an attempt the platform interrupted (a worker died
    # or froze), whatever the redial rules say.
    interrupted_retries: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Who to alert about which levels (提醒设置): {"sms_levels", "wechat_levels", "users",
    # "early_warning_users", "sms_template_id", "wechat_send_method"}. Kept and reported; sending comes later.
    alerts: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict, server_default=text("'{}'"))
    # Tell carrier announcements, voicemail and call-screening assistants from a person (SIP with speech).
    screen_announcements: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # Public identifier (Digelao dial_task_main_sn is "dial_task_main_sn|" + this).
    sn: Mapped[str] = mapped_column(String(32), unique=True)
    customer_count: Mapped[int] = mapped_column(Integer, default=0)
    finished_count: Mapped[int] = mapped_column(Integer, default=0)
    # Soft delete: a deleted task keeps its records but is hidden everywhere.
    deleted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    lines: Mapped[list[Line]] = relationship(secondary=task_lines, lazy="selectin", order_by=Line.id)
