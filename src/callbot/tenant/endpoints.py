"""/api/v1/tenant, /users and /credentials."""

from __future__ import annotations

from fastapi import APIRouter, status

from callbot.api.deps import CurrentTenant, WriteTx
from callbot.api.schemas import Id
from callbot.credential import service as credential_service
from callbot.errors import ValidationFailed
from callbot.models import Credential, Tenant, User
from callbot.tenant import service
from callbot.tenant.schemas import (
    CredentialCreate,
    CredentialIssued,
    CredentialPatch,
    CredentialRead,
    TenantPatch,
    TenantRead,
    UserCreate,
    UserPatch,
    UserRead,
)

router = APIRouter(tags=["tenant"])


@router.get("/tenant", response_model=TenantRead, summary="The caller's tenant")
async def read_tenant(tenant: CurrentTenant) -> Tenant:
    return tenant


@router.patch("/tenant", response_model=TenantRead, summary="Change calling hours, seats, frequency cap")
async def update_tenant(body: TenantPatch, tx: WriteTx, tenant: CurrentTenant) -> Tenant:
    hours = None
    if body.calling_start is not None or body.calling_end is not None:
        if body.calling_start is None or body.calling_end is None:
            raise ValidationFailed("give both calling_start and calling_end", [("calling_end", "both are needed")])
        hours = (body.calling_start, body.calling_end)
    changes = service.TenantChanges(
        calling_hours=hours,
        seats=body.seats,
        freq_cap_calls=body.freq_cap_calls,
        freq_cap_hours=body.freq_cap_hours,
        timezone=body.timezone,
    )
    return await service.update_tenant(tx, tenant, changes)


@router.get("/users", response_model=list[UserRead], summary="Console users")
async def list_users(tx: WriteTx, tenant: CurrentTenant) -> list[User]:
    return await service.list_users(tx, tenant)


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED, summary="Add a console user")
async def create_user(body: UserCreate, tx: WriteTx, tenant: CurrentTenant) -> User:
    return await service.create_user(tx, tenant, body.username, body.password, body.role, body.display_name)


@router.get("/users/{user_id}", response_model=UserRead, summary="One console user")
async def read_user(user_id: Id, tx: WriteTx, tenant: CurrentTenant) -> User:
    return await service.get_user(tx, tenant, user_id)


@router.patch("/users/{user_id}", response_model=UserRead, summary="Change a user's role, name, password or access")
async def update_user(user_id: Id, body: UserPatch, tx: WriteTx, tenant: CurrentTenant) -> User:
    return await service.update_user(tx, tenant, user_id, service.UserChanges(**body.model_dump(exclude_unset=True)))


@router.get("/credentials", response_model=list[CredentialRead], summary="API credentials (no secrets)")
async def list_credentials(tx: WriteTx, tenant: CurrentTenant) -> list[Credential]:
    return await credential_service.list_credentials(tx, tenant)


@router.post(
    "/credentials",
    response_model=CredentialIssued,
    status_code=status.HTTP_201_CREATED,
    summary="Issue a credential; its secrets are shown in this response only",
)
async def create_credential(body: CredentialCreate, tx: WriteTx, tenant: CurrentTenant) -> CredentialIssued:
    user = await service.get_user(tx, tenant, body.user_id) if body.user_id is not None else None
    issued = await credential_service.create_credential(tx, tenant, body.kind, user=user, label=body.label)
    read = CredentialRead.model_validate(issued.credential)
    return CredentialIssued(**read.model_dump(), secrets=issued.secrets)


@router.patch("/credentials/{credential_id}", response_model=CredentialRead, summary="Enable or disable")
async def update_credential(credential_id: Id, body: CredentialPatch, tx: WriteTx, tenant: CurrentTenant) -> Credential:
    return await credential_service.set_enabled(tx, tenant, credential_id, body.enabled)
