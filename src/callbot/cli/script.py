"""`callbot script`: check and publish robot scripts."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from callbot.cli._common import async_command, cli_store, print_json


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"error: cannot read {path}: {exc}", err=True)
        sys.exit(2)


@click.group()
def script() -> None:
    """Robot scripts (话术)."""


@script.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def validate(file: str) -> None:
    """Check a script; prints every problem as `location: message`. Exit status 0 only when valid."""
    from callbot.dialogue.script import validate_script

    problems = validate_script(_read(file))
    for location, message in problems:
        click.echo(f"{location}: {message}")
    if problems:
        click.echo(f"{file}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", err=True)
        sys.exit(1)
    click.echo(f"{file}: valid", err=True)


@script.command("add")
@click.option("--tenant", "tenant_name", required=True)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--draft", is_flag=True, help="store as DRAFT instead of publishing it as APPROVED")
@async_command
async def add(tenant_name: str, file: str, draft: bool) -> None:
    """Validate and store a script (a new version when the name exists); prints id and version as JSON."""
    from callbot.script import service
    from callbot.tenant.service import get_tenant_by_name

    body = _read(file)
    async with cli_store() as store, store.transaction() as tx:
        tenant = await get_tenant_by_name(tx, tenant_name)
        added = await service.add_script(tx, tenant, body, draft=draft, source=file)
    print_json(
        {
            "script_id": added.script.id,
            "name": added.script.name,
            "version": added.version.version,
            "status": added.version.status.value,
        }
    )


@script.command("list")
@click.option("--tenant", "tenant_name", required=True)
@async_command
async def list_scripts(tenant_name: str) -> None:
    """A tenant's scripts, as JSON."""
    from callbot.script import service
    from callbot.tenant.service import get_tenant_by_name

    async with cli_store() as store, store.transaction() as tx:
        scripts = await service.list_scripts(tx, await get_tenant_by_name(tx, tenant_name))
    print_json(
        [
            {
                "script_id": s.id,
                "name": s.name,
                "latest_version": s.latest_version,
                "approved_version": s.approved_version,
                "status": service.script_status(s).value,
            }
            for s in scripts
        ]
    )
