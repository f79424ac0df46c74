"""/api/v1/scripts: robot scripts and their versions."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from callbot.api.deps import CurrentTenant, WriteTx
from callbot.api.schemas import Id, ReadModel
from callbot.dialogue.script import validate_script
from callbot.models import Script, ScriptVersion
from callbot.models.enums import ScriptStatus
from callbot.script import service

router = APIRouter(prefix="/scripts", tags=["scripts"])


class ScriptUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(description="The script as YAML (or JSON), per the script format")
    draft: bool = Field(default=False, description="store as DRAFT instead of publishing it as APPROVED")


class ScriptRead(ReadModel):
    id: int
    name: str
    industry: str
    status: ScriptStatus
    latest_version: int
    approved_version: int | None
    created_at: datetime
    updated_at: datetime


class ScriptVersionRead(ReadModel):
    version: int
    status: ScriptStatus
    checksum: str
    created_at: datetime


class ScriptVersionDetail(ScriptVersionRead):
    content: str


class ValidationReport(BaseModel):
    valid: bool
    problems: list[dict[str, str]]


def _read(script: Script) -> ScriptRead:
    return ScriptRead(
        id=script.id,
        name=script.name,
        industry=script.industry,
        status=service.script_status(script),
        latest_version=script.latest_version,
        approved_version=script.approved_version,
        created_at=script.created_at,
        updated_at=script.updated_at,
    )


@router.get("", response_model=list[ScriptRead], summary="Robot scripts")
async def list_scripts(tx: WriteTx, tenant: CurrentTenant) -> list[ScriptRead]:
    return [_read(s) for s in await service.list_scripts(tx, tenant)]


@router.post(
    "",
    response_model=ScriptRead,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a script; the same name again makes a new version",
)
async def upload_script(body: ScriptUpload, tx: WriteTx, tenant: CurrentTenant) -> ScriptRead:
    added = await service.add_script(tx, tenant, body.content, draft=body.draft)
    return _read(added.script)


@router.post("/validate", response_model=ValidationReport, summary="Check a script without storing it")
async def validate(body: ScriptUpload, tenant: CurrentTenant) -> ValidationReport:
    problems = validate_script(body.content)
    return ValidationReport(valid=not problems, problems=[{"field": loc, "message": msg} for loc, msg in problems])


@router.get("/{script_id}", response_model=ScriptRead, summary="One script")
async def read_script(script_id: Id, tx: WriteTx, tenant: CurrentTenant) -> ScriptRead:
    return _read(await service.get_script(tx, tenant, script_id))


@router.get("/{script_id}/versions", response_model=list[ScriptVersionRead], summary="A script's versions")
async def list_versions(script_id: Id, tx: WriteTx, tenant: CurrentTenant) -> list[ScriptVersion]:
    return await service.list_versions(tx, await service.get_script(tx, tenant, script_id))


@router.get("/{script_id}/versions/{version}", response_model=ScriptVersionDetail, summary="One version's text")
async def read_version(script_id: Id, version: Id, tx: WriteTx, tenant: CurrentTenant) -> ScriptVersionDetail:
    row = await service.get_version(tx, await service.get_script(tx, tenant, script_id), version)
    return ScriptVersionDetail(
        version=row.version, status=row.status, checksum=row.checksum, created_at=row.created_at, content=row.body
    )


@router.post(
    "/{script_id}/versions/{version}/approve", response_model=ScriptVersionRead, summary="Publish a draft version"
)
async def approve(script_id: Id, version: Id, tx: WriteTx, tenant: CurrentTenant) -> ScriptVersion:
    return await service.approve_version(tx, tenant, script_id, version)
