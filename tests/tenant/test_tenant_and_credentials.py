"""Tenants, users and credentials: unique names, calling hours, hashed passwords, secrets shown once."""

from __future__ import annotations

from datetime import time

import httpx
import pytest
from sqlalchemy import select

from callbot.credential import service as credential_service
from callbot.errors import Conflict, Forbidden, Unauthorized, ValidationFailed
from callbot.kit.db import Store
from callbot.models import Credential, User
from callbot.models.enums import CredentialKind, Role
from callbot.tenant import service

from factories import make_account


async def test_tenant_names_and_signs_are_unique(store: Store) -> None:
    async with store.transaction() as tx:
        await service.create_tenant(tx, "甲公司", sign="jiagongsi")
    async with store.transaction() as tx:
        with pytest.raises(Conflict, match="already exists"):
            await service.create_tenant(tx, "甲公司")
    async with store.transaction() as tx:
        with pytest.raises(Conflict, match="sign"):
            await service.create_tenant(tx, "乙公司", sign="jiagongsi")


async def test_default_calling_hours_and_updates(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await service.create_tenant(tx, "甲公司")
        assert (tenant.calling_start, tenant.calling_end) == (time(8), time(21))
        await service.update_tenant(tx, tenant, service.TenantChanges(calling_hours=(time(9), time(18)), seats=50))
    async with store.transaction() as tx:
        again = await service.get_tenant_by_name(tx, "甲公司")
        assert (again.calling_start, again.calling_end, again.seats) == (time(9), time(18), 50)
        with pytest.raises(ValidationFailed):
            await service.update_tenant(tx, again, service.TenantChanges(calling_hours=(time(18), time(9))))
        with pytest.raises(ValidationFailed):
            await service.update_tenant(tx, again, service.TenantChanges(timezone="Mars/Olympus"))


async def test_passwords_are_stored_hashed_and_checked(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await service.create_tenant(tx, "甲公司")
        user = await service.create_user(tx, tenant, "zhangsan", "correct horse", Role.OPERATOR)
    async with store.transaction() as tx:
        stored = await tx.session.scalar(select(User.password_hash).where(User.id == user.id))
        assert stored is not None and "correct horse" not in stored and stored.startswith("scrypt$")
        assert (await service.authenticate_user(tx, "zhangsan", "correct horse")).id == user.id
        with pytest.raises(Unauthorized):
            await service.authenticate_user(tx, "zhangsan", "wrong")
        with pytest.raises(Unauthorized):
            await service.authenticate_user(tx, "nobody", "correct horse")
        with pytest.raises(ValidationFailed) as caught:
            await service.create_user(tx, tenant, "a b", "short")
        assert {loc for loc, _ in caught.value.problems} == {"username", "password"}


async def test_vendor_credentials_use_the_vendors_field_names(store: Store) -> None:
    async with store.transaction() as tx:
        tenant = await service.create_tenant(tx, "甲公司", sign="jia01")
        yiwise = await credential_service.create_credential(tx, tenant, CredentialKind.YIWISE)
        digelao = await credential_service.create_credential(tx, tenant, CredentialKind.DIGELAO)
        token = await credential_service.create_credential(tx, tenant, CredentialKind.TOKEN)
    assert set(yiwise.secrets) == {"appKey", "appSecret", "tenantSign"}
    assert len(yiwise.secrets["appKey"]) == 16 and len(yiwise.secrets["appSecret"]) == 32
    assert yiwise.secrets["tenantSign"] == "jia01"
    assert set(digelao.secrets) == {"api_access_id", "api_access_secret"}
    assert set(token.secrets) == {"token"}
    async with store.transaction() as tx:
        rows = list(await tx.session.scalars(select(Credential)))
        stored = " ".join(f"{r.key} {r.secret_digest} {r.secret_encrypted}" for r in rows)
        # Secrets never sit in the database in the clear.
        for secret in (yiwise.secrets["appSecret"], digelao.secrets["api_access_secret"], token.secrets["token"]):
            assert secret not in stored
        # Vendor secrets can be read back for signature checks; tokens only match.
        found_tenant, _, secret = await credential_service.find_vendor_credential(
            tx, CredentialKind.YIWISE, yiwise.secrets["appKey"]
        )
        assert found_tenant.id == tenant.id and secret == yiwise.secrets["appSecret"]
        assert (await credential_service.authenticate_token(tx, token.secrets["token"]))[0].id == tenant.id
        await credential_service.set_enabled(tx, tenant, digelao.credential.id, False)
        with pytest.raises(Forbidden):
            await credential_service.find_vendor_credential(
                tx, CredentialKind.DIGELAO, digelao.secrets["api_access_id"]
            )
        with pytest.raises(Unauthorized):
            await credential_service.find_vendor_credential(tx, CredentialKind.DIGELAO, yiwise.secrets["appKey"])


async def test_credentials_listing_never_shows_secrets(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    issued = await client.post("/api/v1/credentials", json={"kind": "yiwise", "label": "crm"}, headers=account.headers)
    assert issued.status_code == 201
    secret = issued.json()["secrets"]["appSecret"]
    listing = await client.get("/api/v1/credentials", headers=account.headers)
    assert secret not in listing.text and "secrets" not in listing.json()[0]


async def test_tenant_settings_through_the_api(client: httpx.AsyncClient, store: Store) -> None:
    account = await make_account(store)
    me = (await client.get("/api/v1/tenant", headers=account.headers)).json()
    assert me["calling_start"] == "08:00:00" and me["freq_cap_calls"] == 1 and me["freq_cap_hours"] == 24
    changed = await client.patch(
        "/api/v1/tenant",
        json={"calling_start": "09:00", "calling_end": "19:30", "freq_cap_calls": 2, "freq_cap_hours": 48},
        headers=account.headers,
    )
    assert changed.status_code == 200
    assert changed.json()["calling_end"] == "19:30:00" and changed.json()["freq_cap_calls"] == 2
    half = await client.patch("/api/v1/tenant", json={"calling_start": "09:00"}, headers=account.headers)
    assert half.status_code == 422
    users = await client.post(
        "/api/v1/users", json={"username": "lisi", "password": "12345678", "role": "viewer"}, headers=account.headers
    )
    assert users.status_code == 201 and users.json()["role"] == "viewer"
    assert "password" not in users.text
