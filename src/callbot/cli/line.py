"""`callbot line`: caller lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from callbot.cli._common import async_command, cli_store, print_json

if TYPE_CHECKING:
    from callbot.models import Line

# LineType's values, written out so that `--help` needs no database layer (a test keeps them equal).
LINE_TYPES = ("MOBILE", "LANDLINE", "UNFIXED_CALL", "VOIP_DEVICE")


def line_json(line: Line) -> dict[str, object]:
    return {
        "id": line.id,
        "phone": line.phone,
        "name": line.name,
        "type": line.type.value,
        "concurrency": line.concurrency,
        "gateway": line.gateway,
        "enabled": line.enabled,
    }


@click.group()
def line() -> None:
    """Caller lines (主叫线路)."""


@line.command("add")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--phone", required=True, help="the caller number")
@click.option("--type", "line_type", type=click.Choice(LINE_TYPES), default="UNFIXED_CALL", show_default=True)
@click.option("--concurrency", type=int, default=10, show_default=True, help="calls at once on this line")
@click.option("--name", default="")
@click.option("--gateway", default="sim", show_default=True, help="telephony gateway that places the calls")
@async_command
async def add(tenant_name: str, phone: str, line_type: str, concurrency: int, name: str, gateway: str) -> None:
    """Add a caller line; prints it as JSON."""
    from callbot.line import service
    from callbot.models.enums import LineType
    from callbot.tenant.service import get_tenant_by_name

    async with cli_store() as store, store.transaction() as tx:
        tenant = await get_tenant_by_name(tx, tenant_name)
        added = await service.add_line(
            tx, tenant, phone, name=name, type=LineType(line_type), concurrency=concurrency, gateway=gateway
        )
    print_json(line_json(added))


@line.command("list")
@click.option("--tenant", "tenant_name", required=True)
@async_command
async def list_lines(tenant_name: str) -> None:
    """A tenant's lines, as JSON."""
    from callbot.line import service
    from callbot.tenant.service import get_tenant_by_name

    async with cli_store() as store, store.transaction() as tx:
        lines = await service.list_lines(tx, await get_tenant_by_name(tx, tenant_name))
    print_json([line_json(x) for x in lines])
