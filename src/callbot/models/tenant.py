"""Tenants (company, 公司): the unit of isolation. Every other row belongs to one."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, UtcDateTime
from callbot.models.enums import TenantStatus, enum_column


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The company sign (公司签名, Yiwise tenantSign).
    sign: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[TenantStatus] = mapped_column(enum_column(TenantStatus), default=TenantStatus.ACTIVE)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Allowed calling hours; every task window must lie inside them.
    calling_start: Mapped[time] = mapped_column(Time, default=time(8, 0))
    calling_end: Mapped[time] = mapped_column(Time, default=time(21, 0))
    # Total AI seats (concurrent robot calls) across all tasks.
    seats: Mapped[int] = mapped_column(Integer, default=20)
    # Frequency cap: at most `freq_cap_calls` answered calls to one number per `freq_cap_hours`.
    freq_cap_calls: Mapped[int] = mapped_column(Integer, default=1)
    freq_cap_hours: Mapped[int] = mapped_column(Integer, default=24)
    expires_on: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
