"""Caller lines (主叫线路): the numbers the robot calls from, each with its own concurrency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, JsonType, UtcDateTime
from callbot.models.enums import LineType, enum_column


class Line(Base):
    __tablename__ = "lines"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100), default="")
    type: Mapped[LineType] = mapped_column(enum_column(LineType), default=LineType.UNFIXED_CALL)
    concurrency: Mapped[int] = mapped_column(Integer, default=10)
    # Which telephony gateway places calls on this line ("sim" by default).
    gateway: Mapped[str] = mapped_column(String(64), default="sim")
    # Gateway-specific settings, e.g. the sim carrier's dial-result distribution.
    settings: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
