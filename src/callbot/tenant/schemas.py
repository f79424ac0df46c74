"""Tenant, user and credential shapes of the native API."""

from __future__ import annotations

from datetime import datetime, time

from pydantic import BaseModel, ConfigDict, Field

from callbot.api.schemas import ReadModel
from callbot.models.enums import CredentialKind, Role, TenantStatus


class TenantRead(ReadModel):
    id: int
    name: str
    sign: str
    status: TenantStatus
    timezone: str
    calling_start: time
    calling_end: time
    seats: int
    freq_cap_calls: int
    freq_cap_hours: int
    created_at: datetime


class TenantPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calling_start: time | None = None
    calling_end: time | None = None
    seats: int | None = Field(default=None, ge=1)
    freq_cap_calls: int | None = Field(default=None, ge=0, description="answered calls per number; 0 = no cap")
    freq_cap_hours: int | None = Field(default=None, ge=1)
    timezone: str | None = None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str
    password: str
    role: Role = Role.OPERATOR
    display_name: str = ""


class UserRead(ReadModel):
    id: int
    username: str
    display_name: str
    role: Role
    enabled: bool
    created_at: datetime
    last_login_at: datetime | None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = None
    role: Role | None = None
    password: str | None = None
    enabled: bool | None = None


class CredentialCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CredentialKind
    label: str = ""
    user_id: int | None = None


class CredentialRead(ReadModel):
    id: int
    kind: CredentialKind
    key: str
    label: str
    enabled: bool
    user_id: int | None
    created_at: datetime
    last_used_at: datetime | None


class CredentialIssued(CredentialRead):
    """Returned once, at creation: the secrets are not stored in a readable form for tokens, and never shown again."""

    secrets: dict[str, str]


class CredentialPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
