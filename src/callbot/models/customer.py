"""Customers of a task (被叫客户) and the imports that brought them in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, JsonType, UtcDateTime
from callbot.models.enums import CallResult, CustomerStatus, ImportStatus, Level, enum_column


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("task_id", "phone"),
        # The dialer's question: which customers of this task are due?
        Index("ix_customers_due", "task_id", "status", "next_attempt_at"),
        # In-flight attempts (few at a time) by line, for concurrency limits and lease recovery.
        Index("ix_customers_dialling", "status", "dial_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    import_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32))  # normalised: 13900001234, 057188880001
    properties: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    carrier: Mapped[str] = mapped_column(String(32), default="")  # 运营商
    region: Mapped[str] = mapped_column(String(64), default="")  # 归属地
    status: Mapped[CustomerStatus] = mapped_column(enum_column(CustomerStatus), default=CustomerStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_result: Mapped[CallResult | None] = mapped_column(enum_column(CallResult), nullable=True)
    level: Mapped[Level | None] = mapped_column(enum_column(Level), nullable=True)
    # Lease of an in-flight attempt: which worker holds it, until when, and its fencing token: every write
    # of the attempt's outcome must show the token, so a worker that lost the lease writes nothing.
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # When the current (or last) attempt was dialled: an interrupted attempt's record keeps it.
    dialled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Attempts given again because the platform interrupted one (the task's interrupted_retries): the
    # redial rules do not count them.
    free_retries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The line the current (or last) attempt is placed on.
    dial_line_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Why a SKIPPED customer was not called: dnc, frequency_cap, task_stopped.
    skip_reason: Mapped[str] = mapped_column(String(32), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerImport(Base):
    __tablename__ = "customer_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(200))  # "api", or the file name
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus), default=ImportStatus.RUNNING)
    total: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    # Rejections by reason code: {"invalid_phone": 3, "duplicate": 1, ...}
    counts: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # When a running import last wrote a batch: one silent for a lease period has lost its process.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ImportRejection(Base):
    """One rejected row of an import: where it was and why."""

    __tablename__ = "import_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("customer_imports.id", ondelete="CASCADE"), index=True)
    row: Mapped[int] = mapped_column(Integer)  # 1-based data row (a CSV's header is row 0)
    phone: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(32))  # code: invalid_phone, duplicate, dnc, missing_variable
    message: Mapped[str] = mapped_column(Text)
