"""`callbot tenant`, `callbot user` and `callbot credential`: provisioning."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from callbot.cli._common import async_command, cli_store, print_json
from callbot.errors import ValidationFailed
from callbot.kit.timewin import parse_window

if TYPE_CHECKING:
    from callbot.models import Tenant

# The values of Role and CredentialKind, written out so that `--help` needs no database layer (a test keeps
# them equal).
ROLES = ("admin", "operator", "viewer")
CREDENTIAL_KINDS = ("token", "yiwise", "digelao")


def tenant_json(tenant: Tenant) -> dict[str, object]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "sign": tenant.sign,
        "status": tenant.status.value,
        "calling_hours": f"{tenant.calling_start:%H:%M}-{tenant.calling_end:%H:%M}",
        "seats": tenant.seats,
        "freq_cap": {"calls": tenant.freq_cap_calls, "hours": tenant.freq_cap_hours},
        "timezone": tenant.timezone,
    }


@click.group()
def tenant() -> None:
    """Tenants (companies)."""


@tenant.command("create")
@click.argument("name")
@click.option("--sign", help="company sign (Yiwise tenantSign); generated when left out")
@click.option("--seats", type=int, default=20, show_default=True, help="total AI seats")
@async_command
async def create_tenant(name: str, sign: str | None, seats: int) -> None:
    """Create a tenant; prints it as JSON with its id."""
    from callbot.tenant import service

    async with cli_store() as store, store.transaction() as tx:
        created = await service.create_tenant(tx, name, sign=sign, seats=seats)
    print_json(tenant_json(created))


@tenant.command("update")
@click.argument("name")
@click.option("--calling-hours", help="allowed calling hours, HH:MM-HH:MM")
@click.option("--seats", type=int, help="total AI seats")
@click.option("--freq-cap", help="answered calls per number per window: CALLS/HOURS, e.g. 1/24; 0 = no cap")
@click.option("--timezone", help="IANA zone of the tenant's wall clock, e.g. Asia/Shanghai")
@async_command
async def update_tenant(
    name: str, calling_hours: str | None, seats: int | None, freq_cap: str | None, timezone: str | None
) -> None:
    """Change a tenant's calling hours, seats, frequency cap or time zone."""
    try:
        hours = parse_window(calling_hours) if calling_hours else None
    except ValueError as exc:
        raise ValidationFailed(str(exc), [("--calling-hours", str(exc))]) from exc
    from callbot.tenant import service

    cap_calls = cap_hours = None
    if freq_cap:
        calls, _, hours_text = freq_cap.partition("/")
        if not calls.isdigit() or (hours_text and not hours_text.isdigit()):
            raise ValidationFailed("bad --freq-cap", [("--freq-cap", "write CALLS/HOURS, e.g. 1/24")])
        cap_calls, cap_hours = int(calls), int(hours_text) if hours_text else None
    async with cli_store() as store, store.transaction() as tx:
        found = await service.get_tenant_by_name(tx, name)
        changes = service.TenantChanges(
            calling_hours=hours, seats=seats, freq_cap_calls=cap_calls, freq_cap_hours=cap_hours, timezone=timezone
        )
        updated = await service.update_tenant(tx, found, changes)
    print_json(tenant_json(updated))


@tenant.command("list")
@async_command
async def list_tenants() -> None:
    """All tenants, as JSON."""
    from callbot.tenant import service

    async with cli_store() as store, store.transaction() as tx:
        tenants = await service.list_tenants(tx)
    print_json([tenant_json(t) for t in tenants])


@click.group()
def user() -> None:
    """Console users."""


@user.command("create")
@click.option("--tenant", "tenant_name", required=True)
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@async_command
async def create_user(tenant_name: str, username: str, password: str, role: str) -> None:
    """Add a console user to a tenant."""
    from callbot.models.enums import Role
    from callbot.tenant import service

    async with cli_store() as store, store.transaction() as tx:
        found = await service.get_tenant_by_name(tx, tenant_name)
        created = await service.create_user(tx, found, username, password, Role(role))
    print_json({"id": created.id, "username": created.username, "role": created.role.value, "tenant_id": found.id})


@click.group()
def credential() -> None:
    """API credentials."""


@credential.command("create")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--kind", type=click.Choice(CREDENTIAL_KINDS), required=True)
@click.option("--user", "username", help="the console user the credential acts as (Digelao sub-accounts)")
@click.option("--label", default="")
@async_command
async def create_credential(tenant_name: str, kind: str, username: str | None, label: str) -> None:
    """Issue a credential. Its secrets are printed now and cannot be shown again."""
    from callbot.credential import service as credential_service
    from callbot.models.enums import CredentialKind
    from callbot.tenant import service

    async with cli_store() as store, store.transaction() as tx:
        found = await service.get_tenant_by_name(tx, tenant_name)
        acting = None
        if username:
            acting = next((u for u in await service.list_users(tx, found) if u.username == username), None)
            if acting is None:
                raise service.UserNotFound(f"tenant {tenant_name!r} has no user {username!r}")
        issued = await credential_service.create_credential(tx, found, CredentialKind(kind), user=acting, label=label)
    print_json({"id": issued.credential.id, "kind": kind, "tenant_id": found.id, **issued.secrets})


__all__ = ["credential", "tenant", "user"]
