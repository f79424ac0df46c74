"""Call records (通话记录): one per dial attempt, answered or not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, JsonType, UtcDateTime
from callbot.models.enums import CallResult, Level, enum_column


class CallRecord(Base):
    __tablename__ = "call_records"
    __table_args__ = (
        Index("ix_call_records_task", "task_id", "id"),
        Index("ix_call_records_tenant_phone", "tenant_id", "phone", "started_at"),
        Index("ix_call_records_tenant_started", "tenant_id", "started_at"),
        # Calls are at most once: one record per attempt of a customer.
        UniqueConstraint("customer_id", "attempt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    line_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    script_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    script_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Public identifier (Digelao record sn).
    sn: Mapped[str] = mapped_column(String(32), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    result: Mapped[CallResult] = mapped_column(enum_column(CallResult))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)  # dial time
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ring_seconds: Mapped[int] = mapped_column(Integer, default=0)
    chat_seconds: Mapped[int] = mapped_column(Integer, default=0)
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[Level | None] = mapped_column(enum_column(Level), nullable=True)
    manual_level: Mapped[Level | None] = mapped_column(enum_column(Level), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # analysis basis: why this level
    concerns: Mapped[list[str]] = mapped_column(JsonType, default=list)
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # [{"speaker": "ROBOT"|"PERSON", "text", "node", "intent", "offset_ms"}, ...]
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    end_reason: Mapped[str] = mapped_column(String(32), default="")  # hangup, transfer, customer_hangup, ...
    hangup_by: Mapped[str] = mapped_column(String(16), default="")  # ROBOT | PERSON | "" (not answered)
    transferred_to: Mapped[str] = mapped_column(String(200), default="")
    # How a transfer went: "referred" (the far end took the REFER), "bridged" (callbot dialled the agent, who
    # answered, and joined the calls), "agent not reached: <result>"; "" when no transfer was tried.
    transfer_status: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # "outbound" (the dialer called) or "inbound" (the customer called a line; `phone` is the caller).
    direction: Mapped[str] = mapped_column(String(8), default="outbound", server_default="outbound")
    # Recordings, relative to the recordings folder: both parties mixed, and the customer alone.
    recording_path: Mapped[str] = mapped_column(String(500), default="")
    customer_recording_path: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # When the retention setting deleted the files (the paths are cleared then): the record says so.
    recording_deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    read: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
