"""`callbot callback`: where a tenant's callbacks go, and a local receiver to watch them arrive."""

from __future__ import annotations

import asyncio
import contextlib
import json

import click

from callbot.cli._common import async_command, cli_store, print_json

# The callback service's DIALECTS, written out so that `--help` needs no database layer (a test keeps them
# equal).
DIALECTS = ("native", "yiwise", "yiwise2023", "digelao")


@click.group()
def callback() -> None:
    """Callbacks (回调)."""


@callback.command("set")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--url", required=True, help="where each call's record is POSTed (http:// or https://)")
@click.option("--task-url", default=None, help="where task-finished and import-finished events go")
@click.option("--dialect", type=click.Choice(DIALECTS), default="native", show_default=True)
@click.option("--off", is_flag=True, help="keep the URLs but stop sending per-call callbacks")
@click.option("--token", default=None, help="yiwise2023: the receiver's token")
@click.option("--aes-key", default=None, help="yiwise2023: the receiver's EncodingAESKey (43 characters)")
@async_command
async def set_callback(
    tenant_name: str, url: str, task_url: str | None, dialect: str, off: bool, token: str | None, aes_key: str | None
) -> None:
    """Set a tenant's callback URLs and payload dialect; prints the settings as JSON. The yiwise2023 dialect
    first checks that the receiver answers its verification handshake."""
    import httpx

    from callbot.callback import handshake, service
    from callbot.tenant.service import get_tenant_by_name

    async with cli_store() as store, store.transaction() as tx:
        tenant = await get_tenant_by_name(tx, tenant_name)
        changes = service.CallbackChanges(
            url=url, task_url=task_url, dialect=dialect, enabled=not off, token=token, aes_key=aes_key
        )
        async with httpx.AsyncClient() as http:
            await handshake.verify_changes(tx, tenant, changes, http)
        settings = await service.update_settings(tx, tenant, changes)
        secret = service.signing_secret(tx, settings)
    print_json(
        {
            "tenant_id": tenant.id,
            "url": settings.url,
            "task_url": settings.task_url,
            "enabled": settings.enabled,
            "dialect": settings.dialect,
            "signing_secret": secret,
        }
    )


@callback.command("listen")
@click.option("--port", type=int, default=9000, show_default=True)
@click.option("--body", default="success", show_default=True, help="what to answer (Yiwise receivers answer success)")
@click.option("--status", type=int, default=200, show_default=True)
def listen(port: int, body: str, status: int) -> None:
    """Receive callbacks on 127.0.0.1:PORT and print each one as a JSON line (for trying callbacks out)."""
    from callbot.callback.receiver import CallbackReceiver

    async def run() -> None:
        receiver = CallbackReceiver(status=status, body=body.encode())
        await receiver.start(port=port)
        click.echo(f"listening on {receiver.url}", err=True)
        click.echo("callbacks reach it when loopback is allowed: CALLBOT_CALLBACK_ALLOW=127.0.0.1", err=True)
        shown = 0
        while True:
            await asyncio.sleep(0.2)
            for raw in receiver.received.bodies[shown:]:
                try:
                    click.echo(json.dumps(json.loads(raw), ensure_ascii=False))
                except ValueError:
                    click.echo(raw.decode("utf-8", "replace"))
            shown = len(receiver.received.bodies)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
