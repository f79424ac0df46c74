"""API credentials: native bearer tokens (stored hashed) and vendor key pairs (secret stored encrypted,
since the vendors' signatures are recomputed from it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callbot.kit.db import Base, UtcDateTime
from callbot.models.enums import CredentialKind, enum_column


class Credential(Base):
    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # The user the credential acts as (Digelao logins are per user); None = the tenant as a whole.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    kind: Mapped[CredentialKind] = mapped_column(enum_column(CredentialKind))
    # Public identifier: token prefix, Yiwise appKey, Digelao api_access_id.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    # Bearer tokens: SHA-256 of the token. Vendor kinds: None.
    secret_digest: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # Vendor kinds: the secret, encrypted with the store's SecretBox.
    secret_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
