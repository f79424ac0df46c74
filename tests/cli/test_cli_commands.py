"""Every command `callbot --help` lists can be run."""

from __future__ import annotations

import click

from callbot.cli import main


def test_every_listed_command_loads() -> None:
    ctx = click.Context(main)
    missing = [name for name in main.list_commands(ctx) if main.get_command(ctx, name) is None]
    assert missing == []
