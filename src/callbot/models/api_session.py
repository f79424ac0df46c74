"""Vendor API sessions: the short-lived `api_key` a Digelao login issues (one live key per user by default)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, UtcDateTime


class ApiSession(Base):
    __tablename__ = "api_sessions"
    # A request looks its session up by (subject, key): one index probe, however many logins there were.
    __table_args__ = (Index("ix_api_sessions_subject_key", "subject", "api_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # The credential that logged in; None for a username/password login.
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id", ondelete="CASCADE"), nullable=True)
    # The user the session acts as; None when the tenant has no users at all.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    # Who the key belongs to: the user's sn (or a stable sn derived from the credential).
    subject: Mapped[str] = mapped_column(String(32))
    api_key: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Superseded by a newer login (or revoked on purpose).
    revoked: Mapped[bool] = mapped_column(default=False)
