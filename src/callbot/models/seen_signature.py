"""Signed requests already received (a vendor dialect's replay guard), kept until their timestamp goes stale."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, UtcDateTime


class SeenSignature(Base):
    __tablename__ = "seen_signatures"
    __table_args__ = (Index("ix_seen_signatures_expiry", "credential_id", "expires_at"),)

    credential_id: Mapped[int] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # The signature as received (lowercase hex).
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Digest of the request it signed (method, path, query, body); "" when the signature covers the request.
    request: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When the signature's timestamp leaves the freshness window: a replay after that is refused as stale.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
