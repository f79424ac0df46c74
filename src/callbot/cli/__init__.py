"""The `callbot` command. Subcommands live in modules of this package and are imported only when used,
so `callbot chat` starts without loading the web stack."""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" inside callbot.cli
_COMMANDS: dict[str, str] = {
    "serve": "server:serve",
    "worker": "server:worker",
    "demo": "demo:demo",
    "db": "db:db",
    "tenant": "tenant:tenant",
    "credential": "tenant:credential",
    "user": "tenant:user",
    "line": "line:line",
    "script": "script:script",
    "task": "task:task",
    "import": "customer:import_customers",
    "chat": "chat:chat",
    "nlu": "nlu:nlu",
    "callback": "callback:callback",
    "sip": "sip:sip",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_COMMANDS) | set(super().list_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(f"callbot.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"callbot.cli.{module_name}":
                return None
            raise
        command = getattr(module, attr, None)
        return command if isinstance(command, click.Command) else None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="callbot")
def main() -> None:
    """callbot: AI call robot platform (AI 外呼 / 呼入机器人)."""
