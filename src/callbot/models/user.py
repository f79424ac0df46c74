"""Console users of a tenant (roles admin / operator / viewer). Digelao sub-accounts map to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, UtcDateTime
from callbot.models.enums import Role, enum_column


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Stable public identifier (Digelao user_sn is "SYSUSER|" + this).
    sn: Mapped[str] = mapped_column(String(32), unique=True)
    # Seat limit for tasks this user owns; None = the tenant's.
    max_seats: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Console sign-in lockout: failures since the last success, and until when sign-in is refused.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Console sessions carry the epoch they were issued in; signing out (or a new password) moves it on,
    # which ends every session issued before, in every browser.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
