"""The tenant-wide do-not-call list (黑名单)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, UtcDateTime


class DncEntry(Base):
    __tablename__ = "dnc_entries"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32), default="manual")  # manual | api | complaint | import
    reason: Mapped[str] = mapped_column(Text, default="")
    record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the call that caused it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
