"""Callback settings (回调设置): where a tenant (or one of its users) wants events delivered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, UtcDateTime


class CallbackSettings(Base):
    __tablename__ = "callback_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        # The constraint above treats NULL user ids as distinct: this keeps one tenant-level row per tenant.
        Index(
            "uq_callback_settings_tenant_row",
            "tenant_id",
            unique=True,
            postgresql_where=text("user_id IS NULL"),
            sqlite_where=text("user_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # None: the tenant's settings; a user id: that user's own (Digelao sub-accounts).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    url: Mapped[str] = mapped_column(String(1000), default="")  # per-call events
    enabled: Mapped[bool] = mapped_column(default=False)
    task_url: Mapped[str] = mapped_column(String(1000), default="")  # task and import events
    dialect: Mapped[str] = mapped_column(String(16), default="native")  # native | yiwise | yiwise2023 | digelao
    # Yiwise's 2023 encrypted callbacks: the receiver's token and EncodingAESKey (encrypted at rest).
    token: Mapped[str] = mapped_column(String(64), default="", server_default="")
    aes_key_encrypted: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Native callbacks are signed with HMAC-SHA256 under this secret (encrypted at rest).
    secret_encrypted: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
