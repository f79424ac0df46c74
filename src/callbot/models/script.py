"""Robot scripts (话术) and their versions. A script is named within its tenant; uploading a script of the
same name makes a new version. Calls run the newest APPROVED version and record which one they ran."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, UtcDateTime
from callbot.models.enums import ScriptStatus, enum_column


class Script(Base):
    __tablename__ = "scripts"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str] = mapped_column(String(100), default="")
    # Public identifier (Digelao project sn is "projects|" + this).
    sn: Mapped[str] = mapped_column(String(32), unique=True)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    # Newest APPROVED version, the one new calls run; None while only drafts exist.
    approved_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScriptVersion(Base):
    __tablename__ = "script_versions"
    __table_args__ = (UniqueConstraint("script_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[ScriptStatus] = mapped_column(enum_column(ScriptStatus))
    body: Mapped[str] = mapped_column(Text)  # the YAML exactly as uploaded
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
