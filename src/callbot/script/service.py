"""Script rules: only valid scripts are stored; a new upload of a script name makes a new version; calls
run the newest APPROVED version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from callbot.dialogue.script import Script as ScriptDocument
from callbot.dialogue.script import load_script
from callbot.errors import InvalidState, NotFound
from callbot.kit.db import Tx
from callbot.kit.secrets import random_hex
from callbot.models import Script, ScriptVersion, Tenant
from callbot.models.enums import ScriptStatus
from callbot.script import repository


class ScriptNotFound(NotFound):
    """No such script."""


class ScriptNotApproved(InvalidState):
    """The script has no approved version."""


@dataclass(frozen=True)
class AddedScript:
    script: Script
    version: ScriptVersion
    document: ScriptDocument


@lru_cache(maxsize=256)
def parse_body(body: str) -> ScriptDocument:
    """Parsed scripts are immutable, so one parse per body text serves every call that runs it."""
    return load_script(body)


async def add_script(tx: Tx, tenant: Tenant, body: str, *, draft: bool = False, source: str = "") -> AddedScript:
    """Validate `body` (YAML or JSON) and store it: a new script, or a new version of the same-named one."""
    document = load_script(body, source=source or "<script>")
    now = tx.now()
    script = await repository.by_name(tx, tenant.id, document.name)
    if script is None:
        script = Script(
            tenant_id=tenant.id,
            name=document.name,
            industry=document.industry or "",
            sn=random_hex(32),
            latest_version=0,
            created_at=now,
            updated_at=now,
        )
        await repository.add(tx, script)
    script.latest_version += 1
    status = ScriptStatus.DRAFT if draft else ScriptStatus.APPROVED
    version = ScriptVersion(
        script_id=script.id,
        version=script.latest_version,
        status=status,
        body=body,
        checksum=hashlib.sha256(body.encode()).hexdigest(),
        created_at=now,
    )
    if status is ScriptStatus.APPROVED:
        script.approved_version = version.version
    script.industry = document.industry or script.industry
    script.updated_at = now
    await repository.add(tx, version)
    return AddedScript(script, version, document)


async def find_script(tx: Tx, script_id: int) -> Script | None:
    """Any tenant's script by id (for a task the caller already holds), None when gone."""
    return await repository.get(tx, script_id)


async def get_script(tx: Tx, tenant: Tenant, script_id: int) -> Script:
    script = await repository.get(tx, script_id)
    if script is None or script.tenant_id != tenant.id:
        raise ScriptNotFound(f"no script with id {script_id}")
    return script


async def list_scripts(tx: Tx, tenant: Tenant) -> list[Script]:
    return await repository.of_tenant(tx, tenant.id)


async def list_versions(tx: Tx, script: Script) -> list[ScriptVersion]:
    return await repository.versions(tx, script.id)


async def get_version(tx: Tx, script: Script, version: int) -> ScriptVersion:
    row = await repository.version(tx, script.id, version)
    if row is None:
        raise ScriptNotFound(f"script {script.id} has no version {version}")
    return row


async def approve_version(tx: Tx, tenant: Tenant, script_id: int, version: int) -> ScriptVersion:
    script = await get_script(tx, tenant, script_id)
    row = await get_version(tx, script, version)
    row.status = ScriptStatus.APPROVED
    if script.approved_version is None or version > script.approved_version:
        script.approved_version = version
    script.updated_at = tx.now()
    await repository.flush(tx)
    return row


async def approved_document(tx: Tx, script: Script) -> tuple[int, ScriptDocument]:
    """The version new calls run, parsed."""
    if script.approved_version is None:
        raise ScriptNotApproved(f"script {script.name!r} (id {script.id}) has no approved version")
    row = await get_version(tx, script, script.approved_version)
    return row.version, parse_body(row.body)


def script_status(script: Script) -> ScriptStatus:
    return ScriptStatus.APPROVED if script.approved_version is not None else ScriptStatus.DRAFT


async def find_script_by_sn_or_name(
    tx: Tx, tenant: Tenant, *, sn: str | None = None, name: str | None = None
) -> Script:
    """A script by its public sn or, without one, by its name."""
    script = await repository.first_by_sn_or_name(tx, tenant.id, sn=sn, name=name)
    if script is None:
        raise ScriptNotFound(f"no script {'with sn ' + sn if sn else 'named ' + repr(name)}")
    return script


async def list_approved_scripts(tx: Tx, tenant: Tenant) -> list[Script]:
    """Scripts a task can run now (those with an approved version)."""
    return await repository.approved_of_tenant(tx, tenant.id)
