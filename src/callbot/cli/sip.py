"""`callbot sip`: SIP operations. `callbot sip check` pings a line's trunk with OPTIONS and, for a line
that registers, tries the registration once."""

from __future__ import annotations

import click

from callbot.cli._common import async_command, cli_store, fail, print_json
from callbot.config import Settings
from callbot.line import service as line_service
from callbot.telephony.sip.gateway import SipGateway
from callbot.tenant.service import get_tenant_by_name


@click.group()
def sip() -> None:
    """SIP trunks (中继): check that a line's trunk answers."""


@sip.command("check")
@click.option("--tenant", "tenant_name", required=True)
@click.argument("phone")
@click.option("--wait", "wait_s", type=float, default=5.0, show_default=True, help="seconds to wait for an answer")
@async_command
async def check(tenant_name: str, phone: str, wait_s: float) -> None:
    """Send OPTIONS to the trunk of the line PHONE, and REGISTER once when the line registers; prints
    the answers as JSON, exits 1 when the trunk did not answer or refused the registration."""
    async with cli_store() as store, store.transaction() as tx:
        tenant = await get_tenant_by_name(tx, tenant_name)
        line = await line_service.find_line_by_phone(tx, tenant, phone)
        settings, gateway_name = dict(line.settings), line.gateway
    if gateway_name != "sip":
        fail(f"line {phone} is on the {gateway_name} gateway, not sip")
    config = Settings()
    # Any free port: the check must not collide with a running callbot's SIP socket.
    gateway = SipGateway(bind_host=config.sip_host, sip_port=0, advertised_host=config.sip_advertised_host or None,
                         decrypt=store.secrets.decrypt)  # fmt: skip
    registration = "not used"
    try:
        result = await gateway.check(settings, line.phone, wait_s=wait_s)
        if settings.get("sip", {}).get("register"):
            registered = await gateway.register_once(settings, line.phone, wait_s=wait_s)
            if registered.last_status is not None and 200 <= registered.last_status < 300:
                registration = f"registered ({registered.last_status} {registered.last_reason}; binding removed again)"
            else:
                registration = f"failed: {registered.last_status or ''} {registered.last_reason}".replace("  ", " ")
    finally:
        await gateway.close()
    print_json(
        {
            "line": line.phone,
            "target": result.target,
            "reachable": result.reachable,
            "status": result.status,
            "reason": result.reason,
            "rtt_ms": result.rtt_ms,
            "registration": registration,
        }
    )
    if not result.reachable or registration.startswith("failed"):
        raise SystemExit(1)
