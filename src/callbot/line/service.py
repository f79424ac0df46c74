"""Caller line rules: a tenant's numbers are unique, concurrency is positive, the gateway is named, and a
SIP line's trunk settings are checked when the line is saved (not discovered at dial time), with its
trunk password kept encrypted and never shown back.

A SIP line (a DID) may take inbound calls: `settings["inbound"] = {"script_id": N}` names the tenant's
script they run; the script must exist and have an approved version when the line is saved."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from callbot.errors import Conflict, NotFound, ValidationFailed
from callbot.kit.db import Tx
from callbot.line import repository
from callbot.models import Line, Tenant
from callbot.models.enums import LineType
from callbot.script import service as script_service
from callbot.telephony.sip.trunk import TrunkSettings

_LINE_PHONE = re.compile(r"^\+?[0-9]{3,20}$")


class LineNotFound(NotFound):
    """No such line."""


@dataclass(frozen=True)
class LineChanges:
    name: str | None = None
    type: LineType | None = None
    concurrency: int | None = None
    gateway: str | None = None
    settings: dict[str, Any] | None = None
    enabled: bool | None = None


def _clean_phone(phone: str) -> str:
    cleaned = re.sub(r"[\s\-()]", "", phone)
    if not _LINE_PHONE.match(cleaned):
        raise ValidationFailed("bad line number", [("phone", f"{phone!r} is not a phone number (3-20 digits)")])
    return cleaned


def _checked_settings(
    tx: Tx, gateway: str, settings: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A SIP line's settings, checked field by field, with the password replaced by its encryption.

    A change that leaves the password out keeps the one stored, as long as the username stays.
    """
    if gateway != "sip":
        return settings
    sip = settings.get("sip")
    if not isinstance(sip, dict):
        TrunkSettings.parse(settings)  # names what is missing
        return settings
    sip = dict(sip)
    if "password_encrypted" in sip:
        raise ValidationFailed(
            "bad SIP trunk settings", [("settings.sip.password_encrypted", "is set by callbot; give password")]
        )
    old = (previous or {}).get("sip") or {}
    if "password" not in sip and old.get("password_encrypted") and sip.get("username") == old.get("username"):
        sip["password_encrypted"] = old["password_encrypted"]
    TrunkSettings.parse({**settings, "sip": sip})
    if isinstance(sip.get("password"), str):
        sip["password_encrypted"] = tx.secrets.encrypt(sip.pop("password"))
    return {**settings, "sip": sip}


def public_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A line's settings as every API shows them: a trunk password only as `password_set`."""
    sip = settings.get("sip")
    if not isinstance(sip, dict) or "password_encrypted" not in sip:
        return settings
    shown = {k: v for k, v in sip.items() if k != "password_encrypted"}
    return {**settings, "sip": {**shown, "password_set": True}}


def _check_concurrency(value: int) -> None:
    if not 1 <= value <= 10_000:
        raise ValidationFailed("bad concurrency", [("concurrency", "must be between 1 and 10000")])


async def add_line(
    tx: Tx,
    tenant: Tenant,
    phone: str,
    *,
    name: str = "",
    type: LineType = LineType.UNFIXED_CALL,
    concurrency: int = 10,
    gateway: str = "sim",
    settings: dict[str, Any] | None = None,
) -> Line:
    phone = _clean_phone(phone)
    _check_concurrency(concurrency)
    settings = _checked_settings(tx, gateway, settings or {})
    await _check_inbound(tx, tenant, gateway, settings)
    exists = await repository.id_by_phone(tx, tenant.id, phone)
    if exists is not None:
        raise Conflict(f"line {phone} already exists (id {exists})")
    line = Line(
        tenant_id=tenant.id,
        phone=phone,
        name=name or phone,
        type=type,
        concurrency=concurrency,
        gateway=gateway,
        settings=settings or {},
        created_at=tx.now(),
    )
    await repository.add(tx, line)
    return line


async def _check_inbound(tx: Tx, tenant: Tenant, gateway: str, settings: dict[str, Any]) -> None:
    """`settings["inbound"]`: which script inbound calls to this line run (SIP lines only)."""
    if "inbound" not in settings:
        return
    inbound = settings["inbound"]
    where = "settings.inbound"
    if gateway != "sip":
        raise ValidationFailed("bad inbound settings", [(where, "only a SIP line takes inbound calls")])
    if not isinstance(inbound, dict) or set(inbound) - {"script_id"}:
        raise ValidationFailed("bad inbound settings", [(where, 'must be {"script_id": <script id>}')])
    script_id = inbound.get("script_id")
    if not isinstance(script_id, int) or isinstance(script_id, bool):
        raise ValidationFailed("bad inbound settings", [(f"{where}.script_id", "must be a script id (an integer)")])
    try:
        script = await script_service.get_script(tx, tenant, script_id)
    except NotFound:
        raise ValidationFailed(
            "bad inbound settings", [(f"{where}.script_id", f"no script with id {script_id}")]
        ) from None
    if script.approved_version is None:
        problem = f"script {script_id} has no approved version: approve one before inbound calls can run it"
        raise ValidationFailed("bad inbound settings", [(f"{where}.script_id", problem)])


async def get_line(tx: Tx, tenant: Tenant, line_id: int) -> Line:
    line = await repository.get(tx, line_id)
    if line is None or line.tenant_id != tenant.id:
        raise LineNotFound(f"no line with id {line_id}")
    return line


async def get_lines(tx: Tx, tenant: Tenant, line_ids: list[int], *, field: str = "line_ids") -> list[Line]:
    """Fetch several lines of the tenant, naming each missing one at its position in `field`."""
    found = await repository.many(tx, tenant.id, line_ids)
    problems = [(f"{field}.{i}", f"no line with id {lid}") for i, lid in enumerate(line_ids) if lid not in found]
    if problems:
        raise ValidationFailed("unknown lines", problems)
    return [found[lid] for lid in line_ids]


async def find_line_by_phone(tx: Tx, tenant: Tenant, phone: str) -> Line:
    line = await repository.by_phone(tx, tenant.id, phone)
    if line is None:
        raise LineNotFound(f"no line with number {phone}")
    return line


async def list_lines(tx: Tx, tenant: Tenant) -> list[Line]:
    return await repository.of_tenant(tx, tenant.id)


async def update_line(tx: Tx, tenant: Tenant, line_id: int, changes: LineChanges) -> Line:
    line = await get_line(tx, tenant, line_id)
    if changes.concurrency is not None:
        _check_concurrency(changes.concurrency)
        line.concurrency = changes.concurrency
    if changes.gateway is not None or changes.settings is not None:
        gateway = changes.gateway if changes.gateway is not None else line.gateway
        settings = changes.settings if changes.settings is not None else line.settings
        line.settings = _checked_settings(tx, gateway, settings, line.settings)
        await _check_inbound(tx, tenant, gateway, line.settings)
    for field in ("name", "type", "gateway", "enabled"):
        value = getattr(changes, field)
        if value is not None:
            setattr(line, field, value)
    await repository.flush(tx)
    return line


async def registering_sip_lines(tx: Tx) -> dict[str, dict[str, Any]]:
    """Every enabled SIP line, of every tenant, whose trunk asks to be registered: "line-<id>" → settings."""
    lines = await repository.enabled_on_gateway(tx, "sip")
    return {f"line-{line.id}": line.settings for line in lines if (line.settings.get("sip") or {}).get("register")}


async def enabled_lines(tx: Tx, tenant: Tenant) -> list[Line]:
    """The lines a task gets when it names none."""
    return await repository.enabled_of_tenant(tx, tenant.id)


async def find_lines_by_phone(tx: Tx, tenant: Tenant, phones: list[str]) -> list[Line]:
    """Lines by caller number, in the order asked; an unknown number is not found."""
    found = {line.phone: line for line in await repository.by_phones(tx, tenant.id, phones)}
    for phone in phones:
        if phone not in found:
            raise LineNotFound(f"no line with number {phone}")
    return [found[phone] for phone in phones]
