"""Callback settings: http(s) URLs to public destinations only (or ones the operator allows), one setting
per tenant (and optionally per user), and which of them an event goes by."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from callbot.callback import outbox, repository
from callbot.errors import NotFound, ValidationFailed
from callbot.kit import msgcrypt
from callbot.kit.db import Tx
from callbot.kit.egress import ForbiddenDestination
from callbot.kit.secrets import random_alnum
from callbot.models import CallbackSettings, Tenant
from callbot.task import service as task_service

DIALECTS = ("native", "yiwise", "yiwise2023", "digelao")
# Yiwise's 2023 callback protocol: the 2018 payloads, AES-encrypted and signed with the receiver's token.
ENCRYPTED = "yiwise2023"
_TOKEN = re.compile(r"[A-Za-z0-9]{1,64}")


def valid_token(token: str) -> bool:
    """A receiver token of the yiwise2023 dialect: 1 to 64 letters or digits."""
    return _TOKEN.fullmatch(token) is not None


@dataclass(frozen=True)
class CallbackChanges:
    url: str | None = None
    enabled: bool | None = None
    task_url: str | None = None
    dialect: str | None = None
    token: str | None = None  # yiwise2023: the receiver's token
    aes_key: str | None = None  # yiwise2023: the receiver's EncodingAESKey (43 characters)


def check_url(tx: Tx, url: str, field: str) -> str:
    """An http(s) URL without credentials, to a public destination or one the operator allows (SSRF)."""
    url = url.strip()
    if not url:
        return ""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValidationFailed(f"{field} must be an http:// or https:// URL", [(field, f"{url!r} is not http(s)")])
    if len(url) > 1000:
        raise ValidationFailed(f"{field} is too long", [(field, "at most 1000 characters")])
    try:
        return tx.egress.check_url(url)
    except ForbiddenDestination as exc:
        raise ValidationFailed(f"{field} may not be used for callbacks", [(field, str(exc))]) from None


async def find_settings(tx: Tx, tenant: Tenant, user_id: int | None = None) -> CallbackSettings | None:
    """The tenant's settings row (or a user's own), None when there is none yet."""
    return await repository.find_settings(tx, tenant.id, user_id)


async def wants(tx: Tx, tenant_id: int, kind: str) -> bool:
    """Who receives a callback, decided here once: whether any of the tenant's settings would take an
    event of this kind, so it is worth writing to the outbox (`settings_for_event` picks the row at
    delivery). A call goes to settings that are on with a URL; an import to a task URL; a completed task
    to either."""
    return await repository.any_settings_taking(
        tx,
        tenant_id,
        calls=kind in (outbox.CALL_FINISHED, outbox.TASK_COMPLETED),
        task_events=kind in (outbox.TASK_COMPLETED, outbox.IMPORT_FINISHED),
    )


async def notify(tx: Tx, tenant_id: int, kind: str, subject: dict[str, Any], *, event_id: str | None = None) -> bool:
    """Write the event to the outbox, in the caller's transaction, when the tenant wants it; returns whether
    it was written."""
    if not await wants(tx, tenant_id, kind):
        return False
    await outbox.enqueue(tx, tenant_id, kind, subject, event_id=event_id)
    return True


async def settings_for_event(tx: Tx, tenant: Tenant, kind: str, task_id: int | None) -> CallbackSettings | None:
    """The settings an event goes by (Digelao §4.1): its task owner's own row when that row has the URL for
    the event (`url` for a call, `task_url` for task and import events), else the tenant's row. None when
    neither exists: the event has nowhere to go."""
    if task_id is not None:
        try:
            task = await task_service.get_task(tx, tenant, task_id, include_deleted=True)
        except NotFound:
            task = None
        if task is not None and task.owner_user_id is not None:
            own = await find_settings(tx, tenant, task.owner_user_id)
            if own is not None and (own.url if kind == outbox.CALL_FINISHED else own.task_url):
                return own
    return await find_settings(tx, tenant)


async def get_settings(tx: Tx, tenant: Tenant, user_id: int | None = None) -> CallbackSettings:
    """The settings row, made with defaults (off, no URL) the first time it is asked for."""
    settings = await find_settings(tx, tenant, user_id)
    if settings is None:
        # Two first asks at once both find nothing: one insert wins, and both read the winner's row.
        values = {
            "tenant_id": tenant.id,
            "user_id": user_id,
            "secret_encrypted": tx.secrets.encrypt(random_alnum(32)),
            "updated_at": tx.now(),
        }
        await repository.insert_settings_if_missing(tx, values)
        settings = await find_settings(tx, tenant, user_id)
        assert settings is not None
    return settings


async def update_settings(
    tx: Tx, tenant: Tenant, changes: CallbackChanges, user_id: int | None = None
) -> CallbackSettings:
    settings = await get_settings(tx, tenant, user_id)
    if changes.url is not None:
        settings.url = check_url(tx, changes.url, "url")
    if changes.task_url is not None:
        settings.task_url = check_url(tx, changes.task_url, "task_url")
    if changes.dialect is not None:
        if changes.dialect not in DIALECTS:
            raise ValidationFailed("unknown callback dialect", [("dialect", f"one of {', '.join(DIALECTS)}")])
        settings.dialect = changes.dialect
    if changes.enabled is not None:
        settings.enabled = changes.enabled
    elif changes.url:
        settings.enabled = True  # giving a URL means wanting the callbacks
    if changes.token is not None:
        if changes.token and not valid_token(changes.token):
            raise ValidationFailed("the token must be 1 to 64 letters or digits", [("token", "letters and digits")])
        settings.token = changes.token
    if changes.aes_key is not None:
        if changes.aes_key:
            try:
                msgcrypt.decode_key(changes.aes_key)
            except msgcrypt.MsgCryptError as exc:
                raise ValidationFailed("the AES key is not an EncodingAESKey", [("aes_key", str(exc))]) from None
        settings.aes_key_encrypted = tx.secrets.encrypt(changes.aes_key) if changes.aes_key else ""
    if settings.enabled and not settings.url:
        raise ValidationFailed("callbacks are on but no URL is set", [("url", "required when enabled")])
    if settings.dialect == ENCRYPTED:
        missing = [
            (name, f"required by the {ENCRYPTED} dialect")
            for name, value in (("token", settings.token), ("aes_key", settings.aes_key_encrypted))
            if not value
        ]
        if missing:
            raise ValidationFailed(f"the {ENCRYPTED} dialect encrypts with the receiver's token and AES key", missing)
    settings.updated_at = tx.now()
    await repository.flush(tx)
    return settings


def signing_secret(tx: Tx, settings: CallbackSettings) -> str:
    return tx.secrets.decrypt(settings.secret_encrypted)


def receiver_crypt(tx: Tx, settings: CallbackSettings) -> msgcrypt.MsgCrypt:
    """The encryption of the settings' receiver (yiwise2023): its token and AES key."""
    return msgcrypt.MsgCrypt(settings.token, tx.secrets.decrypt(settings.aes_key_encrypted))
