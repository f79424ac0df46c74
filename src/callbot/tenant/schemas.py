"""Tenant, user and credential shapes of the native API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from callbot.api.schemas import MAX_ID, ReadModel
from callbot.kit.wallclock import WallTime
from callbot.models.enums import CredentialKind, Role, TenantStatus


class TenantRead(ReadModel):
    id: int
    name: str
    sign: str
    status: TenantStatus
    timezone: str
    calling_start: WallTime
    calling_end: WallTime
    seats: int
    freq_cap_calls: int
    freq_cap_hours: int
    created_at: datetime


class TenantPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calling_start: WallTime | None = None
    calling_end: WallTime | None = None
    seats: int | None = Field(default=None, ge=1, le=MAX_ID)
    freq_cap_calls: int | None = Field(
        default=None, ge=0, le=MAX_ID, description="answered calls per number; 0 = no cap"
    )
    freq_cap_hours: int | None = Field(default=None, ge=1, le=MAX_ID)
    timezone: str | None = Field(default=None, max_length=64, description="an IANA zone, e.g. Asia/Shanghai")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=1000)
    role: Role = Role.OPERATOR
    display_name: str = Field(default="", max_length=100)


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

    display_name: str | None = Field(default=None, max_length=100)
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1000)
    enabled: bool | None = None


class CredentialCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CredentialKind
    label: str = Field(default="", max_length=100)
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)


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
